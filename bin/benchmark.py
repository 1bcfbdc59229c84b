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

import json
import pathlib

from absl import app, flags

from bin import config_flags
from bin import track as track_cli
from tsn_jax import metrics, peers, plots, results, run

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


def _pooled_fps(timings):
    frames = sum(t.get("steady_frames", 0) for t in timings.values())
    seconds = sum(t.get("steady_seconds", 0.0) for t in timings.values())
    return frames / seconds if seconds > 0 else float("nan")


def evaluate_trackers(sequences, benchmark_dir, names):
    """Scores every tracker's results on the sequences that have ground truth.

    Returns:
      {tracker: {"overall": SequenceScore, "sequences": {name: SequenceScore}, "fps": float}}
      for the trackers with results for every sequence (others are reported and left out).
    """
    table = {}
    for name in names:
        folder = benchmark_dir / name
        scored, missing = {}, []
        for sequence in sequences:
            if sequence.groundtruth_xywh is None:
                continue
            path = folder / f"{sequence.name}.txt"
            if not path.exists():
                missing.append(sequence.name)
                continue
            predicted = results.read_results(path)
            scored[sequence.name] = metrics.evaluate_sequence(predicted, sequence.groundtruth_xywh)
        if missing:
            print(f"{name}: no results for {', '.join(missing)}; left out of the table")
            continue
        if not scored:
            continue
        timings = run.read_timings(folder / "timings.json").get("sequences", {})
        table[name] = {
            "overall": metrics.aggregate(list(scored.values())),
            "sequences": scored,
            "fps": _pooled_fps({k: v for k, v in timings.items() if k in scored}),
        }
    return table


def format_benchmark(table):
    """The comparison table as text: one row per tracker, then per-sequence AUC."""
    names = sorted(table, key=lambda n: -table[n]["overall"].auc)
    lines = [f"{'tracker':<22}{'AUC':>7}{'prec@20':>9}{'OP50':>7}{'CLE':>8}{'fps':>9}"]
    for name in names:
        o = table[name]["overall"]
        lines.append(
            f"{name:<22}{o.auc:>7.3f}{o.precision20:>9.3f}{o.op50:>7.3f}{o.cle:>8.1f}"
            f"{table[name]['fps']:>9.2f}"
        )
    sequences = sorted(next(iter(table.values()))["sequences"]) if table else []
    lines += [
        "",
        "success AUC per sequence",
        f"{'sequence':<22}" + "".join(f"{n[:12]:>13}" for n in names),
    ]
    for sequence in sequences:
        lines.append(
            f"{sequence:<22}"
            + "".join(f"{table[n]['sequences'][sequence].auc:>13.3f}" for n in names)
        )
    return "\n".join(lines)


def write_benchmark(table, benchmark_dir):
    """benchmark.json and the success / precision plots, one curve per tracker."""
    payload = {
        name: {
            "overall": entry["overall"].to_dict(),
            "fps": entry["fps"],
            "sequences": {s: score.to_dict() for s, score in entry["sequences"].items()},
        }
        for name, entry in table.items()
    }
    results.atomic_write_text(benchmark_dir / "benchmark.json", json.dumps(payload, indent=1))
    plots.plot_success(
        {n: e["overall"].success_curve for n, e in table.items()},
        benchmark_dir / "success_plot.png",
    )
    plots.plot_precision(
        {n: e["overall"].precision_curve for n, e in table.items()},
        benchmark_dir / "precision_plot.png",
    )


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

            def track_one(sequence, weights=weights, config=config):
                return run.track_sequence(
                    weights,
                    sequence,
                    config,
                    seed=flags.FLAGS.seed,
                    progress=flags.FLAGS.progress,
                )

            name = _TSN_NAME.value
            info = {"weights": source, "seed": flags.FLAGS.seed, "config": repr(config)}
        elif tracker in peers.NAMES:
            peers.create(tracker)  # fails early and clearly without OpenCV contrib

            def track_one(sequence, tracker=tracker):
                return peers.track_sequence(tracker, sequence, progress=flags.FLAGS.progress)

            name, info = tracker, {"tracker": f"OpenCV {tracker.upper()}"}
        else:
            raise app.UsageError(f"unknown tracker {tracker!r}: use tsn, csrt or kcf")
        print(f"== {name}")
        run.track_all(
            sequences,
            track_one,
            benchmark_dir / name,
            overwrite=flags.FLAGS.overwrite,
            info=info,
        )
    table = evaluate_trackers(
        sequences,
        benchmark_dir,
        _tracker_names(
            benchmark_dir, [_TSN_NAME.value if t == "tsn" else t for t in _TRACKERS.value]
        ),
    )
    if not table:
        print("No tracker has results with ground truth to score.")
        return
    print(format_benchmark(table))
    write_benchmark(table, benchmark_dir)
    print(f"Table, benchmark.json and plots written to {benchmark_dir}")


if __name__ == "__main__":
    app.run(main)
