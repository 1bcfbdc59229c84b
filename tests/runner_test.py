"""Tests for tsn_jax/evaluation/runner.py: the single-sequence driver with a stand-in tracker (no
compilation)."""

import json
import logging
import types

import numpy as np
import pytest

from tsn_jax import config as config_lib
from tsn_jax.evaluation import boxfiles, datasets, runner

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
    monkeypatch.setattr(runner, "tracker", _fake_tracker(scores))
    config = config_lib.TrackerConfig()
    with caplog.at_level(logging.WARNING):
        first = runner.track_sequence(None, _sequence("seq_a", 6), config, progress=False)
        second = runner.track_sequence(None, _sequence("seq_b", 6), config, progress=False)
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
    monkeypatch.setattr(runner, "tracker", _fake_tracker([0.9, 0.8]))
    with caplog.at_level(logging.DEBUG):
        runner.track_sequence(
            None, _sequence("seq_c", 3), config_lib.TrackerConfig(), progress=False
        )
    logged = [r.getMessage() for r in caplog.records if "tuple slots" in r.getMessage()]
    assert logged == [
        f"seq_c frame {i}: tuple slots [0, 0, 0], coefficients [0.0, 0.0, 0.0]" for i in (1, 2)
    ]


def test_track_all_writes_resumes_and_overwrites(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(runner, "tracker", _fake_tracker([0.9] * 5))
    config = config_lib.TrackerConfig()
    sequences = [_sequence("seq_a", 4), _sequence("seq_b", 3)]
    timings = runner.track_all(None, sequences, config, tmp_path, progress=False, info={"k": 1})
    assert sorted(timings) == ["seq_a", "seq_b"]
    assert timings["seq_a"]["frames"] == 4 and timings["seq_a"]["steady_frames"] == 2
    expected = "".join(f"{BOX[0] + 1:.4f},{BOX[1] + 1:.4f},8.0000,6.0000\n" for _ in range(4))
    assert (tmp_path / "seq_a.txt").read_text() == expected
    saved = json.loads((tmp_path / "timings.json").read_text())
    assert saved["k"] == 1 and sorted(saved["sequences"]) == ["seq_a", "seq_b"]
    assert not list(tmp_path.glob("*.tmp"))

    (tmp_path / "seq_a.txt").write_text("kept\n")
    runner.track_all(None, sequences, config, tmp_path, progress=False)
    assert (tmp_path / "seq_a.txt").read_text() == "kept\n"
    assert "seq_a: results exist" in capsys.readouterr().out
    runner.track_all(None, sequences, config, tmp_path, progress=False, overwrite=True)
    assert (tmp_path / "seq_a.txt").read_text() == expected


def test_track_all_rejects_what_it_cannot_do(tmp_path):
    config = config_lib.TrackerConfig()
    with pytest.raises(ValueError, match="batch_size"):
        runner.track_all(None, [], config, tmp_path, batch_size=0)
    with pytest.raises(ValueError, match="batch_size=1 only"):
        runner.track_all(None, [], config, tmp_path, batch_size=2, video_dir=tmp_path)


def test_track_each_runs_any_tracker(tmp_path):
    def track_one(sequence):
        count = len(sequence)
        return runner.TrackResult(
            np.tile(BOX, (count, 1)),
            np.ones(count, np.float32),
            np.zeros(count, bool),
            0.0,
            np.full(count - 1, 0.5),
        )

    timings = runner.track_each([_sequence("seq_a", 3)], track_one, tmp_path / "peer")
    assert timings["seq_a"]["fps"] == pytest.approx(2.0)
    np.testing.assert_allclose(boxfiles.read_boxes(tmp_path / "peer" / "seq_a.txt"), [BOX] * 3)


def test_track_all_batched_saves_every_chunk(monkeypatch, tmp_path, capsys):
    chunks = []

    def track_batch(weights, sequences, config, seed=0, progress=True):
        del weights, config, progress
        chunks.append(([s.name for s in sequences], seed))
        return [
            runner.TrackResult(
                np.tile(BOX, (len(s), 1)),
                np.ones(len(s), np.float32),
                np.zeros(len(s), bool),
                1.0,
                np.full(len(s) - 1, 0.25),
            )
            for s in sequences
        ]

    monkeypatch.setattr(runner.batch, "track_batch", track_batch)
    sequences = [_sequence(f"seq_{i}", 3 + i) for i in range(5)]
    boxfiles.write_boxes(tmp_path / "seq_1.txt", [BOX])  # has results: skipped
    timings = runner.track_all(
        None, sequences, config_lib.TrackerConfig(), tmp_path, batch_size=2, seed=7
    )
    assert chunks == [(["seq_0", "seq_2"], 7), (["seq_3", "seq_4"], 7)]
    assert sorted(timings) == ["seq_0", "seq_2", "seq_3", "seq_4"]
    assert timings["seq_4"]["frames"] == 7
    np.testing.assert_allclose(boxfiles.read_boxes(tmp_path / "seq_4.txt"), [BOX] * 7)
    assert "batch of 2: 6 frames" in capsys.readouterr().out  # 2 + 4 steps
