"""Tests for tsn_jax/evaluation/runner.py: the single-sequence driver with a stand-in tracker (no
compilation), the speed it reports (tsn_jax/evaluation/tracked.py), and, with the tiny config
of tracker_test, the ahead-of-time compilation of the real tracker
(tsn_jax/evaluation/compiled.py)."""

import json
import logging
import math
import statistics
import types

import jax
import numpy as np
import pytest

from tests.tracker_test import SMALL
from tsn_jax import config as config_lib
from tsn_jax import tracker
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import boxfiles, datasets, report, runner, synthetic, tracked

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
    # Nothing compiles once tracking starts, so every frame after the first is timed.
    assert timings["seq_a"]["frames"] == 4 and timings["seq_a"]["steady_frames"] == 3
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


def _corrupt_at(name, num_frames, bad_index, error):
    """A sequence whose frame ``bad_index`` raises ``error`` when read (a corrupt file)."""

    def render(i):
        if i == bad_index:
            raise error
        return np.full((16, 24, 3), i, np.uint8)

    return datasets.Sequence.from_render(name, num_frames, render, init_box_xywh=BOX)


def _resized_at(name, num_frames, index):
    """A sequence whose frames from ``index`` on have another size."""
    return datasets.Sequence.from_render(
        name,
        num_frames,
        lambda i: np.zeros((16, 24, 3) if i < index else (20, 24, 3), np.uint8),
        init_box_xywh=BOX,
    )


def _no_folder():
    raise datasets.DatasetError("/data/gone: sequence folder is missing")


def test_one_bad_sequence_does_not_stop_the_run(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(runner, "tracker", _fake_tracker([0.9] * 5))
    frame_error = datasets.DatasetError("img/0003.jpg (frame 2): frame file is empty (0 bytes)")
    sequences = [
        _sequence("seq_a", 4),
        datasets.SequenceSource("gone", _no_folder),  # fails when loaded, in its turn
        _corrupt_at("corrupt", 5, 2, frame_error),
        _resized_at("resized", 5, 3),
        datasets.SequenceSource("seq_e", lambda: _sequence("seq_e", 3)),
    ]
    with pytest.raises(runner.SequencesFailed) as raised:
        runner.track_all(None, sequences, config_lib.TrackerConfig(), tmp_path, progress=False)
    failures = raised.value.failures
    assert list(failures) == ["gone", "corrupt", "resized"]  # in the run's order
    assert failures["gone"] == "/data/gone: sequence folder is missing"
    assert failures["corrupt"] == str(frame_error)
    assert failures["resized"].startswith("resized: frame 3 is 24x20 but the first frame is 24x16")
    assert sorted(raised.value.timings) == ["seq_a", "seq_e"]  # the others were tracked
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seq_a.txt", "seq_e.txt", "timings.json"]
    message = str(raised.value)
    assert message.splitlines()[0] == "3 sequence(s) could not be tracked:"
    assert "  corrupt: img/0003.jpg (frame 2): frame file is empty (0 bytes)" in message
    assert "corrupt: not tracked: img/0003.jpg (frame 2)" in capsys.readouterr().out
    # A rerun skips what is done and fails the same way on the rest.
    with pytest.raises(runner.SequencesFailed) as again:
        runner.track_all(None, sequences, config_lib.TrackerConfig(), tmp_path, progress=False)
    assert list(again.value.failures) == ["gone", "corrupt", "resized"]


def test_a_bug_is_not_taken_for_a_bad_sequence(monkeypatch, tmp_path):
    monkeypatch.setattr(runner, "tracker", _fake_tracker([0.9] * 5))

    def buggy():
        raise RuntimeError("a bug")

    sequences = [datasets.SequenceSource("bug", buggy), _sequence("seq_b", 3)]
    with pytest.raises(RuntimeError, match="a bug"):
        runner.track_all(None, sequences, config_lib.TrackerConfig(), tmp_path, progress=False)
    assert not (tmp_path / "seq_b.txt").exists()  # a bug stops the run at once


def test_batched_run_retries_a_failed_chunk_one_by_one(monkeypatch, tmp_path):
    calls = []

    def track_batch(weights, sequences, config, seed=0, progress=True):
        calls.append([s.name for s in sequences])
        for s in sequences:
            if s.name == "bad":
                raise runner.TrackingError("bad: frame 2 is 24x20 but the first frame is 24x16")
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
    sequences = [
        _sequence("seq_0", 3),
        datasets.SequenceSource("gone", _no_folder),
        _sequence("bad", 3),
        _sequence("seq_3", 4),
    ]
    with pytest.raises(runner.SequencesFailed) as raised:
        runner.track_all(None, sequences, config_lib.TrackerConfig(), tmp_path, batch_size=2)
    assert calls == [["seq_0", "bad"], ["seq_0"], ["bad"], ["seq_3"]]
    assert list(raised.value.failures) == ["gone", "bad"]
    assert sorted(raised.value.timings) == ["seq_0", "seq_3"]


def test_one_frame_sequence_writes_strict_json(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(runner, "tracker", _fake_tracker([]))
    timings = runner.track_all(
        None, [_sequence("single", 1)], config_lib.TrackerConfig(), tmp_path, progress=False
    )
    assert timings["single"]["fps"] is None and timings["single"]["frames"] == 1

    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    saved = json.loads((tmp_path / "timings.json").read_text(), parse_constant=refuse)
    single = saved["sequences"]["single"]
    assert single["fps"] is None and single["frame_ms_p50"] is None
    assert single["frame_ms_p90"] is None and single["frame_ms"] == []
    assert (
        "single: 1 frames, compilation 0.0 s, first frame 0.0 s, no frame tracked after the "
        "first, 0 failed frames" in capsys.readouterr().out
    )
    with pytest.raises(ValueError, match="JSON compliant"):  # a NaN never reaches the file
        runner.save_result(
            tmp_path,
            "single",
            runner.TrackResult(
                np.tile(BOX, (1, 1)), np.ones(1, np.float32), np.zeros(1, bool), 0.0, np.zeros(0)
            ),
            info={"bad": float("nan")},
        )
    assert json.loads((tmp_path / "timings.json").read_text(), parse_constant=refuse) == saved


def test_a_target_below_min_box_size_is_warned_once(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(runner, "tracker", _fake_tracker([0.9] * 5))
    config = config_lib.TrackerConfig(min_box_size=4.0)

    def with_box(name, box):
        return datasets.Sequence.from_render(
            name, 6, lambda i: np.zeros((16, 24, 3), np.uint8), init_box_xywh=box
        )

    sequences = [with_box("tiny", [5, 5, 3, 3]), with_box("thin", [5, 5, 8, 2.5])]
    sequences.append(with_box("fine", [5, 5, 4, 4]))
    with caplog.at_level(logging.WARNING):
        runner.track_all(None, sequences, config, tmp_path, progress=False)
    warned = [r.getMessage() for r in caplog.records if "min_box_size" in r.getMessage()]
    assert warned == [
        "tiny: the initial box is 3x3 pixels, smaller than min_box_size 4: the tracker tracks a "
        "4x4 box instead",
        "thin: the initial box is 8x2.5 pixels, smaller than min_box_size 4: the tracker tracks "
        "a 8x4 box instead",
    ]


def test_a_failed_or_interrupted_sequence_leaves_no_file(monkeypatch, tmp_path):
    monkeypatch.setattr(runner, "tracker", _fake_tracker([0.9] * 5))
    config = config_lib.TrackerConfig()
    videos = tmp_path / "videos"
    bad = _corrupt_at("bad", 5, 3, datasets.DatasetError("bad: frame 3 cannot be read"))
    with pytest.raises(runner.SequencesFailed):
        runner.track_all(
            None,
            [_sequence("good", 4), bad],
            config,
            tmp_path / "out",
            progress=False,
            video_dir=videos,
            video_png_frames=[1, 2],
        )
    assert sorted(p.name for p in videos.iterdir()) == [
        "good.mp4",
        "good_0001.png",
        "good_0002.png",
    ]
    # Ctrl-C in the middle of a sequence: the finished ones stay, nothing partial is left.
    stopped = _corrupt_at("stopped", 5, 2, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        runner.track_all(
            None,
            [_sequence("done", 3), stopped],
            config,
            tmp_path / "out",
            progress=False,
            video_dir=videos,
            video_png_frames=[1],
        )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "done.txt",
        "good.txt",
        "timings.json",
    ]
    assert not (videos / "stopped.mp4").exists() and not (videos / "stopped_0001.png").exists()
    assert (videos / "done.mp4").stat().st_size > 0
    assert not list(tmp_path.rglob("*.tmp"))


# Speed: the one definition (tracked.frame_times) that bin.track prints, timings.json stores,
# the report pools and benchmarks.speed measures.


def _python_speed(seconds):
    """(fps, p50 ms, p90 ms) in plain Python: frames over their summed time; the median and the
    90th percentile with linear interpolation between order statistics (``statistics``'
    "inclusive" method, which is NumPy's default)."""
    fps = len(seconds) / math.fsum(seconds)
    deciles = statistics.quantiles([1e3 * s for s in seconds], n=10, method="inclusive")
    return fps, 1e3 * statistics.median(seconds), deciles[8]


def test_frame_times_match_a_plain_python_reference():
    seconds = np.random.default_rng(0).lognormal(-2.0, 0.8, size=37).tolist()
    times = tracked.frame_times(seconds)
    fps, p50, p90 = _python_speed(seconds)
    assert times.frames == 37 and times.seconds == pytest.approx(math.fsum(seconds), rel=1e-12)
    assert times.fps == pytest.approx(fps, rel=1e-12)
    assert times.p50_ms == pytest.approx(p50, rel=1e-12)
    assert times.p90_ms == pytest.approx(p90, rel=1e-12)
    empty = tracked.frame_times([])
    assert empty.frames == 0 and all(math.isnan(v) for v in empty[2:])


def _result(step_seconds, compile_seconds, init_seconds=3.0):
    count = len(step_seconds) + 1
    return runner.TrackResult(
        np.tile(BOX, (count, 1)),
        np.ones(count, np.float32),
        np.zeros(count, bool),
        init_seconds,
        np.asarray(step_seconds, np.float64),
        compile_seconds,
    )


def test_the_first_step_is_left_out_only_when_it_compiled():
    ahead = _result([1.0, 0.1, 0.3], compile_seconds=2.0)  # compiled before tracking
    assert ahead.fps == pytest.approx(3 / 1.4) and ahead.speed.frames == 3
    on_first_call = _result([1.0, 0.1, 0.3], compile_seconds=None)  # batched driver, peers
    assert on_first_call.fps == pytest.approx(2 / 0.4) and on_first_call.speed.frames == 2


def test_timings_json_holds_each_speed_and_pools_them(tmp_path, capsys):
    first_steps = [0.2, 0.25, 1.5, 0.22]
    second_steps = [0.3, 0.1, 0.9]
    runner.save_result(tmp_path, "a", _result(first_steps, 12.5, init_seconds=4.0))
    runner.save_result(tmp_path, "b", _result(second_steps, 0.5, init_seconds=2.0))

    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    saved = json.loads((tmp_path / "timings.json").read_text(), parse_constant=refuse)
    a = saved["sequences"]["a"]
    fps, p50, p90 = _python_speed(first_steps)
    assert a["compile_seconds"] == 12.5 and a["init_seconds"] == 4.0 and a["frames"] == 5
    assert a["fps"] == pytest.approx(fps) and a["steady_frames"] == 4
    assert a["frame_ms_p50"] == pytest.approx(p50) and a["frame_ms_p90"] == pytest.approx(p90)
    assert a["steady_seconds"] == pytest.approx(math.fsum(first_steps))
    assert a["frame_ms"] == pytest.approx([1e3 * s for s in first_steps])
    out = capsys.readouterr().out
    assert (
        f"a: 5 frames, compilation 12.5 s, first frame 4.0 s, then 4 frames at {fps:.2f} fps "
        f"(p50 {p50:.0f} ms, p90 {p90:.0f} ms), 0 failed frames" in out
    )

    pooled = tracked.pool_timings(saved["sequences"])
    fps, p50, p90 = _python_speed(first_steps + second_steps)
    assert pooled.sequences == 2 and pooled.compile_seconds == pytest.approx(13.0)
    assert pooled.init_seconds == pytest.approx(6.0) and pooled.times.frames == 7
    assert pooled.times.fps == pytest.approx(fps)
    assert pooled.times.p50_ms == pytest.approx(p50) and pooled.times.p90_ms == pytest.approx(p90)
    # The report's fps column reads the same keys: the same number.
    assert report.pooled_fps(saved["sequences"]) == pytest.approx(fps)

    # An entry of an older file (no compile_seconds, no frame_ms): fps pooled, no percentiles.
    old = {"frames": 11, "init_seconds": 9.0, "steady_frames": 9, "steady_seconds": 3.0}
    pooled = tracked.pool_timings({**saved["sequences"], "old": old})
    assert pooled.times.fps == pytest.approx(16 / (math.fsum(first_steps + second_steps) + 3.0))
    assert math.isnan(pooled.times.p50_ms) and pooled.compile_seconds == pytest.approx(13.0)
    assert tracked.pool_timings({"old": old}).compile_seconds is None


def test_the_report_prints_the_pooled_speed_under_the_table(tmp_path):
    steps = {"a": [0.2, 0.25, 1.5, 0.22], "b": [0.3, 0.1, 0.9]}
    sequences = []
    for name, seconds in steps.items():
        runner.save_result(tmp_path, name, _result(seconds, 2.0, init_seconds=1.5))
        sequences.append(
            datasets.Sequence.from_render(
                name,
                len(seconds) + 1,
                lambda i: np.zeros((16, 24, 3), np.uint8),
                groundtruth_xywh=np.tile(BOX, (len(seconds) + 1, 1)),
            )
        )
    table = report.report({"TSN": tmp_path}, sequences)
    fps, p50, p90 = _python_speed(steps["a"] + steps["b"])
    assert table["TSN"].fps == pytest.approx(fps)
    assert report.format_report(table).splitlines()[-1] == (
        "speed of 2 result file(s), compilation excluded from the frames: compilation 4.0 s, "
        f"first frame 3.0 s, then 7 frames at {fps:.2f} fps (p50 {p50:.0f} ms, p90 {p90:.0f} ms)"
    )


@pytest.fixture(scope="module")
def random_weights():
    return weights_lib.random_weights("vgg16", jax.random.key(0))


class _Recorded:
    """A jitted function (``tracker.init`` / ``tracker.step``) whose lowerings and calls are
    logged as ``(what, phase, fine_tune)``, ``phase`` read from a one-item list."""

    def __init__(self, jitted, log, phase):
        self._jitted, self._log, self._phase = jitted, log, phase

    def lower(self, *args, **kwargs):
        self._log.append(("lower", self._phase[0], kwargs.get("fine_tune")))
        return self._jitted.lower(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        self._log.append(("call", self._phase[0], kwargs.get("fine_tune")))
        return self._jitted(*args, **kwargs)


def test_both_steps_compile_before_tracking_and_the_boxes_are_the_jitted_calls(
    monkeypatch, random_weights
):
    # tracker_test's tiny config and frame size, whose executables the persistent cache shares
    # with the other tests; it fine-tunes on frames 2 and 4 (temporal_update_interval=2).
    sequence = synthetic.make_sequence(num_frames=5, frame_size_wh=(96, 80), seed=0)
    phase, log, compiled_during = ["before tracking"], [], []

    def on_compile(event, duration_secs, **kwargs):
        del duration_secs, kwargs
        if event == "/jax/core/compile/backend_compile_duration":
            compiled_during.append(phase[0])

    recorded = types.SimpleNamespace(
        init=_Recorded(tracker.init, log, phase),
        step=_Recorded(tracker.step, log, phase),
        fine_tune_due=tracker.fine_tune_due,
    )
    monkeypatch.setattr(runner, "tracker", recorded)
    jax.monitoring.register_event_duration_secs_listener(on_compile)
    try:
        result = runner.track_sequence(
            random_weights,
            sequence,
            SMALL,
            seed=1,
            progress=False,
            on_frame=lambda index, frame, box: phase.__setitem__(0, "tracking"),
        )
    finally:
        jax.monitoring.unregister_event_duration_listener(on_compile)
    # init and both steps lowered and compiled before the first frame after the first; the
    # loop calls only what was compiled (no jitted call, which would compile on first use).
    assert log == [
        ("lower", "before tracking", None),
        ("lower", "before tracking", False),
        ("lower", "before tracking", True),
    ]
    assert "tracking" not in compiled_during
    assert result.compile_seconds > 0 and result.init_seconds > 0
    assert len(result.step_seconds) == 4 and result.speed.frames == 4

    # The reference: tracker.init / tracker.step called as jitted functions, frame by frame.
    frames = [sequence.frame(i) for i in range(5)]
    box = np.asarray(sequence.init_box_xywh, np.float32)
    state = tracker.init(random_weights, frames[0], box, jax.random.key(1), SMALL)
    boxes, scores = [np.asarray(sequence.init_box_xywh, np.float64)], [1.0]
    for index, frame in enumerate(frames[1:], start=1):
        fine_tune = tracker.fine_tune_due(index, SMALL)
        state, output = tracker.step(random_weights, state, frame, fine_tune=fine_tune)
        boxes.append(np.asarray(output.box_xywh, np.float64))
        scores.append(float(output.score))
    np.testing.assert_array_equal(result.boxes_xywh, np.stack(boxes))
    np.testing.assert_array_equal(result.scores, np.float32(scores))
    assert np.abs(result.boxes_xywh[1:] - result.boxes_xywh[0]).max() > 1e-3  # boxes move
