"""absl flags for every TrackerConfig field, shared by bin/track and bin/benchmark.

One flag per field, named as the field, with the field's default, so a flagfile can set any
hyperparameter and `--helpfull` lists them all. Help strings say where a default comes from.
"""

import dataclasses

from absl import flags

from tsn_jax import config as config_lib

_HELP = {
    "feature_net": "Feature Net: vgg16 (torchvision layout, default) or vggm (paper Table 1).",
    "proposal_features": "crop: per-proposal crops (paper); roi: one window + RoIAlign (fast).",
    "num_proposals": "Proposals per frame (paper 3.4: 256).",
    "num_init_samples": "First-frame training samples (paper 4.1: 5000).",
    "top_candidates": "B, candidates refined by the Spatial Net (paper 4.1: 5).",
    "momentum": "SGD momentum (paper 4.1: 0.9).",
    "temporal_update_interval": "Frames between Temporal Net fine-tunes (paper 4.1: 10).",
    "spatial_weight_decay": "lambda of Eq. 5 (paper 3.3: 1e-4).",
    "temporal_loss": "l1 (Eq. 2) or l2 (the paper's ablation, 4.2).",
    "temporal_label": "First-frame label: target (IoU with the target) or pair (paper 3.2.2).",
    "online_samples": "Fine-tune samples: proposals (a subset) or resampled (like frame 0's).",
    "first_frame_samples": "Memory rows that keep first-frame samples all sequence (0: none).",
    "first_frame_windows": "Spatial memory rows that keep first-frame windows (0: none).",
    "use_temporal": "False: the paper's 'no Temporal Net' ablation (4.2).",
    "use_spatial": "False: the paper's 'no Spatial Net' ablation (4.2).",
    "lasso_lambda": "lambda of Eq. 1 (DESIGN.md: 0.01).",
    "pool_capacity": "Target pool capacity (DESIGN.md: 30).",
    "tuple_size": "K, pool entries in a tuple (DESIGN.md: 3).",
}

_FIELDS = dataclasses.fields(config_lib.TrackerConfig)


def define_config_flags(flag_values=flags.FLAGS):
    """Defines one absl flag per TrackerConfig field (call once, at import of a bin module)."""
    for field in _FIELDS:
        help_text = _HELP.get(field.name, f"TrackerConfig.{field.name} (tsn_jax/config.py).")
        default = field.default
        if isinstance(default, bool):
            flags.DEFINE_bool(field.name, default, help_text, flag_values=flag_values)
        elif isinstance(default, int):
            flags.DEFINE_integer(field.name, default, help_text, flag_values=flag_values)
        elif isinstance(default, float):
            flags.DEFINE_float(field.name, default, help_text, flag_values=flag_values)
        elif isinstance(default, tuple):
            values = [str(v) for v in default]
            flags.DEFINE_list(field.name, values, help_text, flag_values=flag_values)
        else:
            flags.DEFINE_string(field.name, default, help_text, flag_values=flag_values)


def config_from_args(args):
    """The TrackerConfig of command-line style ``args`` (flagfiles too) over the defaults.

    Parsed into a fresh flag set, so the process's own flags are untouched; arguments that
    are not config flags (``--output_dir`` in a flagfile, say) are ignored.
    """
    flag_values = flags.FlagValues()
    define_config_flags(flag_values)
    flag_values(["config", *args], known_only=True)
    return config_from_flags(flag_values)


def config_from_flags(flag_values=flags.FLAGS):
    """The TrackerConfig the parsed flags describe (validated by its __post_init__)."""
    values = {}
    for field in _FIELDS:
        value = flag_values[field.name].value
        if isinstance(field.default, tuple):
            value = tuple(int(v) for v in value)
        values[field.name] = value
    return config_lib.TrackerConfig(**values)
