"""The target pool of tuple learning (paper 3.2.1; docs/decisions.md D33).

A fixed-capacity buffer of unit-normalised features of tracked targets, each with the
confidence it was tracked with, and a ``valid`` mask (never a growing list: shapes stay static
under jit).
Slot 0 holds the first-frame target and is never evicted. The tuple for frame t + 1 is the K
pool entries with the largest |coefficient| in the Lasso reconstruction of the target p_t over
the pool D_{t-1} *before* p_t is added (Eq. 1), ordered by |coefficient| and padded with
slot 0. Coding p_t over a pool that already holds it would be degenerate: the exact solution
is then (1 - lambda) times p_t's own slot.
"""

import flax
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from tsn_jax import sparse_coding

# Slot 0's confidence: the largest float32, so the pool stays finite (chex.assert_tree_all_finite
# holds) and slot 0 also loses no argmin against any real confidence.
FIRST_SLOT_CONFIDENCE = float(jnp.finfo(jnp.float32).max)


class PoolError(ValueError):
    """Bad arguments to a target-pool function (shapes, capacity, tuple size)."""


@flax.struct.dataclass
class TargetPool:
    """Fixed-capacity pool of target features.

    Attributes:
      features: [C, D] float32 unit-norm features (rows of invalid slots are zero).
      confidence: [C] float32 confidence of each entry (the tracker's score in (0, 1); slot 0
        holds FIRST_SLOT_CONFIDENCE; invalid slots 0).
      valid: [C] bool, which slots hold an entry.
    """

    features: jax.Array
    confidence: jax.Array
    valid: jax.Array


def normalize(x: ArrayLike, eps: float = 1e-8) -> jax.Array:
    """[D] float vector -> [D] float32 ``x / max(||x||_2, eps)`` (a zero vector stays zero)."""
    x = jnp.asarray(x, jnp.float32)
    return x / jnp.maximum(jnp.linalg.norm(x), eps)


def init_pool(first_feature: ArrayLike, capacity: int) -> TargetPool:
    """A pool holding only the first-frame target, in slot 0.

    Args:
      first_feature: [D] float feature of the first-frame target (normalised here).
      capacity: static int >= 1, the number of slots C.

    Returns:
      TargetPool with slot 0 valid and never evicted, the other C - 1 slots empty.

    Raises:
      PoolError: on a feature that is not [D] or a capacity < 1.
    """
    first_feature = jnp.asarray(first_feature, jnp.float32)
    if first_feature.ndim != 1:
        raise PoolError(f"first_feature must be [D], got shape {first_feature.shape}")
    if int(capacity) < 1:
        raise PoolError(f"capacity must be >= 1, got {capacity}")
    capacity = int(capacity)
    features = jnp.zeros((capacity, first_feature.shape[0]), jnp.float32)
    return TargetPool(
        features=features.at[0].set(normalize(first_feature)),
        confidence=jnp.zeros((capacity,), jnp.float32).at[0].set(FIRST_SLOT_CONFIDENCE),
        valid=jnp.zeros((capacity,), bool).at[0].set(True),
    )


def add(pool: TargetPool, feature: ArrayLike, confidence: ArrayLike) -> TargetPool:
    """Adds a target: the first empty slot, or, when full, the least confident of slots 1..C-1.

    When the pool is full the new entry always replaces the least confident one, even if the
    new confidence is lower still (paper 3.2.1: "removing the least confident sample and adding
    the new target"), so the pool keeps following the target's recent appearance. Slot 0 is never
    replaced; a pool of capacity 1 is returned unchanged. Jittable: no branching on values.

    Args:
      pool: TargetPool with C slots of [D] features.
      feature: [D] float feature of the new target (normalised here).
      confidence: [] float confidence of the new target.

    Returns:
      The new TargetPool.

    Raises:
      PoolError: when the feature's size is not the pool's D.
    """
    feature = jnp.asarray(feature, jnp.float32)
    if feature.shape != pool.features.shape[1:]:
        raise PoolError(
            f"feature must be [{pool.features.shape[1]}] like the pool's, got {feature.shape}"
        )
    capacity = pool.valid.shape[0]
    if capacity == 1:
        return pool
    evictable = jnp.arange(capacity) > 0
    least_confident = jnp.argmin(jnp.where(evictable, pool.confidence, jnp.inf))
    first_empty = jnp.argmin(pool.valid)  # The first False; only used when one exists.
    slot = jnp.where(jnp.all(pool.valid), least_confident, first_empty)
    return TargetPool(
        features=pool.features.at[slot].set(normalize(feature)),
        confidence=pool.confidence.at[slot].set(jnp.asarray(confidence, jnp.float32)),
        valid=pool.valid.at[slot].set(True),
    )


def select_tuple(coeffs: ArrayLike, valid: ArrayLike, k: int) -> jax.Array:
    """The k valid entries with the largest |coeff|, ordered by |coeff| descending.

    Entries beyond the number of valid slots with a non-zero coefficient are padded with slot 0
    (docs/decisions.md D33); ties keep the lower slot first.

    Args:
      coeffs: [C] float Lasso coefficients.
      valid: [C] bool slot mask.
      k: static int >= 1, the tuple size K (may exceed C).

    Returns:
      [k] int32 slot indices.
    """
    coeffs = jnp.asarray(coeffs, jnp.float32)
    if int(k) < 1:
        raise PoolError(f"tuple size k must be >= 1, got {k}")
    k = int(k)
    magnitude = jnp.abs(coeffs)
    usable = jnp.asarray(valid, bool) & (magnitude > 0)
    score = jnp.where(usable, magnitude, -1.0)
    if score.shape[0] < k:
        score = jnp.concatenate([score, jnp.full((k - score.shape[0],), -1.0, jnp.float32)])
    top_score, top_index = jax.lax.top_k(score, k)
    return jnp.where(top_score > 0, top_index, 0).astype(jnp.int32)


def learn_tuple(
    pool: TargetPool,
    target: ArrayLike,
    lam: ArrayLike,
    k: int,
    num_iters: int,
    method: str = "admm",
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Tuple learning (Eq. 1): Lasso of the target over the pool, then the top-k entries.

    Args:
      pool: TargetPool with C slots of [D] features: D_{t-1}, the pool before ``target`` is
        added (``add``).
      target: [D] float feature of the last target p_t (normalised here).
      lam: scalar float, the L1 weight (paper: 0.01).
      k: static int, the tuple size K.
      num_iters: static int, Lasso iterations.
      method: static str, "admm", "fista" or "ista" (``sparse_coding.lasso``).

    Returns:
      (indices [k] int32, tuple_features [k, D] float32, coeffs [C] float32), coefficients 0
      on invalid slots.
    """
    target = normalize(target)
    coeffs = sparse_coding.lasso(
        pool.features.T, target, lam, valid=pool.valid, num_iters=num_iters, method=method
    )
    indices = select_tuple(coeffs, pool.valid, k)
    return indices, pool.features[indices], coeffs


def recent_tuple(tuple_features: jax.Array, feature: ArrayLike) -> jax.Array:
    """The tuple without tuple learning (ablation): the K most recent targets, newest first.

    Args:
      tuple_features: [K, D] float32 the previous frame's tuple (its K most recent targets).
      feature: [D] float feature of the target just tracked (normalised here).

    Returns:
      [K, D] float32: ``feature`` followed by the first K - 1 rows of ``tuple_features``.
    """
    return jnp.concatenate([normalize(feature)[None], tuple_features[:-1]])
