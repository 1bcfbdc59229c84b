"""Bounding-box regression: a ridge regression from a box's feature to the target's offsets.

Not in the TSN paper. Without it the tracker's boxes shrank over time (median size 0.73-0.79 of
the ground truth on four shared sequences whose target keeps its size): the Temporal Net scores
a box a little inside the target above the box itself, and the proposals' small scale spread
cannot undo that. Like MDNet's, the regressor is fitted once on the first frame's samples that
overlap the target and then corrects the top candidates of every frame (docs/decisions.md D21).

Offsets of a box ``b`` towards a target ``t`` (both xywh, frame pixels), MDNet / R-CNN style:
``((t_cx - b_cx) / b_w, (t_cy - b_cy) / b_h, log(t_w / b_w), log(t_h / b_h))``.
"""

import jax
import jax.numpy as jnp

from tsn_jax import boxes

# Conjugate-gradient steps: 100 reached float32 precision on the first frames of FaceOcc1,
# MountainBike6 and ball1 (weights within 1e-4 relative of a float64 solve, offsets 1e-5).
CG_ITERATIONS = 100


def offsets(boxes_xywh: jax.Array, target_xywh: jax.Array) -> jax.Array:
    """[N, 4] offsets of boxes [N, 4] towards one target [4] (see the module docstring)."""
    bcx, bcy, bw, bh = jnp.moveaxis(boxes.xywh_to_cxcywh(boxes_xywh), -1, 0)
    tcx, tcy, tw, th = boxes.xywh_to_cxcywh(target_xywh)
    return jnp.stack(
        [(tcx - bcx) / bw, (tcy - bcy) / bh, jnp.log(tw / bw), jnp.log(th / bh)], axis=-1
    )


def apply_offsets(boxes_xywh: jax.Array, deltas: jax.Array) -> jax.Array:
    """Inverse of ``offsets``: boxes [N, 4] moved by deltas [N, 4] -> [N, 4] xywh."""
    bcx, bcy, bw, bh = jnp.moveaxis(boxes.xywh_to_cxcywh(boxes_xywh), -1, 0)
    moved = jnp.stack(
        [
            bcx + deltas[:, 0] * bw,
            bcy + deltas[:, 1] * bh,
            bw * jnp.exp(deltas[:, 2]),
            bh * jnp.exp(deltas[:, 3]),
        ],
        axis=-1,
    )
    return boxes.cxcywh_to_xywh(moved)


def _design(features):
    """[N, D] unit features -> [N, D + 1]: rescaled to unit RMS entries, plus a bias column."""
    scaled = features * jnp.sqrt(jnp.float32(features.shape[-1]))
    return jnp.concatenate([scaled, jnp.ones_like(scaled[:, :1])], axis=-1)


def _conjugate_gradient(matrix, rhs, iterations):
    """Solves ``matrix @ x = rhs`` ([n, n] symmetric positive definite, rhs [n, k]).

    A fixed number of conjugate-gradient steps, one per column at once: only matrix products,
    so it shards and vmaps like the rest of the step. (``jnp.linalg.solve``'s LAPACK call hung
    batched tracking sharded over two forced CPU devices.)
    """
    tiny = jnp.finfo(rhs.dtype).tiny

    def body(_, carry):
        x, r, p, rs = carry
        ap = matrix @ p
        alpha = rs / jnp.maximum(jnp.sum(p * ap, axis=0), tiny)
        x = x + alpha * p
        r = r - alpha * ap
        rs_new = jnp.sum(r * r, axis=0)
        p = r + (rs_new / jnp.maximum(rs, tiny)) * p
        return x, r, p, rs_new

    start = (jnp.zeros_like(rhs), rhs, rhs, jnp.sum(rhs * rhs, axis=0))
    return jax.lax.fori_loop(0, iterations, body, start)[0]


def fit(
    features: jax.Array,
    boxes_xywh: jax.Array,
    target_xywh: jax.Array,
    weights: jax.Array,
    ridge: float,
    iterations: int = CG_ITERATIONS,
) -> jax.Array:
    """Weighted ridge regression of the offsets on the features.

    Minimises ``sum_i weights_i ||x_i W - y_i||^2 + ridge ||W||^2`` (the bias row is
    regularised too, as in scikit-learn's ``Ridge(fit_intercept=False)`` on the bias column),
    by ``iterations`` conjugate-gradient steps on the normal equations.

    Args:
      features: [N, D] unit features of the boxes (as ``features.py`` returns them).
      boxes_xywh: [N, 4] the boxes, frame pixels.
      target_xywh: [4] the target box.
      weights: [N] float sample weights (0 leaves a sample out: a static-shape mask).
      ridge: regularisation strength (MDNet: 1000).
      iterations: conjugate-gradient steps.

    Returns:
      [D + 1, 4] float32 regression weights.
    """
    x = _design(features)
    y = offsets(boxes_xywh, target_xywh)
    xw = x * weights[:, None]
    gram = xw.T @ x + ridge * jnp.eye(x.shape[1], dtype=x.dtype)
    return _conjugate_gradient(gram, xw.T @ y, iterations)


def predict(weights: jax.Array, features: jax.Array, boxes_xywh: jax.Array) -> jax.Array:
    """Boxes [N, 4] corrected by the regression of their features [N, D] -> [N, 4]."""
    return apply_offsets(boxes_xywh, _design(features) @ weights)
