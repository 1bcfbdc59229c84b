r"""Runs TSN and the classical peers on the same sequences and prints one comparison table.

  python -m bin.benchmark --dataset_dir=D --trackers=tsn,csrt,kcf [--flagfile=configs/otb.flags]
  python -m bin.benchmark --dataset_dir=D --trackers=tsn --tsn_name=tsn_no_temporal \
      --flagfile=configs/ablation_no_temporal.flags
  python -m bin.benchmark --benchmark=otb100 --dataset_dir=D --runs=3 --flagfile=configs/otb.flags

Results go to ``<benchmark_dir>/<tracker>/<sequence>.txt`` (OTB format), resumable like
``bin.track`` (finished sequences are skipped unless ``--overwrite``). The table has, per
tracker, success AUC, precision@20, OP50, mean centre error and steady-state fps, then the AUC
of every sequence; it is also written as ``benchmark.json`` with success/precision plots (one
curve per tracker) in ``benchmark_dir``. Every tracker that already has results in
``benchmark_dir`` (e.g. earlier ablation runs) joins the table. ``--benchmark`` reads the
dataset in that benchmark's layout and scores it with its metric (``bin.evaluate``); ``--runs=N``
tracks TSN N times (seeds ``--seed`` ..; ``<sequence>_001.txt`` ...) and its row reads mean ± std
over the runs (the OpenCV peers are deterministic: one run). Other trackers' raw results join
a table through ``python -m bin.evaluate --results_dir=NAME=FOLDER,...``.

A sequence that a tracker cannot load or track is said and skipped; the others are tracked,
and the run ends by listing the failed ones with their errors and exit status 4
(``bin/errors.py``).

OpenCV's CSRT and KCF need its contrib modules: ``pip install -e '.[peers]'``.
The speed benchmark (latency, compile time, FLOPs, stages, device traces) is part of the lab:
``python -m benchmarks.speed``.
"""

import pathlib

from absl import app, flags

from tsn_jax.evaluation import peers, report, runner

from . import compilation_cache, dataset_flags, errors, flagfiles, scoring
from . import track as track_cli

_TRACKERS = flags.DEFINE_list(
    "trackers", ["tsn", "csrt", "kcf"], "Trackers to run: tsn, csrt, kcf."
)
_TSN_NAME = flags.DEFINE_string(
    "tsn_name", "tsn", "Name of the TSN run in the table (e.g. one per ablation flagfile)."
)
_BENCHMARK_DIR = flags.DEFINE_string(
    "benchmark_dir", "results/benchmark", "Folder of per-tracker result folders and the table."
)
flags.adopt_module_key_flags(dataset_flags)  # --help shows them
flags.declare_key_flag("runs")  # bin.track's, which TSN's runs here follow


def _tracker_names(benchmark_dir, requested):
    """The requested trackers plus every tracker with results already in benchmark_dir."""
    names = list(requested)
    if benchmark_dir.exists():
        for folder in sorted(benchmark_dir.iterdir()):
            if (folder / "timings.json").exists() and folder.name not in names:
                names.append(folder.name)
    return names


def _track(tracker, sequences, benchmark_dir):
    """Runs one tracker over the sequences into ``benchmark_dir/<its name>``.

    Raises:
      runner.SequencesFailed: at the end, when some sequences could not be tracked.
    """
    if tracker == "tsn":
        config = track_cli.config_from_flags()
        weights, source = track_cli.resolve_weights(
            flags.FLAGS.weights,
            config.feature_net,
            flags.FLAGS.allow_random_weights,
            flags.FLAGS.seed,
        )
        print(f"== {_TSN_NAME.value}")
        return runner.track_all(
            weights,
            sequences,
            config,
            benchmark_dir / _TSN_NAME.value,
            flags.FLAGS.batch_size,
            seed=flags.FLAGS.seed,
            progress=flags.FLAGS.progress,
            overwrite=flags.FLAGS.overwrite,
            info={
                "weights": source,
                "seed": flags.FLAGS.seed,
                "runs": flags.FLAGS.runs,
                "config": repr(config),
            },
            runs=flags.FLAGS.runs,
        )
    if tracker in peers.NAMES:
        peers.create(tracker)  # fails early and clearly without OpenCV contrib
        print(f"== {tracker}")
        return runner.track_each(
            sequences,
            lambda sequence, name=tracker: peers.track_sequence(
                name, sequence, progress=flags.FLAGS.progress
            ),
            benchmark_dir / tracker,
            overwrite=flags.FLAGS.overwrite,
            info={"tracker": f"OpenCV {tracker.upper()}"},
        )
    raise app.UsageError(f"unknown tracker {tracker!r}: use tsn, csrt or kcf")


def main(argv):
    del argv
    benchmark_dir = pathlib.Path(_BENCHMARK_DIR.value)
    unknown = [t for t in _TRACKERS.value if t != "tsn" and t not in peers.NAMES]
    if unknown:
        raise app.UsageError(f"unknown tracker(s) {', '.join(unknown)}: use tsn, csrt or kcf")
    sequences = track_cli.sources_from_flags()
    failures = {}  # {"<sequence> (<tracker>)": why}
    for tracker in _TRACKERS.value:
        try:
            _track(tracker, sequences, benchmark_dir)
        except runner.SequencesFailed as failed:
            name = _TSN_NAME.value if tracker == "tsn" else tracker
            failures.update({f"{s} ({name})": why for s, why in failed.failures.items()})
    names = _tracker_names(
        benchmark_dir, [_TSN_NAME.value if t == "tsn" else t for t in _TRACKERS.value]
    )
    metric = scoring.metric_from_flags()
    if metric == "server":
        for name in names:
            print(
                scoring.server_message(
                    dataset_flags.BENCHMARK.value,
                    dataset_flags.DATASET_DIR.value,
                    str(benchmark_dir / name),
                )
            )
        return errors.report_failures(failures, "tracked")
    try:
        table = report.report(
            {n: benchmark_dir / n for n in names}, sequences, benchmark_dir, metric=metric
        )
    except report.ReportError as error:
        print(f"No tracker has results with ground truth to score ({error}).")
        return errors.report_failures(failures, "tracked")
    if not table:
        print("No tracker has results with ground truth to score.")
        return errors.report_failures(failures, "tracked")
    print(report.format_report(table))
    print(f"Table, benchmark.json and plots written to {benchmark_dir}")
    for name, scores in table.items():
        for sequence, why in scores.unscored.items():
            failures.setdefault(f"{sequence} ({name})", why)
    return errors.report_failures(failures, "tracked or scored")


def run() -> None:
    """The ``tsn-benchmark`` command; ``python -m bin.benchmark`` from a checkout."""
    errors.run(
        compilation_cache.with_compilation_cache(main),
        flagfiles.parse_flags,
        input_errors=(peers.PeerUnavailableError,),
    )


if __name__ == "__main__":
    run()
