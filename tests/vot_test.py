"""Tests for tsn_jax.evaluation.vot: the VOT reset protocol, accuracy, robustness and EAO.

The tracker is a script: the "frames" are their own indices, and the tracker answers each frame
with the ground truth shifted right by a scripted number of pixels. On a 10 x 10 box a shift of
``dx`` (0 <= dx < 10) gives IoU ``(10 - dx) / (10 + dx)``; ``dx >= 10`` gives IoU 0 (a failure).
"""

import math

import numpy as np
import pytest

from tsn_jax.evaluation import vot


def _groundtruth(num_frames):
    """A 10 x 10 box moving 2 px right per frame, 0-based xywh."""
    t = np.arange(num_frames, dtype=np.float64)
    return np.stack([5 + 2 * t, 7 + 0 * t, 10 + 0 * t, 10 + 0 * t], axis=1)


class ScriptedTracker:
    """Returns the ground truth shifted by ``shifts.get(frame, default)`` px; records calls."""

    def __init__(self, groundtruth, shifts, default=1.0):
        self.groundtruth = groundtruth
        self.shifts = shifts
        self.default = default
        self.inits = []
        self.updates = []

    def init(self, frame, box_xywh):
        self.inits.append((frame, np.asarray(box_xywh).tolist()))

    def update(self, frame):
        self.updates.append(frame)
        shift = self.shifts.get(frame, self.default)
        if shift is None:
            return np.full(4, np.nan)
        return self.groundtruth[frame] + np.array([shift, 0.0, 0.0, 0.0])


def _iou_of_shift(dx):
    return max(0.0, 10 - dx) / (10 + min(dx, 10)) if dx < 10 else 0.0


def _run(num_frames, shifts, groundtruth=None, **kwargs):
    groundtruth = _groundtruth(num_frames) if groundtruth is None else groundtruth
    tracker = ScriptedTracker(_groundtruth(num_frames), shifts)
    run = vot.run_reset_protocol(
        range(num_frames), groundtruth, tracker.init, tracker.update, **kwargs
    )
    return run, tracker


def test_drift_at_frame_20_fails_and_reinitialises_five_frames_later():
    shifts = {t: float(t % 4) for t in range(40)}  # IoUs vary from frame to frame.
    shifts[20] = 25.0  # drifts away: zero overlap.
    run, tracker = _run(40, shifts)
    assert run.failures == (20,)
    assert run.inits == (0, 25)
    assert run.robustness == 1
    gt = _groundtruth(40)
    assert tracker.inits == [(0, gt[0].tolist()), (25, gt[25].tolist())]
    assert tracker.updates == [*range(1, 21), *range(26, 40)]
    assert np.isnan(run.boxes_xywh[21:25]).all() and np.isnan(run.iou[21:25]).all()
    np.testing.assert_array_equal(run.boxes_xywh[25], gt[25])
    assert run.iou[20] == 0.0 and run.iou[0] == 1.0 and run.iou[25] == 1.0
    for t in [*range(1, 20), *range(26, 40)]:
        assert run.iou[t] == pytest.approx(_iou_of_shift(shifts[t]), abs=1e-12)

    # burn_in = 10: frames 0..9 and 25..34 are left out, and the failure frame too.
    expected_mask = np.zeros(40, dtype=bool)
    expected_mask[10:20] = True
    expected_mask[35:40] = True
    np.testing.assert_array_equal(run.accuracy_mask, expected_mask)
    expected = np.mean([_iou_of_shift(shifts[t]) for t in [*range(10, 20), *range(35, 40)]])
    assert run.accuracy == pytest.approx(expected, abs=1e-12)


def test_skip_and_burn_in_are_parameters():
    shifts = {8: 12.0}
    run, _ = _run(30, shifts, skip=3, burn_in=2)
    assert run.failures == (8,) and run.inits == (0, 11)
    assert run.accuracy_mask.nonzero()[0].tolist() == [*range(2, 8), *range(13, 30)]


def test_unknown_groundtruth_never_fails_and_defers_reinit():
    groundtruth = _groundtruth(40)
    groundtruth[12] = np.nan  # the tracker drifts here, but the truth is unknown.
    groundtruth[25] = np.nan  # the re-initialisation frame has no truth: wait one frame.
    shifts = {12: 30.0, 20: 30.0}
    run, tracker = _run(40, shifts, groundtruth=groundtruth)
    assert run.failures == (20,)
    assert run.inits == (0, 26)
    assert np.isnan(run.iou[12]) and not run.accuracy_mask[12]
    assert np.isfinite(run.boxes_xywh[12]).all()  # predicted, just not scored.
    assert tracker.inits[1][0] == 26


def test_non_finite_prediction_is_a_failure_and_failure_near_the_end():
    run, tracker = _run(20, {5: None, 17: 40.0})
    assert run.failures == (5, 17)
    assert run.inits == (0, 10)  # 17 + 5 = 22 is past the end: no re-initialisation.
    assert np.isnan(run.boxes_xywh[18:]).all()
    assert tracker.updates == [*range(1, 6), *range(11, 18)]


def test_bad_inputs():
    tracker = ScriptedTracker(_groundtruth(5), {})
    with pytest.raises(vot.VotError, match="4 frames but 5 ground-truth rows"):
        vot.run_reset_protocol(range(4), _groundtruth(5), tracker.init, tracker.update)
    with pytest.raises(vot.VotError, match="more frames than the 5"):
        vot.run_reset_protocol(range(6), _groundtruth(5), tracker.init, tracker.update)
    with pytest.raises(vot.VotError, match=r"frame 1: tracker_update returned shape \(3,\)"):
        vot.run_reset_protocol(range(5), _groundtruth(5), tracker.init, lambda f: np.zeros(3))
    with pytest.raises(vot.VotError, match="no frame"):
        vot.run_reset_protocol(range(3), np.full((3, 4), np.nan), tracker.init, tracker.update)


def test_eao_tiny_case_by_hand():
    """10 frames; failure at 5, re-init at 7 (skip 2); segments [o1..o4, 0] and [o8, o9]."""
    shifts = {1: 0.0, 2: 2.0, 3: 5.0, 4: 1.0, 5: 50.0, 8: 4.0, 9: 0.5}
    run, _ = _run(10, shifts, skip=2, burn_in=0)
    assert run.failures == (5,) and run.inits == (0, 7)
    o = {t: _iou_of_shift(dx) for t, dx in shifts.items()}
    o[5] = 0.0
    segments = vot.segments(run)
    np.testing.assert_allclose(segments[0][0], [o[1], o[2], o[3], o[4], 0.0], atol=1e-15)
    np.testing.assert_allclose(segments[1][0], [o[8], o[9]], atol=1e-15)
    assert [failed for _, failed in segments] == [True, False]

    # The failed segment counts at every length (zeros after the failure); the unfinished
    # 2-frame segment only at lengths 1 and 2.
    phi = [
        (o[1] + o[8]) / 2,
        ((o[1] + o[2]) / 2 + (o[8] + o[9]) / 2) / 2,
        (o[1] + o[2] + o[3]) / 3,
        (o[1] + o[2] + o[3] + o[4]) / 4,
        (o[1] + o[2] + o[3] + o[4] + 0.0) / 5,
    ]
    eao, curve = vot.expected_average_overlap([run], interval=(2, 4))
    np.testing.assert_allclose(curve, phi, rtol=0, atol=1e-12)
    assert eao == pytest.approx(np.mean(phi[1:4]), abs=1e-12)
    # The VOT2016 interval (108, 371) is clipped to the 5-frame curve: its last point.
    eao_default, _ = vot.expected_average_overlap([run])
    assert eao_default == pytest.approx(phi[4], abs=1e-12)


def test_eao_numpy_reference_over_two_runs():
    """EAO against a direct NumPy computation from random scripted runs (zero-padding)."""
    rng = np.random.default_rng(0)
    runs = []
    for num_frames in (60, 45):
        shifts = {t: float(rng.uniform(0, 8)) for t in range(num_frames)}
        for t in rng.choice(np.arange(5, num_frames), size=3, replace=False):
            shifts[int(t)] = 20.0
        runs.append(_run(num_frames, shifts)[0])
    segs = [s for run in runs for s in vot.segments(run)]
    length = max(len(o) for o, _ in segs)
    phi = []
    for n in range(1, length + 1):
        values = []
        for overlaps, failed in segs:
            if failed or len(overlaps) >= n:
                padded = np.concatenate([overlaps, np.zeros(length)])[:n]
                values.append(padded.sum() / n)
        phi.append(np.mean(values))
    eao, curve = vot.expected_average_overlap(runs, interval=(3, 20))
    np.testing.assert_allclose(curve, phi, rtol=0, atol=1e-12)
    assert eao == pytest.approx(np.mean(phi[2 : min(20, length)]), abs=1e-12)
    assert sum(run.robustness for run in runs) >= 3


def test_summarize_is_frame_weighted():
    run_a, _ = _run(30, {t: 0.0 for t in range(30)})  # IoU 1 on its 20 accuracy frames.
    run_b, _ = _run(15, {t: 5.0 for t in range(15)})  # IoU 1/3 on its 5 accuracy frames.
    summary = vot.summarize([run_a, run_b], interval=(1, 10))
    assert summary["num_accuracy_frames"] == 25
    assert summary["accuracy"] == pytest.approx((20 * 1.0 + 5 * (1 / 3)) / 25, abs=1e-12)
    assert summary["robustness"] == 0
    assert 0 < summary["eao"] <= 1 and math.isfinite(summary["eao"])
