r"""Scores OTB-format result files against a dataset's ground truth (OTB one-pass evaluation).

  python -m bin.evaluate --dataset_dir=D --results_dir=R [--sequences=a,b] [--plot_name=TSN]

Reads ``<results_dir>/<sequence>.txt`` for every sequence of ``--dataset_dir`` (sequences without
a result file are skipped with a warning), prints the per-sequence table (AUC, precision@20,
OP50, CLE) and writes ``summary.json``, ``success_plot.png`` and ``precision_plot.png`` into
``results_dir``.
"""

import pathlib

from absl import app, flags, logging

from bin import dataset_flags
from tsn_jax import datasets, metrics, plots, results

_RESULTS_DIR = flags.DEFINE_string(
    "results_dir", None, "A folder of <sequence>.txt result files (1-based x,y,w,h rows)."
)
_PLOT_NAME = flags.DEFINE_string(
    "plot_name", None, "The tracker's name in plot legends (default: the results folder name)."
)


class EvaluateError(ValueError):
    """No result file to score, or a result file that does not fit its sequence."""


def evaluate_dir(dataset_dir, results_dir, names=None, plot_name=None):
    """Scores every sequence that has a result file; writes the summary and the plots.

    Args:
      dataset_dir: an OTB-layout dataset root (read with ``datasets.load_sequences``).
      results_dir: folder of ``<sequence>.txt`` result files; outputs are written here.
      names: optional list of sequence names (default: every sequence of the dataset).
      plot_name: the tracker's name in the plot legends (default: ``results_dir``'s name).

    Returns:
      ``(scored, overall)``: {sequence name: metrics.SequenceScore} in dataset order and their
      :func:`metrics.aggregate`.

    Raises:
      EvaluateError: no sequence has both ground truth and a result file, or a result file's
        row count differs from its sequence's (the file is named).
      results.ResultsError: a result file cannot be parsed (file and line named).
    """
    results_dir = pathlib.Path(results_dir)
    sequences = datasets.load_sequences(dataset_dir, names)
    scored, missing = {}, []
    for sequence in sequences:
        if sequence.groundtruth_xywh is None:
            logging.warning("%s has no ground truth: not scored", sequence.name)
            continue
        path = results_dir / f"{sequence.name}.txt"
        if not path.is_file():
            missing.append(sequence.name)
            continue
        predicted = results.read_results(path)
        try:
            scored[sequence.name] = metrics.evaluate_sequence(predicted, sequence.groundtruth_xywh)
        except ValueError as e:
            raise EvaluateError(f"{path} ({sequence.name}): {e}") from None
    if missing:
        logging.warning(
            "No result file in %s for %d sequence(s), skipped: %s",
            results_dir,
            len(missing),
            ", ".join(missing),
        )
    if not scored:
        raise EvaluateError(
            f"no result file in {results_dir} matches a sequence of {dataset_dir} "
            f"(looked for {', '.join(s.name + '.txt' for s in sequences)})"
        )
    overall = metrics.aggregate(list(scored.values()))
    name = plot_name or results_dir.resolve().name
    metrics.write_summary(results_dir / "summary.json", scored, overall)
    plots.plot_success({name: overall.success_curve}, results_dir / "success_plot.png")
    plots.plot_precision({name: overall.precision_curve}, results_dir / "precision_plot.png")
    return scored, overall


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    scored, overall = evaluate_dir(
        dataset_flags.DATASET_DIR.value,
        _RESULTS_DIR.value,
        dataset_flags.SEQUENCES.value,
        _PLOT_NAME.value,
    )
    print(metrics.format_table(scored, overall))
    print(f"summary.json, success_plot.png and precision_plot.png written to {_RESULTS_DIR.value}")


if __name__ == "__main__":
    flags.mark_flags_as_required(["dataset_dir", "results_dir"])
    app.run(main)
