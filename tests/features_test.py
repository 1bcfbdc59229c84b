"""Tests for tsn_jax.features: pooling, window coordinates, chunking."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tsn_jax import boxes, features, sampling
from tsn_jax import config as config_lib


def _adaptive_pool_reference(maps, grid):
    """float64 NumPy adaptive average pooling (torch AdaptiveAvgPool2d bin rule)."""
    n, h, w, c = maps.shape
    out = np.zeros((n, grid, grid, c))
    for i in range(grid):
        r0, r1 = int(np.floor(i * h / grid)), int(np.ceil((i + 1) * h / grid))
        for j in range(grid):
            c0, c1 = int(np.floor(j * w / grid)), int(np.ceil((j + 1) * w / grid))
            out[:, i, j] = maps[:, r0:r1, c0:c1].mean(axis=(1, 2))
    return out


@pytest.mark.parametrize("size,grid", [(26, 3), (3, 3), (7, 2), (5, 5)])
def test_adaptive_average_pool_matches_reference(size, grid):
    """Reference: float64 loops above; tolerance 1e-5 (float32 sums of <= 100 values)."""
    maps = np.random.default_rng(0).normal(size=(2, size, size, 4))
    pooled = features.adaptive_average_pool(jnp.asarray(maps, jnp.float32), grid)
    np.testing.assert_allclose(pooled, _adaptive_pool_reference(maps, grid), atol=1e-5)


def test_adaptive_average_pool_matches_torch():
    """Reference: torch.nn.AdaptiveAvgPool2d on CPU; tolerance 1e-5."""
    torch = pytest.importorskip("torch")
    maps = np.random.default_rng(1).normal(size=(2, 26, 26, 3)).astype(np.float32)
    expected = torch.nn.AdaptiveAvgPool2d(3)(torch.from_numpy(maps).permute(0, 3, 1, 2))
    pooled = features.adaptive_average_pool(jnp.asarray(maps), 3)
    np.testing.assert_allclose(pooled, expected.permute(0, 2, 3, 1).numpy(), atol=1e-5)


def test_to_window_pixels_maps_the_window_onto_the_resized_square():
    window = jnp.asarray([10.0, 20.0, 100.0, 50.0])
    inside = jnp.asarray([[10.0, 20.0, 100.0, 50.0], [60.0, 45.0, 10.0, 5.0]])
    mapped = features.to_window_pixels(inside, window, 200)
    np.testing.assert_allclose(mapped, [[0, 0, 200, 200], [100, 100, 20, 20]], atol=1e-5)


def test_in_chunks_equals_one_call():
    boxes = jnp.arange(40.0).reshape(10, 4)
    direct = boxes * 2 + 1
    chunked = features._in_chunks(lambda b: b * 2 + 1, boxes, chunk=3)
    np.testing.assert_allclose(chunked, direct)


def _covering_window_reference(box, config):
    """float64 NumPy covering window: per axis the larger of the box's aspect window and the
    span of every proposal's context region (shifts to 2 std, scales to 2 std)."""
    box = np.asarray(box, np.float64)
    size = box[2:]
    aspect = size * config.search_size / config.roi_target_size
    largest = config.scale_step ** (2 * config.proposal_scale_std)
    span = config.crop_size / config.crop_target_size * largest * size
    span = span + 4 * config.proposal_translation_std * size.mean()
    side = np.maximum(aspect, span)
    return np.concatenate([box[:2] + size / 2 - side / 2, side])


@pytest.mark.parametrize("box", [[50.0, 40.0, 22.0, 70.0], [10.0, 60.0, 90.0, 30.0]])
def test_covering_window_matches_reference_and_holds_every_proposal(box):
    """Reference: float64 formula above; tolerance 1e-3 px. Then every context region of 256
    proposals drawn around the box (search growth 1 and 3) lies inside its window."""
    config = config_lib.TrackerConfig(search_window="covering")
    window = np.asarray(features.search_window(jnp.asarray(box), config))
    np.testing.assert_allclose(window, _covering_window_reference(box, config), atol=1e-3)
    for growth in (1.0, 3.0):
        proposals = sampling.gaussian_proposals(
            jax.random.key(0),
            jnp.asarray(box),
            256,
            config.proposal_translation_std * growth,
            config.proposal_scale_std,
            config.scale_step,
            (1000.0, 1000.0),
            config.min_box_size,
        )
        regions = np.asarray(
            boxes.scale_about_center(proposals, features.context_factor(config)), np.float64
        )
        grown = features.search_window(boxes.scale_about_center(jnp.asarray(box), growth), config)
        low, high = np.asarray(grown[:2]), np.asarray(grown[:2] + grown[2:])
        assert np.all(regions[:, :2] >= low - 1e-3)
        assert np.all(regions[:, :2] + regions[:, 2:] <= high + 1e-3)


def test_covering_window_is_the_aspect_window_for_a_square_box():
    box = jnp.asarray([30.0, 30.0, 40.0, 40.0])
    covering = features.search_window(box, config_lib.TrackerConfig(search_window="covering"))
    aspect = features.search_window(box, config_lib.TrackerConfig(search_window="aspect"))
    np.testing.assert_allclose(covering, aspect, atol=1e-4)
