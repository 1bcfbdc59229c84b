"""The VOT reset-based protocol (paper section 4.3) offline: accuracy, robustness and EAO.

The official VOT toolkit runs the paper's VOT2016 evaluation (``bin/vot_trax.py`` serves TSN
to it; README "VOT toolkit"). This module is its offline twin: it drives any tracker through the
toolkit's supervised ("baseline") experiment without the toolkit (whenever the tracker fails,
zero overlap with the ground truth, it is re-initialised on the ground truth five frames later),
writes the run as the toolkit's raw result file (:func:`write_trajectory`), and computes the
toolkit's measures (Kristan et al., "The Visual Object Tracking VOT2016 challenge results",
ECCV Workshops 2016; vot-toolkit 0.7.4's ``supervised_average_ar`` and
``supervised_eao_score``):

* accuracy: the mean IoU over tracked frames, excluding the ``burn_in`` frames that start at
  each (re-)initialisation (the initialisation frame, whose box is the ground truth, among
  them) and the failure frames themselves (already counted by the robustness);
* robustness: the number of failures;
* EAO, the expected average overlap (see :func:`expected_average_overlap`).

``tests/vot_test.py`` checks, on the same raw results, that :func:`summarize` gives the
toolkit's own A, R and EAO. Where the two differ by design: the toolkit's overlap is that of
rasterised regions (coordinates rounded to whole pixels, clipped to the frame), this module's
the continuous IoU (equal for whole-pixel boxes inside the frame); a re-initialisation frame
without ground truth is deferred here to the next annotated frame (VOT2016 annotates every
frame).

Host-side Python/NumPy, float64, boxes 0-based xywh (see :mod:`tsn_jax.boxes`).
"""

import dataclasses
import math
import os
from collections.abc import Callable, Iterable

import numpy as np
import numpy.typing as npt

from tsn_jax import boxes
from tsn_jax.evaluation import boxfiles

VOT2016_EAO_INTERVAL = (108, 371)


class VotError(ValueError):
    """Inputs of the reset protocol that do not fit together (names the frame at fault)."""


@dataclasses.dataclass(frozen=True)
class ResetRun:
    """One sequence tracked under the reset protocol.

    Attributes:
      boxes_xywh: [T, 4] float64 0-based xywh boxes in frame pixels; the ground truth on
        (re-)initialisation frames, NaN rows on frames without a prediction (between a failure
        and the re-initialisation, or after a failure too close to the end).
      iou: [T] float64 IoU with the ground truth; NaN where there is no prediction or the ground
        truth is unknown. 0 on failure frames, 1 on initialisation frames.
      failures: frame indices (0-based) where the tracker failed (IoU 0 with known ground truth).
      inits: frame indices of every (re-)initialisation, the first one included.
      accuracy_mask: [T] bool, the frames that count for the accuracy.
    """

    boxes_xywh: np.ndarray
    iou: np.ndarray
    failures: tuple
    inits: tuple
    accuracy_mask: np.ndarray

    @property
    def robustness(self) -> int:
        """Number of failures."""
        return len(self.failures)

    @property
    def accuracy(self) -> float:
        """Mean IoU over ``accuracy_mask`` frames (NaN when no frame counts)."""
        if not self.accuracy_mask.any():
            return math.nan
        return float(np.mean(self.iou[self.accuracy_mask]))


def _check_box(box, frame_index):
    box = np.asarray(box, dtype=np.float64)
    if box.shape != (4,):
        raise VotError(f"frame {frame_index}: tracker_update returned shape {box.shape}, not (4,)")
    return box


def _next_known(known, start):
    """First frame index >= start whose ground truth is known, or None."""
    later = np.flatnonzero(known[start:])
    return int(start + later[0]) if later.size else None


def run_reset_protocol(
    sequence_frames: Iterable[np.ndarray],
    groundtruth_xywh: npt.ArrayLike,
    tracker_init: Callable[[np.ndarray, np.ndarray], None],
    tracker_update: Callable[[np.ndarray], npt.ArrayLike],
    skip: int = 5,
    burn_in: int = 10,
) -> ResetRun:
    """Tracks one sequence under the VOT reset protocol.

    The tracker starts on frame 0 (or the first frame with known ground truth). On every later
    frame it predicts a box; a failure is a frame with known ground truth where the IoU is 0 (a
    non-finite prediction is a failure too). After a failure at frame ``f`` the frames
    ``f+1 .. f+skip-1`` get no prediction and the tracker is re-initialised on the ground truth
    at frame ``f + skip`` (or the first later frame whose ground truth is known). Frames whose
    ground truth is unknown never fail.

    Args:
      sequence_frames: an iterable of the T frames (e.g. ``uint8[H, W, 3]`` arrays), iterated
        once in order; frames without a prediction are skipped without a tracker call.
      groundtruth_xywh: [T, 4] float 0-based xywh ground truth in frame pixels; rows that are
        non-finite or have ``w <= 0`` or ``h <= 0`` are unknown.
      tracker_init: ``tracker_init(frame, box_xywh)`` with a [4] float64 box; returns nothing.
      tracker_update: ``tracker_update(frame) -> box_xywh``, a [4] 0-based xywh box.
      skip: frames from a failure to the re-initialisation (VOT: 5).
      burn_in: frames, starting at each (re-)initialisation frame, left out of the accuracy
        (VOT: 10).

    Returns:
      A :class:`ResetRun`.

    Raises:
      VotError: ``skip < 1`` or ``burn_in < 0``, the ground truth is not [T, 4] or has no known
        frame, the number of frames differs from T, or the tracker returns a box that is not [4].
    """
    if skip < 1 or burn_in < 0:
        raise VotError(f"need skip >= 1 and burn_in >= 0, got skip={skip}, burn_in={burn_in}")
    groundtruth = np.asarray(groundtruth_xywh, dtype=np.float64)
    if groundtruth.ndim != 2 or groundtruth.shape[1] != 4:
        raise VotError(f"ground truth must be [T, 4] xywh, got shape {groundtruth.shape}")
    num_frames = len(groundtruth)
    known = boxes.is_valid(groundtruth)
    next_init = _next_known(known, 0)
    if next_init is None:
        raise VotError(f"no frame of the {num_frames} has a known ground-truth box")
    predicted = np.full((num_frames, 4), np.nan)
    iou = np.full(num_frames, np.nan)
    mask = np.zeros(num_frames, dtype=bool)
    failures, inits = [], []
    tracking = False
    count = 0
    for t, frame in enumerate(sequence_frames):
        count = t + 1
        if t >= num_frames:
            raise VotError(f"more frames than the {num_frames} ground-truth rows")
        if not tracking and next_init is not None and t >= next_init and known[t]:
            tracker_init(frame, groundtruth[t].copy())
            predicted[t], iou[t] = groundtruth[t], 1.0
            inits.append(t)
            tracking = True
            continue
        if not tracking:
            continue
        box = _check_box(tracker_update(frame), t)
        predicted[t] = box
        if not known[t]:
            continue
        overlap = float(boxes.iou(box, groundtruth[t])) if np.all(np.isfinite(box)) else 0.0
        overlap = 0.0 if math.isnan(overlap) else overlap
        iou[t] = overlap
        if overlap <= 0.0:
            failures.append(t)
            tracking = False
            next_init = t + skip
        elif t - inits[-1] >= burn_in:
            mask[t] = True
    if count != num_frames:
        raise VotError(f"{count} frames but {num_frames} ground-truth rows")
    return ResetRun(
        boxes_xywh=predicted,
        iou=iou,
        failures=tuple(failures),
        inits=tuple(inits),
        accuracy_mask=mask,
    )


def segments(run: ResetRun) -> list[tuple[np.ndarray, bool]]:
    """The per-initialisation overlap sequences that the EAO is built from.

    A segment starts on the frame after a (re-)initialisation (the initialisation frame, whose
    box is the ground truth, is left out, as in the VOT toolkit) and ends at the next failure
    (included, IoU 0) or at the end of the sequence. Frames with unknown ground truth are
    dropped from the sequence.

    Args:
      run: a :class:`ResetRun`.

    Returns:
      A list of ``(overlaps, failed)``: [n] float64 IoUs and whether the segment ended in a
      failure.
    """
    failures = set(run.failures)
    out = []
    ends = list(run.inits[1:]) + [len(run.iou)]
    for start, stop in zip(run.inits, ends, strict=True):
        overlaps = []
        failed = False
        for t in range(start + 1, stop):
            if t in failures:
                overlaps.append(0.0)
                failed = True
                break
            if not math.isnan(run.iou[t]):
                overlaps.append(float(run.iou[t]))
        out.append((np.asarray(overlaps, dtype=np.float64), failed))
    return out


def expected_average_overlap(
    runs: Iterable[ResetRun], interval: tuple[int, int] = VOT2016_EAO_INTERVAL
) -> tuple[float, np.ndarray]:
    """Expected average overlap (VOT2016 definition) from reset-protocol runs.

    With the segments :math:`s` of all runs (:func:`segments`), overlaps :math:`\\Phi_{s,i}` for
    ``i = 1 .. n_s`` and zeros after a failure up to the curve length :math:`N_{max}` (the
    longest segment), the average overlap of a segment over the first :math:`N_s` frames is

    .. math:: \\Phi_{s}(N_s) = \\frac{1}{N_s} \\sum_{i=1}^{N_s} \\Phi_{s,i},

    the expected-average-overlap curve averages it over the segments usable at that length
    (those that failed, and those that ended without failure but are at least :math:`N_s` long)

    .. math:: \\hat\\Phi(N_s) = \\langle \\Phi_{s}(N_s) \\rangle_{s \\text{ usable at } N_s},

    and the EAO is its mean over the interval (inclusive)

    .. math:: \\mathrm{EAO} = \\frac{1}{N_{hi} - N_{lo} + 1}
       \\sum_{N_s = N_{lo}}^{N_{hi}} \\hat\\Phi(N_s).

    The interval is clipped to the curve: ``hi = min(N_hi, N_max)``, ``lo = min(N_lo, hi)``.
    Lengths where no segment is usable give NaN in the curve and are left out of the mean.

    Args:
      runs: a list of :class:`ResetRun`.
      interval: ``(N_lo, N_hi)`` in frames, 1-based inclusive; VOT2016 used ``(108, 371)``.

    Returns:
      ``(eao, curve)``: the EAO (float, NaN when there is no segment) and the [N_max] float64
      curve with ``curve[n - 1]`` = :math:`\\hat\\Phi(n)`.
    """
    lo, hi = interval
    if lo < 1 or hi < lo:
        raise VotError(f"EAO interval must satisfy 1 <= lo <= hi, got {interval}")
    all_segments = [seg for run in runs for seg in segments(run)]
    length = max((len(o) for o, _ in all_segments), default=0)
    if length == 0:
        return math.nan, np.zeros(0)
    padded = np.zeros((len(all_segments), length))
    usable_upto = np.zeros(len(all_segments), dtype=np.int64)
    for k, (overlaps, failed) in enumerate(all_segments):
        padded[k, : len(overlaps)] = overlaps
        usable_upto[k] = length if failed else len(overlaps)
    lengths = np.arange(1, length + 1)
    means = np.cumsum(padded, axis=1) / lengths[None, :]
    usable = lengths[None, :] <= usable_upto[:, None]
    counts = usable.sum(axis=0)
    with np.errstate(invalid="ignore"):
        curve = np.where(counts > 0, (means * usable).sum(axis=0) / np.maximum(counts, 1), np.nan)
    hi = min(hi, length)
    lo = min(lo, hi)
    window = curve[lo - 1 : hi]
    window = window[np.isfinite(window)]
    return (float(np.mean(window)) if window.size else math.nan), curve


def write_trajectory(run: ResetRun, path: str | os.PathLike[str]) -> None:
    """Writes a run as the VOT toolkit's raw result file (its ``<sequence>_001.txt``).

    One line per frame: ``1`` on a (re-)initialisation frame, ``2`` on a failure frame, ``0``
    on a frame without a prediction (between a failure and the re-initialisation), otherwise
    the predicted rectangle ``x,y,w,h`` (0-based pixels, the toolkit's coordinates). The file
    is written atomically.

    Args:
      run: a :class:`ResetRun`.
      path: the file to write.
    """
    failures, inits = set(run.failures), set(run.inits)
    lines = []
    for t, box in enumerate(run.boxes_xywh):
        if t in inits:
            lines.append("1")
        elif t in failures:
            lines.append("2")
        elif not np.all(np.isfinite(box)):
            lines.append("0")
        else:
            lines.append(",".join(f"{v:.4f}" for v in box))
    boxfiles.atomic_write_text(path, "\n".join(lines) + "\n")


def summarize(
    runs: Iterable[ResetRun], interval: tuple[int, int] = VOT2016_EAO_INTERVAL
) -> dict[str, float]:
    """The VOT toolkit's measures over several sequences' runs (one run per sequence).

    As the toolkit's ``supervised_average_ar`` aggregates them, each sequence's accuracy (0
    when no frame counts) and failure count are averaged over the sequences weighted by
    their lengths in frames; the EAO pools every run's segments
    (:func:`expected_average_overlap`).

    Args:
      runs: a list of :class:`ResetRun`, one per sequence.
      interval: the EAO interval (see :func:`expected_average_overlap`).

    Returns:
      ``{"accuracy": A, the length-weighted mean of the sequences' accuracies,
      "robustness": R, the length-weighted mean of the sequences' failure counts,
      "failures": the total number of failures, "eao": expected average overlap,
      "num_accuracy_frames": frames the accuracies average}``.

    Raises:
      VotError: no run.
    """
    runs = list(runs)
    if not runs:
        raise VotError("no run to summarize")
    lengths = np.asarray([len(run.iou) for run in runs], np.float64)
    accuracies = np.asarray([0.0 if math.isnan(r.accuracy) else r.accuracy for r in runs])
    failures = np.asarray([run.robustness for run in runs], np.float64)
    eao, _ = expected_average_overlap(runs, interval)
    return {
        "accuracy": float(np.sum(accuracies * lengths) / np.sum(lengths)),
        "robustness": float(np.sum(failures * lengths) / np.sum(lengths)),
        "failures": int(failures.sum()),
        "eao": eao,
        "num_accuracy_frames": int(sum(run.accuracy_mask.sum() for run in runs)),
    }
