"""Tests for tsn_jax.evaluation.datasets: OTB/VOT/video/image-folder loaders, their errors, real
data.

Small sequences are written into tmp_path with OpenCV (an independent writer); frames are
compared exactly for PNG (lossless) and within JPEG error otherwise.
"""

import json

import cv2
import numpy as np
import pytest

from tsn_jax.evaluation import boxfiles, datasets

W, H = 24, 16


def _frame(index, width=W, height=H):
    """A deterministic RGB uint8 frame with distinct R, G and B planes."""
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[..., 0] = 200
    rgb[..., 1] = 10 * index % 256
    rgb[..., 2] = 30
    return rgb


def _write_image(path, rgb):
    path.parent.mkdir(parents=True, exist_ok=True)
    bgr = rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    assert cv2.imwrite(str(path), bgr)


def _write_otb(root, name, num_frames, rows, suffix=".png", first=1):
    folder = root / name
    for i in range(num_frames):
        _write_image(folder / "img" / f"{first + i:04d}{suffix}", _frame(i))
    (folder / "groundtruth_rect.txt").write_text("\n".join(rows) + "\n")
    return folder


def _rows(n, text="3,4,5,6"):
    return [text] * n


def test_otb_boxes_are_zero_based_frames_rgb_and_separators_mixed(tmp_path):
    rows = ["3,4,5,6", "4\t5\t6\t7", "5 6  7 8", "NaN,NaN,NaN,NaN", " 7 ,\t8, 9,10 "]
    sequence = datasets.load_otb_sequence(_write_otb(tmp_path, "seq", 5, rows))
    assert sequence.name == "seq" and len(sequence) == 5
    expected = np.asarray([[2, 3, 5, 6], [3, 4, 6, 7], [4, 5, 7, 8], [np.nan] * 4, [6, 7, 9, 10]])
    np.testing.assert_array_equal(sequence.groundtruth_xywh, expected)
    assert sequence.groundtruth_xywh.dtype == np.float64
    np.testing.assert_array_equal(sequence.init_box_xywh, [2, 3, 5, 6])
    assert sequence.frame_size_wh == (W, H)
    frames = list(sequence)
    assert len(frames) == 5
    for i, frame in enumerate(frames):
        assert frame.dtype == np.uint8 and frame.shape == (H, W, 3)
        np.testing.assert_array_equal(frame, _frame(i))  # PNG is lossless; RGB order kept.
        np.testing.assert_array_equal(sequence.frame(i), frame)
    np.testing.assert_array_equal(sequence.frame(-1), frames[-1])


def test_grayscale_jpeg_frames_are_expanded_to_three_channels(tmp_path):
    folder = tmp_path / "grey"
    grey = np.tile(np.arange(W, dtype=np.uint8) * 10, (H, 1))
    for i in range(2):
        _write_image(folder / "img" / f"{i + 1:04d}.jpg", grey)
    (folder / "groundtruth_rect.txt").write_text("1,1,4,4\n1,1,4,4\n")
    frame = datasets.load_otb_sequence(folder).frame(0)
    assert frame.shape == (H, W, 3) and frame.dtype == np.uint8
    np.testing.assert_array_equal(frame[..., 0], frame[..., 1])
    np.testing.assert_allclose(frame[..., 0], grey, atol=4)  # JPEG error at default quality.


def test_frames_sort_naturally(tmp_path):
    folder = tmp_path / "natural"
    for i in (1, 2, 10):
        _write_image(folder / "img" / f"{i}.png", _frame(i))
    (folder / "groundtruth_rect.txt").write_text("1,1,2,2\n" * 3)
    sequence = datasets.load_otb_sequence(folder)
    np.testing.assert_array_equal(sequence.frame(2), _frame(10))


def test_iteration_is_lazy():
    calls = []

    def render(i):
        calls.append(i)
        return _frame(i)

    sequence = datasets.Sequence.from_render("lazy", 3000, render, init_box_xywh=[0, 0, 2, 2])
    frames = iter(sequence)
    np.testing.assert_array_equal(next(frames), _frame(0))
    np.testing.assert_array_equal(next(frames), _frame(1))
    assert calls == [0, 1]
    assert sequence.groundtruth_xywh is None and len(sequence) == 3000


def test_frame_index_outside_raises(tmp_path):
    sequence = datasets.load_otb_sequence(_write_otb(tmp_path, "s", 2, _rows(2)))
    with pytest.raises(datasets.FrameIndexError, match="frame 2"):
        sequence.frame(2)


def test_named_frame_range_selects_frames_by_number(tmp_path, monkeypatch):
    monkeypatch.setitem(datasets.OTB_FRAME_RANGES, "Tiny", (3, 7))
    folder = _write_otb(tmp_path, "Tiny", 9, [f"{i},1,2,2" for i in range(1, 6)])
    sequence = datasets.load_otb_sequence(folder)
    assert len(sequence) == 5
    np.testing.assert_array_equal(sequence.frame(0), _frame(2))  # File 0003.
    np.testing.assert_array_equal(sequence.frame(4), _frame(6))  # File 0007.
    assert sequence.init_box_xywh[0] == 0


def test_builtin_ranges_and_explicit_range(tmp_path):
    assert datasets.OTB_FRAME_RANGES["David"] == (300, 770)
    assert datasets.OTB_FRAME_RANGES["Tiger1"] == (6, 354)
    football = datasets.load_otb_sequence(_write_otb(tmp_path, "Football1", 76, _rows(74)))
    assert len(football) == 74
    # Files numbered from 300 (a David-like folder): picked by number, not position.
    folder = _write_otb(tmp_path, "other", 6, _rows(3), first=300)
    sequence = datasets.load_otb_sequence(folder, frame_range=(301, 303))
    assert len(sequence) == 3
    np.testing.assert_array_equal(sequence.frame(0), _frame(1))


def test_missing_folder(tmp_path):
    with pytest.raises(datasets.DatasetError, match="nowhere.*missing"):
        datasets.load_otb_sequence(tmp_path / "nowhere")


def test_missing_and_empty_img(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(datasets.DatasetError, match="img.*missing"):
        datasets.load_otb_sequence(tmp_path / "a")
    (tmp_path / "a" / "img").mkdir()
    (tmp_path / "a" / "img" / "notes.txt").write_text("x")
    with pytest.raises(datasets.DatasetError, match="no .* frames"):
        datasets.load_otb_sequence(tmp_path / "a")


def test_missing_groundtruth(tmp_path):
    folder = _write_otb(tmp_path, "s", 2, _rows(2))
    (folder / "groundtruth_rect.txt").unlink()
    with pytest.raises(datasets.DatasetError, match="groundtruth_rect.txt: ground-truth file"):
        datasets.load_otb_sequence(folder)


@pytest.mark.parametrize(
    "bad_row, message",
    [
        ("1,2,three,4", "not a number in '1,2,three,4'"),
        ("1,2,3", "expected 4 values, got 3: '1,2,3'"),
    ],
)
def test_malformed_row_names_line_and_text(tmp_path, bad_row, message):
    folder = _write_otb(tmp_path, "s", 3, ["1,1,2,2", bad_row, "1,1,2,2"])
    with pytest.raises(datasets.DatasetError, match=rf"groundtruth_rect.txt:2: {message}"):
        datasets.load_otb_sequence(folder)


def test_row_count_mismatch_names_both_counts(tmp_path):
    folder = _write_otb(tmp_path, "s", 3, _rows(4))
    with pytest.raises(datasets.DatasetError, match="4 ground-truth rows but 3 frames"):
        datasets.load_otb_sequence(folder)


def test_nan_first_box_is_refused(tmp_path):
    folder = _write_otb(tmp_path, "s", 2, ["NaN,NaN,NaN,NaN", "1,1,2,2"])
    with pytest.raises(
        datasets.DatasetError,
        match=r"groundtruth_rect.txt:1: initial box nan,nan,nan,nan \(1-based x, y, w, h\) cannot "
        "start tracking: its x is nan, not a finite number",
    ):
        datasets.load_otb_sequence(folder)


@pytest.mark.parametrize(
    "row, why",
    [
        ("3,4,0,5", "its width is 0, and a target needs a width > 0"),
        ("3.5\t4\t7\t-2", "its height is -2, and a target needs a height > 0"),
    ],
)
def test_empty_first_box_says_which_condition_failed_as_the_file_has_it(tmp_path, row, why):
    folder = _write_otb(tmp_path, "s", 2, [row, "1,1,2,2"])
    shown = ",".join(row.replace(",", " ").split())  # 1-based, as written; not 0-based
    with pytest.raises(datasets.DatasetError) as raised:
        datasets.load_otb_sequence(folder)
    assert str(raised.value) == (
        f"{folder / 'groundtruth_rect.txt'}:1: initial box {shown} (1-based x, y, w, h) cannot "
        f"start tracking: {why}"
    )


def test_truncated_jpeg_names_file_and_frame(tmp_path):
    folder = _write_otb(tmp_path, "s", 3, _rows(3), suffix=".jpg")
    path = folder / "img" / "0002.jpg"
    data = path.read_bytes()
    assert data.rstrip(b"\x00").endswith(b"\xff\xd9")
    path.write_bytes(data[: len(data) - 40])
    sequence = datasets.load_otb_sequence(folder)
    sequence.frame(0)
    with pytest.raises(datasets.DatasetError, match=r"0002.jpg \(frame 1\): truncated JPEG"):
        sequence.frame(1)
    with pytest.raises(datasets.DatasetError, match="frame 1"):
        list(sequence)
    # Trailing zero padding after the end marker is fine.
    path.write_bytes(data + b"\x00\x00\n")
    assert sequence.frame(1).shape == (H, W, 3)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_zero_byte_frame_names_file_and_frame(tmp_path, suffix):
    folder = _write_otb(tmp_path, "s", 3, _rows(3), suffix=suffix)
    (folder / "img" / f"0003{suffix}").write_bytes(b"")
    sequence = datasets.load_otb_sequence(folder)  # frames are read lazily: loading succeeds
    with pytest.raises(
        datasets.DatasetError,
        match=rf"img/0003\{suffix} \(frame 2\): frame file is empty \(0 bytes\)",
    ):
        list(sequence)
    with pytest.raises(datasets.DatasetError, match="frame file is empty"):
        datasets.read_image(folder / "img" / f"0003{suffix}")


def test_missing_and_garbage_frame_files(tmp_path):
    folder = _write_otb(tmp_path, "s", 3, _rows(3))
    sequence = datasets.load_otb_sequence(folder)
    (folder / "img" / "0003.png").unlink()
    with pytest.raises(datasets.DatasetError, match=r"0003.png \(frame 2\): frame file is missing"):
        sequence.frame(2)
    (folder / "img" / "0002.png").write_bytes(b"not an image")
    with pytest.raises(datasets.DatasetError, match=r"0002.png \(frame 1\): not a readable"):
        sequence.frame(1)


def test_otb_dataset_sorted_and_selected(tmp_path):
    for name in ("b", "a", "c"):
        _write_otb(tmp_path, name, 2, _rows(2))
    (tmp_path / "not_a_sequence").mkdir()
    assert [s.name for s in datasets.load_otb_dataset(tmp_path)] == ["a", "b", "c"]
    assert [s.name for s in datasets.load_otb_dataset(tmp_path, "c, a")] == ["c", "a"]
    assert [s.name for s in datasets.load_otb_dataset(tmp_path, ["b"])] == ["b"]
    with pytest.raises(datasets.DatasetError, match="unknown sequence.*zz.*available: a, b, c"):
        datasets.load_otb_dataset(tmp_path, ["a", "zz"])


def test_vot_rect_and_polygon_rows(tmp_path):
    folder = tmp_path / "vot"
    for i in range(2):
        _write_image(folder / f"{i + 1:08d}.png", _frame(i))
    # A rotated square: its axis-aligned bounds are x 1..11, y 2..12 (1-based).
    (folder / "groundtruth.txt").write_text("6,2,11,7,6,12,1,7\n1.5,2.5,3.5,4.5,5.5,6.5,7.5,8.5\n")
    sequence = datasets.load_vot_sequence(folder)
    expected = np.asarray([[0, 1, 10, 10], [0.5, 1.5, 6, 6]])
    np.testing.assert_allclose(sequence.groundtruth_xywh, expected, atol=1e-12)
    np.testing.assert_array_equal(sequence.frame(1), _frame(1))


def test_vot_color_folder_and_four_value_rows(tmp_path):
    folder = tmp_path / "vot"
    for i in range(3):
        _write_image(folder / "color" / f"{i + 1:08d}.png", _frame(i))
    (folder / "groundtruth.txt").write_text("2,3,4,5\n2,3,4,5\n2,3,4,5\n")
    sequence = datasets.load_vot_sequence(folder)
    assert len(sequence) == 3
    np.testing.assert_array_equal(sequence.init_box_xywh, [1, 2, 4, 5])


def test_vot_bad_row_length(tmp_path):
    folder = tmp_path / "vot"
    _write_image(folder / "00000001.png", _frame(0))
    (folder / "groundtruth.txt").write_text("1,2,3,4,5,6\n")
    with pytest.raises(
        datasets.DatasetError, match="groundtruth.txt:1: expected 4 or 8 values, got 6"
    ):
        datasets.load_vot_sequence(folder)


def _write_video(path, num_frames):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (32, 24))
    assert writer.isOpened()
    for i in range(num_frames):
        writer.write(cv2.cvtColor(_frame(i, 32, 24), cv2.COLOR_RGB2BGR))
    writer.release()


def test_video_streams_and_seeks(tmp_path):
    path = tmp_path / "clip.avi"
    _write_video(path, 6)
    sequence = datasets.load_video(path, [3, 4, 10, 8])
    assert sequence.name == "clip" and len(sequence) == 6
    assert sequence.groundtruth_xywh is None
    np.testing.assert_array_equal(sequence.init_box_xywh, [2, 3, 10, 8])
    frames = list(sequence)
    assert len(frames) == 6
    for i, frame in enumerate(frames):
        assert frame.dtype == np.uint8 and frame.shape == (24, 32, 3)
        np.testing.assert_allclose(frame, _frame(i, 32, 24), atol=8)  # MJPEG error.
    np.testing.assert_array_equal(sequence.frame(4), frames[4])
    np.testing.assert_array_equal(sequence.frame(5), frames[5])
    np.testing.assert_array_equal(sequence.frame(1), frames[1])
    assert sequence.frame_size_wh == (32, 24)


def test_video_missing_or_unopenable(tmp_path):
    with pytest.raises(datasets.DatasetError, match="missing"):
        datasets.load_video(tmp_path / "none.mp4", [1, 1, 2, 2])
    (tmp_path / "bad.avi").write_text("not a video")
    with pytest.raises(datasets.DatasetError, match="bad.avi: OpenCV cannot open"):
        datasets.load_video(tmp_path / "bad.avi", [1, 1, 2, 2])


def test_image_folder(tmp_path):
    for i in range(3):
        _write_image(tmp_path / "frames" / f"f{i}.png", _frame(i))
    sequence = datasets.load_image_folder(tmp_path / "frames", np.asarray([1.0, 1.0, 5.0, 6.0]))
    assert len(sequence) == 3 and sequence.groundtruth_xywh is None
    np.testing.assert_array_equal(sequence.init_box_xywh, [0, 0, 5, 6])
    (tmp_path / "empty").mkdir()
    with pytest.raises(datasets.DatasetError, match="empty: no"):
        datasets.load_image_folder(tmp_path / "empty", [1, 1, 2, 2])
    with pytest.raises(datasets.DatasetError, match="not 4 values"):
        datasets.load_image_folder(tmp_path / "frames", [1, 1, 2])
    # A flag's box is checked as typed (1-based), before any frame is read.
    with pytest.raises(
        datasets.DatasetError,
        match=r"frames: initial box 1,1,5,0 \(1-based x, y, w, h\) cannot start tracking: its "
        r"height is 0, and a target needs a height > 0",
    ):
        datasets.load_image_folder(tmp_path / "frames", [1, 1, 5, 0])


def test_sources_read_nothing_until_loaded(tmp_path):
    _write_otb(tmp_path / "root", "good", 2, _rows(2))
    broken = _write_otb(tmp_path / "root", "no_truth", 2, _rows(2))
    (broken / "groundtruth_rect.txt").unlink()
    vot = tmp_path / "root" / "votseq"
    for i in range(2):
        _write_image(vot / f"{i:08d}.png", _frame(i))
    (vot / "groundtruth.txt").write_text("1,1,3,3\n" * 2)
    sources = datasets.sequence_sources(tmp_path / "root")  # the broken folder lists fine
    assert [s.name for s in sources] == ["good", "no_truth", "votseq"]
    assert all(isinstance(s, datasets.SequenceSource) for s in sources)
    assert len(sources[0].load()) == 2
    with pytest.raises(datasets.DatasetError, match="no_truth/groundtruth_rect.txt: ground-truth"):
        sources[1].load()
    np.testing.assert_array_equal(sources[2].load().init_box_xywh, [0, 0, 3, 3])
    assert [s.name for s in datasets.otb_sources(tmp_path / "root", "no_truth,good")] == [
        "no_truth",
        "good",
    ]
    with pytest.raises(datasets.DatasetError, match="unknown sequence.*zz"):
        datasets.sequence_sources(tmp_path / "root", ["zz"])
    # load_source: a Sequence as it is, a source loaded.
    loaded = datasets.load_source(sources[0])
    assert datasets.load_source(loaded) is loaded
    # The eager loaders stop at the broken folder.
    with pytest.raises(datasets.DatasetError, match="no_truth"):
        datasets.load_sequences(tmp_path / "root")


def test_load_sequences_single_and_root(tmp_path):
    otb = _write_otb(tmp_path / "root", "otbseq", 2, _rows(2))
    vot = tmp_path / "root" / "votseq"
    for i in range(2):
        _write_image(vot / f"{i:08d}.png", _frame(i))
    (vot / "groundtruth.txt").write_text("1,1,3,3,5,5,1,5\n" * 2)
    (tmp_path / "root" / "junk").mkdir()
    assert [s.name for s in datasets.load_sequences(otb)] == ["otbseq"]
    assert [s.name for s in datasets.load_sequences(vot)] == ["votseq"]
    loaded = datasets.load_sequences(tmp_path / "root")
    assert [s.name for s in loaded] == ["otbseq", "votseq"]
    np.testing.assert_array_equal(loaded[1].init_box_xywh, [0, 0, 4, 4])
    assert [s.name for s in datasets.load_sequences(tmp_path / "root", "votseq")] == ["votseq"]
    with pytest.raises(datasets.DatasetError, match="available: otbseq, votseq"):
        datasets.load_sequences(tmp_path / "root", ["x"])
    with pytest.raises(datasets.DatasetError, match="no sequences found"):
        datasets.load_sequences(tmp_path / "root" / "junk")
    with pytest.raises(datasets.DatasetError, match="missing"):
        datasets.load_sequences(tmp_path / "nope")


@pytest.mark.parametrize(
    "box, message",
    [
        ([np.nan, 1, 5, 5], "its x is nan, not a finite number"),
        ([1, 1, np.inf, 5], "its width is inf, not a finite number"),
        ([1, 1, 0, 5], "its width is 0, and a target needs a width > 0"),
        ([1, 1, 5, -2], "its height is -2, and a target needs a height > 0"),
        ([100, 1, 5, 5], "outside the 100x50 frame: it starts right of the frame's last column"),
        ([-10, 1, 10, 5], "outside the 100x50 frame: it ends left of the frame's first column"),
        ([1, 50, 5, 5], "outside the 100x50 frame: it starts below the frame's last row"),
        ([1, -7.5, 5, 7.5], "outside the 100x50 frame: it ends above the frame's first row"),
        ([1, 2, 3], "not 4 values"),
    ],
)
def test_validate_init_box_refuses_and_says_why(box, message):
    with pytest.raises(datasets.DatasetError, match=f"clip frame 0: initial box .*{message}"):
        datasets.validate_init_box(np.asarray(box, float), (100, 50), where="clip frame 0")


def test_validate_init_box_accepts_partly_outside():
    datasets.validate_init_box([-3, -3, 5, 5], (100, 50), where="x")
    datasets.validate_init_box([95.5, 45, 10, 10], (100, 50), where="x")
    # 1-based: x = 100 is the frame's last column (0-based 99), x = 101 is past it.
    datasets.validate_init_box([100, 1, 5, 5], (100, 50), where="x", one_based=True)
    with pytest.raises(datasets.DatasetError, match=r"101,1,5,5 \(1-based.*starts right"):
        datasets.validate_init_box([101, 1, 5, 5], (100, 50), where="x", one_based=True)


def test_real_sequences(data_dir):
    sequences = datasets.load_sequences(data_dir)
    # Every folder of the data (each has a meta.json) loads, however many the data holds.
    folders = sorted(p.name for p in data_dir.iterdir() if (p / "meta.json").is_file())
    assert folders and sorted(s.name for s in sequences) == folders
    for sequence in sequences:
        meta = json.loads((data_dir / sequence.name / "meta.json").read_text())
        assert len(sequence) == len(sequence.groundtruth_xywh) == meta["frames"], sequence.name
        width, height = meta["resolution"][0]
        assert sequence.frame_size_wh == (width, height), sequence.name
        # Every 25th frame and the last: decodable, uint8 RGB, one size.
        for index in [*range(0, len(sequence), 25), len(sequence) - 1]:
            frame = sequence.frame(index)
            assert frame.dtype == np.uint8 and frame.shape == (height, width, 3), (sequence, index)
        datasets.validate_init_box(sequence.init_box_xywh, sequence.frame_size_wh, sequence.name)
        first_row = (data_dir / sequence.name / "groundtruth_rect.txt").read_text().split("\n")[0]
        one_based = [float(v) for v in first_row.replace("\t", ",").split(",")]
        np.testing.assert_allclose(sequence.init_box_xywh + [1, 1, 0, 0], one_based, atol=1e-9)
    by_name = {s.name: s for s in sequences}
    nan_rows = np.isnan(by_name["uav123_car14"].groundtruth_xywh).all(axis=1)
    assert nan_rows.sum() == 25
    # Streaming a whole sequence yields one frame per ground-truth row.
    crossing = by_name["otb_Crossing"]
    assert sum(1 for frame in crossing if frame.shape == (240, 360, 3)) == len(crossing)


def test_real_vot_polygons_match_their_rects(data_dir):
    # The data's groundtruth_rect.txt holds the polygons' axis-aligned bounds (3 decimals).
    for name in ("vot2015_bag", "vot2015_ball1"):
        polygons = boxfiles.read_rows(data_dir / name / "groundtruth_polygon.txt", (8,))
        rects = boxfiles.read_rows(data_dir / name / "groundtruth_rect.txt")
        np.testing.assert_allclose(datasets._polygons_to_xywh(polygons), rects, atol=2e-3)
