"""Tests of tsn_jax.pool: the target pool and tuple selection (paper 3.2.1)."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tsn_jax import pool

DIM = 32


def _features(seed, count):
    return np.random.RandomState(seed).normal(size=(count, DIM)).astype(np.float32)


def test_normalize():
    x = np.arange(1, DIM + 1, dtype=np.float32)
    np.testing.assert_allclose(np.asarray(pool.normalize(x)), x / np.linalg.norm(x), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(pool.normalize(np.zeros(DIM))), 0.0)
    batch = jax.vmap(pool.normalize)(_features(0, 5))
    np.testing.assert_allclose(np.linalg.norm(np.asarray(batch), axis=1), 1.0, rtol=1e-6)


def test_init_pool():
    first = _features(1, 1)[0] * 7.0
    p = pool.init_pool(first, 4)
    chex.assert_shape([p.features, p.confidence, p.valid], [(4, DIM), (4,), (4,)])
    chex.assert_tree_all_finite(p)
    np.testing.assert_allclose(np.asarray(p.features[0]), first / np.linalg.norm(first), 1e-6)
    np.testing.assert_array_equal(np.asarray(p.valid), [True, False, False, False])
    np.testing.assert_array_equal(np.asarray(p.features[1:]), 0.0)


def test_add_fills_slots_in_order_and_normalises():
    feats = _features(2, 4)
    p = pool.init_pool(feats[0], 4)
    for n in (1, 2, 3):
        p = pool.add(p, feats[n] * 3.0, 0.1 * n)
        np.testing.assert_array_equal(np.asarray(p.valid), np.arange(4) <= n)
        np.testing.assert_allclose(
            np.asarray(p.features[n]), feats[n] / np.linalg.norm(feats[n]), rtol=1e-5
        )
        np.testing.assert_allclose(float(p.confidence[n]), 0.1 * n, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(np.asarray(p.features), axis=1), 1.0, rtol=1e-5)


def test_add_when_full_replaces_the_least_confident_never_slot_0():
    feats = _features(3, 8)
    p = pool.init_pool(feats[0], 4)
    for n, conf in zip((1, 2, 3), (0.9, 0.2, 0.6), strict=True):
        p = pool.add(p, feats[n], conf)
    # Full: slot 2 (0.2) is the least confident of slots 1..3.
    p = pool.add(p, feats[4], 0.05)  # replaced even though 0.05 is lower still (documented)
    np.testing.assert_allclose(np.asarray(p.features[2]), pool.normalize(feats[4]), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(p.confidence), [p.confidence[0], 0.9, 0.05, 0.6])
    # Now slot 2 (0.05) again; then slot 3 (0.6).
    p = pool.add(p, feats[5], 0.95)
    p = pool.add(p, feats[6], 0.8)
    np.testing.assert_allclose(np.asarray(p.features[3]), pool.normalize(feats[6]), rtol=1e-5)
    # Slot 0 survives all evictions, even when every other entry is more confident.
    p = pool.add(p, feats[7], 0.99)
    np.testing.assert_allclose(np.asarray(p.features[0]), pool.normalize(feats[0]), rtol=1e-5)
    assert bool(p.valid.all())


def test_add_on_capacity_1_keeps_slot_0():
    feats = _features(4, 2)
    p = pool.init_pool(feats[0], 1)
    q = pool.add(p, feats[1], 0.9)
    np.testing.assert_array_equal(np.asarray(q.features), np.asarray(p.features))


def test_add_is_jittable_and_matches_eager():
    feats = _features(5, 6)
    p_eager = p_jit = pool.init_pool(feats[0], 3)
    add = jax.jit(pool.add)
    for n in range(1, 6):
        p_eager = pool.add(p_eager, feats[n], 0.1 * n)
        p_jit = add(p_jit, feats[n], 0.1 * n)
    chex.assert_trees_all_close(p_eager, p_jit, atol=1e-6)


def test_select_tuple_orders_by_magnitude_and_pads_with_slot_0():
    coeffs = np.array([0.1, -0.7, 0.0, 0.3, 0.9, -0.2], np.float32)
    valid = np.array([True, True, True, True, False, True])
    # Slot 4 is invalid (its 0.9 ignored); order by |c|: 1 (0.7), 3 (0.3), 5 (0.2), 0 (0.1).
    np.testing.assert_array_equal(np.asarray(pool.select_tuple(coeffs, valid, 3)), [1, 3, 5])
    got = np.asarray(pool.select_tuple(coeffs, valid, 6))
    # Slot 2 has a zero coefficient and slot 4 is invalid: both become padding (slot 0).
    np.testing.assert_array_equal(got, [1, 3, 5, 0, 0, 0])
    assert got.dtype == np.int32
    # k larger than the capacity.
    np.testing.assert_array_equal(
        np.asarray(pool.select_tuple(coeffs[:2], valid[:2], 4)), [1, 0, 0, 0]
    )
    # No usable coefficient at all: the tuple is slot 0 repeated.
    np.testing.assert_array_equal(np.asarray(pool.select_tuple(np.zeros(4), valid[:4], 2)), [0, 0])


def test_learn_tuple_recovers_a_sparse_combination():
    rng = np.random.RandomState(6)
    feats = rng.normal(size=(8, DIM)).astype(np.float32)
    p = pool.init_pool(feats[0], 10)  # two slots stay empty
    for n in range(1, 8):
        p = pool.add(p, feats[n], 0.5)
    unit = np.asarray(p.features)
    target = 0.8 * unit[5] + 0.5 * unit[2] - 0.3 * unit[6]
    indices, tuple_features, coeffs = pool.learn_tuple(p, target * 4.0, 0.005, 3, 500)
    chex.assert_shape([indices, tuple_features, coeffs], [(3,), (3, DIM), (10,)])
    np.testing.assert_array_equal(np.asarray(indices), [5, 2, 6])
    np.testing.assert_array_equal(np.asarray(tuple_features), unit[[5, 2, 6]])
    np.testing.assert_array_equal(np.asarray(coeffs[8:]), 0.0)  # empty slots
    # The (normalised) target's coefficients, shrunk a little by the L1 term.
    scale = 1.0 / np.linalg.norm(target)
    np.testing.assert_allclose(
        np.asarray(coeffs)[[5, 2, 6]], scale * np.array([0.8, 0.5, -0.3]), atol=0.03
    )


def test_learn_tuple_jit_equals_eager():
    feats = _features(7, 5)
    p = pool.init_pool(feats[0], 6)
    for n in range(1, 5):
        p = pool.add(p, feats[n], 0.3)
    target = feats[1] + 0.5 * feats[3]
    fn = jax.jit(pool.learn_tuple, static_argnums=(3, 4))
    eager = pool.learn_tuple(p, target, 0.01, 3, 100)
    jitted = fn(p, target, 0.01, 3, 100)
    np.testing.assert_array_equal(np.asarray(eager[0]), np.asarray(jitted[0]))
    chex.assert_trees_all_close(eager[1:], jitted[1:], atol=1e-6)
    # The pool is a pytree: it can be vmapped (batched tracking).
    pools = jax.tree.map(lambda a: jnp.stack([a, a]), p)
    batched = jax.vmap(lambda q: pool.learn_tuple(q, target, 0.01, 3, 100))(pools)
    np.testing.assert_array_equal(np.asarray(batched[0]), np.stack([eager[0]] * 2))


def test_errors():
    with pytest.raises(pool.PoolError, match="capacity"):
        pool.init_pool(np.ones(DIM), 0)
    with pytest.raises(pool.PoolError, match="feature must be"):
        pool.add(pool.init_pool(np.ones(DIM), 2), np.ones(DIM + 1), 0.5)
