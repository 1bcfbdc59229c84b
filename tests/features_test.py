"""Tests for tsn_jax.features: pooling, window coordinates, chunking."""

import jax.numpy as jnp
import numpy as np
import pytest

from tsn_jax import features


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
