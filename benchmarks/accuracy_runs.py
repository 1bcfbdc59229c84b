r"""Accuracy runs of several configurations in one process, every sequence of a run batched.

  python -m benchmarks.accuracy_runs --dataset_dir=D \
      [--runs_dir=results/benchmark] [--runs=tsn,no_temporal,...] [--weights=FILE]

The way a GPU fills docs/results.md's accuracy tables in minutes: frames are decoded once (in
parallel) and kept in memory, each run tracks all sequences in one ``batch.track_batch``, and
a run may batch several seeds (``RUNS``). Each run writes
``<runs_dir>/<name>/<sequence>.txt`` and ``timings.json`` as ``bin.track`` does;
``python -m bin.benchmark --trackers=csrt,kcf,<names> --benchmark_dir=<runs_dir>`` then
scores them beside the peers. A run whose folders hold every sequence is skipped.

``--runs_file`` adds runs for a sweep, one per line: a name, then the run's flags (after
``--flagfile=configs/otb.flags``), an optional ``seed=N`` (default 0) and an optional
``batch=N`` (sequences per batch, longest first; default all: crop mode needs ~6 GB of GPU
memory per sequence); ``#`` starts a comment. ``benchmarks/sweep.txt`` is the sweep behind
docs/decisions.md D5.

Every run's flags, the runs file's and ``--extra_flags`` are checked before any frame is
decoded: a flag that is neither a config flag nor one of this program's is an error naming it
and where it is. Config flags on this program's own command line are an error too (each run
takes its config from its own flags): ``--extra_flags`` adds them to every run.
"""

import concurrent.futures
import pathlib
import time
from collections.abc import Sequence

from absl import app, flags

from bin import config_flags, dataset_flags
from bin import track as track_cli  # defines the tracking flags the flagfiles set
from tsn_jax import config as config_lib
from tsn_jax.evaluation import batch, datasets, runner

# run: (flags, {seed: result folder name}[, sequences per batch]), in order of priority.
# Several seeds in one run share a batch; 3 x 15 sequences ran out of an H100's 80 GB in the
# first frame (the 5000 samples' RoI features, 34 GB), so the seeds are separate runs.
RUNS = {
    "tsn": (["--flagfile=configs/otb.flags"], {0: "tsn"}),
    "seed1": (["--flagfile=configs/otb.flags"], {1: "tsn_seed1"}),
    "seed2": (["--flagfile=configs/otb.flags"], {2: "tsn_seed2"}),
    "no_temporal": (["--flagfile=configs/ablation_no_temporal.flags"], {0: "tsn_no_temporal"}),
    "no_spatial": (["--flagfile=configs/ablation_no_spatial.flags"], {0: "tsn_no_spatial"}),
    "l2": (["--flagfile=configs/ablation_l2.flags"], {0: "tsn_l2"}),
    "no_box_regression": (
        ["--flagfile=configs/otb.flags", "--nobox_regression"],
        {0: "tsn_no_box_regression"},
    ),
    "spatial_l2": (
        ["--flagfile=configs/otb.flags", "--spatial_loss=l2", "--spatial_min_peak=0"],
        {0: "tsn_spatial_l2"},
    ),
    "bf16": (["--flagfile=configs/otb.flags", "--compute_dtype=bfloat16"], {0: "tsn_bf16"}),
    "crop": (["--flagfile=configs/otb.flags", "--proposal_features=crop"], {0: "tsn_crop"}, 2),
}

_RUNS_DIR = flags.DEFINE_string(
    "runs_dir", "results/benchmark", "Each run writes <runs_dir>/<name>/."
)
_RUNS = flags.DEFINE_list("runs", list(RUNS), f"Runs, in order; any of {', '.join(RUNS)}.")
_THREADS = flags.DEFINE_integer("decode_threads", 16, "Threads decoding the frames.")
_RUNS_FILE = flags.DEFINE_string(
    "runs_file", None, "Extra runs, one per line: name [flags...] [seed=N] (see above)."
)
_EXTRA = flags.DEFINE_list(
    "extra_flags", [], "Config flags added to every run's (e.g. a tiny config for a dry run)."
)


def read_runs_file(path):
    """{name: (flags, {seed: name}, batch size or None)} of a runs file (module docstring).

    Raises:
      ValueError: a malformed line, a repeated name, or a bad flag name or value; the message
        names the file and line.
    """
    runs = {}
    for number, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        name, *rest = words
        options = dict(w.split("=", 1) for w in rest if w.startswith(("seed=", "batch=")))
        run_flags = [w for w in rest if not w.startswith(("seed=", "batch="))]
        bad = [w for w in run_flags if not w.startswith("--")]
        numbers = all(v.isdigit() for v in options.values())
        if bad or not numbers or len(options) + len(run_flags) != len(rest) or name in runs:
            raise ValueError(
                f"{path}:{number}: expected 'name --flag=value ... [seed=N] [batch=N]'"
            )
        try:
            config_flags.config_from_args(run_flags)
        except (flags.Error, ValueError) as error:
            raise ValueError(f"{path}:{number}: {error}") from None
        seed, batch_size = int(options.get("seed", 0)), int(options.get("batch", 0)) or None
        runs[name] = (["--flagfile=configs/otb.flags", *run_flags], {seed: name}, batch_size)
    return runs


def run_configs(
    runs: dict[str, tuple], names: Sequence[str], extra_flags: Sequence[str]
) -> dict[str, config_lib.TrackerConfig]:
    """The config of every named run, its flags checked before anything is tracked.

    Args:
      runs: {name: (flags, {seed: folder}[, batch size])}, as ``RUNS``.
      names: the runs to configure.
      extra_flags: config flags added after every run's own.

    Returns:
      {name: TrackerConfig}.

    Raises:
      app.UsageError: a bad flag name or value; the message names ``--extra_flags`` or the run.
    """
    try:
        config_flags.config_from_args(extra_flags)
    except (flags.Error, ValueError) as error:
        raise app.UsageError(f"--extra_flags: {error}") from None
    configs = {}
    for name in names:
        try:
            configs[name] = config_flags.config_from_args([*runs[name][0], *extra_flags])
        except (flags.Error, ValueError) as error:
            raise app.UsageError(f"run {name!r}: {error}") from None
    return configs


def track_in_batches(weights, sequences, config, seeds, batch_size):
    """``batch.track_batch`` over chunks of ``batch_size`` sequences (longest first), the
    frames of every chunk padded to one size (one compiled step); results in input order."""
    if batch_size is None or batch_size >= len(sequences):
        return batch.track_batch(weights, sequences, config, progress=False, seeds=seeds)
    firsts = [s.frame(0).shape for s in sequences]
    pad_to_hw = (max(f[0] for f in firsts), max(f[1] for f in firsts))
    order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
    tracked = [None] * len(sequences)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        results = batch.track_batch(
            weights,
            [sequences[i] for i in chunk],
            config,
            progress=False,
            seeds=[seeds[i] for i in chunk],
            pad_to_hw=pad_to_hw,
        )
        for i, result in zip(chunk, results, strict=True):
            tracked[i] = result
    return tracked


def cached(sequences, threads):
    """The sequences with every frame decoded once, in parallel, and served from memory."""

    def load(sequence):
        frames = [sequence.frame(i) for i in range(len(sequence))]
        return datasets.Sequence.from_render(
            sequence.name,
            len(frames),
            frames.__getitem__,
            sequence.groundtruth_xywh,
            sequence.init_box_xywh,
        )

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return list(pool.map(load, sequences))


def main(argv):
    del argv
    runs, names = dict(RUNS), list(_RUNS.value)
    if _RUNS_FILE.value:  # the file's runs, after any --runs named explicitly
        swept = read_runs_file(_RUNS_FILE.value)
        runs.update(swept)
        names = [*(names if _RUNS.present else []), *swept]
    unknown = [r for r in names if r not in runs]
    if unknown:
        raise app.UsageError(f"--runs: unknown {unknown}; choose from {', '.join(runs)}")
    ignored = config_flags.present_config_flags()
    if ignored:
        raise app.UsageError(
            f"{', '.join(ignored)}: each run takes its config from its own flags; "
            "--extra_flags adds config flags to every run"
        )
    configs = run_configs(runs, names, _EXTRA.value)
    results_dir = pathlib.Path(_RUNS_DIR.value)
    start = time.perf_counter()
    sequences = datasets.load_sequences(
        dataset_flags.DATASET_DIR.value, dataset_flags.SEQUENCES.value
    )
    sequences = cached(sequences, _THREADS.value)
    print(f"{len(sequences)} sequences decoded in {time.perf_counter() - start:.1f} s")
    for name in names:
        folders, *batch_size = runs[name][1:]
        if all(
            (results_dir / f / f"{s.name}.txt").exists()
            for f in folders.values()
            for s in sequences
        ):
            print(f"== {name}: results exist, skipped")
            continue
        config = configs[name]
        weights, source = track_cli.resolve_weights(
            flags.FLAGS.weights, config.feature_net, flags.FLAGS.allow_random_weights
        )
        seeds = [seed for seed in folders for _ in sequences]
        start = time.perf_counter()
        tracked = track_in_batches(
            weights, sequences * len(folders), config, seeds, *(batch_size or [None])
        )
        seconds = time.perf_counter() - start
        frames = sum(len(r.boxes_xywh) - 1 for r in tracked)
        print(f"== {name}: {len(tracked)} tracks, {frames} frames in {seconds:.1f} s")
        for index, (seed, folder) in enumerate(folders.items()):
            chunk = tracked[index * len(sequences) : (index + 1) * len(sequences)]
            info = {"weights": source, "seed": seed, "config": repr(config), "batched": True}
            for sequence, result in zip(sequences, chunk, strict=True):
                runner.save_result(results_dir / folder, sequence.name, result, info)


if __name__ == "__main__":
    app.run(main)
