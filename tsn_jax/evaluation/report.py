"""The reporter: result folders in, the OTB table, ``summary.json`` and plots out.

One function, :func:`report`, scores any number of result folders (``<folder>/<sequence>.txt``,
as the runner writes them) against the sequences' ground truth with the OTB one-pass
evaluation (``metrics``). ``bin.track`` calls it on its output folder at the end of a run,
``bin.evaluate`` on any folder, ``bin.benchmark`` on one folder per tracker.

* Each folder scored gets ``summary.json`` (``metrics.write_summary``).
* One folder, no ``output_dir``: the success and precision plots go into the folder.
* With ``output_dir``: ``benchmark.json`` (every tracker's overall and per-sequence scores and
  its steady-state fps pooled from ``timings.json``) and the plots, one curve per tracker, go
  into ``output_dir``.

:func:`format_report` gives the table: one tracker, a row per sequence (``metrics.format_table``);
several, a row per tracker (AUC, precision@20, OP50, CLE, fps) and the AUC of every sequence.
"""

import dataclasses
import json
import math
import os
import pathlib
from collections.abc import Iterable, Mapping

from absl import logging

from tsn_jax.evaluation import boxfiles, datasets, metrics, plots, tracked


class ReportError(ValueError):
    """No result file to score, or a result file that does not fit its sequence."""


@dataclasses.dataclass(frozen=True)
class TrackerScores:
    """One result folder's scores.

    Attributes:
      folder: the result folder.
      sequences: {sequence name: metrics.SequenceScore}, in the order of the sequences given.
      overall: their ``metrics.aggregate``.
      fps: steady-state frames per second pooled over the scored sequences' ``timings.json``
        entries (steps after the first); NaN without timings.
    """

    folder: pathlib.Path
    sequences: dict[str, metrics.SequenceScore]
    overall: metrics.SequenceScore
    fps: float


def pooled_fps(timings: Mapping[str, Mapping[str, float]]) -> float:
    """Frames per second over every sequence's steady steps ({name: timing dict}); NaN if none."""
    frames = sum(t.get("steady_frames", 0) for t in timings.values())
    seconds = sum(t.get("steady_seconds", 0.0) for t in timings.values())
    return frames / seconds if seconds > 0 else math.nan


def score_folder(
    folder: str | os.PathLike[str], sequences: Iterable[datasets.Sequence]
) -> tuple[dict[str, metrics.SequenceScore], list[str]]:
    """Scores the result files in ``folder`` of the sequences that have ground truth.

    Args:
      folder: a folder of ``<sequence>.txt`` result files (1-based x,y,w,h rows).
      sequences: ``datasets.Sequence`` objects; those without ground truth are not scored.

    Returns:
      ``(scored, missing)``: {name: metrics.SequenceScore} in the sequences' order, and the
      names of the sequences with ground truth but no result file.

    Raises:
      ReportError: a result file whose row count differs from its sequence's (file named).
      boxfiles.BoxFileError: a result file that cannot be parsed (file and line named).
    """
    folder = pathlib.Path(folder)
    scored, missing = {}, []
    for sequence in sequences:
        if sequence.groundtruth_xywh is None:
            continue
        path = folder / f"{sequence.name}.txt"
        if not path.is_file():
            missing.append(sequence.name)
            continue
        predicted = boxfiles.read_boxes(path)
        try:
            scored[sequence.name] = metrics.evaluate_sequence(predicted, sequence.groundtruth_xywh)
        except ValueError as e:
            raise ReportError(f"{path} ({sequence.name}): {e}") from None
    return scored, missing


def report(
    folders: Mapping[str, str | os.PathLike[str]],
    sequences: Iterable[datasets.Sequence],
    output_dir: str | os.PathLike[str] | None = None,
) -> dict[str, TrackerScores]:
    """Scores result folders on the sequences and writes the summaries and plots.

    A folder alone is scored on the sequences it has results for (the others are logged as a
    warning). Among several, a folder lacking results for some sequence is left out (said on
    stdout), so that every tracker in the table is scored on the same sequences.

    Args:
      folders: {tracker name (plot legend, table row): result folder}.
      sequences: ``datasets.Sequence`` objects; those without ground truth are not scored.
      output_dir: where ``benchmark.json`` and the plots go; None (one folder only): the plots
        go into the folder and no ``benchmark.json`` is written.

    Returns:
      {tracker name: TrackerScores} of the folders scored, in ``folders``' order; {} when no
      sequence has ground truth (nothing is written then).

    Raises:
      ValueError: several folders without ``output_dir``.
      ReportError: sequences have ground truth but no folder has a result file for any of
        them, or a result file does not fit its sequence.
      boxfiles.BoxFileError: a result file that cannot be parsed.
    """
    if output_dir is None and len(folders) != 1:
        raise ValueError(f"{len(folders)} result folders need an output_dir for the plots")
    sequences = list(sequences)
    without = [s.name for s in sequences if s.groundtruth_xywh is None]
    if without:
        logging.info("No ground truth, not scored: %s", ", ".join(without))
    if len(without) == len(sequences):
        return {}
    table = {}
    for name, folder in folders.items():
        folder = pathlib.Path(folder)
        scored, missing = score_folder(folder, sequences)
        if missing and len(folders) > 1:
            print(f"{name}: no results for {', '.join(missing)}; left out of the table")
            continue
        if missing:
            logging.warning(
                "No result file in %s for %d sequence(s), skipped: %s",
                folder,
                len(missing),
                ", ".join(missing),
            )
        if not scored:
            continue
        timings = tracked.read_timings(folder / "timings.json").get("sequences", {})
        overall = metrics.aggregate(list(scored.values()))
        table[name] = TrackerScores(
            folder, scored, overall, pooled_fps({k: v for k, v in timings.items() if k in scored})
        )
        metrics.write_summary(folder / "summary.json", scored, overall)
    if not table:
        looked = ", ".join(s.name + ".txt" for s in sequences if s.groundtruth_xywh is not None)
        raise ReportError(
            f"no result file in {', '.join(str(f) for f in folders.values())} matches a "
            f"sequence with ground truth (looked for {looked})"
        )
    if output_dir is None:
        output_dir = next(iter(table.values())).folder
    else:
        output_dir = pathlib.Path(output_dir)
        _write_comparison(table, output_dir / "benchmark.json")
    plots.plot_success(
        {n: t.overall.success_curve for n, t in table.items()}, output_dir / "success_plot.png"
    )
    plots.plot_precision(
        {n: t.overall.precision_curve for n, t in table.items()},
        output_dir / "precision_plot.png",
    )
    return table


def _write_comparison(table, path):
    payload = {
        name: {
            "overall": scores.overall.to_dict(),
            "fps": scores.fps,
            "sequences": {s: score.to_dict() for s, score in scores.sequences.items()},
        }
        for name, scores in table.items()
    }
    boxfiles.atomic_write_text(path, json.dumps(payload, indent=1))


def format_report(table: Mapping[str, TrackerScores]) -> str:
    """The table as text (no trailing newline).

    One tracker: a row per sequence and the overall row (``metrics.format_table``). Several:
    a row per tracker, best AUC first (AUC, precision@20, OP50, CLE, fps), then the success
    AUC of every sequence per tracker.
    """
    if len(table) == 1:
        scores = next(iter(table.values()))
        return metrics.format_table(scores.sequences, scores.overall)
    names = sorted(table, key=lambda n: -table[n].overall.auc)
    lines = [f"{'tracker':<22}{'AUC':>7}{'prec@20':>9}{'OP50':>7}{'CLE':>8}{'fps':>9}"]
    for name in names:
        o = table[name].overall
        lines.append(
            f"{name:<22}{o.auc:>7.3f}{o.precision20:>9.3f}{o.op50:>7.3f}{o.cle:>8.1f}"
            f"{table[name].fps:>9.2f}"
        )
    sequences = sorted(next(iter(table.values())).sequences) if table else []
    lines += [
        "",
        "success AUC per sequence",
        f"{'sequence':<22}" + "".join(f"{n[:12]:>13}" for n in names),
    ]
    for sequence in sequences:
        lines.append(
            f"{sequence:<22}" + "".join(f"{table[n].sequences[sequence].auc:>13.3f}" for n in names)
        )
    return "\n".join(lines)
