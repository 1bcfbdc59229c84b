"""Tests of tsn_jax.crop: crop_and_resize and roi_align against float64 references."""

import cv2
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tsn_jax import crop

# --------------------------------------------------------------------------------------------
# float64 references, written from the conventions (boxes.py docstring, torchvision's C++),
# with explicit Python loops; tiny sizes only.


def _ref_crop(frame, box, out_size, fill, valid_wh):
    """Bilinear crop with per-tap fill: a literal reading of crop_and_resize's docstring."""
    frame = np.asarray(frame, np.float64)
    valid_w, valid_h = valid_wh
    out = np.zeros((out_size, out_size, 3))
    for i in range(out_size):
        for j in range(out_size):
            # Pixel centres at (j + 0.5): continuous coordinate -> array index is "- 0.5".
            x = box[0] + (j + 0.5) * box[2] / out_size - 0.5
            y = box[1] + (i + 0.5) * box[3] / out_size - 0.5
            x0, y0 = int(np.floor(x)), int(np.floor(y))
            for yi in (y0, y0 + 1):
                for xi in (x0, x0 + 1):
                    weight = (1 - abs(x - xi)) * (1 - abs(y - yi))
                    inside = 0 <= xi <= valid_w - 1 and 0 <= yi <= valid_h - 1
                    out[i, j] += weight * (frame[yi, xi] if inside else np.asarray(fill))
    return out


def _ref_bilinear_torchvision(feat, y, x):
    """torchvision's roi_align bilinear_interpolate (roi_align_kernel.cpp), float64."""
    height, width = feat.shape[:2]
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return np.zeros(feat.shape[2])
    y, x = max(y, 0.0), max(x, 0.0)
    y_low, x_low = int(y), int(x)
    if y_low >= height - 1:
        y_high = y_low = height - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1:
        x_high = x_low = width - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    hy, hx = 1.0 - ly, 1.0 - lx
    return (
        hy * hx * feat[y_low, x_low]
        + hy * lx * feat[y_low, x_high]
        + ly * hx * feat[y_high, x_low]
        + ly * lx * feat[y_high, x_high]
    )


def _ref_roi_align(feat, box_xywh, out_size, scale, ratio):
    """torchvision.ops.roi_align(aligned=True) for one xywh box, float64 loops."""
    feat = np.asarray(feat, np.float64)
    x1 = box_xywh[0] * scale - 0.5
    y1 = box_xywh[1] * scale - 0.5
    x2 = (box_xywh[0] + box_xywh[2]) * scale - 0.5
    y2 = (box_xywh[1] + box_xywh[3]) * scale - 0.5
    bin_w, bin_h = (x2 - x1) / out_size, (y2 - y1) / out_size
    out = np.zeros((out_size, out_size, feat.shape[2]))
    for ph in range(out_size):
        for pw in range(out_size):
            for iy in range(ratio):
                y = y1 + ph * bin_h + (iy + 0.5) * bin_h / ratio
                for ix in range(ratio):
                    x = x1 + pw * bin_w + (ix + 0.5) * bin_w / ratio
                    out[ph, pw] += _ref_bilinear_torchvision(feat, y, x)
    return out / (ratio * ratio)


# --------------------------------------------------------------------------------------------

H, W = 7, 9

# float32 sampling coordinates are off by up to ~3 roundings of 1 ulp (|x| < 16: ~1e-6 px);
# times a pixel-to-pixel gradient of up to 255 that is up to ~2e-4 on the 0-255 scale (1e-4 is
# exceeded on about one random box in 30). Everything else is exact to ~1e-5.
CROP_ATOL = 3e-4


def _frame(seed=0, dtype=np.uint8):
    return np.random.RandomState(seed).randint(0, 256, (H, W, 3)).astype(dtype)


# Interior, partly outside (each side), fully outside, sub-pixel and enlarging boxes.
BOXES = np.array(
    [
        [1.3, 0.7, 5.2, 4.9],
        [-2.5, -1.5, 6.0, 5.0],
        [5.0, 3.0, 7.5, 6.5],
        [-20.0, 2.0, 5.0, 3.0],
        [2.25, 3.5, 0.8, 1.1],
        [0.0, 0.0, 9.0, 7.0],
        [3.7, -4.2, 2.0, 14.0],
    ],
    np.float32,
)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_crop_matches_float64_reference(dtype):
    frame = _frame(0, dtype)
    out_size = 6
    rng = np.random.RandomState(1)
    random_boxes = np.concatenate([rng.uniform(-5, 10, (12, 2)), rng.uniform(0.5, 12, (12, 2))], 1)
    all_boxes = np.concatenate([BOXES, random_boxes.astype(np.float32)])
    got = np.asarray(crop.crop_and_resize(frame, all_boxes, out_size))
    mean = frame.astype(np.float64).reshape(-1, 3).mean(axis=0)
    assert got.shape == (len(all_boxes), out_size, out_size, 3) and got.dtype == np.float32
    for n, box in enumerate(all_boxes):
        want = _ref_crop(frame, box.astype(np.float64), out_size, mean, (W, H))
        np.testing.assert_allclose(got[n], want, atol=CROP_ATOL, err_msg=f"box {n}: {box}")


def test_crop_explicit_fill():
    frame = _frame(1)
    fill = np.array([10.0, 200.0, 30.0])
    got = np.asarray(crop.crop_and_resize(frame, BOXES[:3], 5, fill=fill))
    for n, box in enumerate(BOXES[:3]):
        want = _ref_crop(frame, box.astype(np.float64), 5, fill, (W, H))
        np.testing.assert_allclose(got[n], want, atol=CROP_ATOL)


def test_points_outside_get_the_mean_colour():
    frame = _frame(2)
    mean = frame.astype(np.float64).reshape(-1, 3).mean(axis=0)
    # Fully outside: every pixel is the mean colour.
    outside = np.asarray(crop.crop_and_resize(frame, [[-30.0, -30.0, 10.0, 10.0]], 4))
    np.testing.assert_allclose(outside[0], np.broadcast_to(mean, (4, 4, 3)), atol=1e-4)
    # Left half outside: sample x = -10 + (j + 0.5) * 20 / 8 - 0.5 < -1 for j <= 3, so those
    # columns (all taps outside) are the mean colour; the others sample the frame.
    half = np.asarray(crop.crop_and_resize(frame, [[-10.0, 0.0, 20.0, 7.0]], 8))[0]
    np.testing.assert_allclose(half[:, :4], np.broadcast_to(mean, (8, 4, 3)), atol=1e-4)
    assert np.abs(half[:, 4:6] - mean).max() > 1.0


def test_padded_frame_with_valid_size_equals_unpadded():
    frame = _frame(3)
    padded = np.random.RandomState(4).randint(0, 256, (H + 4, W + 6, 3)).astype(np.uint8)
    padded[:H, :W] = frame
    want = crop.crop_and_resize(frame, BOXES, 6)

    @jax.jit
    def crop_padded(image, valid_size_wh):
        return crop.crop_and_resize(image, BOXES, 6, valid_size_wh=valid_size_wh)

    got = crop_padded(padded, jnp.asarray([W, H], jnp.float32))
    # Same values; jit vs eager and the mean's summation order may round differently: CROP_ATOL.
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=CROP_ATOL)
    np.testing.assert_allclose(
        np.asarray(crop.mean_colour(padded, jnp.asarray([W, H]))),
        frame.reshape(-1, 3).mean(axis=0),
        rtol=1e-6,
    )


def test_identity_box_returns_the_frame():
    # Outputs are square, so the frame is square: an 8-wide output of an 8-wide box samples
    # exactly the pixel centres (fractional parts 0), giving the frame bit for bit.
    square = np.random.RandomState(6).randint(0, 256, (8, 8, 3)).astype(np.uint8)
    got = np.asarray(crop.crop_and_resize(square, [[0.0, 0.0, 8.0, 8.0]], 8))
    np.testing.assert_array_equal(got[0], square.astype(np.float32))


def test_matches_cv2_warp_affine_on_interior_boxes():
    rng = np.random.RandomState(7)
    frame = rng.uniform(0, 255, (20, 24, 3)).astype(np.float32)
    out_size = 8
    # Scale factors and offsets are multiples of 1/32 px: OpenCV quantises sampling positions
    # to 1/32 px (INTER_TAB_SIZE) and would otherwise differ by up to slope / 64.
    boxes_xywh = np.array(
        [[3.0, 2.0, 6.0, 6.0], [5.25, 4.5, 10.0, 4.0], [1.0 / 32, 7.0, 8.0, 10.0]], np.float32
    )
    got = np.asarray(crop.crop_and_resize(frame, boxes_xywh, out_size, fill=0.0))
    for n, (x, y, w, h) in enumerate(boxes_xywh.astype(np.float64)):
        sx, sy = w / out_size, h / out_size
        # dst(j, i) = src(sx * j + x + 0.5 * sx - 0.5, ...): the boxes.py convention.
        matrix = np.array([[sx, 0.0, x + 0.5 * sx - 0.5], [0.0, sy, y + 0.5 * sy - 0.5]])
        want = cv2.warpAffine(
            frame,
            matrix,
            (out_size, out_size),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0.0, 0.0, 0.0),
        )
        # OpenCV's bilinear weights come from a float table of 1/32-px steps: 1e-2 on 0-255.
        np.testing.assert_allclose(got[n], want, atol=1e-2, err_msg=f"box {n}")


def test_jit_and_vmap_equal_a_loop():
    frame = _frame(8)
    batch = np.asarray(jax.jit(crop.crop_and_resize, static_argnums=2)(frame, BOXES, 5))
    for n, box in enumerate(BOXES):
        one = np.asarray(crop.crop_and_resize(frame, box[None], 5))
        # XLA may fuse the coordinate arithmetic differently per program: CROP_ATOL.
        np.testing.assert_allclose(batch[n], one[0], atol=CROP_ATOL)
    # vmap over frames (batched tracking) also works.
    frames = np.stack([frame, _frame(9)])
    stacked = jax.vmap(lambda f: crop.crop_and_resize(f, BOXES[:2], 5))(frames)
    assert stacked.shape == (2, 2, 5, 5, 3)
    np.testing.assert_allclose(np.asarray(stacked[0]), batch[:2], atol=CROP_ATOL)


def test_crop_rejects_bad_shapes():
    with pytest.raises(crop.CropError, match="frame must be"):
        crop.crop_and_resize(np.zeros((4, 4)), BOXES, 3)
    with pytest.raises(crop.CropError, match="boxes_xywh must be"):
        crop.crop_and_resize(_frame(), np.zeros((3, 5)), 3)


# --------------------------------------------------------------------------------------------
# roi_align

ROI_BOXES = np.array(
    [
        [4.0, 6.0, 20.0, 16.0],
        [-6.0, -3.0, 18.0, 14.0],  # partly left of / above the map
        [30.0, 20.0, 24.0, 22.0],  # partly beyond the right / bottom edge
        [11.3, 7.9, 2.1, 1.7],  # smaller than a cell
        [0.0, 0.0, 40.0, 36.0],  # the whole image
        [-40.0, 5.0, 10.0, 10.0],  # far outside: zeros
    ],
    np.float32,
)


# 4 channels: the rows-first order; 32: the outer-product order (out_size x 9 rows <= 32).
@pytest.mark.parametrize("channels", [4, 32])
@pytest.mark.parametrize("out_size,ratio", [(3, 2), (2, 3)])
def test_roi_align_matches_torchvision_algorithm(out_size, ratio, channels):
    feat = np.random.RandomState(10).uniform(-1, 1, (9, 10, channels)).astype(np.float32)
    scale = 0.25  # image 40 x 36 -> map 10 x 9
    got = np.asarray(crop.roi_align(feat, ROI_BOXES, out_size, scale, sampling_ratio=ratio))
    assert got.shape == (len(ROI_BOXES), out_size, out_size, channels)
    assert got.dtype == np.float32
    for n, box in enumerate(ROI_BOXES):
        want = _ref_roi_align(feat, box.astype(np.float64), out_size, scale, ratio)
        # float32 interpolation of values in [-1, 1]: 1e-5 absolute.
        np.testing.assert_allclose(got[n], want, atol=1e-5, err_msg=f"box {n}: {box}")
    np.testing.assert_array_equal(got[-1], 0.0)


def test_roi_align_jit_equals_no_jit():
    feat = np.random.RandomState(11).uniform(0, 1, (9, 10, 3)).astype(np.float32)
    fn = jax.jit(crop.roi_align, static_argnums=(2, 3, 4))
    np.testing.assert_allclose(
        np.asarray(fn(feat, ROI_BOXES, 3, 0.25, 2)),
        np.asarray(crop.roi_align(feat, ROI_BOXES, 3, 0.25, 2)),
        atol=1e-6,
    )


@pytest.mark.parametrize("channels", [4, 32])
def test_roi_align_matches_torchvision(channels):
    import torch
    from torchvision import ops

    feat = np.random.RandomState(12).uniform(-1, 1, (9, 10, channels)).astype(np.float32)
    xyxy = ROI_BOXES.copy()
    xyxy[:, 2:] += xyxy[:, :2]
    rois = torch.from_numpy(np.concatenate([np.zeros((len(xyxy), 1), np.float32), xyxy], 1))
    want = ops.roi_align(
        torch.from_numpy(feat.transpose(2, 0, 1)[None]),
        rois,
        output_size=3,
        spatial_scale=0.25,
        sampling_ratio=2,
        aligned=True,
    )
    got = np.asarray(crop.roi_align(feat, ROI_BOXES, 3, 0.25, 2))
    np.testing.assert_allclose(got, want.numpy().transpose(0, 2, 3, 1), atol=1e-5)


def test_roi_align_rejects_adaptive_sampling_ratio():
    with pytest.raises(crop.CropError, match="sampling_ratio"):
        crop.roi_align(np.zeros((4, 4, 2)), ROI_BOXES, 2, 0.25, sampling_ratio=0)
