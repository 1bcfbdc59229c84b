"""Lasso by ADMM, FISTA or ISTA on the Gram matrix: the tuple learning of paper 3.2.1, Eq. 1.

Solves ``min_c 0.5 * ||p - D c||^2 + lam * ||c||_1`` for a dictionary ``D`` [D, P] whose
columns are the pool's features and a target ``p`` [D]. P (the pool capacity) is small and D
(the feature size) large, so the iterations work on the [P, P] Gram matrix ``G = D^T D`` and
``b = D^T p``: the gradient of the smooth part is ``G c - b``. A fixed iteration count (no
tolerance-based loop: under vmap it would run until the slowest element converges). FISTA's
step is ``1 / L`` with ``L`` an upper bound on the largest eigenvalue of
the masked Gram (``lipschitz_bound``), found by a few power iterations rather than an
eigensolver: on a GPU ``eigvalsh`` of a 30 x 30 matrix is a cuSOLVER call of about 0.3 ms, more
than all the iterations that follow it.

Both iterations are unrolled into straight-line code (up to ``MAX_UNROLL`` of them; more run
as a ``lax.fori_loop`` of unrolled blocks): their bodies are a few tiny kernels, and XLA:GPU
launches a loop's body kernel by kernel on every iteration, outside the command buffers (CUDA
graphs) that replay the rest of a step in one launch. The arithmetic is the same.

ADMM (the default, Boyd et al. 2011, section 6.4) converges in far fewer iterations on real
target pools than FISTA: pool features are unit-norm conv3 features of one object, so the
Gram matrix is badly conditioned and FISTA's rate suffers, while ADMM's x-update solves
with ``(G + rho I)`` exactly (one 30 x 30 Cholesky factorisation per solve). The measured
convergence of both is in docs/decisions.md.
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

_HIGHEST = jax.lax.Precision.HIGHEST
METHODS = ("admm", "fista", "ista")
# ADMM's penalty: features are unit-norm, so the Gram's scale (entries <= 1) and with it a good
# rho are the same for every pool; 0.1 was best of 0.003-0.1 on real pools (decisions.md).
ADMM_RHO = 0.1
MAX_UNROLL = 128  # Iterations unrolled at most (compile time grows with them).


class LassoError(ValueError):
    """Bad arguments to the Lasso solver (shapes, method, iteration count)."""


def soft_threshold(x: ArrayLike, t: ArrayLike) -> jax.Array:
    """Elementwise soft thresholding ``sign(x) * max(|x| - t, 0)``.

    Args:
      x: [...] float array.
      t: scalar or broadcastable float threshold, >= 0.

    Returns:
      [...] array of x's shape and dtype.
    """
    return jnp.sign(x) * jnp.maximum(jnp.abs(x) - t, 0.0)


def _unrolled_loop(num_iters, body, init):
    """``lax.fori_loop(0, num_iters, body, init)`` unrolled (see the module docstring)."""
    num_iters = int(num_iters)
    if num_iters > MAX_UNROLL:
        return jax.lax.fori_loop(0, num_iters, body, init, unroll=MAX_UNROLL)
    for i in range(num_iters):  # (fori_loop keeps a loop for a single iteration)
        init = body(i, init)
    return init


def lipschitz_bound(gram: ArrayLike, num_iters: int = 10) -> jax.Array:
    """An upper bound on the largest eigenvalue of a symmetric [P, P] ``gram``, >= 0.

    Collatz-Wielandt: for any x > 0, ``max_i (|G| x)_i / x_i`` is the x-weighted infinity
    norm of ``|G|`` (an induced norm), so it bounds the spectral radius of ``|G|`` and with it
    the largest eigenvalue of ``G``. Power iterations of ``|G|`` from the ones vector move x to
    ``|G|``'s Perron vector, where the bound equals that spectral radius, i.e. the largest
    eigenvalue itself for a non-negative ``G`` such as the Gram of ReLU features. x is kept
    >= 1e-6 so the bound stays valid for zero rows (masked slots) and all-zero matrices (0).

    Args:
      gram: [P, P] float symmetric matrix.
      num_iters: static int >= 0, power iterations before the bound is taken.

    Returns:
      [] float32 bound, >= the largest eigenvalue of ``gram`` (up to float32 rounding).
    """
    magnitude = jnp.abs(jnp.asarray(gram, jnp.float32))

    def power_step(_, x):
        y = jnp.dot(magnitude, x, precision=_HIGHEST)
        return jnp.maximum(y / jnp.maximum(jnp.max(y), 1e-30), 1e-6)

    x = _unrolled_loop(num_iters, power_step, jnp.ones(magnitude.shape[0], jnp.float32))
    return jnp.max(jnp.dot(magnitude, x, precision=_HIGHEST) / x)


def _check(dictionary, target, valid, method, num_iters):
    if dictionary.ndim != 2:
        raise LassoError(f"dictionary must be [D, P], got shape {dictionary.shape}")
    if target.shape != (dictionary.shape[0],):
        raise LassoError(
            f"target must be [D] with D={dictionary.shape[0]}, got shape {target.shape}"
        )
    if valid is not None and valid.shape != (dictionary.shape[1],):
        raise LassoError(f"valid must be [P] with P={dictionary.shape[1]}, got {valid.shape}")
    if method not in METHODS:
        raise LassoError(f"method must be one of {METHODS}, got {method!r}")
    if int(num_iters) < 0:
        raise LassoError(f"num_iters must be >= 0, got {num_iters}")


def lasso_gram(
    gram: ArrayLike,
    b: ArrayLike,
    lam: ArrayLike,
    valid: jax.Array | None = None,
    num_iters: int = 100,
    method: str = "fista",
) -> jax.Array:
    """Lasso from the Gram form: ``min_c 0.5 c^T G c - b^T c + lam ||c||_1`` (see :func:`lasso`).

    Args:
      gram: [P, P] float Gram matrix ``D^T D``.
      b: [P] float ``D^T p``.
      lam: scalar float >= 0, the L1 weight.
      valid: optional [P] bool; False slots are left out of the problem and get exactly 0.
      num_iters: static int, iterations.
      method: static str, "admm", "fista" (with Nesterov momentum) or "ista".

    Returns:
      [P] float32 coefficients.
    """
    gram = jnp.asarray(gram, jnp.float32)
    b = jnp.asarray(b, jnp.float32)
    num_atoms = b.shape[0]
    if valid is None:
        valid = jnp.ones((num_atoms,), bool)
    mask = valid.astype(jnp.float32)
    gram = gram * mask[:, None] * mask[None, :]
    b = b * mask
    if method == "admm":
        return _admm(gram, b, lam, mask, num_iters)
    # The largest eigenvalue of the masked Gram is the Lipschitz constant of the gradient; any
    # larger L converges too. An empty or all-zero dictionary has L = 0: any positive step then
    # gives c = 0, exactly.
    lipschitz = lipschitz_bound(gram)
    lipschitz = jnp.where(lipschitz > 0, lipschitz, 1.0)
    step = 1.0 / lipschitz
    threshold = lam * step

    def prox_grad(c):
        grad = jnp.dot(gram, c, precision=_HIGHEST) - b
        return soft_threshold(c - step * grad, threshold) * mask

    zeros = jnp.zeros((num_atoms,), jnp.float32)
    if method == "ista":
        return _unrolled_loop(num_iters, lambda _, c: prox_grad(c), zeros)

    def fista_body(_, carry):
        c, y, t = carry
        c_next = prox_grad(y)
        t_next = 0.5 * (1.0 + jnp.sqrt(1.0 + 4.0 * t * t))
        y_next = c_next + ((t - 1.0) / t_next) * (c_next - c)
        return c_next, y_next, t_next

    c, _, _ = _unrolled_loop(num_iters, fista_body, (zeros, zeros, jnp.asarray(1.0, jnp.float32)))
    return c


def _admm(gram, b, lam, mask, num_iters, rho=ADMM_RHO):
    """Scaled-form ADMM for the Lasso: x = (G + rho I)^-1 (b + rho (z - u)), z = S(x + u,
    lam / rho), u += x - z; returns [P] z (exactly sparse). Masked slots have zero Gram rows
    and b, so their x, z and u stay 0."""
    num_atoms = b.shape[0]
    eye = jnp.eye(num_atoms, dtype=gram.dtype)
    # The inverse once (a Cholesky solve), then a matrix-vector product per iteration.
    inverse = jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(gram + rho * eye), eye)

    def body(_, carry):
        z, u = carry
        x = jnp.dot(inverse, b + rho * (z - u), precision=_HIGHEST)
        z_next = soft_threshold(x + u, lam / rho) * mask
        return z_next, u + x - z_next

    zeros = jnp.zeros((num_atoms,), jnp.float32)
    z, _ = _unrolled_loop(num_iters, body, (zeros, zeros))
    return z


def lasso(
    dictionary: ArrayLike,
    target: ArrayLike,
    lam: ArrayLike,
    valid: ArrayLike | None = None,
    num_iters: int = 100,
    method: str = "fista",
) -> jax.Array:
    """Solves ``min_c 0.5 * ||target - dictionary @ c||^2 + lam * ||c||_1`` (paper Eq. 1).

    Args:
      dictionary: [D, P] float, columns are the atoms (pool features).
      target: [D] float target vector.
      lam: scalar float >= 0 (may be traced), the L1 weight.
      valid: optional [P] bool mask; invalid columns are ignored and get exactly 0.
      num_iters: static int, a fixed number of iterations.
      method: static str, "admm", "fista" (default here) or "ista".

    Returns:
      [P] float32 coefficients c.

    Raises:
      LassoError: on mismatched shapes, an unknown method or a negative num_iters.
    """
    dictionary = jnp.asarray(dictionary, jnp.float32)
    target = jnp.asarray(target, jnp.float32)
    if valid is not None:
        valid = jnp.asarray(valid, bool)
    _check(dictionary, target, valid, method, num_iters)
    gram = jnp.dot(dictionary.T, dictionary, precision=_HIGHEST)
    b = jnp.dot(dictionary.T, target, precision=_HIGHEST)
    return lasso_gram(gram, b, lam, valid=valid, num_iters=num_iters, method=method)
