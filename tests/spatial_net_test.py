"""Spatial Net: forward vs PyTorch, labels / refinement / ensemble vs NumPy, training."""

import cv2
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tsn_jax import spatial_net

G, C = 9, 6


def _model_and_params(kernel_sizes=(1, 3, 3)):
    model = spatial_net.SpatialNet(features=(8, 4), kernel_sizes=kernel_sizes)
    params = model.init(jax.random.key(0), jnp.zeros((1, G, G, C)))["params"]
    return model, params


@pytest.mark.parametrize("kernel_sizes", [(1, 3, 3), (3, 3, 3), (5, 1, 3)])
def test_forward_matches_torch(kernel_sizes):
    torch = pytest.importorskip("torch")
    model, params = _model_and_params(kernel_sizes)
    inputs = np.random.default_rng(0).normal(size=(2, G, G, C)).astype(np.float32)
    got = np.asarray(model.apply({"params": params}, inputs))
    x = torch.from_numpy(inputs.astype(np.float64)).permute(0, 3, 1, 2)
    for index in (1, 2, 3):
        layer = params[f"conv{index}"]
        weight = torch.from_numpy(np.float64(layer["kernel"])).permute(3, 2, 0, 1)
        x = torch.nn.functional.conv2d(
            x, weight, torch.from_numpy(np.float64(layer["bias"])), padding="same"
        )
        x = torch.relu(x) if index < 3 else torch.sigmoid(x)
    # float32 vs float64, three 3x3 convs of a few channels.
    np.testing.assert_allclose(got, x[:, 0].numpy(), atol=1e-6)


def test_gaussian_labels_match_numpy_loops():
    windows = np.array([[10.0, 20.0, 90.0, 60.0], [0.0, 0.0, 30.0, 30.0]], np.float32)
    targets = np.array([[40.0, 35.0, 30.0, 20.0], [5.0, 12.0, 10.0, 8.0]], np.float32)
    got = spatial_net.gaussian_labels(windows, targets, G, 0.2)
    expected = np.zeros((2, G, G))
    for b in range(2):
        wx, wy, ww, wh = np.float64(windows[b])
        tx, ty, tw, th = np.float64(targets[b])
        for i in range(G):
            for j in range(G):
                x, y = wx + (j + 0.5) * ww / G, wy + (i + 0.5) * wh / G
                expected[b, i, j] = np.exp(
                    -((x - tx - tw / 2) ** 2) / (2 * (0.2 * tw) ** 2)
                    - (y - ty - th / 2) ** 2 / (2 * (0.2 * th) ** 2)
                )
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_refine_moves_centre_to_peak():
    maps = np.zeros((2, G, G), np.float32)
    maps[0, 2, 7] = 0.9
    maps[1, 4, 4] = 0.6
    windows = np.array([[0.0, 0.0, 90.0, 90.0], [10.0, 10.0, 45.0, 45.0]], np.float32)
    candidates = np.array([[30.0, 30.0, 20.0, 10.0], [20.0, 20.0, 8.0, 8.0]], np.float32)
    refined, peaks = spatial_net.refine(maps, windows, candidates)
    # Cell (row 2, col 7) of a 90-pixel window: centre (75, 25); sizes kept.
    np.testing.assert_allclose(refined[0], [75 - 10, 25 - 5, 20, 10], atol=1e-5)
    np.testing.assert_allclose(refined[1], [10 + 22.5 - 4, 10 + 22.5 - 4, 8, 8], atol=1e-5)
    np.testing.assert_allclose(peaks, [0.9, 0.6], atol=1e-7)


def test_ensemble_is_weighted_mean():
    candidates = np.random.default_rng(1).uniform(0, 50, size=(5, 4)).astype(np.float32)
    weights = np.array([0.5, 0.1, 0.0, 0.3, 0.1], np.float32)
    expected = (weights[:, None] * np.float64(candidates)).sum(0) / weights.sum()
    np.testing.assert_allclose(spatial_net.ensemble(candidates, weights), expected, rtol=1e-6)
    np.testing.assert_allclose(
        spatial_net.ensemble(candidates, np.zeros(5, np.float32)), candidates.mean(0), rtol=1e-6
    )


def test_fuse_resizes_and_scales_each_layer():
    rng = np.random.default_rng(2)
    small = rng.normal(size=(2, 4, 4, 3)).astype(np.float32) * 100
    same = rng.normal(size=(2, G, G, 5)).astype(np.float32) * 0.01
    fused = np.asarray(spatial_net.fuse([small, same], G))
    assert fused.shape == (2, G, G, 8)
    # Layers already on the grid are only rescaled to unit RMS.
    np.testing.assert_allclose(
        fused[..., 3:], same / np.sqrt((same**2).mean(axis=(1, 2, 3), keepdims=True)), rtol=1e-5
    )
    # Upsampling is bilinear with half-pixel centres, as OpenCV's INTER_LINEAR.
    for b in range(2):
        resized = cv2.resize(small[b], (G, G), interpolation=cv2.INTER_LINEAR)
        resized = resized / np.sqrt((resized**2).mean())
        np.testing.assert_allclose(fused[b, ..., :3], resized, atol=1e-4)
    np.testing.assert_allclose(
        (fused**2).mean(axis=(1, 2)).reshape(2, -1)[:, :3].mean(1), 1, rtol=1e-4
    )


def test_train_step_jit_equals_no_jit():
    model, params = _model_and_params()
    optimizer = spatial_net.make_optimizer(1e-2, 0.9)
    opt_state = optimizer.init(params)
    rng = np.random.default_rng(3)
    batch = (
        jnp.asarray(rng.normal(size=(4, G, G, C)), jnp.float32),
        jnp.asarray(rng.uniform(size=(4, G, G)), jnp.float32),
    )
    eager = spatial_net.train_step(model, optimizer, params, opt_state, batch, 1e-4)
    jitted = jax.jit(lambda p, o, b: spatial_net.train_step(model, optimizer, p, o, b, 1e-4))(
        params, opt_state, batch
    )
    for x, y in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def _sigmoid64(x):
    return 1.0 / (1.0 + np.exp(-np.float64(x)))


def test_loss_includes_weight_decay():
    model, params = _model_and_params()
    inputs = jnp.ones((2, G, G, C))
    logits = model.apply({"params": params}, inputs, logits=True)
    np.testing.assert_allclose(
        model.apply({"params": params}, inputs), _sigmoid64(logits), rtol=1e-6
    )
    labels = jnp.zeros((2, G, G))
    squared = float(np.mean(np.sum(_sigmoid64(logits) ** 2, axis=(1, 2))))
    norm = sum(float(np.sum(np.float64(p) ** 2)) for p in jax.tree.leaves(params))
    np.testing.assert_allclose(
        spatial_net.loss(params, logits, labels, 0.1), squared + 0.1 * norm, rtol=1e-5
    )


def test_bce_loss_matches_float64_reference():
    rng = np.random.default_rng(7)
    logits = rng.normal(scale=3.0, size=(3, G, G))
    labels = rng.uniform(size=(3, G, G))
    p = _sigmoid64(logits)
    reference = np.mean(np.sum(-(labels * np.log(p) + (1 - labels) * np.log1p(-p)), axis=(1, 2)))
    got = spatial_net.loss({}, jnp.asarray(logits, jnp.float32), labels, 0.0, kind="bce")
    np.testing.assert_allclose(got, reference, rtol=1e-5)
    with pytest.raises(ValueError, match="unknown Spatial Net loss"):
        spatial_net.loss({}, jnp.asarray(logits), labels, 0.0, kind="l1")


def test_bce_gradient_survives_a_saturated_map():
    """The squared error's gradient vanishes on an all-zero map; cross-entropy's does not."""
    logits = jnp.full((1, G, G), -20.0)
    labels = jnp.zeros((1, G, G)).at[0, G // 2, G // 2].set(1.0)
    grads = {
        kind: jax.grad(lambda z, kind=kind: spatial_net.loss({}, z, labels, 0.0, kind))(logits)
        for kind in ("l2", "bce")
    }
    assert abs(float(grads["l2"][0, G // 2, G // 2])) < 1e-7
    np.testing.assert_allclose(grads["bce"][0, G // 2, G // 2], -1.0, atol=1e-6)


def test_training_finds_the_target():
    """A bright blob marks the target: after training the peak lands on it.

    The learning rate matters: with the summed squared loss of Eq. 5, rates of 1e-2 and more
    drive the sigmoid into saturation (all-zero maps) on this problem; 1e-3 converges.
    """
    model = spatial_net.SpatialNet(features=(16, 8))
    params = model.init(jax.random.key(0), jnp.zeros((1, G, G, C)))["params"]
    optimizer = spatial_net.make_optimizer(1e-3, 0.9)
    rng = np.random.default_rng(4)
    num = 32
    windows = np.tile(np.array([[0.0, 0.0, 90.0, 90.0]], np.float32), (num, 1))
    centres = rng.integers(1, G - 1, size=(num, 2))
    targets = np.stack(
        [centres[:, 1] * 10.0, centres[:, 0] * 10.0, np.full(num, 10.0), np.full(num, 10.0)], 1
    ).astype(np.float32)
    inputs = rng.normal(scale=0.1, size=(num, G, G, C)).astype(np.float32)
    inputs[np.arange(num), centres[:, 0], centres[:, 1], :] += 1.0
    labels = spatial_net.gaussian_labels(windows, targets, G, 1.0)
    params, _, losses = jax.jit(
        lambda p, o: spatial_net.train(
            model,
            optimizer,
            p,
            o,
            jax.random.key(5),
            inputs,
            labels,
            np.ones(num, bool),
            num_steps=400,
            batch_size=8,
            weight_decay=1e-4,
        )
    )(params, optimizer.init(params))
    assert float(losses[-10:].mean()) < 0.3 * float(losses[:10].mean())
    maps = model.apply({"params": params}, inputs)
    refined, _ = spatial_net.refine(maps, windows, targets)
    np.testing.assert_allclose(refined, targets, atol=1e-4)


@pytest.mark.parametrize("num_steps", [1, 3])
def test_unrolled_training_equals_the_scanned_one(num_steps):
    """The online update's unrolled steps (no loop) do what the scan does, step by step."""
    model, params = _model_and_params()
    optimizer = spatial_net.make_optimizer(1e-2, 0.9)
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(6, G, G, C)).astype(np.float32)
    labels = rng.uniform(size=(6, G, G)).astype(np.float32)
    valid = np.asarray([True, True, True, True, False, False])

    def trained(unroll):
        return jax.jit(
            lambda p, o: spatial_net.train(
                model,
                optimizer,
                p,
                o,
                jax.random.key(2),
                inputs,
                labels,
                valid,
                num_steps=num_steps,
                batch_size=4,
                weight_decay=1e-4,
                unroll=unroll,
            )
        )(params, optimizer.init(params))

    scanned, unrolled = trained(False), trained(True)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), unrolled, scanned
    )
    assert unrolled[2].shape == (num_steps,)
    moved = jax.tree.map(lambda a, b: np.abs(a - b).max(), unrolled[0], params)
    assert max(jax.tree.leaves(moved)) > 0


def test_refine_leaves_candidates_of_flat_low_maps():
    windows = jnp.asarray([[0.0, 0.0, 90.0, 90.0], [0.0, 0.0, 90.0, 90.0]])
    candidates = jnp.asarray([[30.0, 30.0, 10.0, 10.0], [30.0, 30.0, 10.0, 10.0]])
    maps = jnp.zeros((2, G, G)).at[:, 1, 1].set(jnp.asarray([0.05, 0.5]))
    for method in ("argmax", "centroid"):
        refined, peaks = spatial_net.refine(maps, windows, candidates, method, min_peak=0.1)
        np.testing.assert_allclose(peaks, [0.05, 0.5], rtol=1e-6)
        np.testing.assert_allclose(refined[0], candidates[0])  # peak 0.05 < 0.1: unmoved
        # Peak 0.5 in cell (1, 1), centre 15 px: the 10 px box moves to x = y = 10.
        np.testing.assert_allclose(refined[1], [10.0, 10.0, 10.0, 10.0], atol=1e-4)
