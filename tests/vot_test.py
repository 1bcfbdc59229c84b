"""Tests for tsn_jax.evaluation.vot: the VOT reset protocol, accuracy, robustness and EAO,
and the cross-check against the official VOT toolkit's analyses on the same raw results.

The tracker is a script: the "frames" are their own indices, and the tracker answers each frame
with the ground truth shifted right by a scripted number of pixels. On a 10 x 10 box a shift of
``dx`` (0 <= dx < 10) gives IoU ``(10 - dx) / (10 + dx)``; ``dx >= 10`` gives IoU 0 (a failure).

The cross-check needs the toolkit's venv (``bash scripts/vot.sh toolkit``; its Python from
``TSN_VOT_PYTHON`` or ``.cache/vot/venv``) and skips without it; ``scripts/vot.sh test`` runs it.
"""

import json
import math
import os
import pathlib
import subprocess

import numpy as np
import pytest

from tsn_jax.evaluation import vot

ROOT = pathlib.Path(__file__).resolve().parents[1]


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


def test_summarize_weights_sequences_by_length_as_the_toolkit():
    run_a, _ = _run(30, {t: 0.0 for t in range(30)})  # IoU 1 on its 20 accuracy frames.
    run_b, _ = _run(15, {t: 5.0 for t in range(15)})  # IoU 1/3 on its 5 accuracy frames.
    run_c, _ = _run(45, {12: 30.0, 30: 30.0})  # two failures, IoU 9/11 elsewhere
    summary = vot.summarize([run_a, run_b, run_c], interval=(1, 10))
    assert run_c.failures == (12, 30)
    assert summary["num_accuracy_frames"] == 20 + 5 + run_c.accuracy_mask.sum()
    lengths = np.array([30, 15, 45])
    accuracies = np.array([1.0, 1 / 3, 9 / 11])
    assert summary["accuracy"] == pytest.approx(accuracies @ lengths / 90, abs=1e-12)
    assert summary["robustness"] == pytest.approx((0 * 30 + 0 * 15 + 2 * 45) / 90, abs=1e-12)
    assert summary["failures"] == 2
    assert 0 < summary["eao"] <= 1 and math.isfinite(summary["eao"])
    with pytest.raises(vot.VotError, match="no run"):
        vot.summarize([])


def test_write_trajectory_in_the_toolkits_raw_format(tmp_path):
    run, _ = _run(12, {3: 20.0, 9: 2.0}, skip=2, burn_in=0)  # failure at 3, re-init at 5
    path = tmp_path / "seq" / "seq_001.txt"
    vot.write_trajectory(run, path)
    gt = _groundtruth(12)
    lines = path.read_text().splitlines()
    assert lines[0] == "1" and lines[3] == "2" and lines[4] == "0" and lines[5] == "1"
    assert lines[1] == ",".join(f"{v:.4f}" for v in gt[1] + [1, 0, 0, 0])
    assert lines[9] == ",".join(f"{v:.4f}" for v in gt[9] + [2, 0, 0, 0])
    assert len(lines) == 12 and not list(path.parent.glob("*.tmp"))


def _toolkit_python():
    """The VOT toolkit venv's Python, or None."""
    path = os.environ.get("TSN_VOT_PYTHON") or str(
        ROOT / ".cache" / "vot" / "venv" / "bin" / "python"
    )
    return path if pathlib.Path(path).is_file() else None


def test_measures_are_the_vot_toolkits_on_the_same_raw_results(tmp_path):
    python = _toolkit_python()
    if python is None:
        pytest.skip("the VOT toolkit's venv is missing: bash scripts/vot.sh toolkit")
    rng = np.random.default_rng(1)
    runs, entries = [], []
    for name, num_frames, drifts in (("a", 60, (14, 40)), ("b", 45, (20,)), ("c", 30, ())):
        # Whole-pixel shifts: the toolkit's rasterised overlap equals the continuous IoU.
        shifts = {t: float(rng.integers(0, 8)) for t in range(num_frames)}
        shifts.update({t: 25.0 for t in drifts})
        run, _ = _run(num_frames, shifts)
        assert run.failures == drifts
        path = tmp_path / name / f"{name}_001.txt"
        vot.write_trajectory(run, path)
        runs.append(run)
        entries.append(
            {
                "name": name,
                "size": [300, 100],  # every box well inside: no clipping by the toolkit
                "groundtruth": _groundtruth(num_frames).tolist(),
                "trajectory": str(path),
            }
        )
    interval = (3, 30)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"burnin": 10, "interval": interval, "sequences": entries}))
    helper = ROOT / "tests" / "vot_toolkit_measures.py"
    done = subprocess.run(
        [python, str(helper), str(spec)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    toolkit = json.loads(done.stdout)

    ours = vot.summarize(runs, interval=interval)
    # The toolkit computes the EAO curve in float32.
    assert ours["accuracy"] == pytest.approx(toolkit["accuracy"], abs=1e-9)
    assert ours["robustness"] == pytest.approx(toolkit["robustness"], abs=1e-12)
    assert ours["eao"] == pytest.approx(toolkit["eao"], abs=1e-6)
    _, curve = vot.expected_average_overlap(runs, interval)
    np.testing.assert_allclose(curve, toolkit["curve"][1:], rtol=0, atol=1e-6)
    for run, (accuracy, failures) in zip(runs, toolkit["per_sequence"], strict=True):
        assert run.accuracy == pytest.approx(accuracy, abs=1e-9)
        assert run.robustness == failures
