"""The reporter: result folders in, each benchmark's table, ``summary.json`` and plots out.

One function, :func:`report`, scores any number of result folders (``<folder>/<sequence>.txt``,
as the runner writes them, or other trackers' raw results in the same OTB format) against the
sequences' ground truth with a benchmark's own metric (:data:`METRICS`): ``"otb"`` (OTB one-pass
evaluation: success AUC, precision@20, OP50, CLE; also UAV123, NfS, TC128, DTB70), ``"lasot"``
(the same with absent frames as failures, and the normalised precision) or ``"got10k"`` (AO,
SR0.5, SR0.75, frames pooled over sequences). ``bin.track`` calls it on its output folder at the
end of a run, ``bin.evaluate`` on any folders, ``bin.benchmark`` on one folder per tracker.

* Runs: a folder holding ``<sequence>_001.txt``, ``<sequence>_002.txt``, ... (``runner.run_name``,
  the GOT-10k / pytracking convention) is scored run by run; its figures are the mean over the
  runs with their sample standard deviation (``ddof=1``), each run's figure the aggregate over
  the same sequences. A sequence lacking one of the folder's runs is not scored (listed).
* Each folder scored gets ``summary.json`` (a warning where it cannot be written): the
  per-sequence and overall scores (means over the runs), the thresholds, and with several runs
  each run's scores and the mean / std figures.
* A result file that cannot be scored (unparseable, a row count other than its sequence's)
  and a sequence that cannot be loaded (``datasets.SequenceSource``) do not stop the others:
  they are listed with their errors (:attr:`TrackerScores.unscored`).
* One folder, no ``output_dir``: the plots go into the folder.
* With ``output_dir``: ``benchmark.json`` (every tracker's overall, per-run and per-sequence
  scores and its fps pooled from ``timings.json``, compilation excluded, None without one) and
  the plots, one curve per tracker, go into ``output_dir``.

:func:`format_report` gives the table: one tracker, a row per sequence and the overall row;
several, a row per tracker ranked by the metric's first figure (AUC, or GOT-10k's AO), then that
figure for every sequence. Figures over several runs read ``mean ± std``.
"""

import dataclasses
import glob
import json
import math
import os
import pathlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from absl import logging

from tsn_jax.evaluation import boxfiles, datasets, layouts, metrics, plots, tracked


class ReportError(ValueError):
    """No result file to score (the message lists those that could not be scored, with why)."""


# ---------------------------------------------------------------------------------------------
# The metrics.


@dataclasses.dataclass(frozen=True)
class Figure:
    """One column of a metric's table.

    Attributes:
      attribute: the score's attribute (``auc``, ``ao``, ...).
      header: the column's header.
      decimals: digits after the point.
    """

    attribute: str
    header: str
    decimals: int = 3


@dataclasses.dataclass(frozen=True)
class Metric:
    """A benchmark's way of scoring.

    Attributes:
      name: ``"otb"``, ``"lasot"`` or ``"got10k"`` (``layouts.Benchmark.metric``).
      figures: the table's columns; the first one ranks trackers.
      score_sequence: ``([T, 4] 0-based predicted boxes, the loaded sequence) -> score``;
        raises ValueError when the boxes do not fit the sequence.
      aggregate: ``[score] -> score`` over sequences, as the benchmark's toolkit averages them.
      thresholds: {name: thresholds} of the score's curves, stored in ``summary.json``.
    """

    name: str
    figures: tuple[Figure, ...]
    score_sequence: Callable[[np.ndarray, datasets.Sequence], Any]
    aggregate: Callable[[Sequence[Any]], Any]
    thresholds: dict[str, np.ndarray]


def _score_otb(predicted_xywh, sequence):
    return metrics.evaluate_sequence(predicted_xywh, sequence.groundtruth_xywh)


def _score_lasot(predicted_xywh, sequence):
    return metrics.evaluate_lasot_sequence(
        predicted_xywh, sequence.groundtruth_xywh, layouts.target_visible(sequence)
    )


def _score_got10k(predicted_xywh, sequence):
    ious = metrics.got10k_frame_ious(
        predicted_xywh,
        sequence.groundtruth_xywh,
        sequence.frame_size_wh,
        layouts.target_visible(sequence),
    )
    return metrics.evaluate_got10k([ious])


def pool_got10k(scores: Sequence[metrics.Got10kScore]) -> metrics.Got10kScore:
    """GOT-10k's figures over several sequences (or runs) from their own scores.

    The GOT-10k toolkit pools frames (a long sequence weighs more); a sequence's AO, success
    rates and curve are means over its frames, so weighting each by its frame count gives
    ``metrics.evaluate_got10k`` of all the frames' IoUs together, up to float rounding.

    Args:
      scores: non-empty ``metrics.Got10kScore`` list, one per sequence (and run).

    Returns:
      The pooled ``metrics.Got10kScore`` (``num_frames``: the total).

    Raises:
      ValueError: no score, or no frame in any.
    """
    frames = np.asarray([s.num_frames for s in scores], np.float64)
    if not len(frames) or frames.sum() <= 0:
        raise ValueError("pool_got10k() needs at least one score with frames")
    weights = frames / frames.sum()
    return metrics.Got10kScore(
        ao=float(np.dot(weights, [s.ao for s in scores])),
        sr50=float(np.dot(weights, [s.sr50 for s in scores])),
        sr75=float(np.dot(weights, [s.sr75 for s in scores])),
        success_curve=weights @ np.asarray([s.success_curve for s in scores]),
        num_frames=int(frames.sum()),
    )


_OTB_THRESHOLDS = {
    "success_thresholds": metrics.SUCCESS_THRESHOLDS,
    "precision_thresholds": metrics.PRECISION_THRESHOLDS,
}

METRICS: dict[str, Metric] = {
    "otb": Metric(
        "otb",
        (
            Figure("auc", "AUC"),
            Figure("precision20", "prec@20"),
            Figure("op50", "OP50"),
            Figure("cle", "CLE", 1),
        ),
        _score_otb,
        metrics.aggregate,
        _OTB_THRESHOLDS,
    ),
    "lasot": Metric(
        "lasot",
        (
            Figure("auc", "AUC"),
            Figure("precision20", "prec@20"),
            Figure("normalized_precision", "norm.prec"),
        ),
        _score_lasot,
        metrics.aggregate_lasot,
        {
            **_OTB_THRESHOLDS,
            "normalized_precision_thresholds": metrics.NORMALIZED_PRECISION_THRESHOLDS,
        },
    ),
    "got10k": Metric(
        "got10k",
        (Figure("ao", "AO"), Figure("sr50", "SR0.5"), Figure("sr75", "SR0.75")),
        _score_got10k,
        pool_got10k,
        {"success_thresholds": metrics.GOT10K_SUCCESS_THRESHOLDS},
    ),
}


def _metric(name):
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
    return METRICS[name]


def _mean_over_runs(metric, scores):
    """The score of several runs of the same frames: each figure and curve their mean."""
    if len(scores) == 1:
        return scores[0]
    return dataclasses.replace(metric.aggregate(scores), num_frames=scores[0].num_frames)


# ---------------------------------------------------------------------------------------------
# Scores of a folder.


@dataclasses.dataclass(frozen=True)
class RunScores:
    """One run of a folder.

    Attributes:
      run: its number, 1-based (``<sequence>_00<run>.txt``; 1 for ``<sequence>.txt``).
      sequences: {sequence name: score}.
      overall: the metric's aggregate of ``sequences``.
    """

    run: int
    sequences: dict[str, Any]
    overall: Any


@dataclasses.dataclass(frozen=True)
class TrackerScores:
    """One result folder's scores.

    Attributes:
      folder: the result folder.
      sequences: {sequence name: score}, in the order of the sequences given; with several runs
        each sequence's mean over them. A score is a ``metrics.SequenceScore`` (OTB),
        ``metrics.LasotScore`` or ``metrics.Got10kScore``.
      overall: their aggregate (with several runs, the mean of the runs' aggregates).
      fps: frames per second pooled over the scored result files' ``timings.json`` entries:
        their timed frames over their summed time, compilation excluded, fine-tune frames
        included (``tracked.py``'s definition, the one ``bin.track`` prints and
        ``benchmarks.speed`` measures); NaN without timings (other trackers' raw results).
      unscored: {sequence name: why} of the sequences that could not be scored: a result file
        that cannot be read or does not fit its sequence, a sequence lacking one of the
        folder's runs, or a sequence that cannot be loaded.
      metric: the key of :data:`METRICS` it was scored with.
      runs: the folder's runs, in order (one for ``<sequence>.txt`` files).
    """

    folder: pathlib.Path
    sequences: dict[str, Any]
    overall: Any
    fps: float
    unscored: dict[str, str] = dataclasses.field(default_factory=dict)
    metric: str = "otb"
    runs: tuple[RunScores, ...] = ()
    speed: tracked.PooledTimings | None = None

    def figure(self, attribute: str) -> tuple[float, float]:
        """``(mean, std)`` of an overall figure (``"auc"``, ``"ao"``, ...) over the runs.

        The std is the sample standard deviation (``ddof=1``) of the runs' overall figures,
        NaN with one run.
        """
        values = [getattr(r.overall, attribute) for r in self.runs]
        if len(values) < 2:
            return float(getattr(self.overall, attribute)), math.nan
        return float(np.mean(values)), float(np.std(values, ddof=1))


def pooled_fps(timings: Mapping[str, Mapping[str, float]]) -> float:
    """Frames per second over every sequence's timed frames ({name: timing dict}, old or new
    ``timings.json`` entries; ``tracked.pool_timings``); NaN if none."""
    return tracked.pool_timings(timings).times.fps


def result_files(folder: str | os.PathLike[str], name: str) -> dict[int, pathlib.Path]:
    """The result files of sequence ``name`` in ``folder``, by run.

    Args:
      folder: a results folder.
      name: the sequence's name.

    Returns:
      ``{1: <name>.txt}`` for one run, ``{k: <name>_00k.txt}`` for several (sorted by run), or
      ``{}`` when there is none.

    Raises:
      ValueError: both forms are there (the files are named).
    """
    folder = pathlib.Path(folder)
    single = folder / f"{name}.txt"
    numbered = {
        int(path.stem[-3:]): path
        for path in folder.glob(f"{glob.escape(name)}_[0-9][0-9][0-9].txt")
        if path.is_file()
    }
    if single.is_file() and numbered:
        raise ValueError(
            f"{folder}: both {single.name} and {name}_NNN.txt run files; keep one form "
            f"({single.name} is the single run of --runs=1; rename it {name}_001.txt to count "
            "it as run 1)"
        )
    if single.is_file():
        return {1: single}
    return dict(sorted(numbered.items()))


@dataclasses.dataclass(frozen=True)
class FolderScores:
    """What :func:`score_folder` found.

    Attributes:
      scored: {sequence name: {run: score}}, in the sequences' order; every sequence has the
        same runs.
      missing: the names of the sequences with ground truth but no result file.
      unscored: {name: why} of the sequences whose result files cannot be scored.
      stems: the stems of the scored result files (``timings.json``'s keys).
    """

    scored: dict[str, dict[int, Any]]
    missing: list[str]
    unscored: dict[str, str]
    stems: list[str]


def _score_runs(files, sequence, metric):
    """{run: score} of one sequence's result files; raises BoxFileError / ValueError."""
    scored = {}
    for run, path in files.items():
        predicted = boxfiles.read_boxes(path)
        try:
            scored[run] = metric.score_sequence(predicted, sequence)
        except ValueError as e:
            raise ValueError(f"{path} ({sequence.name}): {e}") from None
    return scored


def _drop_incomplete_runs(folder, found):
    """Moves the sequences lacking one of the folder's runs from ``found.scored`` to
    ``found.unscored``; returns the folder's runs."""
    runs = sorted(set().union(*(by_run.keys() for by_run in found.scored.values())))
    for name in list(found.scored):
        lacking = [k for k in runs if k not in found.scored[name]]
        if lacking:
            shown = ", ".join(f"{name}_{k:03d}.txt" for k in lacking)
            found.unscored[name] = (
                f"{folder}: {name} has {len(found.scored[name])} of the folder's {len(runs)} "
                f"runs (no {shown}); a sequence is scored with all the runs or not at all"
            )
            del found.scored[name]
    return runs


def score_folder(
    folder: str | os.PathLike[str],
    sequences: Iterable[datasets.Sequence],
    metric: str = "otb",
) -> FolderScores:
    """Scores the result files in ``folder`` of the sequences that have ground truth.

    Args:
      folder: a folder of ``<sequence>.txt`` or ``<sequence>_001.txt`` ... result files (1-based
        x,y,w,h rows).
      sequences: ``datasets.Sequence`` objects; those without ground truth are not scored.
      metric: a key of :data:`METRICS`.

    Returns:
      A :class:`FolderScores`: a result file that cannot be parsed (file and line named), whose
      row count is not its sequence's (file named), or a sequence lacking one of the folder's
      runs, is in ``unscored``.

    Raises:
      ValueError: an unknown metric.
    """
    scorer = _metric(metric)
    folder = pathlib.Path(folder)
    found, stems = FolderScores({}, [], {}, []), {}
    for sequence in sequences:
        if sequence.groundtruth_xywh is None:
            continue
        try:
            files = result_files(folder, sequence.name)
            if not files:
                found.missing.append(sequence.name)
                continue
            found.scored[sequence.name] = _score_runs(files, sequence, scorer)
        except (boxfiles.BoxFileError, ValueError) as e:
            found.unscored[sequence.name] = str(e)
            continue
        stems[sequence.name] = [path.stem for path in files.values()]
    _drop_incomplete_runs(folder, found)
    found.stems.extend(stem for name in found.scored for stem in stems[name])
    return found


def _tracker_scores(folder, found, unloadable, metric):
    """The :class:`TrackerScores` of a folder's scored sequences (there is at least one)."""
    scorer = METRICS[metric]
    runs = sorted(next(iter(found.scored.values())))
    per_run = tuple(
        RunScores(
            run,
            {name: by_run[run] for name, by_run in found.scored.items()},
            scorer.aggregate([by_run[run] for by_run in found.scored.values()]),
        )
        for run in runs
    )
    timings = tracked.read_timings(folder / "timings.json").get("sequences", {})
    scored_timings = {k: v for k, v in timings.items() if k in set(found.stems)}
    return TrackerScores(
        folder,
        {
            name: _mean_over_runs(scorer, list(by_run.values()))
            for name, by_run in found.scored.items()
        },
        _mean_over_runs(scorer, [r.overall for r in per_run]),
        pooled_fps(scored_timings),
        {**unloadable, **found.unscored},
        metric,
        per_run,
        tracked.pool_timings(scored_timings) if scored_timings else None,
    )


def _load(sequences):
    """(loaded sequences, {name: why} of those that cannot be loaded)."""
    loaded, unloadable = [], {}
    for item in sequences:
        try:
            loaded.append(datasets.load_source(item))
        except tracked.SEQUENCE_ERRORS as e:
            unloadable[item.name] = str(e)
    return loaded, unloadable


def report(
    folders: Mapping[str, str | os.PathLike[str]],
    sequences: Iterable[datasets.Sequence | datasets.SequenceSource],
    output_dir: str | os.PathLike[str] | None = None,
    metric: str = "otb",
) -> dict[str, TrackerScores]:
    """Scores result folders on the sequences and writes the summaries and plots.

    A folder alone is scored on the sequences it has results for (the others are logged as a
    warning). Among several, the sequences no folder has a usable result for are left out of
    the comparison (said on stdout), and a folder lacking a usable result for another one is
    left out of the table (said on stdout), so that every tracker in the table is scored on the
    same sequences. A result file that cannot be scored, or a sequence that cannot be loaded,
    is listed in the folder's ``unscored`` and the others are scored.

    Args:
      folders: {tracker name (plot legend, table row): result folder}; a folder without
        ``timings.json`` (another tracker's raw results) has no fps.
      sequences: ``datasets.Sequence`` or ``datasets.SequenceSource`` objects (loaded here);
        those without ground truth are not scored.
      output_dir: where ``benchmark.json`` and the plots go; None (one folder only): the plots
        go into the folder and no ``benchmark.json`` is written.
      metric: a key of :data:`METRICS`, the benchmark's (``layouts.Benchmark.metric``).

    Returns:
      {tracker name: TrackerScores} of the folders scored, in ``folders``' order; {} when no
      sequence has ground truth (nothing is written then).

    Raises:
      ValueError: several folders without ``output_dir``, or an unknown metric.
      ReportError: sequences have ground truth (or could not be loaded) but no folder has a
        result file that can be scored for any of them; the message lists why each failed.
    """
    _metric(metric)
    if output_dir is None and len(folders) != 1:
        raise ValueError(f"{len(folders)} result folders need an output_dir for the plots")
    sequences, unloadable = _load(sequences)
    without = [s.name for s in sequences if s.groundtruth_xywh is None]
    if without:
        logging.info("No ground truth, not scored: %s", ", ".join(without))
    if len(without) == len(sequences) and not unloadable:
        return {}
    scores = {name: score_folder(folder, sequences, metric) for name, folder in folders.items()}
    lacking = {name: {*found.missing, *found.unscored} for name, found in scores.items()}
    nowhere = set.intersection(*lacking.values()) if len(folders) > 1 else set()
    if nowhere:
        print(f"No tracker has a usable result for {', '.join(sorted(nowhere))}; not compared")
    table = {}
    for name, folder in folders.items():
        folder = pathlib.Path(folder)
        found = scores[name]
        if len(folders) > 1 and lacking[name] - nowhere:
            print(
                f"{name}: no usable result for {', '.join(sorted(lacking[name] - nowhere))}; "
                "left out of the table"
            )
            for sequence, why in found.unscored.items():
                print(f"  {sequence}: {why}")
            continue
        if found.missing:
            logging.warning(
                "No result file in %s for %d sequence(s), skipped: %s",
                folder,
                len(found.missing),
                ", ".join(found.missing),
            )
        if not found.scored:
            continue
        table[name] = _tracker_scores(folder, found, unloadable, metric)
        try:
            _write_json(folder / "summary.json", summary(table[name]))
        except OSError as error:  # e.g. a read-only folder of published results
            logging.warning("summary.json not written to %s: %s", folder, error)
    if not table:
        raise ReportError(_nothing_scored(folders, sequences, unloadable, scores))
    if output_dir is None:
        output_dir = next(iter(table.values())).folder
    else:
        output_dir = pathlib.Path(output_dir)
        _write_json(output_dir / "benchmark.json", {n: summary(t) for n, t in table.items()})
    write_plots(table, output_dir)
    return table


def _nothing_scored(folders, sequences, unloadable, scores):
    """The message of a report with nothing to score: what was looked for, and why each failed."""
    looked = ", ".join(s.name + ".txt" for s in sequences if s.groundtruth_xywh is not None)
    why = dict(unloadable)
    for found in scores.values():
        why.update(found.unscored)
    lines = [
        f"no result file in {', '.join(str(f) for f in folders.values())} could be scored "
        f"(looked for {looked or 'nothing: no sequence could be loaded'})"
    ]
    lines += [f"  {name}: {message}" for name, message in why.items()]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Files: summary.json, benchmark.json, plots.


def summary(scores: TrackerScores) -> dict[str, Any]:
    """A folder's scores as strict-JSON-ready data (NaN as None).

    Returns:
      ``{"metric", "runs", "sequences": {name: score}, "overall": score, "mean": {figure: v},
      "std": {figure: v or None}, "fps", "unscored", "per_run": [{"run", "overall",
      "sequences"}], <thresholds>}``: scores as their ``to_dict()`` (means over the runs),
      ``mean`` / ``std`` the overall figures over the runs (std None with one run), and the
      curves' thresholds (``success_thresholds``, ...).
    """
    scorer = METRICS[scores.metric]
    spread = {f.attribute: scores.figure(f.attribute) for f in scorer.figures}
    return {
        "metric": scores.metric,
        "runs": len(scores.runs),
        "sequences": {name: s.to_dict() for name, s in scores.sequences.items()},
        "overall": scores.overall.to_dict(),
        "mean": {k: tracked.finite_or_none(mean) for k, (mean, _) in spread.items()},
        "std": {k: tracked.finite_or_none(std) for k, (_, std) in spread.items()},
        "fps": tracked.finite_or_none(scores.fps),
        "unscored": scores.unscored,
        "per_run": [
            {
                "run": r.run,
                "overall": r.overall.to_dict(),
                "sequences": {name: s.to_dict() for name, s in r.sequences.items()},
            }
            for r in scores.runs
        ],
        **{key: values.tolist() for key, values in scorer.thresholds.items()},
    }


def _write_json(path, payload):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    boxfiles.atomic_write_text(path, json.dumps(payload, indent=1, allow_nan=False) + "\n")


def plot_files(table: Mapping[str, TrackerScores]) -> list[str]:
    """The names of the plots :func:`write_plots` writes for the table's metric."""
    metric = next(iter(table.values())).metric
    if metric == "got10k":
        return ["success_plot.png"]
    names = ["success_plot.png", "precision_plot.png"]
    return names + (["normalized_precision_plot.png"] if metric == "lasot" else [])


def write_plots(
    table: Mapping[str, TrackerScores], output_dir: str | os.PathLike[str]
) -> dict[str, list[str]]:
    """Writes the metric's plots, one curve per tracker (its mean over the runs), legends with
    ``± std`` over the runs: ``success_plot.png`` and ``precision_plot.png`` (OTB, LaSOT),
    ``normalized_precision_plot.png`` (LaSOT); GOT-10k's ``success_plot.png`` (AO).

    Args:
      table: {tracker name: TrackerScores}, all of one metric.
      output_dir: the folder (created).

    Returns:
      {file name: its legend labels, best tracker first}, in :func:`plot_files`' order.
    """
    output_dir = pathlib.Path(output_dir)
    metric = next(iter(table.values())).metric

    def curves(attribute):
        return {n: getattr(t.overall, attribute) for n, t in table.items()}

    def std(figure):
        return {n: t.figure(figure)[1] for n, t in table.items()}

    if metric == "got10k":
        ao = {n: t.figure("ao")[0] for n, t in table.items()}
        path = output_dir / "success_plot.png"
        labels = plots.plot_got10k_success(curves("success_curve"), ao, path, std=std("ao"))
        return {path.name: labels}
    written = {
        "success_plot.png": plots.plot_success(
            curves("success_curve"), output_dir / "success_plot.png", std=std("auc")
        ),
        "precision_plot.png": plots.plot_precision(
            curves("precision_curve"), output_dir / "precision_plot.png", std=std("precision20")
        ),
    }
    if metric == "lasot":
        written["normalized_precision_plot.png"] = plots.plot_normalized_precision(
            curves("normalized_precision_curve"),
            output_dir / "normalized_precision_plot.png",
            std=std("normalized_precision"),
        )
    return written


# ---------------------------------------------------------------------------------------------
# The table.


def _cell(mean, std, decimals):
    """``0.612``, or ``0.612 ± 0.004`` when ``std`` is finite."""
    text = f"{mean:.{decimals}f}"
    return text if not math.isfinite(std) else f"{text} ± {std:.{decimals}f}"


def _columns(header_row, rows, left=1):
    """Fixed-width lines: the first ``left`` columns left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in [header_row, *rows]) for i in range(len(header_row))]

    def line(row):
        cells = [
            f"{cell:<{w}}" if i < left else f"{cell:>{w}}"
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return " ".join(cells).rstrip()

    return [line(header_row), *(line(row) for row in rows)]


def _one_tracker(scores):
    """A row per sequence (means over the runs) and the overall row (mean ± std)."""
    figures = METRICS[scores.metric].figures
    header = ["sequence", "frames", *(f.header for f in figures)]
    rows = [
        [name, str(s.num_frames), *(f"{getattr(s, f.attribute):.{f.decimals}f}" for f in figures)]
        for name, s in scores.sequences.items()
    ]
    overall = [
        "overall",
        str(scores.overall.num_frames),
        *(_cell(*scores.figure(f.attribute), f.decimals) for f in figures),
    ]
    lines = _columns(header, [*rows, overall])
    rule = "-" * max(len(line) for line in lines)
    lines = [lines[0], rule, *lines[1:-1], rule, lines[-1]]
    if len(scores.runs) > 1:
        lines.append(
            f"{len(scores.runs)} runs: sequences show their mean over the runs; overall: the "
            "mean ± sample std of the runs' figures"
        )
    if scores.speed is not None:
        speed = scores.speed
        lines.append(
            f"speed of {speed.sequences} result file(s), compilation excluded from the frames: "
            + tracked.describe_speed(speed.compile_seconds, speed.init_seconds, speed.times)
        )
    return "\n".join(lines)


def format_report(table: Mapping[str, TrackerScores]) -> str:
    """The table as text (no trailing newline).

    One tracker: a row per sequence and the overall row. Several (all of one metric): a row per
    tracker, best first by the metric's first figure (AUC; GOT-10k's AO), with every figure and
    the fps (``-`` without timings; a ``runs`` column when a tracker has several), then the first
    figure of every sequence per tracker. Figures over several runs read ``mean ± std``.
    """
    if len(table) == 1:
        return _one_tracker(next(iter(table.values())))
    figures = METRICS[next(iter(table.values())).metric].figures
    first = figures[0]
    names = sorted(table, key=lambda n: -table[n].figure(first.attribute)[0])
    with_runs = any(len(t.runs) > 1 for t in table.values())
    header = ["tracker", *(["runs"] if with_runs else []), *(f.header for f in figures), "fps"]
    rows = []
    for name in names:
        scores = table[name]
        fps = "-" if not math.isfinite(scores.fps) else f"{scores.fps:.2f}"
        rows.append(
            [
                name,
                *([str(len(scores.runs))] if with_runs else []),
                *(_cell(*scores.figure(f.attribute), f.decimals) for f in figures),
                fps,
            ]
        )
    lines = _columns(header, rows)
    sequences = sorted(next(iter(table.values())).sequences)
    per_sequence = [
        [s, *(f"{getattr(table[n].sequences[s], first.attribute):.3f}" for n in names)]
        for s in sequences
    ]
    what = "success AUC" if first.attribute == "auc" else first.header
    lines += ["", f"{what} per sequence" + (" (mean over the runs)" if with_runs else "")]
    lines += _columns(["sequence", *names], per_sequence)
    return "\n".join(lines)
