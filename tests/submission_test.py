"""Tests for tsn_jax.evaluation.submission (GOT-10k and TrackingNet server files) and
bin/submission, on tiny datasets written in each benchmark's layout.

The GOT-10k submission is read back by the got10k toolkit itself: its ``ExperimentGOT10k``
scores the written folder on a val split, and its AO, SR and per-sequence AO must equal ours
(``layouts`` + ``metrics.got10k_frame_ious`` / ``evaluate_got10k``).
"""

import json
import zipfile

import cv2
import numpy as np
import pytest

from tests import cli
from tsn_jax.evaluation import boxfiles, layouts, metrics, submission

_SIZE_WH = (40, 30)


def _write_sequence(folder, count, pattern="{:08d}.jpg"):
    folder.mkdir(parents=True, exist_ok=True)
    frame = cv2.imencode(".jpg", np.full((_SIZE_WH[1], _SIZE_WH[0], 3), 90, np.uint8))[1]
    for number in range(1, count + 1):
        (folder / pattern.format(number)).write_bytes(frame.tobytes())


def _random_boxes(rng, count):
    """0-based boxes, some crossing the frame's border."""
    xy = rng.uniform(-6, 34, (count, 2))
    return np.c_[xy, rng.uniform(4, 16, (count, 2))]


def _got10k_split(root, subset, counts, rng, full_groundtruth=True):
    """A GOT-10k split as downloaded; returns {name: 0-based ground truth}."""
    folder = root / subset
    folder.mkdir(parents=True)
    names = [f"GOT-10k_{subset.title()}_{i:06d}" for i in range(1, len(counts) + 1)]
    (folder / "list.txt").write_text("\n".join(names) + "\n")
    truth = {}
    for name, count in zip(names, counts, strict=True):
        _write_sequence(folder / name, count)
        truth[name] = _random_boxes(rng, count)
        rows = truth[name] if full_groundtruth else truth[name][:1]
        boxfiles.write_boxes(folder / name / "groundtruth.txt", rows)
        cover = rng.integers(0, 9, count)
        cover[0] = 8
        for label, values in (
            ("cover", cover),
            ("absence", cover == 0),
            ("cut_by_image", 0 * cover),
        ):
            (folder / name / f"{label}.label").write_text("".join(f"{int(v)}\n" for v in values))
        (folder / name / "meta_info.ini").write_text(
            f"[METAINFO]\nresolution: ({_SIZE_WH[0]}, {_SIZE_WH[1]})\n"
        )
    return truth


def _results(folder, predictions, runs=None):
    """Writes OTB-format result files and a timings.json as the runner does."""
    timings = {}
    for name, predicted in predictions.items():
        stems = [name] if runs is None else [f"{name}_{r:03d}" for r in runs]
        for k, stem in enumerate(stems):
            boxfiles.write_boxes(folder / f"{stem}.txt", predicted + k)
            timings[stem] = {"steady_frames": 10, "steady_seconds": 0.5 * (k + 1)}
    (folder / "timings.json").write_text(json.dumps({"sequences": timings}))


def test_got10k_submission_scored_by_the_got10k_toolkit(tmp_path):
    experiments = pytest.importorskip("got10k.experiments")
    rng = np.random.default_rng(0)
    truth = _got10k_split(tmp_path / "data", "val", [9, 14], rng)
    predictions = {n: gt + rng.normal(0, 2, gt.shape) for n, gt in truth.items()}
    _results(tmp_path / "tsn", predictions)
    sources = layouts.sources(tmp_path / "data", "got10k_val")
    frame_counts = {s.name: len(s.load()) for s in sources}
    written = submission.write_got10k(
        tmp_path / "tsn", frame_counts, tmp_path / "toolkit" / "GOT-10k" / "tsn"
    )

    experiment = experiments.ExperimentGOT10k(
        str(tmp_path / "data"), "val", str(tmp_path / "toolkit"), str(tmp_path / "reports")
    )
    theirs = experiment.report(["tsn"])["tsn"]

    per_sequence = {}
    for source in sources:
        sequence = source.load()
        predicted = boxfiles.read_boxes(tmp_path / "tsn" / f"{source.name}.txt")
        per_sequence[source.name] = metrics.got10k_frame_ious(
            predicted,
            sequence.groundtruth_xywh,
            sequence.frame_size_wh,
            layouts.target_visible(sequence),
        )
    ours = metrics.evaluate_got10k(per_sequence.values())
    assert ours.ao == pytest.approx(theirs["overall"]["ao"], abs=1e-9)
    assert ours.sr50 == pytest.approx(theirs["overall"]["sr"], abs=1e-9)
    np.testing.assert_allclose(ours.success_curve, theirs["overall"]["succ_curve"], atol=1e-9)
    for name, ious in per_sequence.items():
        assert metrics.evaluate_got10k([ious]).ao == pytest.approx(
            theirs["seq_wise"][name]["ao"], abs=1e-9
        )
    assert theirs["overall"]["speed_fps"] == pytest.approx(20.0)  # 10 steps in 0.5 s
    assert 0.2 < ours.ao < 0.95
    assert written.zip_path == tmp_path / "toolkit" / "GOT-10k" / "tsn.zip"


def test_got10k_submission_layout_and_runs(tmp_path):
    rng = np.random.default_rng(1)
    truth = _got10k_split(tmp_path / "data", "test", [6, 4], rng, full_groundtruth=False)
    frame_counts = {
        s.name: len(s.load()) for s in layouts.sources(tmp_path / "data", "got10k_test")
    }
    assert frame_counts == {"GOT-10k_Test_000001": 6, "GOT-10k_Test_000002": 4}
    predictions = {n: _random_boxes(rng, frame_counts[n]) for n in truth}
    _results(tmp_path / "tsn", predictions, runs=(1, 2, 3))
    written = submission.write_got10k(tmp_path / "tsn", frame_counts, tmp_path / "out")
    assert written.runs == {"GOT-10k_Test_000001": 3, "GOT-10k_Test_000002": 3}
    with zipfile.ZipFile(written.zip_path) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(
            f"{n}/{n}_{suffix}.txt" for n in truth for suffix in ("001", "002", "003", "time")
        )
        for name, predicted in predictions.items():
            for run in (1, 2, 3):
                text = archive.read(f"{name}/{name}_{run:03d}.txt").decode()
                rows = np.array([[float(v) for v in line.split(",")] for line in text.splitlines()])
                np.testing.assert_allclose(rows, predicted + run - 1 + [1, 1, 0, 0], atol=1e-4)
            times = archive.read(f"{name}/{name}_time.txt").decode().splitlines()
            assert len(times) == frame_counts[name]
            np.testing.assert_allclose(
                [float(v) for v in times[0].split(",")], [0.05, 0.1, 0.15], rtol=1e-7
            )


def test_got10k_submission_errors(tmp_path):
    results = tmp_path / "tsn"
    results.mkdir()
    boxfiles.write_boxes(results / "a.txt", np.ones((5, 4)))
    with pytest.raises(submission.SubmissionError, match=r"no result file .* for 1 of 2 .*: b"):
        submission.write_got10k(results, {"a": 5, "b": 5}, tmp_path / "out")
    with pytest.raises(submission.SubmissionError, match=r"a.txt: 5 rows but the sequence has 6"):
        submission.write_got10k(results, {"a": 6}, tmp_path / "out")
    with pytest.raises(submission.SubmissionError, match=r"timings.json holds no steady timing"):
        submission.write_got10k(results, {"a": 5}, tmp_path / "out")
    written = submission.write_got10k(results, {"a": 5}, tmp_path / "out", frame_seconds=0.25)
    assert (written.folder / "a" / "a_time.txt").read_text().splitlines() == ["0.25000000"] * 5
    nan_boxes = np.ones((5, 4))
    nan_boxes[3, 1] = np.nan
    boxfiles.write_boxes(results / "c.txt", nan_boxes)
    with pytest.raises(submission.SubmissionError, match=r"c.txt:4: non-finite box"):
        submission.write_got10k(results, {"c": 5}, tmp_path / "out", frame_seconds=1.0)
    boxfiles.write_boxes(results / "a_001.txt", np.ones((5, 4)))
    with pytest.raises(submission.SubmissionError, match=r"both a.txt and a_NNN.txt"):
        submission.write_got10k(results, {"a": 5}, tmp_path / "out", frame_seconds=1.0)


def test_trackingnet_submission(tmp_path):
    rng = np.random.default_rng(2)
    results = tmp_path / "tsn"
    predictions = {"-3TIfnTSM6c_2": _random_boxes(rng, 7), "ZzZ_0": _random_boxes(rng, 3)}
    _results(results, predictions, runs=(1, 2))
    counts = {name: len(boxes) for name, boxes in predictions.items()}
    with pytest.raises(submission.SubmissionError, match=r"2 runs of -3TIfnTSM6c_2; TrackingNet"):
        submission.write_trackingnet(results, counts, tmp_path / "out")
    written = submission.write_trackingnet(results, counts, tmp_path / "out", run=2)
    with zipfile.ZipFile(written.zip_path) as archive:
        assert sorted(archive.namelist()) == ["-3TIfnTSM6c_2.txt", "ZzZ_0.txt"]
        for name, predicted in predictions.items():
            rows = np.loadtxt(archive.open(f"{name}.txt"), delimiter=",", ndmin=2)
            np.testing.assert_allclose(rows, predicted + 1 + [1, 1, 0, 0], atol=1e-4)
    with pytest.raises(
        submission.SubmissionError, match=r"no run 3 of -3TIfnTSM6c_2 \(-3TIfnTSM6c_2_003.txt\)"
    ):
        submission.write_trackingnet(results, counts, tmp_path / "out", run=3)


def test_submission_command(tmp_path):
    """bin.submission: the TrackingNet layout in, the zip out."""
    test = tmp_path / "TrackingNet" / "TEST"
    _write_sequence(test / "frames" / "seq_a", 5, "{}.jpg")
    boxfiles.write_boxes(test / "anno" / "seq_a.txt", np.array([[3.0, 4.0, 10.0, 8.0]]))
    boxfiles.write_boxes(tmp_path / "tsn" / "seq_a.txt", np.tile([3.0, 4.0, 10.0, 8.0], (5, 1)))
    done = cli.run_module(
        "bin.submission",
        "--benchmark=trackingnet",
        f"--dataset_dir={tmp_path / 'TrackingNet'}",
        f"--results_dir={tmp_path / 'tsn'}",
    )
    assert done.returncode == 0, done.stderr
    zip_path = tmp_path / "tsn_trackingnet_submission.zip"
    assert f"upload {zip_path}" in done.stdout
    with zipfile.ZipFile(zip_path) as archive:
        assert archive.namelist() == ["seq_a.txt"]
        assert archive.read("seq_a.txt").decode().splitlines()[0] == "4.0000,5.0000,10.0000,8.0000"


def test_benchmark_flag_rejects_a_misspelled_benchmark():
    from absl import flags

    from bin import dataset_flags

    parser = flags.FLAGS[dataset_flags.BENCHMARK.name].parser  # absl's enum parser
    assert parser.parse("got10k_val") == "got10k_val"
    with pytest.raises(ValueError, match=r"one of <otb100\|otb2013\|tb50\|uav123"):
        parser.parse("got10k_vall")
