"""Tests for tsn_jax.evaluation.synthetic: determinism, exact ground truth, occlusion, OTB round
trip."""

import numpy as np
import pytest

from tsn_jax.evaluation import datasets, synthetic

SIZES = [(320, 240), (96, 80)]


@pytest.mark.parametrize("size_wh", SIZES)
def test_same_seed_same_sequence_other_seed_differs(size_wh):
    a = synthetic.make_sequence(num_frames=20, frame_size_wh=size_wh, seed=3)
    b = synthetic.make_sequence(num_frames=20, frame_size_wh=size_wh, seed=3)
    c = synthetic.make_sequence(num_frames=20, frame_size_wh=size_wh, seed=4)
    np.testing.assert_array_equal(a.groundtruth_xywh, b.groundtruth_xywh)
    for i in (0, 9, 19):
        np.testing.assert_array_equal(a.frame(i), b.frame(i))
    assert not np.array_equal(a.groundtruth_xywh, c.groundtruth_xywh)
    assert not np.array_equal(a.frame(0), c.frame(0))


@pytest.mark.parametrize("size_wh", SIZES)
def test_frames_and_boxes_are_well_formed(size_wh):
    width, height = size_wh
    sequence = synthetic.make_sequence(num_frames=200, frame_size_wh=size_wh, seed=1, name="s")
    assert sequence.name == "s" and len(sequence) == 200
    assert sequence.frame_size_wh == size_wh
    frame = sequence.frame(7)
    assert frame.dtype == np.uint8 and frame.shape == (height, width, 3)
    gt = sequence.groundtruth_xywh
    assert gt.shape == (200, 4) and gt.dtype == np.float64
    np.testing.assert_array_equal(gt, np.round(gt))  # Integer-pixel boxes.
    np.testing.assert_array_equal(sequence.init_box_xywh, gt[0])
    assert (gt[:, :2] >= 0).all()
    assert (gt[:, 0] + gt[:, 2] <= width).all() and (gt[:, 1] + gt[:, 3] <= height).all()
    datasets.validate_init_box(sequence.init_box_xywh, size_wh, "synthetic")
    # Size scales with the frame; at the default size no box is smaller than 16 px.
    if size_wh == (320, 240):
        assert gt[:, 2:].min() >= 16
    assert gt[:, 2:].min() >= 8
    # Scale varies (0.7x..1.4x of the base size) and the motion is smooth but real.
    area = gt[:, 2] * gt[:, 3]
    assert area.max() / area.min() > 1.5
    steps = np.abs(np.diff(gt[:, :2], axis=0))
    assert steps.max() <= 0.05 * width and steps.sum() > width


def test_target_is_at_the_ground_truth():
    scene = synthetic.make_scene(num_frames=40, frame_size_wh=(160, 120), seed=2)
    sequence = synthetic.make_sequence(num_frames=40, frame_size_wh=(160, 120), seed=2)
    np.testing.assert_array_equal(sequence.groundtruth_xywh, scene.boxes_xywh)
    occluded_frames = 0
    for i in range(40):
        frame = sequence.frame(i)
        x, y, w, h = scene.boxes_xywh[i].astype(int)
        inside = np.zeros(frame.shape[:2], bool)
        inside[y : y + h, x : x + w] = True
        occluder = scene.occluder_mask(i)
        occluded_frames += occluder.any()
        # Outside the target and the occluder the frame is the background, exactly.
        np.testing.assert_array_equal(
            frame[~inside & ~occluder], scene.background[~inside & ~occluder]
        )
        # The visible target pixels are the texture, exactly.
        visible = ~occluder[y : y + h, x : x + w]
        assert visible.mean() >= 0.5  # Only partly occluded.
        np.testing.assert_array_equal(
            frame[y : y + h, x : x + w][visible], scene.target_patch(i)[visible]
        )
        # And the target stands out from the background there.
        box_background = scene.background[y : y + h, x : x + w][visible].astype(float)
        assert np.abs(frame[y : y + h, x : x + w][visible] - box_background).mean() > 30
        # The occluder covers part of the target when present.
        if occluder.any():
            assert occluder[y : y + h, x : x + w].any()
    assert 1 <= occluded_frames < 40
    assert not scene.occluder_mask(0).any()  # The first frame shows the whole target.


def test_rendering_is_lazy_and_cheap():
    sequence = synthetic.make_sequence(num_frames=3000, seed=0)
    frames = iter(sequence)
    first = next(frames)
    np.testing.assert_array_equal(first, sequence.frame(0))
    assert len(sequence) == 3000


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_frames=0"):
        synthetic.make_sequence(num_frames=0)
    with pytest.raises(ValueError, match="frame_size_wh"):
        synthetic.make_sequence(frame_size_wh=(20, 80))


def test_write_otb_round_trip(tmp_path):
    sequence = synthetic.make_sequence(num_frames=6, frame_size_wh=(96, 80), seed=5, name="syn")
    folder = synthetic.write_otb(sequence, tmp_path)
    assert folder == tmp_path / "syn"
    assert (folder / "img" / "0001.jpg").is_file() and (folder / "img" / "0006.jpg").is_file()
    first_line = (folder / "groundtruth_rect.txt").read_text().splitlines()[0]
    x, y, w, h = sequence.groundtruth_xywh[0]
    assert first_line == f"{x + 1:g},{y + 1:g},{w:g},{h:g}"  # 1-based, comma-separated.
    loaded = datasets.load_otb_sequence(folder)
    assert loaded.name == "syn" and len(loaded) == 6
    np.testing.assert_array_equal(loaded.groundtruth_xywh, sequence.groundtruth_xywh)
    np.testing.assert_array_equal(loaded.init_box_xywh, sequence.init_box_xywh)
    for original, read in zip(sequence, loaded, strict=True):
        error = np.abs(original.astype(float) - read)
        # JPEG quality 95 with 4:2:0 chroma subsampling: small mean error, bounded peaks at
        # the sharp target/occluder edges.
        assert error.mean() < 3 and error.max() < 80


def test_write_otb_keeps_nan_rows_and_fractional_boxes(tmp_path):
    gt = np.asarray([[1.5, 2.25, 10, 12], [np.nan] * 4])
    sequence = datasets.Sequence.from_render(
        "frac", 2, lambda i: np.full((40, 40, 3), 9 * i, np.uint8), gt
    )
    folder = synthetic.write_otb(sequence, tmp_path)
    assert (folder / "groundtruth_rect.txt").read_text() == "2.5,3.25,10,12\nNaN,NaN,NaN,NaN\n"
    loaded = datasets.load_otb_sequence(folder)
    np.testing.assert_array_equal(loaded.groundtruth_xywh, gt)


def test_write_otb_needs_ground_truth(tmp_path):
    sequence = datasets.Sequence.from_render(
        "nogt", 1, lambda i: np.zeros((40, 40, 3), np.uint8), init_box_xywh=[1, 1, 4, 4]
    )
    with pytest.raises(datasets.DatasetError, match="nogt: no ground truth"):
        synthetic.write_otb(sequence, tmp_path)
