"""Temporal Net: forward pass vs a float64 NumPy reference, losses, training steps."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tsn_jax import temporal_net

K, D, B = 3, 16, 8


def _model_and_params(hidden=32, dropout_rate=0.5):
    model = temporal_net.TemporalNet(hidden=hidden, dropout_rate=dropout_rate)
    params = model.init(jax.random.key(0), jnp.zeros((1, K, D)), jnp.zeros((1, D)), train=False)[
        "params"
    ]
    return model, params


def _numpy_forward(params, tuples, proposals):
    """float64 reference: FC -> ReLU -> FC -> ReLU -> FC -> sigmoid (dropout off)."""
    x = np.concatenate([tuples.reshape(len(tuples), -1), proposals], axis=-1).astype(np.float64)
    x = x * np.sqrt(proposals.shape[-1])  # features rescaled to unit RMS entries
    x = np.maximum(x @ np.float64(params["fc1_kernel"]) + np.float64(params["fc1_bias"]), 0)
    layer = params["fc2"]
    x = np.maximum(x @ np.float64(layer["kernel"]) + np.float64(layer["bias"]), 0)
    logits = x @ np.float64(params["fc3"]["kernel"]) + np.float64(params["fc3"]["bias"])
    return 1 / (1 + np.exp(-logits[:, 0]))


def test_forward_matches_numpy_reference():
    model, params = _model_and_params()
    rng = np.random.default_rng(0)
    tuples = rng.normal(size=(B, K, D)).astype(np.float32)
    proposals = rng.normal(size=(B, D)).astype(np.float32)
    got = model.apply({"params": params}, tuples, proposals, train=False)
    assert got.shape == (B,)
    # float32 vs float64 through three small layers.
    np.testing.assert_allclose(got, _numpy_forward(params, tuples, proposals), atol=1e-6)
    # One tuple [K, D] shared by all proposals == the same tuple repeated per proposal.
    shared = model.apply({"params": params}, tuples[0], proposals, train=False)
    repeated = _numpy_forward(params, np.broadcast_to(tuples[0], tuples.shape), proposals)
    np.testing.assert_allclose(shared, repeated, atol=1e-6)


def test_dropout_only_while_training():
    model, params = _model_and_params(dropout_rate=0.5)
    rng = np.random.default_rng(1)
    tuples = rng.normal(size=(B, K, D)).astype(np.float32)
    proposals = rng.normal(size=(B, D)).astype(np.float32)
    a = model.apply({"params": params}, tuples, proposals, train=False)
    b = model.apply({"params": params}, tuples, proposals, train=False)
    np.testing.assert_array_equal(a, b)
    c = model.apply(
        {"params": params}, tuples, proposals, train=True, rngs={"dropout": jax.random.key(3)}
    )
    assert not np.allclose(a, c)


@pytest.mark.parametrize("loss_type", ["l1", "l2"])
def test_loss_matches_numpy(loss_type):
    rng = np.random.default_rng(2)
    predictions, labels = rng.uniform(size=10), rng.uniform(size=10)
    expected = np.mean(
        np.abs(predictions - labels) if loss_type == "l1" else (predictions - labels) ** 2
    )
    got = temporal_net.loss(jnp.asarray(predictions), jnp.asarray(labels), loss_type)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_unknown_loss_is_an_error():
    with pytest.raises(ValueError, match="l3"):
        temporal_net.loss(jnp.zeros(2), jnp.zeros(2), "l3")


def test_train_step_jit_equals_no_jit():
    model, params = _model_and_params()
    optimizer = temporal_net.make_optimizer(1e-2, 0.9)
    opt_state = optimizer.init(params)
    rng = np.random.default_rng(3)
    batch = (
        jnp.asarray(rng.normal(size=(B, K, D)), jnp.float32),
        jnp.asarray(rng.normal(size=(B, D)), jnp.float32),
        jnp.asarray(rng.uniform(size=B), jnp.float32),
    )
    key = jax.random.key(4)
    eager = temporal_net.train_step(model, optimizer, params, opt_state, batch, key)
    jitted = jax.jit(lambda p, o, b, k: temporal_net.train_step(model, optimizer, p, o, b, k))(
        params, opt_state, batch, key
    )
    for x, y in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def test_training_learns_iou_from_features():
    """Labels are a function of the proposal feature: the L1 loss must fall clearly."""
    model, params = _model_and_params(hidden=64, dropout_rate=0.0)
    optimizer = temporal_net.make_optimizer(5e-2, 0.9)
    rng = np.random.default_rng(5)
    features = rng.normal(size=(256, D)).astype(np.float32)
    labels = 1 / (1 + np.exp(-3 * features[:, 0]))
    valid = np.ones(256, bool)
    candidates = rng.normal(size=(10, D)).astype(np.float32)
    params, _, losses = jax.jit(
        lambda p, o: temporal_net.train(
            model,
            optimizer,
            p,
            o,
            jax.random.key(6),
            features,
            labels,
            valid,
            candidates,
            np.ones(10, bool),
            num_steps=300,
            batch_size=32,
            k=K,
        )
    )(params, optimizer.init(params))
    assert losses.shape == (300,)
    assert float(losses[-20:].mean()) < 0.5 * float(losses[:20].mean())


def test_train_draws_only_valid_samples():
    """Invalid samples carry NaN labels: if one were drawn, the parameters would turn NaN."""
    model, params = _model_and_params()
    optimizer = temporal_net.make_optimizer(1e-2, 0.9)
    rng = np.random.default_rng(7)
    features = rng.normal(size=(20, D)).astype(np.float32)
    labels = np.full(20, np.nan, np.float32)
    labels[:5] = 0.5
    valid = np.arange(20) < 5
    candidates = np.concatenate([rng.normal(size=(4, D)), np.full((4, D), np.nan)]).astype(
        np.float32
    )
    params, _, losses = temporal_net.train(
        model,
        optimizer,
        params,
        optimizer.init(params),
        jax.random.key(8),
        features,
        labels,
        valid,
        candidates,
        np.arange(8) < 4,
        num_steps=20,
        batch_size=16,
        k=K,
    )
    assert np.all(np.isfinite(losses))
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(params))
