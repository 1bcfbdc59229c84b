"""Tests for tsn_jax/run.py's single-sequence driver with a stand-in tracker (no compilation)."""

import logging
import types

import numpy as np

from tsn_jax import config as config_lib
from tsn_jax import datasets, run

BOX = np.array([4.0, 3.0, 8.0, 6.0])


def _fake_tracker(scores):
    """A stand-in for tsn_jax.tracker whose step ``i`` (1-based) reports ``scores[i - 1]``, with
    the box kept and ``failed`` False (so any failure counted comes from the driver)."""

    def init(weights, frame, box_xywh, key, config):
        del weights, frame, key, config
        return {"box": np.asarray(box_xywh, np.float32), "frame": 0}

    def step(weights, state, frame, fine_tune=None):
        del weights, frame, fine_tune
        index = state["frame"] + 1
        output = types.SimpleNamespace(
            box_xywh=state["box"],
            score=np.float32(scores[index - 1]),
            failed=np.bool_(False),
            tuple_slots=np.zeros(3, np.int32),
            tuple_coefficients=np.zeros(3, np.float32),
        )
        return {**state, "frame": index}, output

    return types.SimpleNamespace(init=init, step=step, fine_tune_due=lambda index, config: False)


def _sequence(name, num_frames):
    return datasets.Sequence.from_render(
        name, num_frames, lambda i: np.full((16, 24, 3), i, np.uint8), init_box_xywh=BOX
    )


def test_non_finite_score_is_a_failure_warned_once_per_sequence(monkeypatch, caplog):
    scores = [0.9, np.nan, np.inf, 0.8, -np.inf]
    monkeypatch.setattr(run, "tracker", _fake_tracker(scores))
    config = config_lib.TrackerConfig()
    with caplog.at_level(logging.WARNING):
        first = run.track_sequence(None, _sequence("seq_a", 6), config, progress=False)
        second = run.track_sequence(None, _sequence("seq_b", 6), config, progress=False)
    for result in (first, second):  # the run completes, every frame reported
        np.testing.assert_array_equal(result.boxes_xywh, np.tile(BOX, (6, 1)))
        np.testing.assert_array_equal(result.failed, [False, False, True, True, False, True])
        np.testing.assert_array_equal(result.scores, np.float32([1.0, *scores]))
        assert len(result.step_seconds) == 5
    logged = [(r.levelno, r.getMessage()) for r in caplog.records if "non-finite" in r.getMessage()]
    assert logged == [
        (logging.WARNING, "seq_a: non-finite score at frame 2: counted as a failure"),
        (logging.WARNING, "seq_b: non-finite score at frame 2: counted as a failure"),
    ]


def test_the_tuple_is_logged_at_debug_level(monkeypatch, caplog):
    monkeypatch.setattr(run, "tracker", _fake_tracker([0.9, 0.8]))
    with caplog.at_level(logging.DEBUG):
        run.track_sequence(None, _sequence("seq_c", 3), config_lib.TrackerConfig(), progress=False)
    logged = [r.getMessage() for r in caplog.records if "tuple slots" in r.getMessage()]
    assert logged == [
        f"seq_c frame {i}: tuple slots [0, 0, 0], coefficients [0.0, 0.0, 0.0]" for i in (1, 2)
    ]
