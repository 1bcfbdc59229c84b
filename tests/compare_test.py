"""bin.evaluate comparing result folders: ours (with ``timings.json``, one of them with three
runs) beside another tracker's raw OTB-format files (no ``timings.json``), in ONE table ranked
by AUC with one success and one precision plot; ``NAME=FOLDER`` entries; the command's help.

The AUCs are checked against float64 NumPy written here from the OTB definitions.
"""

import json

import cv2
import numpy as np
import pytest

from bin import evaluate
from tests import cli

GT_ONE_BASED = np.array([[5, 5, 10, 8], [6, 5, 10, 8], [8, 6, 10, 8], [9, 7, 11, 9.0]])


def _auc(predicted, groundtruth):
    """OTB success AUC of one sequence: 21 IoU thresholds, float64."""
    p, g = predicted, groundtruth
    w = np.clip(
        np.minimum(p[:, 0] + p[:, 2], g[:, 0] + g[:, 2]) - np.maximum(p[:, 0], g[:, 0]), 0, None
    )
    h = np.clip(
        np.minimum(p[:, 1] + p[:, 3], g[:, 1] + g[:, 3]) - np.maximum(p[:, 1], g[:, 1]), 0, None
    )
    iou = w * h / (p[:, 2] * p[:, 3] + g[:, 2] * g[:, 3] - w * h)
    return np.mean([np.mean(iou > t) for t in np.linspace(0, 1, 21)])


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join(f"{v:g}" for v in row) + "\n" for row in rows))


@pytest.fixture
def three_folders(tmp_path):
    """A dataset of a and b; folders tsn (3 runs, timings), csrt (timings), raw (no timings).
    Returns (dataset, {name: folder}, {name: reference AUC})."""
    dataset = tmp_path / "data"
    for name in ("a", "b"):
        (dataset / name / "img").mkdir(parents=True)
        for i in range(len(GT_ONE_BASED)):
            image = np.full((32, 48, 3), 30 * i, np.uint8)
            assert cv2.imwrite(str(dataset / name / "img" / f"{i + 1:04d}.png"), image)
        _write(dataset / name / "groundtruth_rect.txt", GT_ONE_BASED)
    shifts = {  # folder -> [{sequence: x shift}] per run
        "tsn": [{"a": 1.0, "b": 0.0}, {"a": 2.0, "b": 1.0}, {"a": 0.5, "b": 3.0}],
        "csrt": [{"a": 4.0, "b": 2.0}],
        "raw": [{"a": 6.0, "b": 5.0}],
    }
    folders, expected = {}, {}
    for folder_name, runs in shifts.items():
        folder = tmp_path / folder_name
        run_aucs = []
        for run, by_sequence in enumerate(runs, start=1):
            for sequence, shift in by_sequence.items():
                stem = sequence if len(runs) == 1 else f"{sequence}_{run:03d}"
                _write(folder / f"{stem}.txt", GT_ONE_BASED + [shift, 0, 0, 0])
            run_aucs.append(
                np.mean(
                    [_auc(GT_ONE_BASED + [s, 0, 0, 0], GT_ONE_BASED) for s in by_sequence.values()]
                )
            )
        if folder_name != "raw":  # timings.json as the runner writes it: 3 steady steps of 0.5 s
            entries = {
                p.stem: {"steady_frames": 3, "steady_seconds": 1.5} for p in folder.glob("*.txt")
            }
            (folder / "timings.json").write_text(json.dumps({"sequences": entries}))
        folders[folder_name] = folder
        expected[folder_name] = (
            np.mean(run_aucs),
            np.std(run_aucs, ddof=1) if len(runs) > 1 else None,
        )
    return dataset, folders, expected


def test_three_folders_one_ranked_table_and_plots(three_folders, tmp_path):
    dataset, folders, expected = three_folders
    comparison = tmp_path / "comparison"
    done = cli.run_module(
        "bin.evaluate",
        f"--dataset_dir={dataset}",
        f"--results_dir=TSN={folders['tsn']},CSRT={folders['csrt']},{folders['raw']}",
        f"--comparison_dir={comparison}",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["tracker", "runs", "AUC", "prec@20", "OP50", "CLE", "fps"]
    rows = {line.split()[0]: line for line in lines[1:4]}
    names = {"TSN": "tsn", "CSRT": "csrt", "raw": "raw"}  # an unnamed folder: its own name
    ranked = sorted(names, key=lambda n: -expected[names[n]][0])
    assert [line.split()[0] for line in lines[1:4]] == ranked
    mean, std = expected["tsn"]
    assert rows["TSN"].split()[1:5] == ["3", f"{mean:.3f}", "±", f"{std:.3f}"]
    assert rows["CSRT"].split()[1:3] == ["1", f"{expected['csrt'][0]:.3f}"]
    assert rows["CSRT"].split()[-1] == "2.00" and rows["raw"].split()[-1] == "-"  # no timings
    saved = json.loads((comparison / "benchmark.json").read_text())
    assert list(saved) == ["TSN", "CSRT", "raw"]
    assert saved["raw"]["fps"] is None and saved["TSN"]["runs"] == 3
    assert saved["TSN"]["std"]["auc"] == pytest.approx(std, abs=1e-12)
    for png in ("success_plot.png", "precision_plot.png"):
        assert (comparison / png).stat().st_size > 1000
    for folder in folders.values():  # each folder's own summary
        assert json.loads((folder / "summary.json").read_text())["overall"]["num_frames"] == 8


def test_named_folders():
    assert evaluate.named_folders(["a=/r/x", "/r/y", "b=/r/w=1"]) == {
        "a": "/r/x",
        "y": "/r/y",
        "b": "/r/w=1",
    }
    assert evaluate.named_folders(["/r/y"], plot_name="TSN") == {"TSN": "/r/y"}
    for bad, said in (
        ([], "at least one folder"),
        (["=/r/x"], "needs a name"),
        (["a="], "names no folder"),
        (["/r/x", "/s/x"], "two folders named 'x'"),
    ):
        with pytest.raises(evaluate.app.UsageError, match=said):
            evaluate.named_folders(bad)


def test_a_missing_results_folder_is_named(three_folders, tmp_path):
    dataset, folders, _ = three_folders
    typo = tmp_path / "typo"
    with pytest.raises(evaluate.report.ReportError, match=f"results folder missing: {typo}"):
        evaluate.evaluate_dirs(str(dataset), {"tsn": folders["tsn"], "typo": typo})


def test_help_shows_the_dataset_flags():
    short = cli.run_module("bin.evaluate", "--help")
    assert short.returncode == 0, short.stderr
    for flag in ("--dataset_dir", "--benchmark", "--sequences", "--results_dir"):
        assert flag in short.stdout
    assert "--verbosity" not in short.stdout  # absl's own flags stay in --helpfull


def test_a_folder_that_cannot_take_a_summary_is_still_compared(three_folders, tmp_path, caplog):
    dataset, folders, expected = three_folders
    (folders["raw"] / "summary.json").mkdir()  # stands for a read-only folder of published results
    table = evaluate.evaluate_dirs(str(dataset), folders, comparison_dir=str(tmp_path / "c"))
    assert table["raw"].overall.auc == pytest.approx(expected["raw"][0], abs=1e-12)
    assert f"summary.json not written to {folders['raw']}" in caplog.text
    assert json.loads((tmp_path / "c" / "benchmark.json").read_text())["raw"]["fps"] is None
