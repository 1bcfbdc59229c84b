"""Server submissions for the benchmarks whose test ground truth is withheld: GOT-10k, TrackingNet.

Both are written from a results folder of OTB-format files (``<results_dir>/<seq>.txt``,
1-based ``x,y,w,h``, one row per frame; several runs as ``<seq>_001.txt``, ``<seq>_002.txt``,
...), checked against the sequences' frame counts, and zipped as each server expects:

* GOT-10k (test split): ``<seq>/<seq>_001.txt`` per run and ``<seq>/<seq>_time.txt`` (seconds
  per frame, one column per run), the sequence folders at the top of the zip, as the got10k
  toolkit's ``ExperimentGOT10k`` records and compresses them.
* TrackingNet (test split): ``<seq>.txt`` per sequence at the top of the zip.

The boxes keep the files' coordinates, those of the benchmark's own ground-truth files
(``boxfiles`` reads and writes both sides). Per-frame times come from the results folder's
``timings.json`` (each run's steady seconds per frame: the frames timed without compilation).
"""

import dataclasses
import os
import pathlib
import re
import zipfile
from collections.abc import Mapping

import numpy as np

from tsn_jax.evaluation import boxfiles, tracked

_RUN_FILE = re.compile(r"^(?P<name>.+)_(?P<run>\d{3})\.txt$")


class SubmissionError(ValueError):
    """Results that cannot make a submission; the message names the file or sequence."""


@dataclasses.dataclass(frozen=True)
class Submission:
    """A written submission.

    Attributes:
      folder: the folder holding the submission's files.
      zip_path: the zip to upload, beside the folder (``<folder>.zip``).
      members: the zip's member names, in order.
      runs: {sequence: number of runs submitted}.
    """

    folder: pathlib.Path
    zip_path: pathlib.Path
    members: tuple[str, ...]
    runs: dict[str, int]


def _result_files(results_dir):
    """({stem: path} of every ``.txt``, {name: {run: path}} of the ``<name>_00k.txt`` files)."""
    plain, numbered = {}, {}
    for path in sorted(results_dir.glob("*.txt")):
        plain[path.stem] = path
        match = _RUN_FILE.match(path.name)
        if match:
            numbered.setdefault(match.group("name"), {})[int(match.group("run"))] = path
    return plain, numbered


def _runs_of(plain, numbered, results_dir, name):
    """{run: path} of ``name``: ``<name>.txt`` as run 1, or its ``<name>_00k.txt`` files."""
    single, runs = plain.get(name), numbered.get(name, {})
    if single is not None and runs:
        raise SubmissionError(
            f"{results_dir}: both {single.name} and {name}_NNN.txt run files; keep one form"
        )
    return {1: single} if single is not None else dict(sorted(runs.items()))


def _collect(results_dir, frame_counts):
    """{name: {run: path}} for every sequence; raises when any has no result file."""
    results_dir = pathlib.Path(results_dir)
    if not results_dir.is_dir():
        raise SubmissionError(f"{results_dir}: results folder is missing")
    if not frame_counts:
        raise SubmissionError("no sequences to submit")
    plain, numbered = _result_files(results_dir)
    runs = {name: _runs_of(plain, numbered, results_dir, name) for name in frame_counts}
    missing = [name for name, r in runs.items() if not r]
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise SubmissionError(
            f"{results_dir}: no result file (<seq>.txt or <seq>_001.txt) for {len(missing)} of "
            f"{len(frame_counts)} sequences: {shown}; a server scores complete submissions only"
        )
    return runs


def _read_run(path, num_frames):
    """[T, 4] 0-based boxes of one result file, checked: T rows, every value finite."""
    try:
        boxes_xywh = boxfiles.read_boxes(path)
    except boxfiles.BoxFileError as error:
        raise SubmissionError(str(error)) from None
    if len(boxes_xywh) != num_frames:
        raise SubmissionError(
            f"{path}: {len(boxes_xywh)} rows but the sequence has {num_frames} frames"
        )
    bad = np.flatnonzero(~np.all(np.isfinite(boxes_xywh), axis=1))
    if bad.size:
        raise SubmissionError(
            f"{path}:{bad[0] + 1}: non-finite box {boxes_xywh[bad[0]].tolist()}; the server "
            f"rejects it ({bad.size} such rows)"
        )
    return boxes_xywh


def _seconds_per_frame(timings, keys, fallback, where):
    """Steady seconds per frame of the first of ``keys`` timed in timings.json, else
    ``fallback``."""
    sequences = timings.get("sequences", {})
    for key in keys:
        timing = sequences.get(key) or {}
        frames, seconds = timing.get("steady_frames") or 0, timing.get("steady_seconds") or 0
        if frames > 0 and seconds > 0:
            return seconds / frames
    if fallback is None:
        raise SubmissionError(
            f"{where}: timings.json holds no steady timing of {' or '.join(keys)}; pass a "
            "constant time per frame (--frame_seconds)"
        )
    if not fallback > 0:
        raise SubmissionError(f"seconds per frame must be > 0, got {fallback}")
    return float(fallback)


def _zip(folder, members, zip_path):
    """Writes ``members`` (paths relative to ``folder``) into ``zip_path``, atomically."""
    tmp = zip_path.with_name(zip_path.name + ".tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for member in members:
                archive.write(folder / member, member)
        os.replace(tmp, zip_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _zip_path(folder):
    return folder.parent / f"{folder.name}.zip"


def write_got10k(
    results_dir: str | os.PathLike[str],
    frame_counts: Mapping[str, int],
    output_dir: str | os.PathLike[str],
    frame_seconds: float | None = None,
) -> Submission:
    """Writes a GOT-10k submission: ``<output_dir>/<seq>/<seq>_00k.txt``, ``<seq>_time.txt``
    and ``<output_dir>.zip``.

    Args:
      results_dir: OTB-format result files, ``<seq>.txt`` (run 1) or ``<seq>_00k.txt``.
      frame_counts: {sequence name: number of frames}, every sequence of the split.
      output_dir: the submission folder (created); the zip goes beside it.
      frame_seconds: seconds per frame written for a run that ``timings.json`` does not time
        (results of other trackers); None makes an untimed run an error.

    Returns:
      The :class:`Submission`.

    Raises:
      SubmissionError: a sequence without a result file, a file with the wrong row count or a
        non-finite value (file and line named), or a run without a time.
    """
    found = _collect(results_dir, frame_counts)
    timings = tracked.read_timings(pathlib.Path(results_dir) / "timings.json")
    folder = pathlib.Path(output_dir)
    members = []
    for name, runs in found.items():
        columns = []
        for run, path in runs.items():
            boxes_xywh = _read_run(path, frame_counts[name])
            member = f"{name}/{name}_{run:03d}.txt"
            boxfiles.write_boxes(folder / member, boxes_xywh)
            members.append(member)
            keys = (path.stem, name) if path.stem != name else (name,)
            columns.append(_seconds_per_frame(timings, keys, frame_seconds, path))
        times = "".join(
            ",".join(f"{t:.8f}" for t in columns) + "\n" for _ in range(frame_counts[name])
        )
        member = f"{name}/{name}_time.txt"
        boxfiles.atomic_write_text(folder / member, times)
        members.append(member)
    zip_path = _zip_path(folder)
    _zip(folder, members, zip_path)
    return Submission(folder, zip_path, tuple(members), {n: len(r) for n, r in found.items()})


def write_trackingnet(
    results_dir: str | os.PathLike[str],
    frame_counts: Mapping[str, int],
    output_dir: str | os.PathLike[str],
    run: int | None = None,
) -> Submission:
    """Writes a TrackingNet submission: ``<output_dir>/<seq>.txt`` and ``<output_dir>.zip``.

    Args:
      results_dir: OTB-format result files, ``<seq>.txt`` or ``<seq>_00k.txt``.
      frame_counts: {sequence name: number of frames}, every sequence of the split.
      output_dir: the submission folder (created); the zip goes beside it.
      run: which run to submit when a sequence has several (``<seq>_00k.txt``); None requires
        one result file per sequence.

    Returns:
      The :class:`Submission`.

    Raises:
      SubmissionError: a sequence without a result file (or without run ``run``), several runs
        and no ``run``, a wrong row count or a non-finite value.
    """
    found = _collect(results_dir, frame_counts)
    folder = pathlib.Path(output_dir)
    members = []
    for name, runs in found.items():
        if run is not None and run not in runs:
            raise SubmissionError(f"{results_dir}: no run {run} of {name} ({name}_{run:03d}.txt)")
        if run is None and len(runs) > 1:
            raise SubmissionError(
                f"{results_dir}: {len(runs)} runs of {name}; TrackingNet takes one: choose it "
                "(--run)"
            )
        path = runs[run] if run is not None else next(iter(runs.values()))
        member = f"{name}.txt"
        boxfiles.write_boxes(folder / member, _read_run(path, frame_counts[name]))
        members.append(member)
    zip_path = _zip_path(folder)
    _zip(folder, members, zip_path)
    return Submission(folder, zip_path, tuple(members), {n: 1 for n in found})
