"""Tests for tsn_jax.evaluation.boxfiles: box text files (1-based on disk, atomic writes, clear
errors)."""

import numpy as np
import pytest

from tsn_jax.evaluation import boxfiles


def test_write_is_one_based_with_four_decimals(tmp_path):
    path = tmp_path / "sub" / "seq.txt"
    boxfiles.write_boxes(path, np.array([[0.0, 9.5, 10.0, 20.25], [1.23456, 2.0, 3.0, 4.0]]))
    assert path.read_text() == ("1.0000,10.5000,10.0000,20.2500\n2.2346,3.0000,3.0000,4.0000\n")


def test_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    boxes_xywh = rng.uniform(0, 300, size=(17, 4)).round(4)
    path = tmp_path / "a.txt"
    boxfiles.write_boxes(path, boxes_xywh)
    back = boxfiles.read_boxes(path)
    assert back.dtype == np.float64 and back.shape == (17, 4)
    # 4 decimals on disk and values already rounded to 4 decimals: equal up to float parsing.
    np.testing.assert_allclose(back, boxes_xywh, rtol=0, atol=1e-9)


def test_nan_rows_round_trip(tmp_path):
    path = tmp_path / "a.txt"
    boxfiles.write_boxes(path, np.array([[1.0, 2.0, 3.0, 4.0], [np.nan] * 4]))
    back = boxfiles.read_boxes(path)
    np.testing.assert_array_equal(back[0], [1.0, 2.0, 3.0, 4.0])
    assert np.isnan(back[1]).all()


@pytest.mark.parametrize(
    "text",
    [
        "11,21,30,40\n12,22,31,41\n",
        "11\t21\t30\t40\n12\t22\t31\t41\n",
        "11 21 30 40\n12  22 31 41\n\n\n",
        "11, 21,\t30 40\r\n12,22,31,41",
    ],
    ids=["comma", "tab", "spaces", "mixed"],
)
def test_separators(tmp_path, text):
    path = tmp_path / "gt.txt"
    path.write_bytes(text.encode())
    np.testing.assert_array_equal(boxfiles.read_boxes(path), [[10, 20, 30, 40], [11, 21, 31, 41]])


def test_atomic_leaves_no_tmp_and_replaces(tmp_path):
    path = tmp_path / "seq.txt"
    path.write_text("old content\n")
    boxfiles.write_boxes(path, np.zeros((3, 4)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seq.txt"]
    assert path.read_text().count("\n") == 3


def test_failed_write_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "seq.txt"
    path.write_text("1,2,3,4\n")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(boxfiles.os, "replace", broken_replace)
    with pytest.raises(OSError):
        boxfiles.write_boxes(path, np.zeros((3, 4)))
    assert path.read_text() == "1,2,3,4\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seq.txt"]


def test_write_rejects_bad_shape(tmp_path):
    with pytest.raises(boxfiles.BoxFileError, match=r"\[T, 4\].*\(3, 3\)"):
        boxfiles.write_boxes(tmp_path / "x.txt", np.zeros((3, 3)))


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("1,2,3,4\n1,2,3\n", r"bad\.txt:2: expected 4 values"),
        ("1,2,3,4\n1,2,3,4\n1,2,x,4\n", r"bad\.txt:3: not a number"),
        ("1,2,3,4\n\n1,2,3,4\n", r"bad\.txt:2: blank line"),
        ("", r"bad\.txt: the file holds no boxes"),
    ],
    ids=["short_row", "not_a_number", "blank_line", "empty"],
)
def test_bad_files_name_file_and_line(tmp_path, text, pattern):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(boxfiles.BoxFileError, match=pattern):
        boxfiles.read_boxes(path)


def test_missing_file(tmp_path):
    with pytest.raises(boxfiles.BoxFileError, match="not found"):
        boxfiles.read_boxes(tmp_path / "nope.txt")
    assert issubclass(boxfiles.BoxFileError, ValueError)


def test_exact_writing_keeps_every_digit_and_spells_nan_as_otb(tmp_path):
    path = tmp_path / "groundtruth_rect.txt"
    boxfiles.write_boxes(path, np.array([[0.125, 1.5, 10.0, 12.0], [np.nan] * 4]), decimals=None)
    assert path.read_text() == "1.125,2.5,10,12\nNaN,NaN,NaN,NaN\n"


def test_read_rows_keeps_values_and_one_row_length(tmp_path):
    path = tmp_path / "groundtruth.txt"
    path.write_text("1,2,3,4,5,6,7,8\n2,3,4,5,6,7,8,9\n")
    rows = boxfiles.read_rows(path, (4, 8))
    np.testing.assert_array_equal(rows[:, 0], [1, 2])  # as written: no 1-based offset
    assert rows.shape == (2, 8)
    path.write_text("1,2,3,4,5,6,7,8\n1,2,3,4\n")
    with pytest.raises(boxfiles.BoxFileError, match=r"txt:2: expected 8 values, got 4"):
        boxfiles.read_rows(path, (4, 8))
    with pytest.raises(boxfiles.BoxFileError, match="ground-truth file not found"):
        boxfiles.read_rows(tmp_path / "nope.txt", kind="ground-truth")
