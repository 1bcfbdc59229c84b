"""Temporal Net: forward pass vs a float64 NumPy reference, losses, training steps."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests import reference
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


def test_tuple_rows_equal_the_gathered_tuples():
    """A table of R tuples and a row per proposal == each proposal's tuple passed whole."""
    model, params = _model_and_params()
    rng = np.random.default_rng(13)
    table = rng.normal(size=(4, K, D)).astype(np.float32)
    rows = np.asarray([3, 0, 0, 2, 1, 3, 2, 2], np.int32)
    proposals = rng.normal(size=(B, D)).astype(np.float32)
    got = model.apply({"params": params}, table, proposals, train=False, tuple_rows=rows)
    np.testing.assert_allclose(got, _numpy_forward(params, table[rows], proposals), atol=1e-6)
    # And so are the gradients the fine-tune takes (float32 sums in another order).
    labels = jnp.asarray(rng.uniform(size=B), jnp.float32)

    def grads(tuples, tuple_rows):
        def batch_loss(p):
            out = model.apply({"params": p}, tuples, proposals, train=False, tuple_rows=tuple_rows)
            return temporal_net.loss(out, labels)

        return jax.grad(batch_loss)(params)

    jax.tree.map(
        lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6),
        grads(table, rows),
        grads(table[rows], None),
    )


def test_masked_choice_is_uniform_over_the_valid_entries():
    valid = np.zeros(50, bool)
    valid[[3, 7, 8, 20, 49]] = True
    draws = np.asarray(temporal_net._masked_choice(jax.random.key(0), valid, (20000,)))
    assert set(np.unique(draws)) == {3, 7, 8, 20, 49}
    counts = np.bincount(draws, minlength=50)[valid]
    # 4000 expected per entry; binomial std 57: 5 std.
    assert np.all(np.abs(counts - 4000) < 285), counts
    # Nothing valid: entry 0.
    none = temporal_net._masked_choice(jax.random.key(1), np.zeros(5, bool), (3,))
    np.testing.assert_array_equal(none, 0)


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


def _train(features, labels, candidates, *, valid=None, candidates_valid=None, **kwargs):
    """Params and losses after ``temporal_net.train`` from fresh params (5 steps of 8 unless
    kwargs say otherwise; every sample and candidate valid unless given)."""
    model, params = _model_and_params()
    optimizer = temporal_net.make_optimizer(1e-2, 0.9)
    params, _, losses = temporal_net.train(
        model,
        optimizer,
        params,
        optimizer.init(params),
        jax.random.key(kwargs.pop("seed", 3)),
        features,
        labels,
        np.ones(len(features), bool) if valid is None else valid,
        candidates,
        np.ones(len(candidates), bool) if candidates_valid is None else candidates_valid,
        num_steps=kwargs.pop("num_steps", 5),
        batch_size=kwargs.pop("batch_size", 8),
        k=K,
        **kwargs,
    )
    return params, losses


@pytest.mark.parametrize("shared_tuples", [0, 3])
def test_train_draws_only_valid_samples(shared_tuples):
    """Invalid samples carry NaN labels and invalid tuple candidates NaN features: if one were
    drawn, the parameters would turn NaN (tuples drawn per sample or shared by a minibatch)."""
    rng = np.random.default_rng(7)
    features = rng.normal(size=(20, D)).astype(np.float32)
    labels = np.full(20, np.nan, np.float32)
    labels[:5] = 0.5
    valid = np.arange(20) < 5
    candidates = np.concatenate([rng.normal(size=(4, D)), np.full((4, D), np.nan)]).astype(
        np.float32
    )
    params, losses = _train(
        features,
        labels,
        candidates,
        valid=valid,
        candidates_valid=np.arange(8) < 4,
        seed=8,
        num_steps=20,
        batch_size=16,
        shared_tuples=shared_tuples,
    )
    assert np.all(np.isfinite(losses))
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(params))


@pytest.mark.parametrize("shared_tuples", [0, 3])
def test_pair_labels_are_ious_with_the_tuples_last_member(shared_tuples):
    """With every tuple candidate at one box T, the pairwise label of a sample is its IoU with
    T (float64 NumPy): training must equal training on those labels given directly."""
    rng = np.random.default_rng(11)
    features = rng.normal(size=(12, D)).astype(np.float32)
    candidates = rng.normal(size=(6, D)).astype(np.float32)
    sample_boxes = np.concatenate(
        [rng.uniform(10, 30, (12, 2)), rng.uniform(10, 30, (12, 2))], axis=1
    ).astype(np.float32)
    target = np.asarray([15.0, 12.0, 20.0, 25.0], np.float32)
    ious = reference.iou_with_box(sample_boxes, target).astype(np.float32)
    same_box = np.broadcast_to(target, (6, 4))
    zeros = np.zeros(12, np.float32)
    shared = {"shared_tuples": shared_tuples}
    pair, _ = _train(
        features, zeros, candidates, sample_boxes=sample_boxes, tuple_boxes=same_box, **shared
    )
    direct, _ = _train(features, ious, candidates, **shared)
    jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6), pair, direct)
    # Tuple candidates at other boxes give other labels, and other parameters.
    moved = same_box + rng.uniform(-5, 5, (6, 4)).astype(np.float32)
    other, _ = _train(
        features, ious, candidates, sample_boxes=sample_boxes, tuple_boxes=moved, **shared
    )
    assert not np.allclose(other["fc3"]["bias"], direct["fc3"]["bias"])


def test_pair_labels_need_both_box_sets():
    with pytest.raises(ValueError, match="together"):
        _train(
            np.zeros((4, D), np.float32),
            np.zeros(4, np.float32),
            np.zeros((2, D), np.float32),
            sample_boxes=np.zeros((4, 4), np.float32),
        )
