"""Box formats, conversions and overlap: the one module that owns every box convention.

Pixel-coordinate convention (every crop, RoI and evaluation function cites this):

* Coordinates are continuous and 0-based. Pixel ``(row i, column j)`` covers the square
  ``[j, j + 1) x [i, i + 1)``; its centre, where its value is sampled, is ``(j + 0.5, i + 0.5)``.
* A box ``(x, y, w, h)`` ("xywh") covers ``[x, x + w) x [y, y + h)``; its centre is
  ``(x + w / 2, y + h / 2)``. A box over the whole ``W x H`` frame is ``(0, 0, W, H)``.
* ``cxcywh`` is ``(cx, cy, w, h)`` with the centre above; ``xyxy`` is ``(x0, y0, x1, y1)`` with
  ``x1 = x + w``, ``y1 = y + h``.
* Files in the OTB format are 1-based: a file row ``x, y, w, h`` is ``(x - 1, y - 1, w, h)``
  inside the library. :func:`from_one_based` and :func:`to_one_based` are the only places the
  offset is applied, and only file readers and writers call them.

IoU and centre distance do not depend on the origin, so evaluation gives the same numbers as
the OTB toolkit (which works in 1-based coordinates) on the same files.

Every function accepts NumPy or JAX arrays of shape ``[..., 4]`` and returns the same kind, so
host-side evaluation (NumPy, float64) and the jitted tracker (JAX) share one definition.
"""

from typing import TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

# Box arrays: NumPy on the host, jax.Array in the tracker; a function returns the kind it got.
Boxes = TypeVar("Boxes", np.ndarray, jax.Array)


def _xp(*arrays):
    """The array module (jnp or np) for the given arrays."""
    return jnp if any(isinstance(a, jax.Array) for a in arrays) else np


def _stack(xp, parts):
    return xp.stack(parts, axis=-1)


def xywh_to_cxcywh(boxes_xywh: Boxes) -> Boxes:
    """[..., 4] xywh -> [..., 4] cxcywh (same units)."""
    xp = _xp(boxes_xywh)
    x, y, w, h = (boxes_xywh[..., i] for i in range(4))
    return _stack(xp, [x + w / 2, y + h / 2, w, h])


def cxcywh_to_xywh(boxes_cxcywh: Boxes) -> Boxes:
    """[..., 4] cxcywh -> [..., 4] xywh (same units)."""
    xp = _xp(boxes_cxcywh)
    cx, cy, w, h = (boxes_cxcywh[..., i] for i in range(4))
    return _stack(xp, [cx - w / 2, cy - h / 2, w, h])


def xywh_to_xyxy(boxes_xywh: Boxes) -> Boxes:
    """[..., 4] xywh -> [..., 4] xyxy (same units)."""
    xp = _xp(boxes_xywh)
    x, y, w, h = (boxes_xywh[..., i] for i in range(4))
    return _stack(xp, [x, y, x + w, y + h])


def xyxy_to_xywh(boxes_xyxy: Boxes) -> Boxes:
    """[..., 4] xyxy -> [..., 4] xywh (same units)."""
    xp = _xp(boxes_xyxy)
    x0, y0, x1, y1 = (boxes_xyxy[..., i] for i in range(4))
    return _stack(xp, [x0, y0, x1 - x0, y1 - y0])


def from_one_based(boxes_xywh_one_based: Boxes) -> Boxes:
    """OTB file rows (1-based xywh) -> library boxes (0-based xywh). [..., 4]."""
    xp = _xp(boxes_xywh_one_based)
    offset = xp.asarray([1.0, 1.0, 0.0, 0.0], dtype=boxes_xywh_one_based.dtype)
    return boxes_xywh_one_based - offset


def to_one_based(boxes_xywh: Boxes) -> Boxes:
    """Library boxes (0-based xywh) -> OTB file rows (1-based xywh). [..., 4]."""
    xp = _xp(boxes_xywh)
    offset = xp.asarray([1.0, 1.0, 0.0, 0.0], dtype=boxes_xywh.dtype)
    return boxes_xywh + offset


def area(boxes_xywh: Boxes) -> Boxes:
    """[..., 4] xywh -> [...] area; negative sizes count as zero area."""
    xp = _xp(boxes_xywh)
    return xp.maximum(boxes_xywh[..., 2], 0) * xp.maximum(boxes_xywh[..., 3], 0)


def iou(
    boxes_a_xywh: np.ndarray | jax.Array, boxes_b_xywh: np.ndarray | jax.Array
) -> np.ndarray | jax.Array:
    """Intersection over union of broadcastable xywh boxes.

    Args:
      boxes_a_xywh: [..., 4] xywh boxes.
      boxes_b_xywh: [..., 4] xywh boxes, broadcastable against ``boxes_a_xywh``.

    Returns:
      [...] IoU in [0, 1]; 0 where the union is empty (both boxes have zero area). NaN inputs
      give NaN (evaluation treats a NaN IoU as a failure).
    """
    xp = _xp(boxes_a_xywh, boxes_b_xywh)
    a = xywh_to_xyxy(boxes_a_xywh)
    b = xywh_to_xyxy(boxes_b_xywh)
    inter_w = xp.maximum(xp.minimum(a[..., 2], b[..., 2]) - xp.maximum(a[..., 0], b[..., 0]), 0)
    inter_h = xp.maximum(xp.minimum(a[..., 3], b[..., 3]) - xp.maximum(a[..., 1], b[..., 1]), 0)
    inter = inter_w * inter_h
    union = area(boxes_a_xywh) + area(boxes_b_xywh) - inter
    return xp.where(union > 0, inter / xp.where(union > 0, union, 1), 0 * inter)


def center_distance(
    boxes_a_xywh: np.ndarray | jax.Array, boxes_b_xywh: np.ndarray | jax.Array
) -> np.ndarray | jax.Array:
    """[..., 4], [..., 4] xywh -> [...] Euclidean distance between box centres, in pixels."""
    xp = _xp(boxes_a_xywh, boxes_b_xywh)
    a = xywh_to_cxcywh(boxes_a_xywh)
    b = xywh_to_cxcywh(boxes_b_xywh)
    return xp.sqrt((a[..., 0] - b[..., 0]) ** 2 + (a[..., 1] - b[..., 1]) ** 2)


def scale_about_center(boxes_xywh: Boxes, factor: ArrayLike) -> Boxes:
    """Scales xywh boxes about their centres by ``factor`` (scalar or [...]): context windows."""
    xp = _xp(boxes_xywh)
    c = xywh_to_cxcywh(boxes_xywh)
    factor = xp.asarray(factor, dtype=c.dtype)
    return cxcywh_to_xywh(
        _stack(xp, [c[..., 0], c[..., 1], c[..., 2] * factor, c[..., 3] * factor])
    )


def clip_to_frame(
    boxes_xywh: Boxes,
    frame_size_wh: ArrayLike | tuple[float, float],
    min_size: ArrayLike = 1.0,
) -> Boxes:
    """Keeps boxes inside a frame and at least ``min_size`` pixels wide and high.

    The size is clamped to ``[min_size, frame size]`` first, then the box is shifted (not cut) so
    that it lies inside ``[0, W) x [0, H)``; a tracker's box can therefore never leave the frame
    or collapse to zero size.

    Args:
      boxes_xywh: [..., 4] xywh boxes in frame pixels.
      frame_size_wh: (W, H) of the frame, in pixels.
      min_size: the smallest width and height kept, in pixels.

    Returns:
      [..., 4] xywh boxes.
    """
    xp = _xp(boxes_xywh)
    frame_w, frame_h = frame_size_wh[0], frame_size_wh[1]
    w = xp.clip(boxes_xywh[..., 2], min_size, frame_w)
    h = xp.clip(boxes_xywh[..., 3], min_size, frame_h)
    c = xywh_to_cxcywh(boxes_xywh)
    x = xp.clip(c[..., 0] - w / 2, 0, frame_w - w)
    y = xp.clip(c[..., 1] - h / 2, 0, frame_h - h)
    return _stack(xp, [x, y, w, h])


def is_valid(boxes_xywh: Boxes) -> Boxes:
    """[..., 4] xywh -> [...] bool: every value finite and width and height positive."""
    xp = _xp(boxes_xywh)
    finite = xp.all(xp.isfinite(boxes_xywh), axis=-1)
    return finite & (boxes_xywh[..., 2] > 0) & (boxes_xywh[..., 3] > 0)
