"""One tracked sequence (:class:`TrackResult`), the host-side checks every driver applies, the
errors that stop one sequence but not a run, the reader of a results folder's
``timings.json``, and the one definition of tracking speed (:func:`frame_times`).

Shared by the one-sequence loop (``runner.track_sequence``), the batched one
(``batch.track_batch``), the OpenCV peers (``peers.track_sequence``), the reporter and the
speed benchmark (``benchmarks.speed``).

Speed, as ``bin.track`` prints it, ``timings.json`` stores it, the report's fps column pools it
and ``benchmarks.speed`` measures it: the frames tracked after the first, each timed from the
call of the step to its box on the host (the frame's upload included, its decoding not), with
no compilation in them and the Temporal fine-tune frames included; fps is their number over
their summed wall time (the mean, not 1 / median), p50 / p90 the median and 90th percentile of
their times. The first frame (``init``: the nets' first-frame training) and the compilation
are reported apart, as ``init_seconds`` and ``compile_seconds``.
"""

import dataclasses
import json
import math
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from absl import logging

from tsn_jax.evaluation import boxfiles, datasets


class TrackingError(ValueError):
    """A sequence cannot be tracked as given (names the sequence and the frame)."""


# What makes one sequence unusable, the others not: its folder, ground truth, a frame or a result
# file (each message names the file, line, frame or value). A dataset run lists such a sequence
# with its error at the end and goes on with the next one; any other exception is a bug.
SEQUENCE_ERRORS = (datasets.DatasetError, boxfiles.BoxFileError, TrackingError, OSError)


def describe_failures(failures: Mapping[str, str], undone: str) -> str:
    """The failed sequences, one line each (no trailing newline).

    Args:
      failures: {sequence name: why (the error's message)}.
      undone: what could not be done to them ("tracked", "scored").
    """
    lines = [f"{len(failures)} sequence(s) could not be {undone}:"]
    lines += [f"  {name}: {why}" for name, why in failures.items()]
    return "\n".join(lines)


def finite_or_none(value: float) -> float | None:
    """``value`` as a float, or None when it is NaN or infinite: strict JSON has no NaN."""
    value = float(value)
    return value if math.isfinite(value) else None


def warn_small_target(name: str, box_xywh: npt.ArrayLike, min_box_size: float) -> bool:
    """Logs a warning when the initial box is narrower or lower than ``min_box_size``.

    The tracker grows such a box to ``min_box_size`` (``boxes.clip_to_frame``) in every frame,
    so its boxes are larger than the target: said once per sequence, before it is tracked.

    Args:
      name: the sequence's name.
      box_xywh: [4] the initial box, frame pixels.
      min_box_size: ``TrackerConfig.min_box_size``, pixels.

    Returns:
      Whether it warned.
    """
    w, h = (float(v) for v in np.asarray(box_xywh, np.float64)[2:])
    if w >= min_box_size and h >= min_box_size:
        return False
    logging.warning(
        "%s: the initial box is %gx%g pixels, smaller than min_box_size %g: the tracker tracks "
        "a %gx%g box instead",
        name,
        w,
        h,
        min_box_size,
        max(w, min_box_size),
        max(h, min_box_size),
    )
    return True


class FrameTimes(NamedTuple):
    """Speed over tracked frames (the module docstring gives the definition).

    Attributes:
      frames: the frames timed.
      seconds: their summed wall time, seconds.
      fps: ``frames / seconds``; NaN without frames.
      p50_ms, p90_ms: the median and 90th percentile (linear interpolation, NumPy's default)
        of one frame's wall time, milliseconds; NaN without frames.
    """

    frames: int
    seconds: float
    fps: float
    p50_ms: float
    p90_ms: float


def frame_times(seconds_per_frame: npt.ArrayLike) -> FrameTimes:
    """The speed of frames timed one by one.

    Args:
      seconds_per_frame: [N] wall seconds of each tracked frame (N may be 0).

    Returns:
      Their FrameTimes (NaN fps and percentiles when N = 0).
    """
    seconds = np.asarray(seconds_per_frame, np.float64).reshape(-1)
    if not len(seconds):
        return FrameTimes(0, 0.0, math.nan, math.nan, math.nan)
    total = float(np.sum(seconds))
    p50, p90 = (float(v) for v in 1e3 * np.percentile(seconds, [50, 90]))
    return FrameTimes(len(seconds), total, len(seconds) / max(total, 1e-12), p50, p90)


@dataclasses.dataclass
class TrackResult:
    """One tracked sequence.

    Attributes:
      boxes_xywh: [T, 4] float64 boxes, 0-based frame pixels; row 0 is the initial box.
      scores: [T] float32 confidence per frame (1 on the first frame).
      failed: [T] bool, frames where the tracker kept the previous box.
      init_seconds: wall time of the first frame (``init``), seconds; it includes compilation
        when ``compile_seconds`` is None.
      step_seconds: [T - 1] wall time of each later frame's ``step``, synchronised on the box,
        seconds; the first includes compilation when ``compile_seconds`` is None.
      compile_seconds: wall time spent compiling before tracking (``compiled.start``, the
        batched driver), seconds; None when the driver compiled on first call instead (its
        ``init`` and first step hold the compilation; the OpenCV peers).
    """

    boxes_xywh: np.ndarray
    scores: np.ndarray
    failed: np.ndarray
    init_seconds: float
    step_seconds: np.ndarray
    compile_seconds: float | None = None

    @property
    def timed_seconds(self) -> np.ndarray:
        """[N] the step times with no compilation in them: every step when the driver compiled
        ahead (``compile_seconds`` set), else every step after the first."""
        steps = np.asarray(self.step_seconds, np.float64)
        return steps if self.compile_seconds is not None else steps[1:]

    @property
    def speed(self) -> FrameTimes:
        """``frame_times`` of :attr:`timed_seconds`."""
        return frame_times(self.timed_seconds)

    @property
    def fps(self) -> float:
        """Frames per second over :attr:`timed_seconds` (NaN when there is none)."""
        return self.speed.fps


def check_frame(
    frame: np.ndarray, expected_shape: tuple[int, ...], sequence_name: str, index: int
) -> None:
    """Raises TrackingError unless ``frame`` is uint8 [H, W, 3] of the first frame's size."""
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise TrackingError(
            f"{sequence_name}: frame {index} has dtype {frame.dtype} and shape {frame.shape}, "
            "expected uint8 [H, W, 3]"
        )
    if frame.shape != expected_shape:
        raise TrackingError(
            f"{sequence_name}: frame {index} is {frame.shape[1]}x{frame.shape[0]} but the first "
            f"frame is {expected_shape[1]}x{expected_shape[0]}; all frames must have one size"
        )


def check_output(
    name: str, index: int, box: npt.ArrayLike, score: npt.ArrayLike, warned: bool
) -> bool:
    """Checks one frame's output on the host: a non-finite box is an error; a non-finite score
    (a diverged net; the step counts the frame as failed and keeps the last box) is logged,
    once per sequence.

    Args:
      name: the sequence's name; index: the frame's number.
      box: [4] the output box; score: [] its score.
      warned: whether this sequence's non-finite score was logged already.

    Returns:
      Whether it has been logged now.

    Raises:
      TrackingError: on a non-finite box.
    """
    if not np.all(np.isfinite(box)):
        raise TrackingError(f"{name}: non-finite box {box} at frame {index}")
    if not np.isfinite(score) and not warned:
        logging.warning("%s: non-finite score at frame %d: counted as a failure", name, index)
        return True
    return warned


def read_timings(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The timings.json of a results folder as a dict ({} when missing or unreadable)."""
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def timing_entry(result: TrackResult) -> dict[str, Any]:
    """One sequence's entry in ``timings.json`` (strict JSON: None where a figure is undefined).

    Keys: ``frames`` (T, the first included); ``compile_seconds`` (None: not separated, see
    :class:`TrackResult`); ``init_seconds`` (the first frame); ``fps``, ``frame_ms_p50``,
    ``frame_ms_p90`` (:func:`frame_times` of the timed frames; None without one, e.g. a
    1-frame sequence); ``steady_frames`` and ``steady_seconds`` (the timed frames and their
    summed seconds, the names older files and their readers use); ``frame_ms`` (each timed
    frame's ms, 0.01 ms resolution, so that several sequences' percentiles can be pooled);
    ``failed_frames``.
    """
    speed = result.speed
    return {
        "frames": len(result.boxes_xywh),
        "compile_seconds": result.compile_seconds,
        "init_seconds": float(result.init_seconds),
        "fps": finite_or_none(speed.fps),
        "frame_ms_p50": finite_or_none(speed.p50_ms),
        "frame_ms_p90": finite_or_none(speed.p90_ms),
        "steady_frames": speed.frames,
        "steady_seconds": speed.seconds,
        "frame_ms": [round(1e3 * s, 2) for s in result.timed_seconds.tolist()],
        "failed_frames": int(np.sum(result.failed)),
    }


class PooledTimings(NamedTuple):
    """The speed of several sequences' ``timings.json`` entries together.

    Attributes:
      sequences: entries pooled.
      compile_seconds: their summed compilation time, seconds; None when no entry has one.
      init_seconds: their summed first-frame time, seconds.
      times: :class:`FrameTimes` of every timed frame of every entry (``steady_frames`` over
        ``steady_seconds``); the percentiles are NaN unless every entry with timed frames
        lists them (``frame_ms``; older files do not).
    """

    sequences: int
    compile_seconds: float | None
    init_seconds: float
    times: FrameTimes


def pool_timings(timings: Mapping[str, Mapping[str, Any]]) -> PooledTimings:
    """Pools ``timings.json`` entries ({name: entry}, old or new) into one speed."""
    entries = list(timings.values())
    frames = sum(int(t.get("steady_frames") or 0) for t in entries)
    seconds = sum(float(t.get("steady_seconds") or 0.0) for t in entries)
    times = FrameTimes(frames, seconds, *([math.nan] * 3))
    if frames and seconds > 0:
        times = times._replace(fps=frames / seconds)
    lists = [t.get("frame_ms") for t in entries if t.get("steady_frames")]
    if lists and all(ms is not None for ms in lists):
        percentiles = frame_times(1e-3 * np.concatenate([np.asarray(ms) for ms in lists]))
        times = times._replace(p50_ms=percentiles.p50_ms, p90_ms=percentiles.p90_ms)
    compiles = [t["compile_seconds"] for t in entries if t.get("compile_seconds") is not None]
    return PooledTimings(
        len(entries),
        float(sum(compiles)) if compiles else None,
        float(sum(float(t.get("init_seconds") or 0.0) for t in entries)),
        times,
    )


def describe_speed(compile_seconds: float | None, init_seconds: float, times: FrameTimes) -> str:
    """One line of speed, as ``bin.track`` prints it per sequence and overall, e.g.
    ``compilation 41.2 s, first frame 6.3 s, then 59 frames at 4.87 fps (p50 160 ms, p90 751
    ms)``.
    """
    parts = [] if compile_seconds is None else [f"compilation {compile_seconds:.1f} s"]
    parts.append(f"first frame {init_seconds:.1f} s")
    if not times.frames or not math.isfinite(times.fps):
        parts.append("no frame tracked after the first")
    else:
        tracked = f"then {times.frames} frames at {times.fps:.2f} fps"
        if math.isfinite(times.p50_ms):
            tracked += f" (p50 {times.p50_ms:.0f} ms, p90 {times.p90_ms:.0f} ms)"
        parts.append(tracked)
    return ", ".join(parts)
