"""Bounding-box regression (tsn_jax/box_regression.py) against float64 NumPy and scikit-learn."""

import jax.numpy as jnp
import numpy as np
from sklearn.linear_model import Ridge

from tsn_jax import box_regression


def _boxes(rng, num):
    return np.concatenate(
        [rng.uniform(0, 100, (num, 2)), rng.uniform(5, 60, (num, 2))], axis=1
    ).astype(np.float32)


def test_offsets_match_numpy_and_invert():
    rng = np.random.default_rng(0)
    boxes, target = _boxes(rng, 20), _boxes(rng, 1)[0]
    b = np.float64(boxes)
    t = np.float64(target)
    bc, tc = b[:, :2] + b[:, 2:] / 2, t[:2] + t[2:] / 2
    reference = np.concatenate([(tc - bc) / b[:, 2:], np.log(t[2:] / b[:, 2:])], axis=1)
    deltas = box_regression.offsets(jnp.asarray(boxes), jnp.asarray(target))
    np.testing.assert_allclose(deltas, reference, rtol=1e-5, atol=1e-5)
    # Applying each box's own offsets lands every box on the target.
    moved = box_regression.apply_offsets(jnp.asarray(boxes), deltas)
    np.testing.assert_allclose(moved, np.broadcast_to(target, boxes.shape), atol=1e-3)


def test_fit_matches_scikit_learn_weighted_ridge():
    rng = np.random.default_rng(1)
    num, dim, ridge = 200, 12, 3.0
    features = rng.normal(size=(num, dim))
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    boxes, target = _boxes(rng, num), _boxes(rng, 1)[0]
    weights = (rng.uniform(size=num) > 0.4).astype(np.float32)
    got = box_regression.fit(
        jnp.asarray(features, jnp.float32),
        jnp.asarray(boxes),
        jnp.asarray(target),
        jnp.asarray(weights),
        ridge,
    )
    design = np.concatenate([features * np.sqrt(dim), np.ones((num, 1))], axis=1)
    targets = np.asarray(box_regression.offsets(jnp.asarray(boxes), jnp.asarray(target)), float)
    reference = Ridge(alpha=ridge, fit_intercept=False, solver="cholesky")
    reference.fit(design, targets, sample_weight=weights)
    np.testing.assert_allclose(got, reference.coef_.T, rtol=1e-3, atol=1e-4)


def test_predict_recovers_a_linear_offset_model():
    """Features that encode each box's offsets exactly: a weak ridge recovers the target."""
    rng = np.random.default_rng(2)
    num = 300
    target = np.asarray([40.0, 30.0, 20.0, 24.0], np.float32)
    centre = target[:2] + target[2:] / 2
    scale = np.exp(rng.normal(0, 0.2, (num, 2)))
    sizes = target[2:] * scale
    centres = centre + rng.normal(0, 3.0, (num, 2))
    boxes = np.concatenate([centres - sizes / 2, sizes], axis=1).astype(np.float32)
    deltas = np.asarray(box_regression.offsets(jnp.asarray(boxes), jnp.asarray(target)))
    # Unit-norm features linear in the offsets: the offsets plus one entry that pads every row
    # to the same norm (the regression adds its own bias column).
    norms = np.linalg.norm(deltas, axis=1, keepdims=True)
    radius = np.max(norms) + 1.0
    features = np.concatenate([deltas, np.sqrt(radius**2 - norms**2)], axis=1) / radius
    weights = box_regression.fit(
        jnp.asarray(features, jnp.float32),
        jnp.asarray(boxes),
        jnp.asarray(target),
        jnp.ones(num),
        1e-3,
    )
    corrected = box_regression.predict(weights, jnp.asarray(features, jnp.float32), boxes)
    np.testing.assert_allclose(corrected, np.broadcast_to(target, boxes.shape), atol=0.05)
