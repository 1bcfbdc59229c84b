r"""Scores result folders against a dataset's ground truth, each benchmark with its own metric.

  python -m bin.evaluate --dataset_dir=D --results_dir=R [--sequences=a,b] [--plot_name=TSN]
  python -m bin.evaluate --benchmark=lasot --dataset_dir=D --results_dir=R
  python -m bin.evaluate --dataset_dir=D --comparison_dir=C \
      --results_dir=TSN=results/tsn,CSRT=results/benchmark/csrt,results/published/SiamFC

Reads ``<results_dir>/<sequence>.txt`` (or ``<sequence>_001.txt`` ... of several runs) for every
sequence of ``--dataset_dir`` (read in ``--benchmark``'s layout when given; sequences without a
result file are skipped with a warning) and scores them with the benchmark's metric: OTB's
(AUC, precision@20, OP50, CLE) by default and for OTB / UAV / NfS / TC128 / DTB70, LaSOT's
(AUC, precision@20, normalised precision), GOT-10k's (AO, SR0.5, SR0.75). Several runs give
mean ± std. A benchmark scored by its server (GOT-10k test, TrackingNet) has no ground truth
here: the message points to ``python -m bin.submission``.

One folder: the per-sequence table, and ``summary.json`` and the plots written into it. Several
(``NAME=FOLDER`` or ``FOLDER``, named after its last component): ONE table ranked by AUC (AO for
GOT-10k), a success and a precision plot with a curve per tracker, and ``benchmark.json``, in
``--comparison_dir``; every folder also gets its ``summary.json``. A folder need not come from
this project: other trackers' published raw results in OTB format (one ``x,y,w,h`` row per
frame, 1-based) join the table, their fps shown as ``-`` without a ``timings.json``.

A result file that cannot be scored (unparseable, a row count other than its sequence's) or a
sequence folder that cannot be loaded does not stop the others: every other file is scored, and
the run ends by listing those with their errors and exit status 4 (``bin/errors.py``).
"""

import pathlib
from collections.abc import Sequence
from typing import Any

from absl import app, flags

from tsn_jax.evaluation import datasets, layouts, report

from . import dataset_flags, errors, flagfiles, scoring

_RESULTS_DIR = flags.DEFINE_list(
    "results_dir",
    None,
    "Result folders of <sequence>.txt (or <sequence>_001.txt ...) files, 1-based x,y,w,h rows, "
    "comma-separated; each FOLDER or NAME=FOLDER (the name in the table and the plots). "
    "Several are compared in one table.",
)
_PLOT_NAME = flags.DEFINE_string(
    "plot_name", None, "One folder: the tracker's name in plot legends (default: its folder name)."
)
_COMPARISON_DIR = flags.DEFINE_string(
    "comparison_dir",
    "results/comparison",
    "Several --results_dir: where benchmark.json and the plots of the comparison go.",
)
flags.adopt_module_key_flags(dataset_flags)  # --help shows --dataset_dir, --benchmark, ...


def named_folders(entries: Sequence[str], plot_name: str | None = None) -> dict[str, str]:
    """``--results_dir`` entries as {tracker name: folder}.

    Args:
      entries: ``FOLDER`` or ``NAME=FOLDER`` strings.
      plot_name: the name of a single unnamed folder (``--plot_name``).

    Returns:
      {name: folder} in the order given; an unnamed folder is named after its last component.

    Raises:
      app.UsageError: no entry, an empty name or folder, or two entries with one name.
    """
    if not entries:
        raise app.UsageError("--results_dir needs at least one folder")
    folders = {}
    for entry in entries:
        name, _, folder = entry.partition("=") if "=" in entry else ("", "", entry)
        if "=" in entry and not name:
            raise app.UsageError(f"--results_dir entry {entry!r}: NAME=FOLDER needs a name")
        if not folder:
            raise app.UsageError(f"--results_dir entry {entry!r} names no folder")
        if not name:
            single = len(entries) == 1 and plot_name
            name = plot_name if single else pathlib.Path(folder).resolve().name
        if name in folders:
            raise app.UsageError(
                f"--results_dir: two folders named {name!r} ({folders[name]}, {folder}); "
                "name them with NAME=FOLDER"
            )
        folders[name] = folder
    return folders


def dataset_sources(
    dataset_dir: str, names: Sequence[str] | None = None, benchmark: str | None = None
) -> list[datasets.SequenceSource]:
    """The sequences to score: ``benchmark``'s layout (``layouts.sources``), else OTB / VOT
    folders (``datasets.sequence_sources``)."""
    if benchmark is None:
        return datasets.sequence_sources(dataset_dir, names)
    return layouts.sources(dataset_dir, benchmark, names)


def evaluate_dirs(
    dataset_dir: str,
    folders: dict[str, str],
    names: Sequence[str] | None = None,
    benchmark: str | None = None,
    comparison_dir: str | None = None,
) -> dict[str, report.TrackerScores]:
    """Scores result folders with the benchmark's metric (``report.report``).

    Args:
      dataset_dir: the dataset (in ``benchmark``'s layout when given).
      folders: {tracker name: result folder}.
      names: only these sequences.
      benchmark: a key of ``layouts.BENCHMARKS``; None: OTB / VOT folders, OTB's metric.
      comparison_dir: where several folders' comparison goes (needed for several).

    Returns:
      {tracker name: report.TrackerScores}.

    Raises:
      datasets.DatasetError: ``dataset_dir`` is missing, holds no sequence, or lacks a name.
      report.ReportError: no sequence with ground truth (the message says why: a benchmark
        scored by its server points to ``bin.submission``), or none with a result file that
        can be scored (the message lists why each failed).
    """
    metric = "otb" if benchmark is None else layouts.BENCHMARKS[benchmark].metric
    if metric == "server":
        shown = ",".join(str(f) for f in folders.values())
        raise report.ReportError(scoring.server_message(benchmark, dataset_dir, shown))
    absent = [str(folder) for folder in folders.values() if not pathlib.Path(folder).is_dir()]
    if absent:
        raise report.ReportError(f"results folder missing: {', '.join(absent)}")
    sources = dataset_sources(dataset_dir, names, benchmark)
    output_dir = comparison_dir if len(folders) > 1 else None
    table = report.report(folders, sources, output_dir, metric=metric)
    if not table:
        raise report.ReportError(f"no sequence of {dataset_dir} has ground truth to score")
    return table


def evaluate_dir(
    dataset_dir: str,
    results_dir: str,
    names: Sequence[str] | None = None,
    plot_name: str | None = None,
    benchmark: str | None = None,
) -> tuple[dict[str, Any], Any, dict[str, str]]:
    """Scores every sequence of ``dataset_dir`` that has a result file in ``results_dir``;
    writes the summary and the plots there (``report.report``).

    Returns:
      ``(scored, overall, unscored)``: {sequence name: score} in dataset order (a
      ``metrics.SequenceScore`` with OTB's metric), their aggregate, and {sequence name: why}
      of the result files that could not be scored (a row count other than the sequence's, a
      line that cannot be parsed: file and line named) and of the sequences that could not be
      loaded.

    Raises:
      datasets.DatasetError: ``dataset_dir`` is missing, holds no sequence, or lacks a name.
      report.ReportError: no sequence has both ground truth and a result file that can be
        scored (the message lists why each failed).
    """
    name = plot_name or pathlib.Path(results_dir).resolve().name
    table = evaluate_dirs(dataset_dir, {name: results_dir}, names, benchmark)
    return table[name].sequences, table[name].overall, table[name].unscored


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    folders = named_folders(_RESULTS_DIR.value, _PLOT_NAME.value)
    table = evaluate_dirs(
        dataset_flags.DATASET_DIR.value,
        folders,
        dataset_flags.SEQUENCES.value,
        dataset_flags.BENCHMARK.value,
        _COMPARISON_DIR.value,
    )
    print(report.format_report(table))
    if len(folders) == 1:
        written = ", ".join(["summary.json", *report.plot_files(table)])
        print(f"{written} written to {next(iter(folders.values()))}")
    else:
        print(
            f"summary.json written to each folder; benchmark.json and "
            f"{', '.join(report.plot_files(table))} to {_COMPARISON_DIR.value}"
        )
    unscored = {
        (f"{sequence} ({name})" if len(table) > 1 else sequence): why
        for name, scores in table.items()
        for sequence, why in scores.unscored.items()
    }
    return errors.report_failures(unscored, "scored")


def run() -> None:
    """The ``tsn-evaluate`` command; ``python -m bin.evaluate`` from a checkout."""
    flags.mark_flags_as_required(["dataset_dir", "results_dir"])
    errors.run(main, flagfiles.parse_flags)


if __name__ == "__main__":
    run()
