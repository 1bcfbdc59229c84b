"""Crop-and-resize of N boxes from a frame, and RoIAlign of N boxes from a feature map.

Step 2 of the per-frame step (``tracker.py``) and the ``roi`` proposal
features (docs/decisions.md D3).

Both follow the pixel convention of ``boxes.py``: pixel ``(i, j)`` covers
``[j, j + 1) x [i, i + 1)`` and is sampled at its centre ``(j + 0.5, i + 0.5)``. A continuous
coordinate ``u`` therefore lies at array index ``u - 0.5``. An ``out_size``-pixel output of a
box ``(x, y, w, h)`` has its pixel ``j`` centred at ``x + (j + 0.5) * w / out_size``, i.e. at
array index ``x + (j + 0.5) * w / out_size - 0.5`` (:func:`sample_points`, the one place this
mapping is written). The box ``(0, 0, W, H)`` resized to ``W x H`` is the frame itself.

RoIAlign uses the same mapping on the feature map: with ``aligned=True`` torchvision puts the
box corner ``x`` at feature index ``x * spatial_scale - 0.5`` and its sampling points at
``(m + 0.5) / (out_size * sampling_ratio)`` of the box, which is
``sample_points(x * spatial_scale, w * spatial_scale, out_size * sampling_ratio)``.
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

_HIGHEST = jax.lax.Precision.HIGHEST


class CropError(ValueError):
    """Bad arguments to a crop or RoIAlign function (shapes, sizes)."""


def sample_points(start: ArrayLike, size: ArrayLike, num: int) -> jax.Array:
    """Array indices of ``num`` evenly spaced pixel centres across a 1-D interval.

    Args:
      start: [] float, the interval's start in continuous pixel coordinates (``boxes.py``).
      size: [] float, the interval's length in pixels.
      num: static int, the number of output pixels.

    Returns:
      [num] float32 array indices ``start + (k + 0.5) * size / num - 0.5``, k = 0..num-1.
    """
    k = jnp.arange(num, dtype=jnp.float32)
    # Subtracting 0.5 first is exact for |start| < 2^22; fewer roundings than the formula order.
    return (start - 0.5) + (k + 0.5) * size / num


def _check_frame(frame, boxes_xywh, out_size):
    if frame.ndim != 3 or frame.shape[-1] != 3:
        raise CropError(f"frame must be [H, W, 3], got shape {frame.shape}")
    if boxes_xywh.ndim != 2 or boxes_xywh.shape[-1] != 4:
        raise CropError(f"boxes_xywh must be [N, 4], got shape {boxes_xywh.shape}")
    if int(out_size) < 1:
        raise CropError(f"out_size must be a positive int, got {out_size}")


def _valid_size(frame, valid_size_wh):
    """[2] float32 (W, H) of the valid area."""
    if valid_size_wh is None:
        return jnp.asarray([frame.shape[1], frame.shape[0]], jnp.float32)
    return jnp.asarray(valid_size_wh, jnp.float32).reshape(2)


def mean_colour(frame: jax.Array, valid_size_wh: ArrayLike | None = None) -> jax.Array:
    """Mean colour of the valid area of a (possibly padded) frame.

    Args:
      frame: [H, W, 3] uint8 or float frame, RGB 0-255.
      valid_size_wh: optional [2] (W, H) of the valid top-left sub-rectangle, pixels (may be
        traced); None means the whole frame.

    Returns:
      [3] float32 mean RGB of pixels with column < W and row < H.
    """
    valid_w, valid_h = _valid_size(frame, valid_size_wh)
    rows = jnp.arange(frame.shape[0], dtype=jnp.float32) < valid_h
    cols = jnp.arange(frame.shape[1], dtype=jnp.float32) < valid_w
    mask = (rows[:, None] & cols[None, :]).astype(jnp.float32)
    total = jnp.einsum("hw,hwc->c", mask, frame.astype(jnp.float32), precision=_HIGHEST)
    return total / jnp.maximum(mask.sum(), 1.0)


def _taps(coords, limit):
    """Bilinear taps along one axis.

    Args:
      coords: [S] float32 array indices.
      limit: [] float32, the valid indices are [0, limit - 1].

    Returns:
      Two (index [S] int32, weight [S] float32, inside [S] bool) triples, the lower tap and the
      upper one: array index, bilinear weight and whether the index is in the valid range.
    """
    base = jnp.floor(coords)
    frac = coords - base
    low = base.astype(jnp.int32)
    return [
        (low, 1.0 - frac, (base >= 0) & (base <= limit - 1)),
        (low + 1, frac, (base + 1 >= 0) & (base + 1 <= limit - 1)),
    ]


def _crop_one(frame, box_xywh, out_size, fill, valid_wh):
    """[H, W, 3] frame, [4] box -> [out_size, out_size, 3] float32 (see crop_and_resize)."""
    height, width = frame.shape[0], frame.shape[1]
    xs = sample_points(box_xywh[0], box_xywh[2], out_size)
    ys = sample_points(box_xywh[1], box_xywh[3], out_size)
    x_taps = _taps(xs, valid_wh[0])
    y_taps = _taps(ys, valid_wh[1])
    flat = frame.reshape(height * width, 3)
    out = jnp.zeros((out_size, out_size, 3), jnp.float32)
    for yi, wy, oky in y_taps:
        for xi, wx, okx in x_taps:
            index = jnp.clip(yi, 0, height - 1)[:, None] * width + jnp.clip(xi, 0, width - 1)
            values = jnp.take(flat, index.reshape(-1), axis=0).astype(jnp.float32)
            values = values.reshape(out_size, out_size, 3)
            ok = (oky[:, None] & okx[None, :])[..., None]
            out = out + (wy[:, None] * wx[None, :])[..., None] * jnp.where(ok, values, fill)
    return out


def crop_and_resize(
    frame: ArrayLike,
    boxes_xywh: ArrayLike,
    out_size: int,
    fill: ArrayLike | None = None,
    valid_size_wh: ArrayLike | None = None,
) -> jax.Array:
    """Crops N boxes from a frame and resizes each to out_size x out_size, bilinearly.

    Output pixel ``(i, j)`` of box ``(x, y, w, h)`` samples the frame at array index
    ``(x + (j + 0.5) * w / out_size - 0.5, y + (i + 0.5) * h / out_size - 0.5)`` (the pixel
    convention of ``boxes.py``, see :func:`sample_points`). Each of the 4 bilinear taps that
    falls outside the valid area (indices ``[0, W - 1] x [0, H - 1]``) reads ``fill`` instead,
    so a sample half outside blends frame and fill.

    Args:
      frame: [H, W, 3] uint8 or float frame, RGB 0-255.
      boxes_xywh: [N, 4] float boxes, xywh frame pixels.
      out_size: static int, the side of each output crop in pixels.
      fill: optional scalar or [3] colour (0-255) for points outside the valid area; None means
        the mean colour of the valid area (docs/decisions.md D28).
      valid_size_wh: optional [2] (W, H) of the valid top-left part of a padded frame, pixels;
        may be traced (masks are computed, not sliced). None means the whole frame.

    Returns:
      [N, out_size, out_size, 3] float32 crops, RGB 0-255.

    Raises:
      CropError: on a frame that is not [H, W, 3], boxes that are not [N, 4] or out_size < 1.
    """
    frame = jnp.asarray(frame)
    boxes_xywh = jnp.asarray(boxes_xywh, jnp.float32)
    _check_frame(frame, boxes_xywh, out_size)
    valid_wh = _valid_size(frame, valid_size_wh)
    if fill is None:
        fill = mean_colour(frame, valid_wh)
    fill = jnp.broadcast_to(jnp.asarray(fill, jnp.float32), (3,))
    return jax.vmap(lambda box: _crop_one(frame, box, int(out_size), fill, valid_wh))(boxes_xywh)


def _roi_axis_weights(coords, size, out_size, sampling_ratio):
    """[out_size, size] interpolation-and-average matrix of one axis (torchvision's rules).

    Args:
      coords: [out_size * sampling_ratio] float32 feature-map indices of the sampling points,
        bin-major (bin p holds points p * sampling_ratio .. (p + 1) * sampling_ratio - 1).
      size: static int, the map's extent along this axis.
      out_size: static int, the number of bins.
      sampling_ratio: static int, sampling points per bin along this axis.

    Returns:
      [out_size, size] float32; row p averages the bilinear weights of bin p's points. A point
      beyond (-1, size) contributes 0; others are clamped to [0, size - 1] first.
    """
    inside = (coords >= -1.0) & (coords <= size)
    clamped = jnp.clip(coords, 0.0, size - 1.0)
    low = jnp.floor(clamped)
    frac = clamped - low
    low = low.astype(jnp.int32)
    high = jnp.minimum(low + 1, size - 1)
    cells = jnp.arange(size, dtype=jnp.int32)
    weights = (1.0 - frac)[:, None] * (cells[None, :] == low[:, None]) + frac[:, None] * (
        cells[None, :] == high[:, None]
    )
    weights = weights * inside[:, None]
    return weights.reshape(out_size, sampling_ratio, size).mean(axis=1)


def _roi_one(features, box_xywh, out_size, spatial_scale, sampling_ratio):
    """[h, w, C] map, [4] box -> [out_size, out_size, C] float32 (see roi_align).

    Two orders of the same sums, by the smaller intermediate: rows first (an [out_size, w, C]
    product, then columns), or the [out_size^2, h * w] outer product of the two axes' weights
    times the map, one matrix product. The proposals' 3 x 3 bins of a 256-channel conv3 map
    take the second (16 against 7 ms for 256 boxes on the 2-core CPU), the Spatial Net's
    17 x 17 bins the first.
    """
    height, width, channels = features.shape
    num = out_size * sampling_ratio
    xs = sample_points(box_xywh[0] * spatial_scale, box_xywh[2] * spatial_scale, num)
    ys = sample_points(box_xywh[1] * spatial_scale, box_xywh[3] * spatial_scale, num)
    weights_y = _roi_axis_weights(ys, height, out_size, sampling_ratio)
    weights_x = _roi_axis_weights(xs, width, out_size, sampling_ratio)
    if out_size * height <= channels:
        outer = weights_y[:, None, :, None] * weights_x[None, :, None, :]
        flat = outer.reshape(out_size * out_size, height * width)
        pooled = jnp.matmul(flat, features.reshape(height * width, channels), precision=_HIGHEST)
        return pooled.reshape(out_size, out_size, channels)
    rows = jnp.einsum("ph,hwc->pwc", weights_y, features, precision=_HIGHEST)
    return jnp.einsum("qw,pwc->pqc", weights_x, rows, precision=_HIGHEST)


def roi_align(
    features: ArrayLike,
    boxes_xywh: ArrayLike,
    out_size: int,
    spatial_scale: float,
    sampling_ratio: int = 2,
) -> jax.Array:
    """RoIAlign of N boxes from one feature map (torchvision.ops.roi_align, aligned=True).

    Box ``(x, y, w, h)`` in input-image pixels spans feature indices ``x * spatial_scale - 0.5``
    to ``(x + w) * spatial_scale - 0.5`` (likewise in y); it is cut into out_size x out_size
    bins, each sampled at sampling_ratio x sampling_ratio regularly spaced points (at
    ``(k + 0.5) / sampling_ratio`` of the bin) that are bilinearly interpolated and averaged.
    Torchvision's border rule: a point below -1 or above the map size (in either axis)
    contributes 0 (it still counts in the average); any other point is clamped into the map.

    Bilinear interpolation is separable, so each box is two small dense products with
    [out_size, h] and [out_size, w] weight matrices rather than a gather (or one with their
    outer product, where that is the smaller intermediate).

    Args:
      features: [h, w, C] float feature map.
      boxes_xywh: [N, 4] float boxes, xywh input-image pixels.
      out_size: static int, bins per side.
      spatial_scale: static float, feature-map cells per input pixel (e.g. 1/4).
      sampling_ratio: static int > 0, sampling points per bin side (torchvision's adaptive
        ``sampling_ratio <= 0`` is data-dependent and not supported).

    Returns:
      [N, out_size, out_size, C] float32 pooled features.

    Raises:
      CropError: on a map that is not [h, w, C], boxes that are not [N, 4], out_size < 1 or
        sampling_ratio < 1.
    """
    features = jnp.asarray(features, jnp.float32)
    boxes_xywh = jnp.asarray(boxes_xywh, jnp.float32)
    if features.ndim != 3:
        raise CropError(f"features must be [h, w, C], got shape {features.shape}")
    if boxes_xywh.ndim != 2 or boxes_xywh.shape[-1] != 4:
        raise CropError(f"boxes_xywh must be [N, 4], got shape {boxes_xywh.shape}")
    if int(out_size) < 1:
        raise CropError(f"out_size must be a positive int, got {out_size}")
    if int(sampling_ratio) < 1:
        raise CropError(f"sampling_ratio must be a positive int, got {sampling_ratio}")

    def one(box):
        return _roi_one(features, box, int(out_size), spatial_scale, int(sampling_ratio))

    return jax.vmap(one)(boxes_xywh)
