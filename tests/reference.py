"""Independent float64 NumPy references shared by several tests."""

import numpy as np


def iou_with_box(boxes_xywh, box_xywh):
    """[N] float64 IoU of xywh boxes [N, 4] with one xywh box [4] (plain NumPy)."""
    a, t = np.float64(boxes_xywh), np.float64(box_xywh)
    inter = np.prod(
        np.clip(
            np.minimum(a[:, :2] + a[:, 2:], t[:2] + t[2:]) - np.maximum(a[:, :2], t[:2]), 0, None
        ),
        axis=1,
    )
    return inter / (a[:, 2] * a[:, 3] + t[2] * t[3] - inter)
