"""The tracking video and its PNG snapshots (tsn_jax/evaluation/visualize.py)."""

import cv2
import numpy as np

from tests import cli
from tsn_jax.evaluation import visualize


def test_video_and_png_snapshots_show_both_boxes(tmp_path):
    truth = np.asarray([[10.0, 8.0, 20.0, 16.0]] * 5)
    writer = visualize.VideoWriter(tmp_path / "seq.mp4", truth, png_frames=[2, 4])
    frames = np.zeros((5, 48, 64, 3), np.uint8)
    for index, frame in enumerate(frames):
        writer(index, frame, np.asarray([30.0, 20.0, 20.0, 16.0]))
    writer.close()

    capture = cv2.VideoCapture(str(tmp_path / "seq.mp4"))
    count = 0
    while capture.read()[0]:
        count += 1
    assert count == 5
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["seq_0002.png", "seq_0004.png"]
    image = cv2.imread(str(tmp_path / "seq_0002.png"))
    assert image.shape == (48, 64, 3)
    # Lossless PNG: ground truth in red (BGR 0,0,255) on its left edge, prediction in green.
    assert tuple(image[16, 10]) == visualize.GROUNDTRUTH_BGR
    assert tuple(image[28, 30]) == visualize.PREDICTION_BGR


def test_track_rejects_bad_visualize_frames():
    done = cli.run_module("bin.track", "--demo", "--visualize", "--visualize_frames=10,x")
    assert done.returncode != 0
    assert "--visualize_frames takes 1-based frame numbers" in done.stderr
