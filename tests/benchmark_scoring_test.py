"""``--benchmark`` from the command line: bin.track chooses the benchmark's sequences and
bin.track / bin.evaluate score each benchmark with its own metric (LaSOT, GOT-10k; a
server-scored benchmark points to bin.submission), on tiny datasets written here in each
benchmark's layout. The figures are checked against float64 NumPy written here from the
benchmarks' toolkits (LaSOT's calc_seq_err_robust.m) and against the got10k toolkit's own
``rect_iou``. Also ``--init_box_origin`` and the first-box check of the layouts.
"""

import json
import os

import cv2
import numpy as np
import pytest
from absl.testing import flagsaver

from bin import track
from tests import cli
from tsn_jax.evaluation import datasets, layouts

FRAME_WH = (48, 32)


def _frames(folder, count, pattern="{:08d}.jpg"):
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(1, count + 1):
        image = np.full((FRAME_WH[1], FRAME_WH[0], 3), 9 * number % 256, np.uint8)
        assert cv2.imwrite(str(folder / pattern.format(number)), image)


def _write_rows(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join(f"{v:g}" for v in row) + "\n" for row in rows))


def _read_rows(path):
    return np.array([[float(v) for v in line.split(",")] for line in path.read_text().split()])


# ---------------------------------------------------------------------------------------------
# LaSOT: bin.evaluate on hand-written results.


def _lasot_reference(predicted, groundtruth, visible):
    """(AUC, precision@20, normalised precision@0.2) of LaSOT's toolkit: absent frames are
    failures at every threshold; float64 loops over 1-based boxes."""
    ious, errors, normalized = [], [], []
    for p, g, seen in zip(predicted, groundtruth, visible, strict=True):
        if not seen:
            ious.append(-1.0)
            errors.append(np.inf)
            normalized.append(np.inf)
            continue
        w = max(0.0, min(p[0] + p[2], g[0] + g[2]) - max(p[0], g[0]))
        h = max(0.0, min(p[1] + p[3], g[1] + g[3]) - max(p[1], g[1]))
        ious.append(w * h / (p[2] * p[3] + g[2] * g[3] - w * h))
        dx, dy = p[0] + p[2] / 2 - g[0] - g[2] / 2, p[1] + p[3] / 2 - g[1] - g[3] / 2
        errors.append(np.hypot(dx, dy))
        normalized.append(np.hypot(dx / g[2], dy / g[3]))
    ious, errors, normalized = map(np.array, (ious, errors, normalized))
    auc = np.mean([np.mean(ious > t) for t in np.linspace(0, 1, 21)])
    return auc, np.mean(errors <= 20), np.mean(normalized <= 0.2)


def test_lasot_scored_with_its_metric_by_the_evaluate_command(tmp_path):
    root, results = tmp_path / "LaSOT", tmp_path / "tsn_lasot"
    rng = np.random.default_rng(3)
    expected = []
    flags = {  # name: (full_occlusion, out_of_view), one 0/1 flag per frame
        "airplane-1": ([0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 1]),
        "basketball-6": ([0, 0, 0, 0], [0, 0, 0, 0]),
    }
    for name, (occluded, out_of_view) in flags.items():
        folder = root / name.split("-")[0] / name
        count = len(occluded)
        _frames(folder / "img", count)
        groundtruth = np.c_[rng.uniform(3, 20, (count, 2)), rng.uniform(6, 12, (count, 2))]
        groundtruth = np.round(groundtruth, 2)
        _write_rows(folder / "groundtruth.txt", groundtruth)
        (folder / "full_occlusion.txt").write_text(",".join(map(str, occluded)))
        (folder / "out_of_view.txt").write_text(",".join(map(str, out_of_view)))
        noise = rng.normal(0, 3, groundtruth.shape) * [1, 1, 0.3, 0.3]
        predicted = np.round(groundtruth + noise, 2)
        _write_rows(results / f"{name}.txt", predicted)
        visible = (np.array(occluded) == 0) & (np.array(out_of_view) == 0)
        expected.append(_lasot_reference(predicted, groundtruth, visible))

    done = cli.run_module(
        "bin.evaluate",
        "--benchmark=lasot",
        f"--dataset_dir={root}",
        f"--results_dir={results}",
        "--sequences=airplane-1,basketball-6",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["sequence", "frames", "AUC", "prec@20", "norm.prec"]
    overall = next(line for line in lines if line.startswith("overall")).split()
    np.testing.assert_allclose(
        [float(v) for v in overall[2:]], np.mean(expected, axis=0), rtol=0, atol=5e-4
    )
    summary = json.loads((results / "summary.json").read_text())
    assert summary["metric"] == "lasot"
    np.testing.assert_allclose(
        [summary["overall"][k] for k in ("auc", "precision20", "normalized_precision")],
        np.mean(expected, axis=0),
        rtol=0,
        atol=1e-12,
    )
    for png in ("success_plot.png", "precision_plot.png", "normalized_precision_plot.png"):
        assert (results / png).stat().st_size > 1000


# ---------------------------------------------------------------------------------------------
# GOT-10k: bin.track (a stand-in tracker: the initial box kept) with two runs, then scored.


def _got10k_val(root, rng):
    """Two val sequences, boxes partly outside the frame (the toolkit clips them), some frames
    with cover 0; returns {name: (1-based ground truth, cover)}."""
    written = {}
    (root / "val").mkdir(parents=True)
    names = ["GOT-10k_Val_000001", "GOT-10k_Val_000002"]
    (root / "val" / "list.txt").write_text("\n".join(names) + "\n")
    for name, count in zip(names, (5, 4), strict=True):
        folder = root / "val" / name
        _frames(folder, count)
        xy = np.array([10.0, 8.0]) + rng.uniform(-3, 3, (count, 2))
        xy[0] = [10, 8]  # the first box inside the frame; the stand-in keeps it
        xy[2] = [-6, 6]  # partly left of the frame: clipped
        wh = np.array([14.0, 12.0]) + rng.uniform(-2, 2, (count, 2))
        groundtruth = np.round(np.c_[xy, wh], 2)
        cover = rng.integers(0, 9, count)
        cover[1] = 0
        _write_rows(folder / "groundtruth.txt", groundtruth)
        (folder / "cover.label").write_text("".join(f"{c}\n" for c in cover))
        written[name] = (groundtruth, cover)
    return written


def test_got10k_val_tracked_with_runs_and_scored_with_ao(tmp_path):
    rect_iou = pytest.importorskip("got10k.utils.metrics").rect_iou
    root, out = tmp_path / "GOT-10k", tmp_path / "tsn_got10k"
    written = _got10k_val(root, np.random.default_rng(5))
    done = cli.run_module(
        "tests.stand_in_track",
        "--benchmark=got10k_val",
        f"--dataset_dir={root}",
        f"--output_dir={out}",
        "--runs=2",
        "--noprogress",
    )
    assert done.returncode == 0, done.stderr
    # The command set the persistent compilation cache (tests/conftest.py's folder) first.
    assert f"Compilation cache: {os.environ['JAX_COMPILATION_CACHE_DIR']}" in done.stderr
    assert sorted(p.name for p in out.glob("*.txt")) == [
        f"{name}_{run:03d}.txt" for name in written for run in (1, 2)
    ]
    ious = []  # the got10k toolkit's: rect_iou of frames 1.. clipped to the frame, cover > 0
    for name, (groundtruth, cover) in written.items():
        for run in (1, 2):
            predicted = _read_rows(out / f"{name}_{run:03d}.txt")
            iou = rect_iou(predicted[1:].copy(), groundtruth[1:].copy(), bound=FRAME_WH)
            ious.append(iou[cover[1:] > 0])
    ious = np.concatenate(ious)
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("sequence"))
    assert header.split() == ["sequence", "frames", "AO", "SR0.5", "SR0.75"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metric"] == "got10k" and summary["runs"] == 2
    np.testing.assert_allclose(
        [summary["mean"][k] for k in ("ao", "sr50", "sr75")],
        [ious.mean(), np.mean(ious > 0.5), np.mean(ious > 0.75)],
        rtol=0,
        atol=1e-9,
    )
    assert summary["std"]["ao"] == 0.0  # the stand-in answers the same boxes in both runs
    assert (out / "success_plot.png").stat().st_size > 1000


# ---------------------------------------------------------------------------------------------
# Server-scored benchmarks, and what --benchmark does not go with.


def _got10k_test(root):
    folder = root / "test" / "GOT-10k_Test_000001"
    _frames(folder, 3)
    _write_rows(folder / "groundtruth.txt", [[10, 8, 12, 9]])
    (root / "test" / "list.txt").write_text("GOT-10k_Test_000001\n")


def test_a_server_scored_benchmark_points_to_the_submission_command(tmp_path, capsys):
    root, results = tmp_path / "GOT-10k", tmp_path / "res"
    _got10k_test(root)
    results.mkdir()
    done = cli.run_module(
        "bin.evaluate",
        "--benchmark=got10k_test",
        f"--dataset_dir={root}",
        f"--results_dir={results}",
    )
    assert done.returncode == 3, done.stderr
    assert "--benchmark=got10k_test has no ground truth here" in done.stderr
    assert f"python -m bin.submission --benchmark=got10k_test --dataset_dir={root}" in done.stderr
    assert "Traceback" not in done.stderr
    with flagsaver.flagsaver(benchmark="got10k_test", dataset_dir=str(root)):
        assert track._report(track.sources_from_flags(), results) == {}
    assert "python -m bin.submission --benchmark=got10k_test" in capsys.readouterr().out
    # bin.submission itself: results that cannot make a submission are an input error (3),
    # said without a traceback (bin/errors.py).
    done = cli.run_module(
        "bin.submission",
        "--benchmark=got10k_test",
        f"--dataset_dir={root}",
        f"--results_dir={results}",
    )
    assert done.returncode == 3, done.stderr
    assert f"Error: {results}: no result file" in done.stderr
    assert "Traceback" not in done.stderr


def test_benchmark_is_refused_with_a_video_or_the_demo(tmp_path):
    for other in ({"video": str(tmp_path)}, {"demo": True}):
        with flagsaver.flagsaver(benchmark="otb100", **other):
            with pytest.raises(track.app.UsageError, match="does not go with --video or --demo"):
                track.sources_from_flags()


def test_benchmark_chooses_the_sequences(tmp_path):
    root = tmp_path / "GOT-10k"
    written = _got10k_val(root, np.random.default_rng(6))
    with flagsaver.flagsaver(benchmark="got10k_val", dataset_dir=str(root)):
        assert [s.name for s in track.sources_from_flags()] == list(written)
    with flagsaver.flagsaver(
        benchmark="got10k_val", dataset_dir=str(root), sequences=["GOT-10k_Val_000002"]
    ):
        (source,) = track.sources_from_flags()
        loaded = source.load()
        np.testing.assert_array_equal(loaded.target_visible, written[source.name][1] > 0)


# ---------------------------------------------------------------------------------------------
# --init_box_origin and the layouts' first-box check.


def test_init_box_origin(tmp_path):
    one_based = track.init_box_one_based(["11", "9", "12", "8"], origin=1)
    np.testing.assert_array_equal(one_based, [11, 9, 12, 8])
    # cv2.selectROI's (10, 8, 12, 8) is the same box.
    np.testing.assert_array_equal(track.init_box_one_based(["10", "8", "12", "8"], 0), one_based)
    with pytest.raises(datasets.DatasetError, match=r"--init_box: initial box 0,0,0,5 \(0-based"):
        track.init_box_one_based(["0", "0", "0", "5"], origin=0)
    with pytest.raises(track.app.UsageError, match="needs --init_box=x,y,w,h \\(0-based\\)"):
        track.init_box_one_based(["1", "2"], origin=0)
    _frames(tmp_path / "clip", 2)
    for origin, box in ((0, ["10", "8", "12", "8"]), (1, ["11", "9", "12", "8"])):
        with flagsaver.flagsaver(
            video=str(tmp_path / "clip"), init_box=box, init_box_origin=origin
        ):
            (sequence,) = track.sources_from_flags()
            np.testing.assert_array_equal(sequence.init_box_xywh, [10, 8, 12, 8])  # 0-based
    with pytest.raises(flagsaver.flags.IllegalFlagValueError):
        with flagsaver.flagsaver(init_box_origin=2):
            pass


def test_a_layouts_first_box_error_says_what_is_wrong(tmp_path):
    root = tmp_path / "GOT-10k"
    folder = root / "val" / "GOT-10k_Val_000001"
    _frames(folder, 2)
    _write_rows(folder / "groundtruth.txt", [[3, 4, 0, 6], [3, 4, 5, 6]])
    (folder / "cover.label").write_text("8\n8\n")
    (root / "val" / "list.txt").write_text("GOT-10k_Val_000001\n")
    (source,) = layouts.sources(root, "got10k_val")
    with pytest.raises(datasets.DatasetError) as raised:
        source.load()
    assert str(raised.value) == (
        f"{folder / 'groundtruth.txt'}:1: initial box 3,4,0,6 (1-based x, y, w, h) cannot start "
        "tracking: its width is 0, and a target needs a width > 0"
    )
