"""One tracked sequence (:class:`TrackResult`), the host-side checks every driver applies, and
the reader of a results folder's ``timings.json``.

Shared by the one-sequence loop (``runner.track_sequence``), the batched one
(``batch.track_batch``), the OpenCV peers (``peers.track_sequence``) and the reporter.
"""

import dataclasses
import json
import os
from typing import Any

import numpy as np
import numpy.typing as npt
from absl import logging


class TrackingError(ValueError):
    """A sequence cannot be tracked as given (names the sequence and the frame)."""


@dataclasses.dataclass
class TrackResult:
    """One tracked sequence.

    Attributes:
      boxes_xywh: [T, 4] float64 boxes, 0-based frame pixels; row 0 is the initial box.
      scores: [T] float32 confidence per frame (1 on the first frame).
      failed: [T] bool, frames where the tracker kept the previous box.
      init_seconds: wall time of ``init`` (first call includes compilation).
      step_seconds: [T - 1] wall time of each ``step``, synchronised on the box.
    """

    boxes_xywh: np.ndarray
    scores: np.ndarray
    failed: np.ndarray
    init_seconds: float
    step_seconds: np.ndarray

    @property
    def fps(self) -> float:
        """Frames per second over the steps after the first (which includes compilation)."""
        steady = self.step_seconds[1:] if len(self.step_seconds) > 1 else self.step_seconds
        return float(len(steady) / max(np.sum(steady), 1e-9)) if len(steady) else float("nan")


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
