"""Tests for tsn_jax.evaluation.report: several result folders in one table, summary.json per
folder, benchmark.json and one plot curve per tracker (one folder: see evaluate_test.py)."""

import json
import math

import numpy as np
import pytest

from tsn_jax.evaluation import boxfiles, datasets, report, runner

GT = np.array([[5, 5, 10, 8], [6, 5, 10, 8], [8, 6, 10, 8]], np.float64)  # 0-based


def _sequence(name):
    return datasets.Sequence.from_render(
        name, len(GT), lambda i: np.zeros((32, 48, 3), np.uint8), GT
    )


def _folder(root, name, shifts, steady_seconds=2.0):
    folder = root / name
    for sequence, shift in shifts.items():
        boxfiles.write_boxes(folder / f"{sequence}.txt", GT + [shift, 0, 0, 0])
        result = runner.TrackResult(
            GT + [shift, 0, 0, 0],
            np.ones(3, np.float32),
            np.zeros(3, bool),
            1.0,
            np.array([5.0, steady_seconds]),
        )
        runner.save_result(folder, sequence, result)
    return folder


def test_several_folders_one_table(tmp_path):
    sequences = [_sequence("a"), _sequence("b")]
    folders = {
        "exact": _folder(tmp_path, "exact", {"a": 0, "b": 0}),
        "shifted": _folder(tmp_path, "shifted", {"a": 3, "b": 6}, steady_seconds=0.5),
        "partial": _folder(tmp_path, "partial", {"a": 0}),
    }
    table = report.report(folders, sequences, tmp_path / "out")
    assert list(table) == ["exact", "shifted"]  # "partial" lacks b: left out
    assert table["exact"].overall.auc == pytest.approx(20 / 21)  # IoU 1 > every threshold < 1
    assert table["shifted"].overall.auc < 1.0
    assert table["exact"].fps == pytest.approx(0.5) and table["shifted"].fps == pytest.approx(2.0)
    for name in ("exact", "shifted"):
        summary = json.loads((folders[name] / "summary.json").read_text())
        assert list(summary["sequences"]) == ["a", "b"]
    saved = json.loads((tmp_path / "out" / "benchmark.json").read_text())
    assert saved["shifted"]["overall"]["auc"] == pytest.approx(table["shifted"].overall.auc)
    for png in ("success_plot.png", "precision_plot.png"):
        assert (tmp_path / "out" / png).stat().st_size > 1000
    lines = report.format_report(table).splitlines()
    assert lines[0].split() == ["tracker", "AUC", "prec@20", "OP50", "CLE", "fps"]
    assert lines[1].startswith("exact") and lines[2].startswith("shifted")
    assert report.format_report({"exact": table["exact"]}).splitlines()[0].startswith("sequence")


def test_what_cannot_be_reported(tmp_path):
    folder = _folder(tmp_path, "t", {"a": 0})
    with pytest.raises(ValueError, match="output_dir"):
        report.report({"t": folder, "u": folder}, [_sequence("a")])
    with pytest.raises(report.ReportError, match="no result file"):
        report.report({"t": folder}, [_sequence("zz")])
    no_truth = datasets.Sequence.from_render(
        "a", 3, lambda i: np.zeros((8, 8, 3), np.uint8), init_box_xywh=GT[0]
    )
    assert report.report({"t": folder}, [no_truth]) == {}
    assert math.isnan(report.pooled_fps({}))


def _strict(text):
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_what_cannot_be_scored_is_listed_and_the_rest_scored(tmp_path):
    folder = _folder(tmp_path, "t", {"a": 0, "b": 2, "c": 0})
    boxfiles.write_boxes(folder / "b.txt", GT[:2])  # one row short
    (folder / "c.txt").write_text("1,2,3,4\n1,2,x,4\n")  # not a number

    def gone():
        raise datasets.DatasetError("/data/d: sequence folder is missing")

    sources = [
        datasets.SequenceSource("a", lambda: _sequence("a")),
        _sequence("b"),
        _sequence("c"),
        datasets.SequenceSource("d", gone),
    ]
    table = report.report({"t": folder}, sources)
    assert list(table["t"].sequences) == ["a"]
    assert table["t"].unscored == {
        "d": "/data/d: sequence folder is missing",
        "b": f"{folder / 'b.txt'} (b): 2 predicted boxes but 3 ground-truth boxes",
        "c": f"{folder / 'c.txt'}:2: not a number in '1,2,x,4'",
    }
    assert list(_strict((folder / "summary.json").read_text())["sequences"]) == ["a"]
    # Nothing scorable: the error lists why each one failed.
    with pytest.raises(report.ReportError) as raised:
        report.report({"t": folder}, sources[1:])
    lines = str(raised.value).splitlines()
    assert lines[0].startswith(f"no result file in {folder} could be scored (looked for b.txt")
    assert lines[1:] == [
        "  d: /data/d: sequence folder is missing",
        f"  b: {folder / 'b.txt'} (b): 2 predicted boxes but 3 ground-truth boxes",
        f"  c: {folder / 'c.txt'}:2: not a number in '1,2,x,4'",
    ]


def test_a_sequence_no_tracker_has_is_left_out_of_the_comparison(tmp_path, capsys):
    sequences = [_sequence("a"), _sequence("b"), _sequence("broken")]
    folders = {
        "one": _folder(tmp_path, "one", {"a": 0, "b": 1}),
        "two": _folder(tmp_path, "two", {"a": 2, "b": 0}),
    }
    (folders["two"] / "timings.json").unlink()  # no timings: fps unknown
    table = report.report(folders, sequences, tmp_path / "out")
    assert list(table) == ["one", "two"] and list(table["two"].sequences) == ["a", "b"]
    assert "No tracker has a usable result for broken; not compared" in capsys.readouterr().out
    saved = _strict((tmp_path / "out" / "benchmark.json").read_text())
    assert saved["two"]["fps"] is None and saved["one"]["fps"] == pytest.approx(0.5)
