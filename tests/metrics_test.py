"""Tests for tsn_jax.evaluation.metrics (OTB one-pass evaluation) and
tsn_jax.evaluation.plots.

The reference below is written from the OTB definitions with explicit per-frame max/min formulas
and loops over the thresholds, in float64, without calling tsn_jax.boxes.
"""

import json
import math

import numpy as np
import pytest

from tsn_jax.evaluation import metrics, plots

# float64 throughout; the only differences are summation order: 1e-12 is ample.
TOL = 1e-12


def _reference(predicted, groundtruth):
    """Independent OTB scores: (success[21], precision[51], auc, prec20, op50, cle, n)."""
    ious, errors = [], []
    for p, g in zip(predicted, groundtruth, strict=True):
        if not (np.all(np.isfinite(g)) and g[2] > 0 and g[3] > 0):
            continue
        if not np.all(np.isfinite(p)):
            ious.append(0.0)
            errors.append(math.inf)
            continue
        iw = max(0.0, min(p[0] + p[2], g[0] + g[2]) - max(p[0], g[0]))
        ih = max(0.0, min(p[1] + p[3], g[1] + g[3]) - max(p[1], g[1]))
        inter = iw * ih
        union = max(p[2], 0.0) * max(p[3], 0.0) + g[2] * g[3] - inter
        ious.append(inter / union)
        errors.append(
            math.hypot((p[0] + p[2] / 2) - (g[0] + g[2] / 2), (p[1] + p[3] / 2) - (g[1] + g[3] / 2))
        )
    n = len(ious)
    success = [sum(i > t for i in ious) / n for t in [k / 20 for k in range(21)]]
    precision = [sum(e <= t for e in errors) / n for t in range(51)]
    finite = [e for e in errors if math.isfinite(e)]
    cle = sum(finite) / len(finite) if finite else math.nan
    op50 = sum(i > 0.5 for i in ious) / n
    return np.array(success), np.array(precision), np.mean(success), precision[20], op50, cle, n


def _random_sequence(rng, num_frames, noise):
    xy = rng.uniform(0, 200, size=(num_frames, 2))
    wh = rng.uniform(10, 60, size=(num_frames, 2))
    groundtruth = np.concatenate([xy, wh], axis=1)
    predicted = groundtruth + rng.normal(0, noise, size=groundtruth.shape)
    predicted[:, 2:] = np.abs(predicted[:, 2:]) + 1
    return predicted, groundtruth


def _assert_matches_reference(score, predicted, groundtruth):
    success, precision, auc, prec20, op50, cle, n = _reference(predicted, groundtruth)
    np.testing.assert_allclose(score.success_curve, success, rtol=0, atol=TOL)
    np.testing.assert_allclose(score.precision_curve, precision, rtol=0, atol=TOL)
    assert score.auc == pytest.approx(auc, abs=TOL)
    assert score.precision20 == pytest.approx(prec20, abs=TOL)
    assert score.op50 == pytest.approx(op50, abs=TOL)
    if math.isnan(cle):
        assert math.isnan(score.cle)
    else:
        assert score.cle == pytest.approx(cle, rel=1e-12)
    assert score.num_frames == n


@pytest.mark.parametrize("noise", [1.0, 8.0, 30.0])
def test_golden_random(noise):
    predicted, groundtruth = _random_sequence(np.random.default_rng(int(noise)), 200, noise)
    score = metrics.evaluate_sequence(predicted, groundtruth)
    assert score.success_curve.shape == (21,) and score.precision_curve.shape == (51,)
    _assert_matches_reference(score, predicted, groundtruth)
    # The random cases must exercise both ends of the curves, or the test proves little.
    assert 0 < score.auc < 1


def test_hand_case():
    groundtruth = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10.0]])
    predicted = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [30, 0, 10, 10], [0, 0, 10, 20.0]])
    score = metrics.evaluate_sequence(predicted, groundtruth)
    # IoUs 1, 1/3, 0, 1/2; centre errors 0, 5, 30, 5.
    assert score.op50 == pytest.approx(1 / 4)  # IoU 0.5 is not > 0.5.
    assert score.success_curve[0] == pytest.approx(3 / 4)  # IoU 0 is not > 0.
    assert score.success_curve[20] == 0.0  # nothing is > 1.
    assert score.precision_curve[5] == pytest.approx(3 / 4)  # error 5 <= 5 counts.
    assert score.precision20 == pytest.approx(3 / 4)
    assert score.cle == pytest.approx(10.0)


def test_invalid_groundtruth_frames_are_skipped():
    predicted, groundtruth = _random_sequence(np.random.default_rng(1), 30, 5.0)
    groundtruth[3] = np.nan
    groundtruth[7, 2] = 0.0
    groundtruth[8, 3] = -4.0
    groundtruth[9, 0] = np.inf
    predicted[3] = np.nan  # a NaN prediction on a skipped frame does not count at all.
    score = metrics.evaluate_sequence(predicted, groundtruth)
    assert score.num_frames == 26
    kept = np.setdiff1d(np.arange(30), [3, 7, 8, 9])
    direct = metrics.evaluate_sequence(predicted[kept], groundtruth[kept])
    np.testing.assert_array_equal(score.success_curve, direct.success_curve)
    assert score.cle == direct.cle
    _assert_matches_reference(score, predicted, groundtruth)


def test_non_finite_predictions_are_failures():
    predicted, groundtruth = _random_sequence(np.random.default_rng(2), 40, 2.0)
    predicted[5] = np.nan
    predicted[6, 1] = np.inf
    predicted[7, 2] = -np.inf
    score = metrics.evaluate_sequence(predicted, groundtruth)
    _assert_matches_reference(score, predicted, groundtruth)
    assert score.num_frames == 40
    # Three failures: no threshold can reach all 40 frames.
    assert score.success_curve[0] == pytest.approx(37 / 40)
    assert score.precision_curve[-1] <= 37 / 40
    assert math.isfinite(score.cle)


def test_all_predictions_nan_gives_zero_curves_and_nan_cle():
    _, groundtruth = _random_sequence(np.random.default_rng(3), 10, 1.0)
    score = metrics.evaluate_sequence(np.full((10, 4), np.nan), groundtruth)
    assert score.auc == 0 and score.precision20 == 0 and score.op50 == 0
    assert math.isnan(score.cle)


def test_length_mismatch_names_both_counts():
    with pytest.raises(ValueError, match=r"9 predicted boxes but 10 ground-truth boxes"):
        metrics.evaluate_sequence(np.zeros((9, 4)), np.ones((10, 4)))


def test_no_valid_groundtruth_raises():
    with pytest.raises(ValueError, match="no valid ground-truth frame"):
        metrics.evaluate_sequence(np.ones((3, 4)), np.full((3, 4), np.nan))


def test_aggregate_weighs_sequences_equally():
    rng = np.random.default_rng(4)
    short = metrics.evaluate_sequence(*_random_sequence(rng, 10, 30.0))
    long = metrics.evaluate_sequence(*_random_sequence(rng, 300, 1.0))
    overall = metrics.aggregate([short, long])
    np.testing.assert_allclose(
        overall.success_curve, (short.success_curve + long.success_curve) / 2, atol=TOL
    )
    np.testing.assert_allclose(
        overall.precision_curve, (short.precision_curve + long.precision_curve) / 2, atol=TOL
    )
    assert overall.auc == pytest.approx((short.auc + long.auc) / 2, abs=TOL)
    assert overall.precision20 == pytest.approx((short.precision20 + long.precision20) / 2)
    assert overall.op50 == pytest.approx((short.op50 + long.op50) / 2, abs=TOL)
    assert overall.cle == pytest.approx((short.cle + long.cle) / 2)
    assert overall.num_frames == 310
    with pytest.raises(ValueError):
        metrics.aggregate([])


def test_format_table_and_summary(tmp_path):
    rng = np.random.default_rng(5)
    scored = {
        "a_long_sequence_name": metrics.evaluate_sequence(*_random_sequence(rng, 20, 3.0)),
        "b": metrics.evaluate_sequence(*_random_sequence(rng, 15, 9.0)),
    }
    overall = metrics.aggregate(list(scored.values()))
    table = metrics.format_table(scored, overall)
    lines = table.splitlines()
    assert lines[0].split() == ["sequence", "frames", "AUC", "prec@20", "OP50", "CLE"]
    assert len({len(line) for line in lines}) == 1  # fixed width.
    last = lines[-1].split()
    assert last[0] == "overall" and last[1] == "35"
    assert last[2] == f"{overall.auc:.3f}" and last[5] == f"{overall.cle:.1f}"

    path = tmp_path / "out" / "summary.json"
    metrics.write_summary(path, scored, overall)
    assert not (tmp_path / "out" / "summary.json.tmp").exists()
    summary = json.loads(path.read_text())
    assert list(summary["sequences"]) == ["a_long_sequence_name", "b"]
    assert summary["overall"]["auc"] == pytest.approx(overall.auc)
    assert summary["sequences"]["b"]["precision_curve"] == scored["b"].precision_curve.tolist()
    assert summary["overall"]["num_frames"] == 35


def test_got10k_cross_check():
    """Per-frame IoU, centre error and the curves built from them equal got10k's.

    got10k's ``center_error`` uses centres ``x + (w - 1) / 2`` (the pixel-index convention);
    ours is ``x + w / 2``. Passing got10k the boxes with ``w + 1, h + 1`` makes its centres ours,
    so the comparison checks the arithmetic, not the convention. Tolerance 1e-9: got10k adds
    ``eps`` (2.2e-16) to the IoU denominator.
    """
    got10k_metrics = pytest.importorskip("got10k.utils.metrics")
    predicted, groundtruth = _random_sequence(np.random.default_rng(6), 150, 10.0)
    iou, error, valid = metrics.frame_errors(predicted, groundtruth)
    assert valid.all()
    their_iou = got10k_metrics.rect_iou(predicted.copy(), groundtruth.copy())
    widened = lambda b: b + np.array([0.0, 0.0, 1.0, 1.0])
    their_error = got10k_metrics.center_error(widened(predicted), widened(groundtruth))
    np.testing.assert_allclose(iou, their_iou, rtol=0, atol=1e-9)
    np.testing.assert_allclose(error, their_error, rtol=0, atol=1e-9)
    score = metrics.evaluate_sequence(predicted, groundtruth)
    their_success = np.array([np.mean(their_iou > t) for t in np.linspace(0, 1, 21)])
    their_precision = np.array([np.mean(their_error <= t) for t in np.arange(0, 51)])
    np.testing.assert_allclose(score.success_curve, their_success, rtol=0, atol=1e-9)
    np.testing.assert_allclose(score.precision_curve, their_precision, rtol=0, atol=1e-9)


def test_plots_write_png(tmp_path):
    rng = np.random.default_rng(7)
    good = metrics.evaluate_sequence(*_random_sequence(rng, 30, 1.0))
    bad = metrics.evaluate_sequence(*_random_sequence(rng, 30, 20.0))
    success_path = tmp_path / "plots" / "success.png"
    precision_path = tmp_path / "plots" / "precision.png"
    labels = plots.plot_success(
        {"bad": bad.success_curve, "good": good.success_curve}, success_path
    )
    assert labels == [f"good [{good.auc:.3f}]", f"bad [{bad.auc:.3f}]"]  # best first.
    labels = plots.plot_precision(
        {"bad": bad.precision_curve, "good": good.precision_curve}, precision_path
    )
    assert labels == [f"good [{good.precision20:.3f}]", f"bad [{bad.precision20:.3f}]"]
    for path in (success_path, precision_path):
        data = path.read_bytes()
        assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="'x'.*\\(21,\\)"):
        plots.plot_success({"x": np.zeros(20)}, tmp_path / "y.png")


# ---------------------------------------------------------------------------------------------
# LaSOT.


def _lasot_reference(predicted, groundtruth, visible):
    """The LaSOT toolkit's calc_seq_err_robust.m and eval_tracker.m, in float64 loops: drop the
    absent frames, score the rest with the toolkit's pixel-index centres ``x + (w - 1) / 2``
    (normalised by the ground truth's size for the normalised curve), divide by all frames.
    Returns (success[21], precision[51], normalised precision[51])."""
    ious, errors, normalized = [], [], []
    for p, g, seen in zip(predicted, groundtruth, visible, strict=True):
        if not seen:
            continue
        left, right = max(p[0], g[0]), min(p[0] + p[2] - 1, g[0] + g[2] - 1)
        top, bottom = max(p[1], g[1]), min(p[1] + p[3] - 1, g[1] + g[3] - 1)
        inter = max(0.0, right - left + 1) * max(0.0, bottom - top + 1)
        ious.append(inter / (p[2] * p[3] + g[2] * g[3] - inter))
        pc = (p[0] + (p[2] - 1) / 2, p[1] + (p[3] - 1) / 2)
        gc = (g[0] + (g[2] - 1) / 2, g[1] + (g[3] - 1) / 2)
        errors.append(math.hypot(pc[0] - gc[0], pc[1] - gc[1]))
        normalized.append(math.hypot(pc[0] / g[2] - gc[0] / g[2], pc[1] / g[3] - gc[1] / g[3]))
    n = len(groundtruth)
    success = [sum(i > t for i in ious) / n for t in [k / 20 for k in range(21)]]
    precision = [sum(e <= t for e in errors) / n for t in range(51)]
    normalized_precision = [
        sum(e <= t for e in normalized) / n for t in [k / 100 for k in range(51)]
    ]
    return np.array(success), np.array(precision), np.array(normalized_precision)


@pytest.mark.parametrize("noise", [2.0, 10.0])
def test_lasot_matches_its_toolkit(noise):
    """Absent frames count as failures over all frames; normalised precision at 0.2."""
    rng = np.random.default_rng(int(noise) + 20)
    predicted, groundtruth = _random_sequence(rng, 300, noise)
    visible = rng.uniform(size=300) > 0.15
    score = metrics.evaluate_lasot_sequence(predicted, groundtruth, visible)
    success, precision, normalized = _lasot_reference(predicted, groundtruth, visible)
    np.testing.assert_allclose(score.success_curve, success, rtol=0, atol=TOL)
    np.testing.assert_allclose(score.precision_curve, precision, rtol=0, atol=TOL)
    np.testing.assert_allclose(score.normalized_precision_curve, normalized, rtol=0, atol=TOL)
    assert score.normalized_precision == pytest.approx(normalized[20], abs=TOL)
    assert score.auc == pytest.approx(np.mean(success), abs=TOL)
    assert score.num_frames == 300
    assert 0 < score.normalized_precision < 1 and score.success_curve[0] <= visible.mean()


def test_lasot_all_visible_equals_otb_and_skips_invalid_ground_truth():
    predicted, groundtruth = _random_sequence(np.random.default_rng(30), 50, 6.0)
    groundtruth[7] = np.nan  # visible frame without a box: skipped, as in the OTB evaluation
    predicted[9] = np.nan  # a non-finite prediction: a failure
    lasot = metrics.evaluate_lasot_sequence(predicted, groundtruth)
    otb = metrics.evaluate_sequence(predicted, groundtruth)
    np.testing.assert_allclose(lasot.success_curve, otb.success_curve, rtol=0, atol=TOL)
    np.testing.assert_allclose(lasot.precision_curve, otb.precision_curve, rtol=0, atol=TOL)
    assert lasot.num_frames == otb.num_frames == 49
    assert lasot.normalized_precision_curve[-1] <= 48 / 49


def test_normalized_center_error_hand_case():
    groundtruth = np.array([[10.0, 20.0, 40.0, 10.0]])
    predicted = np.array([[14.0, 17.0, 40.0, 10.0]])  # centre 4 px right, 3 px up
    error = metrics.normalized_center_error(predicted, groundtruth)
    np.testing.assert_allclose(error, [math.hypot(4 / 40, 3 / 10)], rtol=1e-15)


def test_aggregate_lasot_and_errors():
    rng = np.random.default_rng(31)
    a = metrics.evaluate_lasot_sequence(*_random_sequence(rng, 20, 3.0))
    b = metrics.evaluate_lasot_sequence(*_random_sequence(rng, 200, 12.0))
    overall = metrics.aggregate_lasot([a, b])
    np.testing.assert_allclose(
        overall.normalized_precision_curve,
        (a.normalized_precision_curve + b.normalized_precision_curve) / 2,
        atol=TOL,
    )
    assert overall.auc == pytest.approx((a.auc + b.auc) / 2, abs=TOL)
    assert overall.num_frames == 220
    json.dumps(overall.to_dict(), allow_nan=False)
    with pytest.raises(ValueError, match=r"target_visible has shape \(3,\), expected \(20,\)"):
        metrics.evaluate_lasot_sequence(np.ones((20, 4)), np.ones((20, 4)), [True] * 3)
    with pytest.raises(ValueError):
        metrics.aggregate_lasot([])


# ---------------------------------------------------------------------------------------------
# GOT-10k.


def test_got10k_ious_match_the_got10k_toolkit():
    """IoU after the toolkit's clipping to the frame (in the files' 1-based coordinates), over
    the visible frames after the first. Tolerance 1e-9: got10k adds eps to the denominator."""
    got10k_metrics = pytest.importorskip("got10k.utils.metrics")
    rng = np.random.default_rng(32)
    width, height = 320.0, 240.0
    groundtruth = np.c_[rng.uniform(-30, 300, (400, 2)), rng.uniform(5, 90, (400, 2))]
    predicted = groundtruth + rng.normal(0, 15, groundtruth.shape)
    predicted[:, 2:] = np.abs(predicted[:, 2:]) + 1
    visible = rng.uniform(size=400) > 0.2
    ours = metrics.got10k_frame_ious(predicted, groundtruth, (width, height), visible)
    keep = visible.copy()
    keep[0] = False
    theirs = got10k_metrics.rect_iou(
        predicted[keep] + [1, 1, 0, 0], groundtruth[keep] + [1, 1, 0, 0], bound=(width, height)
    )
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
    crossing = (groundtruth[keep, 0] < -1) | (predicted[keep, 0] + predicted[keep, 2] > width)
    assert crossing.sum() > 20  # the clipping is exercised
    unclipped = metrics.got10k_frame_ious(predicted, groundtruth, (1e6, 1e6), visible)
    assert np.any(np.abs(unclipped - ours) > 1e-3)


def test_got10k_scores_match_the_got10k_toolkit():
    experiments = pytest.importorskip("got10k.experiments")
    rng = np.random.default_rng(33)
    per_sequence = [np.clip(rng.normal(0.6, 0.25, n), 0, 1) for n in (40, 400, 7)]
    score = metrics.evaluate_got10k(per_sequence)
    ao, sr, _, curve = experiments.ExperimentGOT10k._evaluate(
        None, np.concatenate(per_sequence), np.array([])
    )
    assert score.ao == pytest.approx(ao, abs=1e-12)
    assert score.sr50 == pytest.approx(sr, abs=1e-12)
    assert score.sr75 == pytest.approx(curve[75], abs=1e-12)
    np.testing.assert_allclose(score.success_curve, curve, rtol=0, atol=1e-12)
    assert score.num_frames == 447
    # Frames pooled: not the mean of the per-sequence AOs.
    assert score.ao != pytest.approx(np.mean([np.mean(i) for i in per_sequence]), abs=1e-4)
    json.dumps(score.to_dict(), allow_nan=False)
    with pytest.raises(ValueError, match="at least one frame"):
        metrics.evaluate_got10k([])


def test_got10k_non_finite_prediction_is_zero_overlap():
    groundtruth = np.array([[10.0, 10, 20, 20]] * 3)
    predicted = groundtruth.copy()
    predicted[2] = np.nan
    ious = metrics.got10k_frame_ious(predicted, groundtruth, (100, 100))
    np.testing.assert_array_equal(ious, [1.0, 0.0])
