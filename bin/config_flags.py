"""absl flags for every TrackerConfig field, shared by bin/track and bin/benchmark.

One flag per field, named as the field, with the field's default, so a flagfile can set any
hyperparameter and `--helpfull` lists them all. Help strings say where a default comes from.
"""

import dataclasses
import difflib
from collections.abc import Iterable, Sequence

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
    "first_frame_samples": "Memory rows that keep first-frame samples all sequence (0: none).",
    "first_frame_windows": "Spatial memory rows that keep first-frame windows (0: none).",
    "use_temporal": "False: the paper's 'no Temporal Net' ablation (4.2).",
    "use_spatial": "False: the paper's 'no Spatial Net' ablation (4.2).",
    "lasso_lambda": "lambda of Eq. 1 (docs/decisions.md D5: 0.01).",
    "pool_capacity": "Target pool capacity (docs/decisions.md D5: 30).",
    "tuple_size": "K, pool entries in a tuple (docs/decisions.md D5: 3).",
    "search_window": "roi window: covering (holds every proposal's context, D39) or aspect.",
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


def config_from_args(
    args: Sequence[str], program_flags: Iterable[str] = flags.FLAGS
) -> config_lib.TrackerConfig:
    """The TrackerConfig of command-line style ``args`` (flagfiles too) over the defaults.

    Parsed into a fresh flag set, so the process's own flags are untouched. Flags of the
    calling program (``--output_dir`` in ``configs/otb.flags``, say) are skipped; any other
    flag that is not a config flag is an error, so a misspelled name cannot leave its field at
    the default unnoticed.

    Args:
      args: ``--name=value`` arguments, ``--flagfile=FILE`` among them.
      program_flags: names of the flags the calling program accepts besides the config flags
        (a FlagValues iterates over its names); by default every flag defined in the process.

    Returns:
      The TrackerConfig (validated by its __post_init__).

    Raises:
      flags.Error: a flag that is neither a config flag nor one of ``program_flags`` (the
        message names it, where it came from and the nearest config flag), an argument that
        is not a flag, or a value a flag rejects.
      ValueError: values the TrackerConfig rejects.
    """
    flag_values = flags.FlagValues()
    define_config_flags(flag_values)
    skipped = sorted(set(program_flags) - set(flag_values))
    undefok = [f"--undefok={','.join(skipped)}"] if skipped else []
    try:
        rest = flag_values(["config", *undefok, *args])
    except flags.UnrecognizedFlagError as error:
        nearest = difflib.get_close_matches(error.flagname, [f.name for f in _FIELDS], n=1)
        tip = f" (did you mean --{nearest[0]}?)" if nearest else ""
        raise flags.Error(
            f"unknown flag --{error.flagname}{_where(error.flagname, args, flag_values)}: "
            f"neither a tracker config flag nor one of this program's{tip}"
        ) from None
    if len(rest) > 1:
        raise flags.Error(f"{rest[1]!r} in {' '.join(args)}: not a --name=value flag")
    return config_from_flags(flag_values)


def present_config_flags(flag_values: flags.FlagValues = flags.FLAGS) -> list[str]:
    """The config flags given on the command line (or in its flagfiles) of ``flag_values``."""
    return [f"--{field.name}" for field in _FIELDS if flag_values[field.name].present]


def _flag_name(arg: str) -> str | None:
    """The flag name of a command-line argument (``--name=value``, ``--noname``), else None."""
    return arg.lstrip("-").split("=", 1)[0] if arg.startswith("-") else None


def _where(name: str, args: Sequence[str], flag_values: flags.FlagValues) -> str:
    """Where flag ``name`` is in ``args``: " in --flagfile=FILE" for the top-level flagfile
    that holds it, "" when ``args`` hold it directly (or name its flagfile otherwise)."""
    for arg in args:
        if _flag_name(arg) == name:
            return ""
        if _flag_name(arg) == "flagfile" and "=" in arg:
            lines = flag_values.read_flags_from_files([arg], force_gnu=False)
            if any(_flag_name(line) == name for line in lines):
                return f" in {arg}"
    return ""


def config_from_flags(flag_values=flags.FLAGS):
    """The TrackerConfig the parsed flags describe (validated by its __post_init__)."""
    values = {}
    for field in _FIELDS:
        value = flag_values[field.name].value
        if isinstance(field.default, tuple):
            value = tuple(int(v) for v in value)
        values[field.name] = value
    return config_lib.TrackerConfig(**values)
