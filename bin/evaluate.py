r"""Scores OTB-format result files against a dataset's ground truth (OTB one-pass evaluation).

  python -m bin.evaluate --dataset_dir=D --results_dir=R [--sequences=a,b] [--plot_name=TSN]

Reads ``<results_dir>/<sequence>.txt`` for every sequence of ``--dataset_dir`` (sequences without
a result file are skipped with a warning), prints the per-sequence table (AUC, precision@20,
OP50, CLE) and writes ``summary.json``, ``success_plot.png`` and ``precision_plot.png`` into
``results_dir`` (``tsn_jax.evaluation.report``).
"""

import pathlib

from absl import app, flags

from bin import dataset_flags
from tsn_jax.evaluation import datasets, metrics, report

_RESULTS_DIR = flags.DEFINE_string(
    "results_dir", None, "A folder of <sequence>.txt result files (1-based x,y,w,h rows)."
)
_PLOT_NAME = flags.DEFINE_string(
    "plot_name", None, "The tracker's name in plot legends (default: the results folder name)."
)


def evaluate_dir(dataset_dir, results_dir, names=None, plot_name=None):
    """Scores every sequence of ``dataset_dir`` that has a result file in ``results_dir``;
    writes the summary and the plots there (``report.report``).

    Returns:
      ``(scored, overall)``: {sequence name: metrics.SequenceScore} in dataset order and their
      aggregate.

    Raises:
      report.ReportError: no sequence has both ground truth and a result file, or a result
        file's row count differs from its sequence's (the file is named).
      boxfiles.BoxFileError: a result file cannot be parsed (file and line named).
    """
    name = plot_name or pathlib.Path(results_dir).resolve().name
    table = report.report({name: results_dir}, datasets.load_sequences(dataset_dir, names))
    if not table:
        raise report.ReportError(f"no sequence of {dataset_dir} has ground truth to score")
    return table[name].sequences, table[name].overall


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
