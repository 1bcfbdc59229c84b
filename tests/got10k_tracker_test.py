"""Tests for tsn_jax/evaluation/got10k_tracker.py: got10k's own tracking loop
(``got10k.trackers.Tracker.track``: PIL reads the files, ``init`` / ``update`` per frame) over
the adapter gives the runner's boxes, in either box origin.

Frames are written as PNG, so PIL reads back exactly the generated pixels the runner tracks;
tiny config and frame size of tracker_test (compiled executables shared through the cache).
"""

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.tracker_test import NUM_FRAMES, SMALL, sequence, weights  # noqa: F401 (fixtures)
from tsn_jax.evaluation import got10k_tracker, runner

ONE = np.array([1.0, 1.0, 0.0, 0.0])


@pytest.fixture()
def image_files(sequence, tmp_path):
    files = []
    for index in range(NUM_FRAMES):
        path = tmp_path / f"{index + 1:08d}.png"
        assert cv2.imwrite(str(path), sequence.frame(index)[..., ::-1])  # RGB -> BGR file
        files.append(str(path))
    return files


def test_got10k_track_gives_the_runners_boxes(weights, sequence, image_files):
    expected = runner.track_sequence(weights, sequence, SMALL, seed=1, progress=False)
    box = np.asarray(sequence.init_box_xywh, np.float64)

    tracker = got10k_tracker.TSNTracker(weights, SMALL, seed=1, name="TSN")
    tracked, times = tracker.track(image_files, box)
    np.testing.assert_array_equal(tracked, expected.boxes_xywh)
    assert times.shape == (NUM_FRAMES,) and tracker.name == "TSN" and tracker.is_deterministic

    # Annotations in 1-based files (OTB, UAV123): the first box and the answers shift by one.
    one_based = got10k_tracker.TSNTracker(weights, SMALL, seed=1, box_origin=1)
    tracked_one, _ = one_based.track(image_files, box + ONE)
    np.testing.assert_array_equal(tracked_one[1:], expected.boxes_xywh[1:] + ONE)


def test_pil_images_of_any_mode_become_rgb_frames():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    frame = got10k_tracker.to_frame(Image.fromarray(gray, mode="L"))
    assert frame.shape == (3, 4, 3) and frame.dtype == np.uint8
    np.testing.assert_array_equal(frame, np.repeat(gray[..., None], 3, axis=2))


def test_box_origin_is_checked(weights):
    with pytest.raises(ValueError, match="box_origin must be 0 or 1, got 2"):
        got10k_tracker.TSNTracker(weights, SMALL, box_origin=2)
