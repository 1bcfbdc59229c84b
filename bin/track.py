r"""Tracks sequences with TSN and writes OTB-format results (and evaluates them when possible).

  python -m bin.track --flagfile=configs/otb.flags --dataset_dir=D [--sequences=a,b]
  python -m bin.track --video=clip.mp4 --init_box=x,y,w,h   # 1-based, OTB convention
  python -m bin.track --flagfile=configs/demo.flags          # the built-in synthetic demo

Each sequence's boxes go to ``<output_dir>/<sequence>.txt`` (1-based x,y,w,h rows) as soon as it
finishes, atomically; a rerun skips finished sequences unless ``--overwrite``. With ground truth
the end prints the OTB table and writes ``summary.json`` and success/precision plots.
"""

import os
import pathlib

import jax
import numpy as np
from absl import app, flags, logging

from bin import config_flags, dataset_flags
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import batch, datasets, report, runner, synthetic

_VIDEO = flags.DEFINE_string("video", None, "A video file or a folder of frames to track.")
_INIT_BOX = flags.DEFINE_list(
    "init_box", None, "With --video: the first frame's box x,y,w,h, 1-based (OTB convention)."
)
_DEMO = flags.DEFINE_bool("demo", False, "Track the built-in synthetic demo sequence.")
_DEMO_FRAMES = flags.DEFINE_integer("demo_frames", 60, "Frames of the demo sequence.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "results/tsn", "Where result files go.")
_WEIGHTS = flags.DEFINE_string(
    "weights",
    None,
    "Feature Net weight file (project .npz or torchvision-layout .npz). Default: $TSN_WEIGHTS, "
    "else weights/vgg16_imagenet.npz (made by `make weights`).",
)
_ALLOW_RANDOM_WEIGHTS = flags.DEFINE_bool(
    "allow_random_weights", False, "Run with random Feature Net weights (smoke tests only)."
)
_SEED = flags.DEFINE_integer("seed", 0, "PRNG seed: the same seed gives the same boxes.")
_VISUALIZE = flags.DEFINE_bool(
    "visualize", False, "Write <output_dir>/videos/<sequence>.mp4 with the boxes drawn."
)
_VISUALIZE_FRAMES = flags.DEFINE_list(
    "visualize_frames",
    [],
    "With --visualize: 1-based frame numbers also saved as <output_dir>/videos/<seq>_<n>.png.",
)
flags.register_validator(
    "visualize_frames",
    lambda values: all(v.isdigit() and int(v) > 0 for v in values),
    "--visualize_frames takes 1-based frame numbers, e.g. 10,50",
)
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Re-track sequences that have results.")
_PROGRESS = flags.DEFINE_bool("progress", True, "Show a per-frame progress bar with fps.")
_BATCH_SIZE = flags.DEFINE_integer(
    "batch_size", 1, "Track this many sequences at once (vmap; sharded over local devices)."
)
_DISTRIBUTED = flags.DEFINE_bool(
    "distributed", False, "Multi-host: jax.distributed.initialize(); each host tracks its share."
)
config_flags.define_config_flags()

DEFAULT_WEIGHTS = pathlib.Path("weights/vgg16_imagenet.npz")


def resolve_weights(path, arch, allow_random, seed=0):
    """Loads the Feature Net weights from a flag, $TSN_WEIGHTS or the default file.

    Raises:
      FileNotFoundError: no weight file and random weights not allowed.
      ValueError: the file holds another architecture than ``arch``.
    """
    path = (
        path
        or os.environ.get("TSN_WEIGHTS")
        or (str(DEFAULT_WEIGHTS) if DEFAULT_WEIGHTS.exists() else None)
    )
    if path is None:
        if not allow_random:
            raise FileNotFoundError(
                "No Feature Net weights: pass --weights=FILE, set TSN_WEIGHTS, or run "
                "`make weights` (writes weights/vgg16_imagenet.npz). --allow_random_weights "
                "runs with random weights, for smoke tests only."
            )
        logging.warning("Using RANDOM Feature Net weights (--allow_random_weights).")
        return weights_lib.random_weights(arch, jax.random.key(seed)), "random"
    loaded = weights_lib.load(path)
    if loaded.arch != arch:
        raise ValueError(f"{path} holds {loaded.arch} weights but --feature_net={arch}")
    return loaded, str(path)


def sequences_from_flags():
    """The sequences the flags ask for."""
    chosen = sum(bool(x) for x in (dataset_flags.DATASET_DIR.value, _VIDEO.value, _DEMO.value))
    if chosen != 1:
        raise app.UsageError("Give exactly one of --dataset_dir, --video or --demo.")
    if _DEMO.value:
        return [synthetic.make_sequence(num_frames=_DEMO_FRAMES.value, seed=_SEED.value)]
    if _VIDEO.value:
        if not _INIT_BOX.value or len(_INIT_BOX.value) != 4:
            raise app.UsageError("--video needs --init_box=x,y,w,h (1-based).")
        box = np.asarray([float(v) for v in _INIT_BOX.value])
        path = pathlib.Path(_VIDEO.value)
        if path.is_dir():
            return [datasets.load_image_folder(path, box)]
        return [datasets.load_video(path, box)]
    return datasets.load_sequences(dataset_flags.DATASET_DIR.value, dataset_flags.SEQUENCES.value)


def _report(sequences, output_dir):
    """Prints the OTB table of the sequences with ground truth; writes summary.json and plots."""
    table = report.report({"TSN": output_dir}, sequences)
    if table:
        print(report.format_report(table))
        print(f"Summary and plots written to {output_dir}")


def main(argv):
    del argv
    logging.info("JAX devices: %s", jax.devices())
    config = config_flags.config_from_flags()
    weights, weights_source = resolve_weights(
        _WEIGHTS.value, config.feature_net, _ALLOW_RANDOM_WEIGHTS.value, _SEED.value
    )
    output_dir = pathlib.Path(_OUTPUT_DIR.value)
    sequences = sequences_from_flags()
    info = {"weights": weights_source, "seed": _SEED.value, "config": repr(config)}
    if _DISTRIBUTED.value:
        jax.distributed.initialize()
        sequences = batch.process_share(sequences)
        logging.info(
            "host %d of %d: %d sequences", jax.process_index(), jax.process_count(), len(sequences)
        )
    if _VISUALIZE.value and _BATCH_SIZE.value > 1:
        raise app.UsageError("--visualize works with --batch_size=1 only.")
    runner.track_all(
        weights,
        sequences,
        config,
        output_dir,
        _BATCH_SIZE.value,
        seed=_SEED.value,
        progress=_PROGRESS.value,
        overwrite=_OVERWRITE.value,
        info=info,
        video_dir=output_dir / "videos" if _VISUALIZE.value else None,
        video_png_frames=[int(n) for n in _VISUALIZE_FRAMES.value],
    )
    _report(sequences, output_dir)


if __name__ == "__main__":
    app.run(main)
