r"""How far FISTA gets on Eq. 1 with real target pools, by iteration count.

For each sequence, the features of the ground-truth boxes (``features.target_feature``, what
the pool holds for a box tracked exactly) form the pools: at a frame t the pool D_{t-1} holds
the first frame's target and the targets of the ``pool_capacity - 1`` frames before t, and
p_t is coded over it. The reference solution is scikit-learn's ``Lasso`` (coordinate descent
in float64, its alpha = lambda / D since it divides the squared error by the number of rows).
For each iteration count the table gives, over all coded targets: the median and worst
relative objective gap, the worst coefficient error, the worst KKT residual (how far the
subgradient optimality conditions are from holding), and the share of tuples whose K slots
differ from the reference's.

  python -m benchmarks.lasso_convergence --dataset_dir=$TSN_DATA_DIR --weights=$TSN_WEIGHTS \
      --sequences=otb_Crossing,otb_Jogging1 --iterations=25,50,100,200,400
"""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags
from sklearn import linear_model

from tsn_jax import config as config_lib
from tsn_jax import features, pool, sparse_coding
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import datasets

_DATASET_DIR = flags.DEFINE_string("dataset_dir", None, "OTB-layout folder of sequences.")
_WEIGHTS = flags.DEFINE_string("weights", None, "Feature Net weight file.")
_SEQUENCES = flags.DEFINE_list("sequences", ["otb_Crossing"], "Sequences to take pools from.")
_ITERATIONS = flags.DEFINE_list("iterations", ["25", "50", "100", "200", "400"], "FISTA counts.")
_TARGETS = flags.DEFINE_integer("targets", 8, "Coded targets per sequence (evenly spaced).")
_METHODS = flags.DEFINE_list("methods", ["admm", "fista"], "Solvers (sparse_coding.METHODS).")
_CACHE = flags.DEFINE_string(
    "cache", None, "An .npz of the ground-truth features: read if it exists, else written."
)


def ground_truth_features(weights, sequence, config, num_frames):
    """[num_frames, D] features of the first frames' ground-truth boxes (NaN boxes skipped)."""
    feature_of = jax.jit(features.target_feature, static_argnames="config")
    rows = []
    for t in range(num_frames):
        box = np.asarray(sequence.groundtruth_xywh[t], np.float32)
        if np.all(np.isfinite(box)):
            frame = jnp.asarray(sequence.frame(t))
            rows.append(np.asarray(feature_of(weights, frame, box, config)))
    return np.stack(rows)


def pool_before(target_features, t, capacity):
    """The pool D_{t-1} of frame t: slot 0 the first target, then the frames before t."""
    recent = target_features[max(1, t - capacity + 1) : t]
    entries = np.concatenate([target_features[:1], recent])
    full = pool.init_pool(entries[0], capacity)
    for entry in entries[1:]:
        full = pool.add(full, entry, 0.5)
    return full


def reference_lasso(target_pool, target, lam):
    """float64 scikit-learn Lasso of the target over the valid slots; [C] coefficients."""
    valid = np.asarray(target_pool.valid)
    dictionary = np.asarray(target_pool.features, np.float64)[valid].T
    model = linear_model.Lasso(
        alpha=lam / dictionary.shape[0], fit_intercept=False, tol=1e-12, max_iter=1_000_000
    )
    model.fit(dictionary, np.asarray(pool.normalize(target), np.float64))
    coeffs = np.zeros(valid.shape[0])
    coeffs[valid] = model.coef_
    return coeffs


def objective(target_pool, target, coeffs, lam):
    """Eq. 1's objective in float64."""
    dictionary = np.asarray(target_pool.features, np.float64).T
    residual = np.asarray(pool.normalize(target), np.float64) - dictionary @ coeffs
    return 0.5 * residual @ residual + lam * np.abs(coeffs).sum()


def kkt_residual(target_pool, target, coeffs, lam):
    """Largest violation of the Lasso's optimality conditions over the valid slots.

    With g = D^T (p - D c): g_i = lam sign(c_i) where c_i != 0, |g_i| <= lam where c_i = 0.
    """
    valid = np.asarray(target_pool.valid)
    dictionary = np.asarray(target_pool.features, np.float64).T
    gradient = dictionary.T @ (np.asarray(pool.normalize(target), np.float64) - dictionary @ coeffs)
    active = coeffs != 0
    violation = np.where(
        active, np.abs(gradient - lam * np.sign(coeffs)), np.maximum(np.abs(gradient) - lam, 0)
    )
    return float(violation[valid].max())


def measure(problems, lam, k, iterations, method):
    """{iterations: (median gap, worst gap, worst coefficient error, worst KKT, tuple changes)}."""
    table = {}
    for num_iters in iterations:
        solve = jax.jit(
            lambda p, x, n=num_iters: sparse_coding.lasso(
                p.features.T, x, lam, p.valid, n, method=method
            )
        )
        gaps, errors, kkts, changed = [], [], [], 0
        for target_pool, target, want in problems:
            got = np.asarray(solve(target_pool, pool.normalize(target)), np.float64)
            best = objective(target_pool, target, want, lam)
            gaps.append((objective(target_pool, target, got, lam) - best) / best)
            errors.append(np.abs(got - want).max())
            kkts.append(kkt_residual(target_pool, target, got, lam))
            slots = np.asarray(pool.select_tuple(got, target_pool.valid, k))
            changed += not np.array_equal(slots, pool.select_tuple(want, target_pool.valid, k))
        table[num_iters] = (
            float(np.median(gaps)),
            float(np.max(gaps)),
            float(np.max(errors)),
            float(np.max(kkts)),
            changed / len(problems),
        )
    return table


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    if not (_DATASET_DIR.value and _WEIGHTS.value) and not _CACHE.value:
        raise app.UsageError("--dataset_dir and --weights (or a --cache) are required")
    config = config_lib.TrackerConfig()
    weights = weights_lib.load(_WEIGHTS.value) if _WEIGHTS.value else None
    cached = {}
    if _CACHE.value and pathlib.Path(_CACHE.value).exists():
        cached = dict(np.load(_CACHE.value))
    problems = []
    for name in _SEQUENCES.value:
        if name not in cached:
            sequence = datasets.load_otb_sequence(f"{_DATASET_DIR.value}/{name}")
            num_frames = min(len(sequence), 4 * config.pool_capacity)
            cached[name] = ground_truth_features(weights, sequence, config, num_frames)
        target_features = cached[name]
        for t in np.linspace(2, len(target_features) - 1, _TARGETS.value).astype(int):
            target_pool = pool_before(target_features, t, config.pool_capacity)
            target = target_features[t]
            problems.append(
                (target_pool, target, reference_lasso(target_pool, target, config.lasso_lambda))
            )
        print(f"{name}: {len(target_features)} ground-truth features")
    if _CACHE.value:
        np.savez(_CACHE.value, **cached)
    iterations = [int(n) for n in _ITERATIONS.value]
    print(f"{len(problems)} coded targets, lambda {config.lasso_lambda}, K {config.tuple_size}")
    print("method | iterations | gap median | gap worst | coeff err worst | KKT worst | changed")
    for method in _METHODS.value:
        table = measure(problems, config.lasso_lambda, config.tuple_size, iterations, method)
        for num_iters, (median, worst, error, kkt, changed) in table.items():
            print(
                f"{method} | {num_iters} | {median:.2e} | {worst:.2e} | {error:.2e} | "
                f"{kkt:.2e} | {changed:.2f}"
            )


if __name__ == "__main__":
    app.run(main)
