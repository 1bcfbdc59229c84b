"""Tests for tsn_jax/stateful.py: the Tracker object gives the runner's boxes, re-initialises
afresh, and names what is wrong with a bad call.

The tiny config and generated sequence of tracker_test (compiled executables shared through
the persistent cache); its ``temporal_update_interval=2`` makes frames 2 and 4 fine-tune, so
both compiled steps are exercised.
"""

import numpy as np
import pytest

import tsn_jax
from tests.tracker_test import NUM_FRAMES, SMALL, sequence, weights  # noqa: F401 (fixtures)
from tsn_jax import stateful
from tsn_jax.evaluation import runner


def _track_with_object(tracker, frames, box):
    tracker.init(frames[0], box)
    return np.stack([np.asarray(box, np.float64)] + [tracker.update(f) for f in frames[1:]])


def test_boxes_are_the_runners_and_reinit_starts_afresh(weights, sequence):
    frames = [sequence.frame(i) for i in range(NUM_FRAMES)]
    expected = runner.track_sequence(weights, sequence, SMALL, seed=3, progress=False)
    tracker = tsn_jax.Tracker(weights, SMALL, seed=3)
    boxes = _track_with_object(tracker, frames, sequence.init_box_xywh)
    np.testing.assert_array_equal(boxes, expected.boxes_xywh)
    assert tracker.frame_index == NUM_FRAMES - 1
    assert tracker.score == pytest.approx(float(expected.scores[-1]))
    assert tracker.failed == bool(expected.failed[-1])
    assert boxes.dtype == np.float64 and np.all(np.isfinite(boxes))
    # The boxes move: a tracker that returned its initial box would not match the runner
    # by accident.
    assert np.abs(boxes[1:] - boxes[0]).max() > 1e-3

    # A second init (as after a VOT failure) forgets the first run: the same boxes again.
    again = _track_with_object(tracker, frames, sequence.init_box_xywh)
    np.testing.assert_array_equal(again, boxes)


def test_bad_calls_name_what_is_wrong(weights, sequence):
    tracker = tsn_jax.Tracker(weights, SMALL)
    frame = sequence.frame(0)
    with pytest.raises(stateful.TrackerUsageError, match="update called before init"):
        tracker.update(frame)
    with pytest.raises(stateful.TrackerUsageError, match=r"init: frame has dtype float32"):
        tracker.init(frame.astype(np.float32), (10, 10, 20, 20))
    with pytest.raises(stateful.TrackerUsageError, match=r"shape \(80, 96\)"):
        tracker.init(frame[..., 0], (10, 10, 20, 20))
    with pytest.raises(stateful.TrackerUsageError, match="not 4 values"):
        tracker.init(frame, (10, 10, 20))
    with pytest.raises(stateful.TrackerUsageError, match="non-finite"):
        tracker.init(frame, (10, np.nan, 20, 20))
    with pytest.raises(stateful.TrackerUsageError, match="zero or negative size"):
        tracker.init(frame, (10, 10, 0, 20))
    with pytest.raises(stateful.TrackerUsageError, match="outside the 96x80 frame"):
        tracker.init(frame, (96, 10, 5, 5))
    tracker.init(frame, sequence.init_box_xywh)
    with pytest.raises(stateful.TrackerUsageError, match="frame 1 after init: frame is 48x80"):
        tracker.update(frame[:, :48])


def test_updates_run_the_steps_init_compiled(weights, sequence, monkeypatch):
    object_tracker = tsn_jax.Tracker(weights, SMALL)
    object_tracker.init(sequence.frame(0), sequence.init_box_xywh)
    # Any update that went through the jitted step (and so could compile) would fail now.
    monkeypatch.setattr(stateful.tracker, "step", None)
    for index in range(1, NUM_FRAMES):  # frames 2 and 4 fine-tune (SMALL's interval is 2)
        assert np.all(np.isfinite(object_tracker.update(sequence.frame(index))))
