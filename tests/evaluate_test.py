"""Tests for bin/evaluate.py: evaluate_dir on a hand-built OTB folder and on the real sequences.

The reference numbers are computed here, in float64 NumPy, from the text files themselves (own
parser, explicit IoU and centre formulas), independently of tsn_jax.evaluation's metrics,
boxfiles and report.
"""

import json
import logging
import pathlib
import re

import cv2
import numpy as np
import pytest

from bin import evaluate
from tests import cli
from tsn_jax.evaluation import boxfiles, metrics, report


def _parse(path):
    """Rows of a 1-based x,y,w,h text file -> [T, 4] float64 (origin kept: it cancels out)."""
    lines = pathlib.Path(path).read_text().strip().splitlines()
    return np.array([[float(v) for v in re.split(r"[,\s]+", ln.strip())] for ln in lines])


def _reference(predicted, groundtruth):
    """(auc, prec@20, op50, cle, success[21], precision[51], frames) from the OTB definitions."""
    valid = np.isfinite(groundtruth).all(1) & (groundtruth[:, 2] > 0) & (groundtruth[:, 3] > 0)
    p, g = predicted[valid], groundtruth[valid]
    iw = np.maximum(
        0, np.minimum(p[:, 0] + p[:, 2], g[:, 0] + g[:, 2]) - np.maximum(p[:, 0], g[:, 0])
    )
    ih = np.maximum(
        0, np.minimum(p[:, 1] + p[:, 3], g[:, 1] + g[:, 3]) - np.maximum(p[:, 1], g[:, 1])
    )
    inter = iw * ih
    iou = inter / (p[:, 2] * p[:, 3] + g[:, 2] * g[:, 3] - inter)
    err = np.hypot(
        p[:, 0] + p[:, 2] / 2 - g[:, 0] - g[:, 2] / 2, p[:, 1] + p[:, 3] / 2 - g[:, 1] - g[:, 3] / 2
    )
    success = np.array([np.mean(iou > t) for t in np.linspace(0, 1, 21)])
    precision = np.array([np.mean(err <= t) for t in range(51)])
    return (
        success.mean(),
        precision[20],
        np.mean(iou > 0.5),
        err.mean(),
        success,
        precision,
        len(iou),
    )


def _write_sequence(root, name, groundtruth_one_based, size_wh=(48, 32)):
    folder = root / name
    (folder / "img").mkdir(parents=True)
    for i in range(len(groundtruth_one_based)):
        image = np.full((size_wh[1], size_wh[0], 3), 40 * i % 255, dtype=np.uint8)
        assert cv2.imwrite(str(folder / "img" / f"{i + 1:04d}.jpg"), image)
    text = "".join(",".join(f"{v:g}" for v in row) + "\n" for row in groundtruth_one_based)
    (folder / "groundtruth_rect.txt").write_text(text.replace("nan", "NaN"))


@pytest.fixture
def tiny(tmp_path):
    """Dataset with seq_a, seq_b (a NaN row) and seq_c; result files for seq_a and seq_b."""
    dataset = tmp_path / "dataset"
    gt_a = np.array([[5, 5, 10, 8], [6, 5, 10, 8], [8, 6, 10, 8], [9, 7, 11, 9], [10, 8, 12, 9.0]])
    gt_b = np.array([[20, 10, 6, 6], [21, 10, 6, 6], [np.nan] * 4, [23, 11, 6, 6.0]])
    gt_c = np.array([[1, 1, 4, 4], [2, 2, 4, 4.0]])
    _write_sequence(dataset, "seq_a", gt_a)
    _write_sequence(dataset, "seq_b", gt_b)
    _write_sequence(dataset, "seq_c", gt_c)
    out = tmp_path / "my_tracker"
    out.mkdir()
    # Result text written by hand, 1-based like OTB, with a tab-separated file among them.
    pred_a = gt_a + np.array(
        [[0, 0, 0, 0], [1, 0, 0, 0], [3, 2, 0, 0], [30, 0, 0, 0], [1, 1, 2, 2.0]]
    )
    pred_b = np.array([[20, 10, 6, 6], [25, 12, 7, 5], [0, 0, 3, 3], [23.5, 11, 6, 6.0]])
    (out / "seq_a.txt").write_text("".join(",".join(map(str, r)) + "\n" for r in pred_a))
    (out / "seq_b.txt").write_text("".join("\t".join(map(str, r)) + "\n" for r in pred_b))
    return dataset, out, {"seq_a": (pred_a, gt_a), "seq_b": (pred_b, gt_b)}


def test_evaluate_dir_tiny(tiny, caplog):
    dataset, out, pairs = tiny
    with caplog.at_level(logging.WARNING):
        scored, overall, unscored = evaluate.evaluate_dir(dataset, out)
    assert "seq_c" in caplog.text  # the missing result file is named.
    assert unscored == {}
    assert list(scored) == ["seq_a", "seq_b"]
    for name, (pred, gt) in pairs.items():
        auc, prec20, op50, cle, success, precision, frames = _reference(pred, gt)
        s = scored[name]
        np.testing.assert_allclose(s.success_curve, success, atol=1e-12)
        np.testing.assert_allclose(s.precision_curve, precision, atol=1e-12)
        assert (s.auc, s.precision20, s.op50, s.num_frames) == pytest.approx(
            (auc, prec20, op50, frames), abs=1e-12
        )
        assert s.cle == pytest.approx(cle, rel=1e-12)
    assert scored["seq_b"].num_frames == 3  # the NaN row is skipped.
    refs = [_reference(*pairs[n]) for n in ("seq_a", "seq_b")]
    assert overall.auc == pytest.approx(np.mean([r[0] for r in refs]), abs=1e-12)
    assert overall.cle == pytest.approx(np.mean([r[3] for r in refs]), rel=1e-12)

    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["sequences"]) == {"seq_a", "seq_b"}
    assert summary["overall"]["auc"] == pytest.approx(overall.auc, abs=1e-12)
    assert summary["sequences"]["seq_a"]["cle"] == pytest.approx(scored["seq_a"].cle)
    for png in ("success_plot.png", "precision_plot.png"):
        assert (out / png).stat().st_size > 1000
    assert not list(out.glob("*.tmp"))


def test_evaluate_dir_names_and_errors(tiny, tmp_path):
    dataset, out, pairs = tiny
    scored, _, _ = evaluate.evaluate_dir(dataset, out, names=["seq_b"])
    assert list(scored) == ["seq_b"]
    with pytest.raises(report.ReportError, match="no result file"):
        evaluate.evaluate_dir(dataset, out, names=["seq_c"])
    # A bad result file is listed with its error; the others are still scored.
    (out / "seq_a.txt").write_text("1,2,3,4\n")
    scored, overall, unscored = evaluate.evaluate_dir(dataset, out)
    assert list(scored) == ["seq_b"] and list(unscored) == ["seq_a"]
    assert re.fullmatch(r".*seq_a\.txt \(seq_a\): 1 predicted boxes but 5 .*", unscored["seq_a"])
    assert overall.auc == pytest.approx(_reference(*pairs["seq_b"])[0], abs=1e-12)
    (out / "seq_a.txt").write_text("1,2,3,4\n1,2,3\n")
    _, _, unscored = evaluate.evaluate_dir(dataset, out)
    assert re.fullmatch(r".*seq_a\.txt:2: expected 4 values, got 3: '1,2,3'", unscored["seq_a"])
    # So is a sequence folder that cannot be loaded.
    (dataset / "seq_c" / "groundtruth_rect.txt").write_text("1,1,0,4\n2,2,4,4\n")
    _, _, unscored = evaluate.evaluate_dir(dataset, out)
    assert list(unscored) == ["seq_c", "seq_a"]
    assert "groundtruth_rect.txt:1: initial box 1,1,0,4" in unscored["seq_c"]


def test_command_line(tiny):
    """One run: seq_b scored, seq_c without a result file (a warning), seq_a's result file one
    row short: listed at the end, exit status 4."""
    dataset, out, _ = tiny
    (out / "seq_a.txt").write_text("1,2,3,4\n")
    proc = cli.run_module("bin.evaluate", f"--dataset_dir={dataset}", f"--results_dir={out}")
    assert proc.returncode == 4, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:2] == ["sequence", "frames"]
    assert [line.split()[0] for line in lines[2:-3]] == ["seq_b"]
    assert lines[-2].startswith("overall")
    assert "seq_c" in proc.stderr
    assert proc.stderr.splitlines()[-2:] == [
        "1 sequence(s) could not be scored:",
        f"  seq_a: {out / 'seq_a.txt'} (seq_a): 1 predicted boxes but 5 ground-truth boxes",
    ]
    assert "Traceback" not in proc.stderr
    assert list(json.loads((out / "summary.json").read_text())["sequences"]) == ["seq_b"]


def test_real_sequences_with_perturbed_groundtruth(data_dir, tmp_path):
    """Ground truth shifted and rescaled as results: matches the reference to 3 decimals."""
    names = sorted(p.name for p in data_dir.iterdir() if (p / "img").is_dir())
    assert len(names) >= 15
    expected = {}
    for k, name in enumerate(names):
        gt = _parse(data_dir / name / "groundtruth_rect.txt")
        perturbed = gt + np.array([3.0 + k % 4, -2.0, 0.1 * gt[0, 2], -0.05 * gt[0, 3]])
        boxfiles.write_boxes(tmp_path / f"{name}.txt", perturbed - np.array([1, 1, 0, 0]))
        # Reference from the text as written (4 decimals), parsed here.
        expected[name] = _reference(_parse(tmp_path / f"{name}.txt"), gt)
    scored, overall, unscored = evaluate.evaluate_dir(data_dir, tmp_path, plot_name="perturbed")
    assert unscored == {}
    assert sorted(scored) == names
    for name, (auc, prec20, op50, cle, *_, frames) in expected.items():
        s = scored[name]
        assert s.num_frames == frames
        np.testing.assert_allclose(
            [s.auc, s.precision20, s.op50, s.cle], [auc, prec20, op50, cle], rtol=0, atol=5e-4
        )
    ref = np.array([v[:4] for v in expected.values()])
    np.testing.assert_allclose(
        [overall.auc, overall.cle],
        [np.mean([v[4] for v in expected.values()], axis=0).mean(), ref[:, 3].mean()],
        rtol=0,
        atol=5e-4,
    )
    assert overall.num_frames == sum(v[6] for v in expected.values())
    assert scored["uav123_car14"].num_frames == 443 - 25  # its NaN rows are skipped.
    assert 0.3 < overall.auc < 0.95  # the perturbation leaves a non-trivial score.
    assert metrics.format_table(scored, overall).splitlines()[-1].startswith("overall")
