"""Tests of tsn_jax.sparse_coding: ADMM/FISTA/ISTA Lasso against scikit-learn and the KKT
conditions, on random problems and on target pools of real features."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.linear_model import Lasso

from tsn_jax import config as config_lib
from tsn_jax import features, pool, sparse_coding
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import datasets

# Iterations for a converged answer: FISTA's rate suffers from conditioning, ADMM's less.
CONVERGED = {"admm": 300, "fista": 2000}


def _problem(seed, dim, atoms, active=4, noise=0.05):
    """Unit-column dictionary [dim, atoms] and a target near a sparse combination of columns."""
    rng = np.random.RandomState(seed)
    dictionary = rng.normal(size=(dim, atoms))
    dictionary /= np.linalg.norm(dictionary, axis=0, keepdims=True)
    truth = np.zeros(atoms)
    truth[rng.choice(atoms, active, replace=False)] = rng.uniform(0.3, 1.0, active)
    target = dictionary @ truth + noise * rng.normal(size=dim) / np.sqrt(dim)
    return dictionary.astype(np.float32), target.astype(np.float32)


def _objective(dictionary, target, lam, c):
    d, p, c = (np.asarray(a, np.float64) for a in (dictionary, target, c))
    return 0.5 * np.sum((p - d @ c) ** 2) + lam * np.abs(c).sum()


def _sklearn(dictionary, target, lam):
    # sklearn minimises 1 / (2 n) ||y - X w||^2 + alpha ||w||_1 with n = D rows.
    model = Lasso(alpha=lam / dictionary.shape[0], fit_intercept=False, tol=1e-12, max_iter=100000)
    model.fit(np.asarray(dictionary, np.float64), np.asarray(target, np.float64))
    return model.coef_


PROBLEMS = [(0, 64, 10, 0.01), (1, 128, 20, 0.05), (2, 512, 30, 0.02), (3, 256, 30, 0.1)]


@pytest.mark.parametrize("method", sorted(CONVERGED))
@pytest.mark.parametrize("seed,dim,atoms,lam", PROBLEMS)
def test_lasso_matches_sklearn(seed, dim, atoms, lam, method):
    dictionary, target = _problem(seed, dim, atoms)
    got = np.asarray(
        sparse_coding.lasso(dictionary, target, lam, num_iters=CONVERGED[method], method=method)
    )
    want = _sklearn(dictionary, target, lam)
    assert got.shape == (atoms,) and got.dtype == np.float32
    assert np.count_nonzero(want) < atoms  # the L1 term is active: some zeros
    # Converged float32 solvers on a well-conditioned problem vs float64 coordinate descent.
    np.testing.assert_allclose(got, want, atol=1e-4)


@pytest.mark.parametrize("method", sorted(CONVERGED))
@pytest.mark.parametrize("seed,dim,atoms,lam", PROBLEMS)
def test_lasso_meets_kkt_conditions(seed, dim, atoms, lam, method):
    dictionary, target = _problem(seed, dim, atoms)
    c = sparse_coding.lasso(dictionary, target, lam, num_iters=CONVERGED[method], method=method)
    c = np.asarray(c, np.float64)
    d = dictionary.astype(np.float64)
    grad = d.T @ (d @ c) - d.T @ target.astype(np.float64)
    nonzero = c != 0
    assert nonzero.any()
    # Stationarity: (G c - b)_j = -lam sign(c_j) on the support, |(G c - b)_j| <= lam off it.
    np.testing.assert_allclose(grad[nonzero], -lam * np.sign(c[nonzero]), atol=1e-4)
    assert np.all(np.abs(grad[~nonzero]) <= lam + 1e-4)


@pytest.mark.parametrize("method", sorted(CONVERGED))
def test_masked_columns_are_zero_and_equal_deleting_them(method):
    dictionary, target = _problem(4, 96, 16)
    valid = np.ones(16, bool)
    valid[[0, 3, 7, 8, 15]] = False
    lam, iters = 0.02, CONVERGED[method]
    got = sparse_coding.lasso(dictionary, target, lam, valid, iters, method)
    got = np.asarray(got)
    assert np.all(got[~valid] == 0.0)  # exactly zero, not just small
    reduced = np.asarray(
        sparse_coding.lasso(dictionary[:, valid], target, lam, None, iters, method)
    )
    np.testing.assert_allclose(got[valid], reduced, atol=1e-5)
    np.testing.assert_allclose(got[valid], _sklearn(dictionary[:, valid], target, lam), atol=1e-4)


def test_masked_column_with_a_large_norm_does_not_change_the_step():
    dictionary, target = _problem(5, 64, 8)
    valid = np.ones(8, bool)
    valid[2] = False
    inflated = dictionary.copy()
    inflated[:, 2] *= 1000.0  # would dominate L (and shrink the step) if it were not masked
    a = sparse_coding.lasso(dictionary, target, 0.01, valid=valid, num_iters=100)
    b = sparse_coding.lasso(inflated, target, 0.01, valid=valid, num_iters=100)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)


def test_ista_and_fista_agree_and_fista_is_faster():
    dictionary, target = _problem(6, 128, 20)
    lam = 0.03
    ista = np.asarray(sparse_coding.lasso(dictionary, target, lam, num_iters=5000, method="ista"))
    fista = np.asarray(sparse_coding.lasso(dictionary, target, lam, num_iters=2000))
    np.testing.assert_allclose(ista, fista, atol=1e-4)
    # Convergence speed needs an ill-conditioned problem: coherent atoms, like pool features of
    # one target (on the random problems above both methods converge within 50 iterations).
    rng = np.random.RandomState(6)
    coherent = rng.normal(size=(64, 1)) + 0.3 * rng.normal(size=(64, 20))
    coherent = (coherent / np.linalg.norm(coherent, axis=0)).astype(np.float32)
    goal = (coherent[:, :3].sum(axis=1) / 3).astype(np.float32)
    lam = 0.001
    optimum = _objective(coherent, goal, lam, _sklearn(coherent, goal, lam))
    early_ista = sparse_coding.lasso(coherent, goal, lam, num_iters=50, method="ista")
    early_fista = sparse_coding.lasso(coherent, goal, lam, num_iters=50, method="fista")
    gap_ista = _objective(coherent, goal, lam, early_ista) - optimum
    gap_fista = _objective(coherent, goal, lam, early_fista) - optimum
    assert -1e-7 <= gap_fista < 0.5 * gap_ista, (gap_fista, gap_ista)


def test_jit_equals_no_jit():
    dictionary, target = _problem(7, 64, 12)
    fn = jax.jit(sparse_coding.lasso, static_argnames=("num_iters", "method"))
    valid = np.arange(12) < 9
    for method in sparse_coding.METHODS:
        np.testing.assert_allclose(
            np.asarray(fn(dictionary, target, 0.02, valid, num_iters=60, method=method)),
            np.asarray(sparse_coding.lasso(dictionary, target, 0.02, valid, 60, method)),
            atol=1e-6,
        )


def test_degenerate_problems_give_zeros():
    dictionary, target = _problem(8, 32, 6)
    none_valid = sparse_coding.lasso(dictionary, target, 0.01, valid=np.zeros(6, bool))
    np.testing.assert_array_equal(np.asarray(none_valid), 0.0)
    zero_dict = sparse_coding.lasso(np.zeros_like(dictionary), target, 0.01)
    np.testing.assert_array_equal(np.asarray(zero_dict), 0.0)
    # lam above max |D^T p| makes 0 the solution.
    big_lam = float(np.abs(dictionary.T @ target).max()) * 1.01
    np.testing.assert_array_equal(np.asarray(sparse_coding.lasso(dictionary, target, big_lam)), 0)


def test_soft_threshold_matches_numpy():
    x = np.linspace(-2, 2, 41).astype(np.float32)
    want = np.sign(x) * np.maximum(np.abs(x) - 0.5, 0)
    np.testing.assert_allclose(np.asarray(sparse_coding.soft_threshold(x, 0.5)), want, atol=1e-7)


def test_rejects_bad_arguments():
    dictionary, target = _problem(9, 32, 6)
    with pytest.raises(sparse_coding.LassoError, match="method"):
        sparse_coding.lasso(dictionary, target, 0.01, method="lars")
    with pytest.raises(sparse_coding.LassoError, match="target must be"):
        sparse_coding.lasso(dictionary, target[:-1], 0.01)
    with pytest.raises(sparse_coding.LassoError, match="valid must be"):
        sparse_coding.lasso(dictionary, target, 0.01, valid=np.ones(5, bool))


@pytest.mark.parametrize("seed", range(4))
def test_lipschitz_bound_is_at_least_the_largest_eigenvalue(seed):
    rng = np.random.RandomState(seed)
    signed = rng.normal(size=(20, 20))
    for matrix in (signed + signed.T, signed @ signed.T):  # indefinite, and PSD with signs
        want = np.linalg.eigvalsh(matrix.astype(np.float64))[-1]
        got = float(sparse_coding.lipschitz_bound(matrix.astype(np.float32), num_iters=3))
        assert got >= want * (1 - 1e-6), (got, want)


def test_lipschitz_bound_is_the_largest_eigenvalue_of_a_non_negative_gram():
    # The tracker's case: unit-norm ReLU features of one target, and a pool still filling up
    # (zero rows of masked slots).
    rng = np.random.RandomState(10)
    features = np.maximum(rng.normal(size=(1, 300)) + 0.8 * rng.normal(size=(30, 300)), 0)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    gram = features @ features.T
    gram[20:] = gram[:, 20:] = 0.0
    want = np.linalg.eigvalsh(gram)[-1]
    got = float(sparse_coding.lipschitz_bound(gram.astype(np.float32)))
    assert want <= got * (1 + 1e-6) and got <= want * (1 + 1e-4), (got, want)
    assert float(sparse_coding.lipschitz_bound(np.zeros((5, 5), np.float32))) == 0.0


@pytest.fixture(scope="module")
def real_target_features(data_dir, weights_path):
    """[31, D] features of otb_Crossing's first 31 ground-truth boxes (default config)."""
    config = config_lib.TrackerConfig()
    weights = weights_lib.load(weights_path)
    sequence = datasets.load_otb_sequence(data_dir / "otb_Crossing")
    feature_of = jax.jit(features.target_feature, static_argnames="config")
    return np.stack(
        [
            np.asarray(
                feature_of(
                    weights,
                    jnp.asarray(sequence.frame(t)),
                    np.asarray(sequence.groundtruth_xywh[t], np.float32),
                    config,
                )
            )
            for t in range(31)
        ]
    )


def test_tuple_learning_on_real_pools_matches_sklearn(real_target_features):
    """Eq. 1 as the tracker runs it: at each frame t the target p_t is coded over the pool
    D_{t-1} (before p_t joins it), at the default iteration count, and matches float64
    scikit-learn within 5e-3 (the measured worst case at 50 ADMM iterations is 4.4e-3) with
    the same tuple; the tuple never holds p_t itself."""
    config = config_lib.TrackerConfig()
    capacity = 8  # a full pool within 31 frames, so eviction happens too
    learn = jax.jit(pool.learn_tuple, static_argnums=(3, 4, 5))
    target_pool = pool.init_pool(real_target_features[0], capacity)
    for t in range(1, len(real_target_features)):
        target = real_target_features[t]
        slots, tuple_features, coeffs = learn(
            target_pool,
            target,
            config.lasso_lambda,
            config.tuple_size,
            config.lasso_iterations,
            config.lasso_method,
        )
        valid = np.asarray(target_pool.valid)
        want = np.zeros(capacity)
        want[valid] = _sklearn(
            np.asarray(target_pool.features)[valid].T, target, config.lasso_lambda
        )
        np.testing.assert_allclose(coeffs, want, atol=5e-3)
        magnitude = np.abs(want)
        order = np.argsort(-magnitude, kind="stable")[: config.tuple_size]
        np.testing.assert_array_equal(slots, np.where(magnitude[order] > 0, order, 0))
        np.testing.assert_array_equal(tuple_features, np.asarray(target_pool.features)[slots])
        assert np.max(np.asarray(tuple_features) @ target) < 1 - 1e-4  # p_t is not in D_{t-1}
        target_pool = pool.add(target_pool, target, 0.5 + 0.01 * (t % 7))
    # Coded over a pool that already holds p_t, Eq. 1 is degenerate: (1 - lambda) e_t.
    degenerate = learn(
        target_pool, target, config.lasso_lambda, 1, config.lasso_iterations, config.lasso_method
    )
    assert float(np.abs(degenerate[2]).max()) == pytest.approx(1 - config.lasso_lambda, abs=5e-3)
