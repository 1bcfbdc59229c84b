r"""Runs TSN and the classical peers on the same sequences and prints one comparison table.

  python -m bin.benchmark --dataset_dir=D --trackers=tsn,csrt,kcf [--flagfile=configs/otb.flags]
  python -m bin.benchmark --dataset_dir=D --trackers=tsn --tsn_name=tsn_no_temporal \
      --flagfile=configs/ablation_no_temporal.flags

Results go to ``<benchmark_dir>/<tracker>/<sequence>.txt`` (OTB format), resumable like
``bin.track`` (finished sequences are skipped unless ``--overwrite``). The table has, per
tracker, success AUC, precision@20, OP50, mean centre error and steady-state fps, then the AUC
of every sequence; it is also written as ``benchmark.json`` with success/precision plots (one
curve per tracker) in ``benchmark_dir``. Every tracker that already has results in
``benchmark_dir`` (e.g. earlier ablation runs) joins the table.

OpenCV's CSRT and KCF need its contrib modules: ``pip install -e '.[peers]'``.
The speed benchmark (latency, compile time, FLOPs, stages, device traces) is part of the lab:
``python -m benchmarks.speed``.
"""

import pathlib

from absl import app, flags

from bin import config_flags
from bin import track as track_cli
from tsn_jax.evaluation import peers, report, runner

_TRACKERS = flags.DEFINE_list(
    "trackers", ["tsn", "csrt", "kcf"], "Trackers to run: tsn, csrt, kcf."
)
_TSN_NAME = flags.DEFINE_string(
    "tsn_name", "tsn", "Name of the TSN run in the table (e.g. one per ablation flagfile)."
)
_BENCHMARK_DIR = flags.DEFINE_string(
    "benchmark_dir", "results/benchmark", "Folder of per-tracker result folders and the table."
)


def _tracker_names(benchmark_dir, requested):
    """The requested trackers plus every tracker with results already in benchmark_dir."""
    names = list(requested)
    if benchmark_dir.exists():
        for folder in sorted(benchmark_dir.iterdir()):
            if (folder / "timings.json").exists() and folder.name not in names:
                names.append(folder.name)
    return names


def main(argv):
    del argv
    benchmark_dir = pathlib.Path(_BENCHMARK_DIR.value)
    sequences = track_cli.sequences_from_flags()
    for tracker in _TRACKERS.value:
        if tracker == "tsn":
            config = config_flags.config_from_flags()
            weights, source = track_cli.resolve_weights(
                flags.FLAGS.weights,
                config.feature_net,
                flags.FLAGS.allow_random_weights,
                flags.FLAGS.seed,
            )
            print(f"== {_TSN_NAME.value}")
            runner.track_all(
                weights,
                sequences,
                config,
                benchmark_dir / _TSN_NAME.value,
                flags.FLAGS.batch_size,
                seed=flags.FLAGS.seed,
                progress=flags.FLAGS.progress,
                overwrite=flags.FLAGS.overwrite,
                info={"weights": source, "seed": flags.FLAGS.seed, "config": repr(config)},
            )
        elif tracker in peers.NAMES:
            peers.create(tracker)  # fails early and clearly without OpenCV contrib
            print(f"== {tracker}")
            runner.track_each(
                sequences,
                lambda sequence, name=tracker: peers.track_sequence(
                    name, sequence, progress=flags.FLAGS.progress
                ),
                benchmark_dir / tracker,
                overwrite=flags.FLAGS.overwrite,
                info={"tracker": f"OpenCV {tracker.upper()}"},
            )
        else:
            raise app.UsageError(f"unknown tracker {tracker!r}: use tsn, csrt or kcf")
    names = _tracker_names(
        benchmark_dir, [_TSN_NAME.value if t == "tsn" else t for t in _TRACKERS.value]
    )
    try:
        table = report.report({n: benchmark_dir / n for n in names}, sequences, benchmark_dir)
    except report.ReportError as error:
        print(f"No tracker has results with ground truth to score ({error}).")
        return
    if not table:
        print("No tracker has results with ground truth to score.")
        return
    print(report.format_report(table))
    print(f"Table, benchmark.json and plots written to {benchmark_dir}")


if __name__ == "__main__":
    app.run(main)
