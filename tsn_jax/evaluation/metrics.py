"""OTB one-pass evaluation (OPE): success and precision curves, AUC, precision@20, OP50, CLE.

The definitions follow the OTB benchmark (Wu et al., "Object Tracking Benchmark", TPAMI 2015),
which the paper's OTB50/OTB100 results (section 4.4) use:

* Success curve: for each of the 21 IoU thresholds ``t = 0, 0.05, ..., 1`` the fraction of
  frames whose IoU with the ground truth is ``> t``; its AUC is the mean of the 21 values.
* Precision curve: for each centre-error threshold ``t = 0, 1, ..., 50`` pixels the fraction of
  frames whose centre location error is ``<= t``; precision@20 is the value at 20 px.
* OP50: the fraction of frames with IoU ``> 0.5`` (equal to the success curve at 0.5).
* CLE: the mean centre location error in pixels.

IoU is the continuous-area IoU of :func:`tsn_jax.boxes.iou` (area ``w * h``, no ``+1``) and
centres are ``(x + w / 2, y + h / 2)`` (:func:`tsn_jax.boxes.center_distance`); both do not
depend on the 0/1-based origin. Host-side NumPy, float64.

Frames whose ground truth is non-finite (``NaN`` rows: target absent) or has ``w <= 0`` or
``h <= 0`` are skipped. A predicted box with a non-finite value is a failure: IoU 0 and an
infinite centre error, so it never counts as a success at any threshold.

Two benchmarks score differently, each as its own toolkit does (below the OTB part): LaSOT
(:func:`evaluate_lasot_sequence`: absent frames count as failures, and the normalised
precision) and GOT-10k (:func:`got10k_frame_ious`, :func:`evaluate_got10k`: AO, SR0.5, SR0.75
over the visible frames after the first, pooled over sequences).
"""

import dataclasses
import json
import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from tsn_jax import boxes
from tsn_jax.evaluation import boxfiles

SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
PRECISION_THRESHOLDS = np.arange(0, 51).astype(np.float64)
_PRECISION_AT = 20  # pixels; PRECISION_THRESHOLDS[20] == 20.
_OP_INDEX = 10  # SUCCESS_THRESHOLDS[10] == 0.5 exactly.


@dataclasses.dataclass(frozen=True)
class SequenceScore:
    """OTB scores of one sequence (or an aggregate of several).

    Attributes:
      success_curve: [21] float64, fraction of frames with IoU > SUCCESS_THRESHOLDS[i].
      precision_curve: [51] float64, fraction of frames with centre error <= i pixels.
      auc: mean of ``success_curve``, in [0, 1].
      precision20: ``precision_curve[20]``, in [0, 1].
      op50: fraction of frames with IoU > 0.5, in [0, 1].
      cle: mean centre location error in pixels over the frames with a finite prediction
        (NaN when there is none).
      num_frames: number of frames scored (ground truth valid).
    """

    success_curve: np.ndarray
    precision_curve: np.ndarray
    auc: float
    precision20: float
    op50: float
    cle: float
    num_frames: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: curves as lists, non-finite numbers as ``None``."""
        return _json_fields(self)


def _json_float(value):
    value = float(value)
    return value if math.isfinite(value) else None


def _json_fields(score: Any) -> dict[str, Any]:
    """A score dataclass as a JSON-ready dict: arrays as lists, non-finite numbers as None."""
    fields = {}
    for field in dataclasses.fields(score):
        value = getattr(score, field.name)
        if isinstance(value, np.ndarray):
            fields[field.name] = [_json_float(v) for v in value]
        elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            fields[field.name] = int(value)
        else:
            fields[field.name] = _json_float(value)
    return fields


def _as_boxes(array, what):
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"{what} boxes must be [T, 4] xywh, got shape {array.shape}")
    return array


def frame_errors(
    predicted_xywh: npt.ArrayLike, groundtruth_xywh: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame IoU and centre error over the frames with valid ground truth.

    Args:
      predicted_xywh: [T, 4] float xywh predicted boxes in frame pixels (any origin, the same as
        the ground truth's).
      groundtruth_xywh: [T, 4] float xywh ground truth; invalid rows are skipped.

    Returns:
      (iou, center_error, valid): [T'] float64 IoU (0 for a non-finite prediction), [T'] float64
      centre error in pixels (``inf`` for a non-finite prediction), both over the T' valid frames
      in order, and the [T] bool mask of valid ground-truth frames.

    Raises:
      ValueError: the arrays are not [T, 4] or their frame counts differ (both are named).
    """
    predicted = _as_boxes(predicted_xywh, "predicted")
    groundtruth = _as_boxes(groundtruth_xywh, "ground-truth")
    if len(predicted) != len(groundtruth):
        raise ValueError(
            f"{len(predicted)} predicted boxes but {len(groundtruth)} ground-truth boxes"
        )
    valid = boxes.is_valid(groundtruth)
    predicted, groundtruth = predicted[valid], groundtruth[valid]
    finite = np.all(np.isfinite(predicted), axis=-1)
    with np.errstate(invalid="ignore"):
        iou = np.where(finite, boxes.iou(predicted, groundtruth), 0.0)
        error = np.where(finite, boxes.center_distance(predicted, groundtruth), np.inf)
    return iou, error, valid


def success_curve(iou: np.ndarray) -> np.ndarray:
    """[T] IoU -> [21] fraction of frames with IoU > each SUCCESS_THRESHOLDS value."""
    return np.mean(iou[:, None] > SUCCESS_THRESHOLDS[None, :], axis=0)


def precision_curve(center_error: np.ndarray) -> np.ndarray:
    """[T] centre errors (px) -> [51] fraction of frames with error <= each threshold (px)."""
    return np.mean(center_error[:, None] <= PRECISION_THRESHOLDS[None, :], axis=0)


def evaluate_sequence(
    predicted_xywh: npt.ArrayLike, groundtruth_xywh: npt.ArrayLike
) -> SequenceScore:
    """Scores one sequence's predictions with the OTB one-pass evaluation.

    Args:
      predicted_xywh: [T, 4] float xywh boxes in frame pixels, one per frame (the first frame
        included, as OTB does). Non-finite rows count as failures, never crash.
      groundtruth_xywh: [T, 4] float xywh ground truth in the same origin; rows that are
        non-finite or have ``w <= 0`` or ``h <= 0`` are skipped.

    Returns:
      A :class:`SequenceScore`. ``cle`` averages the finite centre errors only (frames with a
      non-finite prediction are failures in the curves but have no error to average); it is NaN
      when no prediction is finite.

    Raises:
      ValueError: shapes are not [T, 4], the frame counts differ, or no ground-truth frame is
        valid.
    """
    iou, error, valid = frame_errors(predicted_xywh, groundtruth_xywh)
    if not valid.any():
        raise ValueError(f"no valid ground-truth frame among {len(valid)} (all NaN or empty)")
    success = success_curve(iou)
    precision = precision_curve(error)
    finite_error = error[np.isfinite(error)]
    cle = float(np.mean(finite_error)) if finite_error.size else math.nan
    return SequenceScore(
        success_curve=success,
        precision_curve=precision,
        auc=float(np.mean(success)),
        precision20=float(precision[_PRECISION_AT]),
        op50=float(np.mean(iou > 0.5)),
        cle=cle,
        num_frames=int(valid.sum()),
    )


def aggregate(scores: Iterable[SequenceScore]) -> SequenceScore:
    """Averages sequence scores, each sequence weighing the same (as the OTB toolkit does).

    Args:
      scores: a non-empty list of :class:`SequenceScore`.

    Returns:
      A :class:`SequenceScore` whose curves are the per-sequence curves averaged; ``auc`` is the
      mean of the averaged success curve, ``precision20`` and ``op50`` are read from the averaged
      curves, ``cle`` is the mean of the finite per-sequence CLEs (NaN if none) and
      ``num_frames`` is the total.

    Raises:
      ValueError: ``scores`` is empty.
    """
    scores = list(scores)
    if not scores:
        raise ValueError("aggregate() needs at least one SequenceScore")
    success = np.mean([s.success_curve for s in scores], axis=0)
    precision = np.mean([s.precision_curve for s in scores], axis=0)
    cles = np.asarray([s.cle for s in scores], dtype=np.float64)
    cles = cles[np.isfinite(cles)]
    return SequenceScore(
        success_curve=success,
        precision_curve=precision,
        auc=float(np.mean(success)),
        precision20=float(precision[_PRECISION_AT]),
        op50=float(success[_OP_INDEX]),
        cle=float(np.mean(cles)) if cles.size else math.nan,
        num_frames=int(sum(s.num_frames for s in scores)),
    )


def format_table(scored: Mapping[str, SequenceScore], overall: SequenceScore) -> str:
    """A fixed-width text table: one row per sequence and a final ``overall`` row.

    Args:
      scored: {sequence name: SequenceScore}, printed in the dict's order.
      overall: the aggregate :class:`SequenceScore`.

    Returns:
      The table as a string (no trailing newline). AUC, prec@20 and OP50 have 3 decimals, CLE
      (pixels) 1 decimal.
    """
    width = max([len("sequence"), len("overall"), *(len(name) for name in scored)])
    header = f"{'sequence':<{width}} {'frames':>7} {'AUC':>6} {'prec@20':>7} {'OP50':>6} {'CLE':>7}"

    def row(name, s):
        return (
            f"{name:<{width}} {s.num_frames:>7d} {s.auc:>6.3f} {s.precision20:>7.3f} "
            f"{s.op50:>6.3f} {s.cle:>7.1f}"
        )

    rule = "-" * len(header)
    lines = [header, rule, *(row(n, s) for n, s in scored.items()), rule, row("overall", overall)]
    return "\n".join(lines)


def write_summary(
    path: str | os.PathLike[str], scored: Mapping[str, SequenceScore], overall: SequenceScore
) -> None:
    """Writes ``{"sequences": {name: {...}}, "overall": {...}}`` as JSON, atomically.

    Each entry is :meth:`SequenceScore.to_dict` (curves as lists; NaN written as ``null``). The
    thresholds are stored beside them as ``success_thresholds`` and ``precision_thresholds``.

    Args:
      path: destination file; parent folders are created.
      scored: {sequence name: SequenceScore}.
      overall: the aggregate :class:`SequenceScore`.
    """
    summary = {
        "sequences": {name: s.to_dict() for name, s in scored.items()},
        "overall": overall.to_dict(),
        "success_thresholds": SUCCESS_THRESHOLDS.tolist(),
        "precision_thresholds": PRECISION_THRESHOLDS.tolist(),
    }
    boxfiles.atomic_write_text(path, json.dumps(summary, indent=1, allow_nan=False) + "\n")


# ---------------------------------------------------------------------------------------------
# LaSOT: success and precision with absent frames as failures, and normalised precision
# (Fan et al., "LaSOT", CVPR 2019; the LaSOT evaluation toolkit, calc_seq_err_robust.m).

NORMALIZED_PRECISION_THRESHOLDS = np.arange(0, 51) / 100.0
_NORMALIZED_PRECISION_AT = 20  # NORMALIZED_PRECISION_THRESHOLDS[20] == 0.2.


@dataclasses.dataclass(frozen=True)
class LasotScore:
    """LaSOT scores of one sequence (or an aggregate of several).

    Attributes:
      success_curve: [21] float64, fraction of frames with IoU > SUCCESS_THRESHOLDS[i].
      precision_curve: [51] float64, fraction of frames with centre error <= i pixels.
      normalized_precision_curve: [51] float64, fraction of frames whose normalised centre
        error is <= NORMALIZED_PRECISION_THRESHOLDS[i] (0 .. 0.5).
      auc: mean of ``success_curve``, in [0, 1].
      precision20: ``precision_curve[20]`` (20 px), in [0, 1].
      normalized_precision: ``normalized_precision_curve[20]`` (0.2), the figure LaSOT's toolkit
        ranks by, in [0, 1].
      num_frames: frames scored (absent frames included, as failures).
    """

    success_curve: np.ndarray
    precision_curve: np.ndarray
    normalized_precision_curve: np.ndarray
    auc: float
    precision20: float
    normalized_precision: float
    num_frames: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: curves as lists, non-finite numbers as ``None``."""
        return _json_fields(self)


def normalized_center_error(
    predicted_xywh: npt.ArrayLike, groundtruth_xywh: npt.ArrayLike
) -> np.ndarray:
    """Centre error with each axis divided by the ground truth's size (TrackingNet, LaSOT).

    Args:
      predicted_xywh: [T, 4] float xywh boxes in frame pixels.
      groundtruth_xywh: [T, 4] float xywh ground truth, same origin, ``w, h > 0``.

    Returns:
      [T] float64 ``|| ((cx_p - cx_g) / w_g, (cy_p - cy_g) / h_g) ||``, unitless; it does not
      depend on the origin or on whether centres are ``x + w / 2`` or ``x + (w - 1) / 2``.
    """
    predicted = _as_boxes(predicted_xywh, "predicted")
    groundtruth = _as_boxes(groundtruth_xywh, "ground-truth")
    offset = (predicted[:, :2] + predicted[:, 2:] / 2) - (
        groundtruth[:, :2] + groundtruth[:, 2:] / 2
    )
    return np.hypot(*(offset / groundtruth[:, 2:]).T)


def _checked_with_visibility(predicted_xywh, groundtruth_xywh, target_visible):
    """(predicted [T, 4], ground truth [T, 4], visible [T] bool), checked against each other;
    ``target_visible=None`` means visible in every frame."""
    predicted = _as_boxes(predicted_xywh, "predicted")
    groundtruth = _as_boxes(groundtruth_xywh, "ground-truth")
    if len(predicted) != len(groundtruth):
        raise ValueError(
            f"{len(predicted)} predicted boxes but {len(groundtruth)} ground-truth boxes"
        )
    visible = np.ones(len(groundtruth), bool) if target_visible is None else target_visible
    visible = np.asarray(visible, bool)
    if visible.shape != (len(groundtruth),):
        raise ValueError(
            f"target_visible has shape {visible.shape}, expected ({len(groundtruth)},)"
        )
    return predicted, groundtruth, visible


def evaluate_lasot_sequence(
    predicted_xywh: npt.ArrayLike,
    groundtruth_xywh: npt.ArrayLike,
    target_visible: npt.ArrayLike | None = None,
) -> LasotScore:
    """Scores one sequence as the LaSOT toolkit does.

    The toolkit removes the frames where the target is absent (full occlusion or out of view)
    but still divides by the sequence's length, so an absent frame is a failure at every
    threshold of the three curves; it is why LaSOT figures sit below the OTB-style ones of the
    same boxes. Two departures, both from the project's OTB evaluation: a non-finite prediction
    is a failure (the toolkit carries the previous box forward; our trackers never write one),
    and a visible frame whose ground truth is not a box (non-finite, ``w <= 0`` or ``h <= 0``)
    is skipped (the toolkit counts it as a failure of the success curve and a hit of the
    precision curves).

    Args:
      predicted_xywh: [T, 4] float xywh boxes in frame pixels (row 0 included, as the toolkit,
        which sets it to the ground truth; our result files start with the initial box).
      groundtruth_xywh: [T, 4] float xywh ground truth, same origin.
      target_visible: optional [T] bool, False where the target is absent; None: all visible.

    Returns:
      A :class:`LasotScore`.

    Raises:
      ValueError: shapes are not [T, 4] / [T], the frame counts differ, or no frame is scored.
    """
    predicted, groundtruth, visible = _checked_with_visibility(
        predicted_xywh, groundtruth_xywh, target_visible
    )
    scored = ~visible | boxes.is_valid(groundtruth)
    if not scored.any():
        raise ValueError(f"no frame to score among {len(scored)} (no valid ground truth)")
    hit = visible & boxes.is_valid(groundtruth) & np.all(np.isfinite(predicted), axis=-1)
    iou = np.full(len(groundtruth), -1.0)
    error = np.full(len(groundtruth), np.inf)
    normalized = np.full(len(groundtruth), np.inf)
    iou[hit] = boxes.iou(predicted[hit], groundtruth[hit])
    error[hit] = boxes.center_distance(predicted[hit], groundtruth[hit])
    normalized[hit] = normalized_center_error(predicted[hit], groundtruth[hit])
    iou, error, normalized = iou[scored], error[scored], normalized[scored]
    success = success_curve(iou)
    precision = precision_curve(error)
    normalized_curve = np.mean(
        normalized[:, None] <= NORMALIZED_PRECISION_THRESHOLDS[None, :], axis=0
    )
    return LasotScore(
        success_curve=success,
        precision_curve=precision,
        normalized_precision_curve=normalized_curve,
        auc=float(np.mean(success)),
        precision20=float(precision[_PRECISION_AT]),
        normalized_precision=float(normalized_curve[_NORMALIZED_PRECISION_AT]),
        num_frames=int(scored.sum()),
    )


def aggregate_lasot(scores: Iterable[LasotScore]) -> LasotScore:
    """Averages LaSOT sequence scores, each sequence weighing the same (as its toolkit does).

    Raises:
      ValueError: ``scores`` is empty.
    """
    scores = list(scores)
    if not scores:
        raise ValueError("aggregate_lasot() needs at least one LasotScore")
    success = np.mean([s.success_curve for s in scores], axis=0)
    precision = np.mean([s.precision_curve for s in scores], axis=0)
    normalized = np.mean([s.normalized_precision_curve for s in scores], axis=0)
    return LasotScore(
        success_curve=success,
        precision_curve=precision,
        normalized_precision_curve=normalized,
        auc=float(np.mean(success)),
        precision20=float(precision[_PRECISION_AT]),
        normalized_precision=float(normalized[_NORMALIZED_PRECISION_AT]),
        num_frames=int(sum(s.num_frames for s in scores)),
    )


# ---------------------------------------------------------------------------------------------
# GOT-10k: average overlap (AO) and success rates (SR0.5, SR0.75) (Huang et al., TPAMI 2019;
# the got10k toolkit's ExperimentGOT10k, which the evaluation server follows).

GOT10K_SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 101)


@dataclasses.dataclass(frozen=True)
class Got10kScore:
    """GOT-10k scores of the frames of one sequence, or of several pooled.

    Attributes:
      ao: average overlap, the mean IoU, in [0, 1].
      sr50: success rate, the fraction of frames with IoU > 0.5.
      sr75: the fraction of frames with IoU > 0.75.
      success_curve: [101] float64, fraction of frames with IoU > GOT10K_SUCCESS_THRESHOLDS[i].
      num_frames: frames scored.
    """

    ao: float
    sr50: float
    sr75: float
    success_curve: np.ndarray
    num_frames: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the curve as a list, non-finite numbers as ``None``."""
        return {
            "ao": _json_float(self.ao),
            "sr50": _json_float(self.sr50),
            "sr75": _json_float(self.sr75),
            "success_curve": [_json_float(v) for v in self.success_curve],
            "num_frames": int(self.num_frames),
        }


def got10k_frame_ious(
    predicted_xywh: npt.ArrayLike,
    groundtruth_xywh: npt.ArrayLike,
    frame_size_wh: tuple[float, float],
    target_visible: npt.ArrayLike | None = None,
) -> np.ndarray:
    """The IoUs GOT-10k averages: frames after the first, where the target is visible.

    Both boxes are first clipped to the frame as the toolkit's ``rect_iou(..., bound)`` clips
    them: ``x`` to ``[0, W]``, ``w`` to ``[0, W - x]`` (and ``y``, ``h``), in the coordinates of
    the files, which the server reads as written. The library's boxes are 0-based and the files
    1-based (``boxfiles``), so the boxes are shifted to the files' origin before clipping.

    Args:
      predicted_xywh: [T, 4] float 0-based xywh boxes in frame pixels.
      groundtruth_xywh: [T, 4] float 0-based xywh ground truth.
      frame_size_wh: (W, H) of the frames, in pixels.
      target_visible: optional [T] bool (GOT-10k: ``cover.label > 0``); None: all visible.

    Returns:
      [T'] float64 IoU in [0, 1] of the visible frames 1..T-1 (0 for a non-finite prediction).

    Raises:
      ValueError: shapes are not [T, 4] / [T] or the frame counts differ.
    """
    predicted, groundtruth, visible = _checked_with_visibility(
        predicted_xywh, groundtruth_xywh, target_visible
    )
    keep = visible.copy()
    keep[:1] = False
    predicted, groundtruth = predicted[keep], groundtruth[keep]
    finite = np.all(np.isfinite(predicted), axis=-1)
    bound = np.asarray(frame_size_wh, np.float64)
    clipped = [_clip_to_bound(boxes.to_one_based(b), bound) for b in (predicted, groundtruth)]
    with np.errstate(invalid="ignore"):
        return np.where(finite, boxes.iou(*clipped), 0.0)


def _clip_to_bound(boxes_xywh, bound_wh):
    """The got10k toolkit's clipping of xywh boxes to ``[0, W] x [0, H]``."""
    xy = np.clip(boxes_xywh[:, :2], 0.0, bound_wh)
    wh = np.clip(boxes_xywh[:, 2:], 0.0, bound_wh - xy)
    return np.concatenate([xy, wh], axis=1)


def evaluate_got10k(frame_ious: Iterable[npt.ArrayLike]) -> Got10kScore:
    """AO, SR0.5 and SR0.75 over the frames of several sequences (and runs), pooled.

    GOT-10k pools frames: its toolkit concatenates the IoUs of every sequence and every run
    before averaging, so a long sequence weighs more. Pass one array to score one sequence.

    Args:
      frame_ious: arrays of :func:`got10k_frame_ious`, one per sequence and run.

    Returns:
      A :class:`Got10kScore`.

    Raises:
      ValueError: no frame at all.
    """
    ious = np.concatenate([np.asarray(i, np.float64).reshape(-1) for i in frame_ious] or [[]])
    if ious.size == 0:
        raise ValueError("evaluate_got10k() needs at least one frame's IoU")
    curve = np.mean(ious[:, None] > GOT10K_SUCCESS_THRESHOLDS[None, :], axis=0)
    return Got10kScore(
        ao=float(np.mean(ious)),
        sr50=float(np.mean(ious > 0.5)),
        sr75=float(np.mean(ious > 0.75)),
        success_curve=curve,
        num_frames=int(ious.size),
    )
