"""Tests for tsn_jax.evaluation.layouts: each benchmark's loader on a tiny dataset written here
in that benchmark's exact layout, the errors of layouts that do not match, and the written-out
sequence lists against the got10k toolkit's copies.

Frames are uniform grey JPEGs whose grey level is the frame's number mod 256, so a test can
tell which file a sequence's frame came from (a uniform 8x8 JPEG decodes to within 2 levels).
"""

import json
import pathlib

import cv2
import numpy as np
import pytest

from tsn_jax.evaluation import benchmark_lists, datasets, layouts

_JPEG_CACHE = {}


def _jpeg(level, size=(8, 8)):
    key = (level, size)
    if key not in _JPEG_CACHE:
        image = np.full((size[1], size[0], 3), level, np.uint8)
        _JPEG_CACHE[key] = cv2.imencode(".jpg", image)[1].tobytes()
    return _JPEG_CACHE[key]


def _frames(folder, numbers, pattern="{:04d}.jpg", size=(8, 8)):
    folder.mkdir(parents=True, exist_ok=True)
    for number in numbers:
        (folder / pattern.format(number)).write_bytes(_jpeg(number % 256, size))


def _rows(path, rows, sep=","):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(sep.join(str(v) for v in row) + "\n" for row in rows))


def _boxes(count, seed):
    rng = np.random.default_rng(seed)
    return np.round(np.c_[rng.uniform(1, 20, (count, 2)), rng.uniform(2, 9, (count, 2))], 2)


def _level(sequence, index):
    return int(sequence.frame(index)[0, 0, 0])


def _by_name(sources):
    return {source.name: source for source in sources}


def test_registry_names_every_benchmark_and_describes_it():
    expected = {
        "otb100", "otb2013", "tb50", "uav123", "uav20l", "uav123_10fps", "lasot", "got10k_val",
        "got10k_test", "nfs30", "tc128", "dtb70", "trackingnet",
    }  # fmt: skip
    assert set(layouts.BENCHMARKS) == expected
    help_text = layouts.describe()
    assert all(f"{name}:" in help_text for name in expected)
    servers = {b.name for b in layouts.BENCHMARKS.values() if b.metric == "server"}
    assert servers == {"got10k_test", "trackingnet"}


def test_unknown_benchmark_and_missing_root(tmp_path):
    with pytest.raises(datasets.DatasetError, match=r"unknown benchmark 'otb10'; known: otb100"):
        layouts.sources(tmp_path, "otb10")
    with pytest.raises(datasets.DatasetError, match=r"nowhere: dataset folder is missing"):
        layouts.sources(tmp_path / "nowhere", "otb100")


# ---------------------------------------------------------------------------------------------
# OTB-100 / OTB-2013 / TB-50.


@pytest.fixture
def otb_root(tmp_path):
    root = tmp_path / "OTB100"
    _frames(root / "Basketball" / "img", range(1, 6))
    _rows(root / "Basketball" / "groundtruth_rect.txt", _boxes(5, 0), sep="\t")
    _frames(root / "Jogging" / "img", range(1, 5))
    _rows(root / "Jogging" / "groundtruth_rect.1.txt", _boxes(4, 1))
    _rows(root / "Jogging" / "groundtruth_rect.2.txt", _boxes(4, 2))
    _frames(root / "Human4" / "img", range(1, 4))
    (root / "Human4" / "groundtruth_rect.1.txt").write_text("\n")  # empty, as downloaded
    _rows(root / "Human4" / "groundtruth_rect.2.txt", _boxes(3, 3))
    _frames(root / "Football1" / "img", range(1, 81))  # ground truth covers frames 1..74
    _rows(root / "Football1" / "groundtruth_rect.txt", _boxes(74, 4))
    _frames(root / "Crossing" / "img", range(1, 6))
    _rows(root / "Crossing" / "groundtruth_rect.txt", _boxes(4, 5))  # one row short: broken
    return root


def test_otb_multi_target_folders_split_and_quirks_kept(otb_root):
    sources = _by_name(layouts.sources(otb_root, "otb100"))
    assert len(sources) == 100  # 98 folders, two of them holding two targets
    for name in ("Basketball", "Jogging-1", "Jogging-2", "Human4", "Football1"):
        assert name in sources
    assert "Jogging" not in sources and "Human4-2" not in sources
    jogging = sources["Jogging-2"].load()
    gt = np.loadtxt(otb_root / "Jogging" / "groundtruth_rect.2.txt", delimiter=",")
    np.testing.assert_allclose(jogging.groundtruth_xywh, gt - [1, 1, 0, 0], atol=1e-12)
    assert jogging.name == "Jogging-2" and len(jogging) == 4
    human = sources["Human4"].load()
    np.testing.assert_allclose(human.init_box_xywh, _boxes(3, 3)[0] - [1, 1, 0, 0], atol=1e-12)
    football = sources["Football1"].load()  # datasets.OTB_FRAME_RANGES: frames 1..74
    assert len(football) == 74 and _level(football, -1) == pytest.approx(74, abs=2)
    basketball = sources["Basketball"].load()  # tab-separated rows
    np.testing.assert_allclose(basketball.groundtruth_xywh[:, 2:], _boxes(5, 0)[:, 2:])


def test_otb_bad_and_missing_folders_fail_alone(otb_root):
    sources = _by_name(layouts.sources(otb_root, "otb100"))
    with pytest.raises(datasets.DatasetError, match=r"Crossing.*4 ground-truth rows but 5 frames"):
        sources["Crossing"].load()
    with pytest.raises(datasets.DatasetError, match=r"Bird2: sequence folder is missing"):
        sources["Bird2"].load()
    assert len(sources["Basketball"].load()) == 5  # the others still load


def test_otb_subsets_and_name_selection(otb_root):
    otb2013 = [s.name for s in layouts.sources(otb_root, "otb2013")]
    tb50 = [s.name for s in layouts.sources(otb_root, "tb50")]
    assert len(otb2013) == 51 and "Jogging-1" in otb2013 and "Human4" not in otb2013
    assert len(tb50) == 50 and "Human4" in tb50 and "Jogging-1" not in tb50
    picked = layouts.sources(otb_root, "otb100", "Jogging,Basketball")
    assert [s.name for s in picked] == ["Jogging-1", "Jogging-2", "Basketball"]
    picked = layouts.sources(otb_root, "otb100", ["Jogging-2"])
    assert [s.name for s in picked] == ["Jogging-2"]
    with pytest.raises(datasets.DatasetError, match=r"no otb2013 sequence named Human4; available"):
        layouts.sources(otb_root, "otb2013", ["Human4"])


def test_otb_root_without_otb_folders_is_an_error(tmp_path):
    _frames(tmp_path / "NotOTB" / "img", [1])
    with pytest.raises(datasets.DatasetError, match=r"none of the 98 otb100 folders.*expected"):
        layouts.sources(tmp_path, "otb100")


def test_otb_lists_match_the_got10k_toolkit():
    otb = pytest.importorskip("got10k.datasets.otb").OTB
    assert sorted(benchmark_lists.OTB2013) == sorted(otb._OTB__otb13_seqs)
    assert sorted(benchmark_lists.TB50) == sorted(otb._OTB__tb50_seqs)
    assert sorted(benchmark_lists.OTB100) == sorted(otb._OTB__tb100_seqs)


# ---------------------------------------------------------------------------------------------
# UAV123 / UAV20L / UAV123@10fps.


def test_uav123_10fps_sub_sequences_by_frame_range(tmp_path):
    root = tmp_path / "UAV123_10fps"
    _frames(root / "data_seq" / "UAV123_10fps" / "bird1", range(1, 494), "{:06d}.jpg")
    anno = root / "anno" / "UAV123_10fps"
    first = _boxes(85, 6)
    second = _boxes(493 - 259 + 1, 7)
    second[5] = np.nan  # out of view: kept as a NaN row
    _rows(anno / "bird1_1.txt", first)
    _rows(anno / "bird1_2.txt", second)
    sources = _by_name(layouts.sources(root, "uav123_10fps"))
    assert len(sources) == 123
    bird1_2 = sources["bird1_2"].load()
    assert len(bird1_2) == 235
    assert _level(bird1_2, 0) == pytest.approx(259 % 256, abs=2)
    assert _level(bird1_2, -1) == pytest.approx(493 % 256, abs=2)
    assert np.all(np.isnan(bird1_2.groundtruth_xywh[5]))
    np.testing.assert_allclose(bird1_2.groundtruth_xywh[0], second[0] - [1, 1, 0, 0])
    assert len(sources["bird1_1"].load()) == 85
    with pytest.raises(datasets.DatasetError, match=r"bird1_3.txt: ground-truth file not found"):
        sources["bird1_3"].load()


def test_uav123_and_uav20l_read_the_uav123_frames(tmp_path):
    root = tmp_path / "UAV123"
    _frames(root / "data_seq" / "UAV123" / "bike2", range(1, 554), "{:06d}.jpg")
    _rows(root / "anno" / "UAV123" / "bike2.txt", _boxes(553, 8))
    _frames(root / "data_seq" / "UAV123" / "bike1", range(1, 11), "{:06d}.jpg")
    _rows(root / "anno" / "UAV20L" / "bike1.txt", _boxes(3085, 9))
    bike2 = layouts.sources(root, "uav123", ["bike2"])[0].load()
    assert len(bike2) == 553 and _level(bike2, -1) == pytest.approx(553 % 256, abs=2)
    (long_bike,) = layouts.sources(root, "uav20l", "bike1")
    missing = r"data_seq/UAV123/bike1: frame 11 of the range 1..3085 is missing"
    with pytest.raises(datasets.DatasetError, match=missing):
        long_bike.load()
    assert len(layouts.sources(root, "uav20l")) == 20


def test_uav_layout_mismatch_names_the_folder(tmp_path):
    (tmp_path / "data_seq" / "UAV123").mkdir(parents=True)
    with pytest.raises(datasets.DatasetError, match=r"anno/UAV123: missing; a uav123 root"):
        layouts.sources(tmp_path, "uav123")
    with pytest.raises(datasets.DatasetError, match=r"data_seq/UAV123_10fps: missing"):
        layouts.sources(tmp_path, "uav123_10fps")


def test_uav_tables_match_the_toolkits():
    """UAV123 / UAV20L equal got10k's copy of configSeqs.m; every 10 fps range is its 30 fps
    range with every third frame kept (30 fps frame k is 10 fps frame (k - 1) // 3 + 1)."""
    got10k_datasets = pytest.importorskip("got10k.datasets")
    meta_file = pathlib.Path(got10k_datasets.__file__).parent / "uav123.json"
    metas = json.loads(meta_file.read_text())
    for ours, version in ((benchmark_lists.UAV123, "UAV123"), (benchmark_lists.UAV20L, "UAV20L")):
        theirs = {
            n: (m["folder_name"], m["start_frame"], m["end_frame"])
            for n, m in metas[version].items()
        }
        assert ours == theirs
    assert benchmark_lists.UAV123_10FPS.keys() == benchmark_lists.UAV123.keys()
    for name, (folder, first, last) in benchmark_lists.UAV123_10FPS.items():
        folder30, first30, last30 = benchmark_lists.UAV123[name]
        assert folder == folder30 and (first30 - 1) % 3 == 0, name
        assert (first, last) == ((first30 - 1) // 3 + 1, (last30 - 1) // 3 + 1), name


# ---------------------------------------------------------------------------------------------
# LaSOT.


def _lasot_sequence(folder, count, occluded, out_of_view, seed):
    _frames(folder / "img", range(1, count + 1), "{:08d}.jpg")
    _rows(folder / "groundtruth.txt", _boxes(count, seed))
    (folder / "full_occlusion.txt").write_text(",".join(map(str, occluded)) + "\n")
    (folder / "out_of_view.txt").write_text(",".join(map(str, out_of_view)) + "\n")


def test_lasot_reads_the_absence_flags(tmp_path):
    root = tmp_path / "LaSOT"
    _lasot_sequence(root / "airplane" / "airplane-1", 6, [0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 1], 10)
    _lasot_sequence(root / "basketball-6", 4, [0] * 4, [0] * 4, 11)  # flat layout
    _lasot_sequence(root / "bear" / "bear-2", 4, [0] * 4, [0, 0, 0], 12)  # one flag short
    sources = _by_name(layouts.sources(root, "lasot"))
    assert list(sources) == list(benchmark_lists.LASOT_TEST)
    airplane = sources["airplane-1"].load()
    assert isinstance(airplane, layouts.BenchmarkSequence)
    np.testing.assert_array_equal(airplane.target_visible, [1, 1, 0, 1, 0, 0])
    np.testing.assert_array_equal(layouts.target_visible(airplane), airplane.target_visible)
    np.testing.assert_allclose(airplane.groundtruth_xywh, _boxes(6, 10) - [1, 1, 0, 0])
    assert len(sources["basketball-6"].load()) == 4
    with pytest.raises(datasets.DatasetError, match=r"bear-2/out_of_view.txt:1: expected 4 values"):
        sources["bear-2"].load()
    with pytest.raises(datasets.DatasetError, match=r"airplane-9: sequence folder is missing"):
        sources["airplane-9"].load()


def test_lasot_root_without_test_sequences_is_an_error(tmp_path):
    _lasot_sequence(tmp_path / "airplane" / "airplane-2", 3, [0] * 3, [0] * 3, 13)  # train split
    with pytest.raises(datasets.DatasetError, match=r"none of the 280 LaSOT test sequences"):
        layouts.sources(tmp_path, "lasot")


def test_lasot_test_split_matches_the_got10k_toolkit():
    got10k_datasets = pytest.importorskip("got10k.datasets")
    splits = json.loads((pathlib.Path(got10k_datasets.__file__).parent / "lasot.json").read_text())
    assert list(benchmark_lists.LASOT_TEST) == splits["test"]
    assert len(set(benchmark_lists.LASOT_TEST)) == 280


# ---------------------------------------------------------------------------------------------
# GOT-10k.


def _got10k_sequence(folder, count, cover, seed, first_box_only=False):
    _frames(folder, range(1, count + 1), "{:08d}.jpg")
    rows = _boxes(count, seed)
    _rows(folder / "groundtruth.txt", rows[:1] if first_box_only else rows)
    if cover is not None:
        (folder / "cover.label").write_text("".join(f"{c}\n" for c in cover))
    return rows


def test_got10k_val_and_test(tmp_path):
    root = tmp_path / "GOT-10k"
    (root / "val").mkdir(parents=True)
    (root / "val" / "list.txt").write_text("GOT-10k_Val_000001\nGOT-10k_Val_000002\n")
    rows = _got10k_sequence(root / "val" / "GOT-10k_Val_000001", 5, [8, 3, 0, 1, 0], 14)
    _got10k_sequence(root / "val" / "GOT-10k_Val_000002", 3, [8, 8], 15)  # one label short
    (root / "test").mkdir()
    (root / "test" / "list.txt").write_text("GOT-10k_Test_000001\n")
    test_rows = _got10k_sequence(root / "test" / "GOT-10k_Test_000001", 4, None, 16, True)

    val = layouts.sources(root, "got10k_val")
    assert [s.name for s in val] == ["GOT-10k_Val_000001", "GOT-10k_Val_000002"]
    first = val[0].load()
    np.testing.assert_array_equal(first.target_visible, [1, 1, 0, 1, 0])
    np.testing.assert_allclose(first.groundtruth_xywh, rows - [1, 1, 0, 0])
    with pytest.raises(datasets.DatasetError, match=r"000002/cover.label: 2 labels for 3 frames"):
        val[1].load()
    # The val folder itself works as the root too.
    assert [s.name for s in layouts.sources(root / "val", "got10k_val")][0] == first.name

    (test_source,) = layouts.sources(root, "got10k_test")
    test_sequence = test_source.load()
    assert test_sequence.groundtruth_xywh is None and len(test_sequence) == 4
    np.testing.assert_allclose(test_sequence.init_box_xywh, test_rows[0] - [1, 1, 0, 0])
    assert layouts.target_visible(test_sequence) is None


def test_got10k_errors(tmp_path):
    with pytest.raises(datasets.DatasetError, match=r"no val/list.txt; a GOT-10k root holds"):
        layouts.sources(tmp_path, "got10k_val")
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "list.txt").write_text("GOT-10k_Test_000001\n")
    _got10k_sequence(tmp_path / "test" / "GOT-10k_Test_000001", 4, None, 17)
    _rows(tmp_path / "test" / "GOT-10k_Test_000001" / "groundtruth.txt", _boxes(2, 17))
    (source,) = layouts.sources(tmp_path, "got10k_test")
    with pytest.raises(datasets.DatasetError, match=r"2 rows; expected the first frame's box"):
        source.load()


# ---------------------------------------------------------------------------------------------
# NfS, TC128, DTB70, TrackingNet.


def _nfs_rows(path, boxes_xyxy):
    lines = [
        f'1 {x0} {y0} {x1} {y1} {i} 0 0 0 "person"' for i, (x0, y0, x1, y1) in enumerate(boxes_xyxy)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_nfs30(tmp_path):
    root = tmp_path / "NfS"
    _frames(root / "Gymnastics" / "30" / "Gymnastics", range(1, 6), "{:05d}.jpg")
    xyxy = np.array([[10, 20, 40, 60]] * 5, float) + np.arange(5)[:, None]
    _nfs_rows(root / "Gymnastics" / "30" / "Gymnastics.txt", xyxy)
    _frames(root / "airboard_1" / "30" / "airboard_1", range(1, 4), "{:05d}.jpg")
    fine = np.array([[5, 6, 15, 26]] * 24, float) + np.arange(24)[:, None]
    _nfs_rows(root / "airboard_1" / "30" / "airboard_1.txt", fine)  # annotated at 240 fps
    _frames(root / "Bee" / "30" / "Bee", range(1, 4), "{:05d}.jpg")
    (root / "Bee" / "30" / "Bee.txt").write_text("1 2 3 4\n")
    sources = _by_name(layouts.sources(root, "nfs30"))
    assert list(sources) == ["airboard_1", "Bee", "Gymnastics"]
    gymnastics = sources["Gymnastics"].load()
    expected = np.c_[xyxy[:, :2] - 1, xyxy[:, 2:] - xyxy[:, :2]]
    np.testing.assert_allclose(gymnastics.groundtruth_xywh, expected)
    airboard = sources["airboard_1"].load()
    np.testing.assert_allclose(airboard.groundtruth_xywh[:, 0], fine[::8, 0] - 1)
    with pytest.raises(datasets.DatasetError, match=r"Bee.txt:1: expected 'id xmin ymin xmax"):
        sources["Bee"].load()


def test_tc128_frame_range(tmp_path):
    root = tmp_path / "TC128"
    folder = root / "Airport_ce"
    _frames(folder / "img", range(1, 11))
    _rows(folder / "Airport_ce_gt.txt", _boxes(6, 18))
    (folder / "Airport_ce_frames.txt").write_text("3,8\n")
    (root / "Bike_ce" / "img").mkdir(parents=True)  # no ground truth
    sources = _by_name(layouts.sources(root, "tc128"))
    airport = sources["Airport_ce"].load()
    assert len(airport) == 6
    assert _level(airport, 0) == pytest.approx(3, abs=2)
    assert _level(airport, -1) == pytest.approx(8, abs=2)
    with pytest.raises(datasets.DatasetError, match=r"Bike_ce: expected one <Seq>_gt.txt"):
        sources["Bike_ce"].load()


def test_dtb70(tmp_path):
    _frames(tmp_path / "Animal1" / "img", range(1, 6), "{:05d}.jpg")
    _rows(tmp_path / "Animal1" / "groundtruth_rect.txt", _boxes(5, 19))
    (animal,) = layouts.sources(tmp_path, "dtb70")
    np.testing.assert_allclose(animal.load().groundtruth_xywh, _boxes(5, 19) - [1, 1, 0, 0])
    with pytest.raises(datasets.DatasetError, match=r"no dtb70 sequence here; expected"):
        layouts.sources(tmp_path / "Animal1", "dtb70")


def test_trackingnet_test(tmp_path):
    test = tmp_path / "TrackingNet" / "TEST"
    _frames(test / "frames" / "-3TIfnTSM6c_2", range(12), "{}.jpg")
    _rows(test / "anno" / "-3TIfnTSM6c_2.txt", _boxes(1, 20))
    for root in (tmp_path / "TrackingNet", test):
        (source,) = layouts.sources(root, "trackingnet")
        sequence = source.load()
        assert sequence.name == "-3TIfnTSM6c_2" and sequence.groundtruth_xywh is None
        assert [_level(sequence, i) for i in (9, 10, 11)] == pytest.approx([9, 10, 11], abs=2)
    with pytest.raises(datasets.DatasetError, match=r"TEST/anno: missing; a trackingnet root"):
        layouts.sources(tmp_path, "trackingnet")
