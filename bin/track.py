r"""Tracks sequences with TSN and writes OTB-format results (and evaluates them when possible).

  python -m bin.track --flagfile=configs/otb.flags --dataset_dir=D [--sequences=a,b]
  python -m bin.track --flagfile=configs/otb.flags --benchmark=lasot --dataset_dir=D [--runs=3]
  python -m bin.track --video=clip.mp4 --init_box=x,y,w,h   # 1-based, OTB convention
  python -m bin.track --video=clip.mp4 --init_box=x,y,w,h --init_box_origin=0   # cv2.selectROI
  python -m bin.track --flagfile=configs/demo.flags          # the built-in synthetic demo

Each sequence's boxes go to ``<output_dir>/<sequence>.txt`` (1-based x,y,w,h rows) as soon as it
finishes, atomically; a rerun skips finished sequences unless ``--overwrite``. ``--runs=N``
tracks every sequence N times with seeds ``--seed`` .. ``--seed + N - 1`` into
``<sequence>_001.txt`` ... ``<sequence>_00N.txt`` (the GOT-10k / pytracking convention), each run
file resumable on its own. With ground truth the end prints the benchmark's table (OTB's
without ``--benchmark``; over several runs, mean ± std) and writes ``summary.json`` and plots;
a benchmark scored by its server (GOT-10k test, TrackingNet) points to ``bin.submission``.
The persistent compilation cache is on by default (``bin/compilation_cache.py``).

A sequence that cannot be loaded or tracked (a missing ground truth, a corrupt frame) is said
and skipped; every other one is tracked, and the run ends by listing the failed ones with their
errors and exit status 4. Ctrl-C stops between frames (or once the compiled call in progress
returns), keeping the finished sequences' result files. Exit codes: ``bin/errors.py``.
"""

import os
import pathlib
import re

import jax
import numpy as np
from absl import app, flags, logging

from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import datasets, layouts, report, runner, synthetic

from . import compilation_cache, config_flags, dataset_flags, errors, flagfiles, scoring

_VIDEO = flags.DEFINE_string("video", None, "A video file or a folder of frames to track.")
_INIT_BOX = flags.DEFINE_list(
    "init_box",
    None,
    "With --video: the first frame's box x,y,w,h, 1-based (OTB convention) unless "
    "--init_box_origin=0.",
)
_INIT_BOX_ORIGIN = flags.DEFINE_integer(
    "init_box_origin",
    1,
    "The pixel origin of --init_box: 1 (OTB, MATLAB) or 0 (cv2.selectROI, pytracking, pysot).",
    lower_bound=0,
    upper_bound=1,
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
# allow_override: the lab's benchmarks/accuracy_runs.py, which imports this module for the
# tracking flags, defines its own --runs (a list of named runs) over this one.
_RUNS = flags.DEFINE_integer(
    "runs",
    1,
    "Track every sequence this many times, with seeds --seed .. --seed + runs - 1, into "
    "<sequence>_001.txt ... (one run: <sequence>.txt); the table gives mean ± std over the runs.",
    lower_bound=1,
    upper_bound=999,
    allow_override=True,
)
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
    "batch_size",
    1,
    "Track this many sequences at once (vmap; sharded over local devices).",
    lower_bound=1,
)
_ENGINE = flags.DEFINE_enum(
    "engine",
    "local",
    ["local", "ray"],
    "local: this process tracks the sequences. ray: the workers of a Ray cluster do, reading "
    "the frames, the weights file and --output_dir from a filesystem every node shares "
    "(pip install -e '.[ray]'; README 'Many machines: Ray').",
)
_RAY_ADDRESS = flags.DEFINE_string(
    "ray_address",
    None,
    "With --engine=ray: the cluster to join: auto (the one `ray start` made on this node) or "
    "HOST:PORT of its head. Unset: $RAY_ADDRESS, else a new cluster on this machine.",
)
_RAY_WORKERS = flags.DEFINE_integer(
    "ray_workers",
    None,
    "With --engine=ray: the number of tracker workers (each holds the weights once and tracks "
    "--batch_size sequences at a time). Unset: one per GPU of the cluster, else one per CPU.",
    lower_bound=1,
)
flags.register_multi_flags_validator(
    ["engine", "ray_address", "ray_workers"],
    lambda values: (
        values["engine"] == "ray"
        or (values["ray_address"] is None and values["ray_workers"] is None)
    ),
    "--ray_address and --ray_workers need --engine=ray",
)
config_flags.define_config_flags()
flags.adopt_module_key_flags(dataset_flags)  # --help shows them

DEFAULT_WEIGHTS = pathlib.Path("weights/vgg16_imagenet.npz")


def resolve_weights(path, arch, allow_random, seed=0):
    """Loads the Feature Net weights from a flag, $TSN_WEIGHTS or the default file.

    Raises:
      FileNotFoundError: no weight file and random weights not allowed.
      weights.WeightsError: the file cannot be read, or holds another architecture than
        ``arch``.
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
        raise weights_lib.WeightsError(
            f"{path} holds {loaded.arch} weights but --feature_net={arch}"
        )
    return loaded, str(path)


def config_from_flags():
    """The TrackerConfig of the flags; values it rejects are a flag error (``app.UsageError``)."""
    try:
        return config_flags.config_from_flags()
    except ValueError as error:
        raise app.UsageError(f"tracker config flags: {error}") from None


def init_box_one_based(values: list[str] | None, origin: int) -> np.ndarray:
    """``--init_box`` as [4] float64 1-based x, y, w, h (what the video and folder loaders take).

    Args:
      values: the flag's 4 strings x, y, w, h.
      origin: ``--init_box_origin``: 1 (as typed) or 0 (x and y shifted by one).

    Raises:
      app.UsageError: not 4 numbers.
      datasets.DatasetError: a box that cannot start tracking (shown as typed, with its origin).
    """
    if not values or len(values) != 4:
        raise app.UsageError(f"--video needs --init_box=x,y,w,h ({origin}-based).")
    try:
        box = np.asarray([float(v) for v in values])
    except ValueError:
        raise app.UsageError(f"--init_box={','.join(values)}: x,y,w,h must be 4 numbers") from None
    datasets.validate_init_box(box, None, "--init_box", one_based=origin == 1)
    return box + np.array([1.0, 1.0, 0.0, 0.0]) * (1 - origin)


def sources_from_flags():
    """The sequences the flags ask for: a dataset's as ``datasets.SequenceSource`` entries
    (each loaded when its turn comes, so one bad folder fails alone), the demo's and a video's
    as ``datasets.Sequence``."""
    chosen = sum(bool(x) for x in (dataset_flags.DATASET_DIR.value, _VIDEO.value, _DEMO.value))
    if chosen != 1:
        raise app.UsageError("Give exactly one of --dataset_dir, --video or --demo.")
    if dataset_flags.BENCHMARK.value is not None:
        if not dataset_flags.DATASET_DIR.value:
            raise app.UsageError(
                f"--benchmark={dataset_flags.BENCHMARK.value} reads --dataset_dir (the "
                "benchmark's folder as downloaded); it does not go with --video or --demo."
            )
        return layouts.sources(
            dataset_flags.DATASET_DIR.value,
            dataset_flags.BENCHMARK.value,
            dataset_flags.SEQUENCES.value,
        )
    if _DEMO.value:
        return [synthetic.make_sequence(num_frames=_DEMO_FRAMES.value, seed=_SEED.value)]
    if _VIDEO.value:
        box = init_box_one_based(_INIT_BOX.value, _INIT_BOX_ORIGIN.value)
        path = pathlib.Path(_VIDEO.value)
        if path.is_dir():
            return [datasets.load_image_folder(path, box)]
        return [datasets.load_video(path, box)]
    return datasets.sequence_sources(dataset_flags.DATASET_DIR.value, dataset_flags.SEQUENCES.value)


def sequences_from_flags():
    """The sequences the flags ask for, each loaded now (``datasets.Sequence``)."""
    return [datasets.load_source(item) for item in sources_from_flags()]


def _report(sequences, output_dir):
    """Prints the benchmark's table of the sequences with ground truth (OTB's without
    ``--benchmark``); writes summary.json and plots. A benchmark scored by its server is not
    scored: the command that writes its submission is printed.

    Returns:
      {sequence name: why} of the sequences whose results could not be scored.
    """
    metric = scoring.metric_from_flags()
    if metric == "server":
        print(
            scoring.server_message(
                dataset_flags.BENCHMARK.value, dataset_flags.DATASET_DIR.value, str(output_dir)
            )
        )
        return {}
    table = report.report({"TSN": output_dir}, sequences, metric=metric)
    if table:
        print(report.format_report(table))
        print(f"Summary and plots written to {output_dir}")
    return table["TSN"].unscored if table else {}


def report_and_exit_code(sequences, output_dir, failures):
    """Scores the run (``_report``) and lists the sequences that failed at the end.

    Args:
      sequences: the run's sequences or sources.
      output_dir: its results folder.
      failures: {name: why} of the sequences the run could not track (with several runs, the
        run's names: ``<sequence>_002``).

    Returns:
      The exit code: ``errors.INCOMPLETE`` when a sequence could not be tracked or scored.

    Raises:
      report.ReportError: nothing could be scored, and every sequence was tracked.
    """
    try:
        unscored = _report(sequences, output_dir)
    except report.ReportError:
        if not failures:
            raise
        unscored = {}  # Every sequence with ground truth failed: the failures say why.
    failed = set(failures)  # a sequence with a failed run is listed once, by its run
    if _RUNS.value > 1:
        failed |= {name[:-4] for name in failures if re.fullmatch(r".+_\d{3}", name)}
    unscored = {name: why for name, why in unscored.items() if name not in failed}
    return errors.report_failures({**failures, **unscored}, "tracked or scored")


def _track_on_ray(weights, weights_source, sequences, config, output_dir, info):
    """Tracks ``sequences`` on a Ray cluster (``ray_engine.track_all_ray``, imported only here);
    returns {name: error} of those that failed."""
    if _VISUALIZE.value:
        raise app.UsageError("--visualize works with --engine=local only.")
    if _RUNS.value > 1:
        raise app.UsageError("--runs works with --engine=local only.")
    from tsn_jax.evaluation import ray_engine

    ray_engine.connect(_RAY_ADDRESS.value)
    run = ray_engine.track_all_ray(
        weights if weights_source == "random" else weights_source,
        sequences,
        config,
        output_dir,
        _BATCH_SIZE.value,
        seed=_SEED.value,
        num_workers=_RAY_WORKERS.value,
        progress=_PROGRESS.value,
        overwrite=_OVERWRITE.value,
        info=info,
    )
    return run.failed


def main(argv):
    del argv
    logging.info("JAX devices: %s", jax.devices())
    config = config_from_flags()
    weights, weights_source = resolve_weights(
        _WEIGHTS.value, config.feature_net, _ALLOW_RANDOM_WEIGHTS.value, _SEED.value
    )
    output_dir = pathlib.Path(_OUTPUT_DIR.value)
    sequences = sources_from_flags()
    info = {"weights": weights_source, "seed": _SEED.value, "config": repr(config)}
    if _RUNS.value > 1:
        info["runs"] = _RUNS.value  # run k has seed --seed + k - 1
    if _VISUALIZE.value and _BATCH_SIZE.value > 1:
        raise app.UsageError("--visualize works with --batch_size=1 only.")
    if _ENGINE.value == "ray":
        failures = _track_on_ray(weights, weights_source, sequences, config, output_dir, info)
        return report_and_exit_code(sequences, output_dir, failures)
    try:
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
            runs=_RUNS.value,
        )
        failures = {}
    except runner.SequencesFailed as failed:
        failures = failed.failures
    return report_and_exit_code(sequences, output_dir, failures)


def run() -> None:
    """The ``tsn-track`` command; ``python -m bin.track`` from a checkout."""
    errors.run(compilation_cache.with_compilation_cache(main), flagfiles.parse_flags)


if __name__ == "__main__":
    run()
