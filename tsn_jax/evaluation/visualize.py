"""Writes a tracking video: each frame with the predicted box (and the ground truth if known)."""

import os
import pathlib
from collections.abc import Iterable

import cv2
import numpy as np
import numpy.typing as npt

PREDICTION_BGR = (0, 255, 0)
GROUNDTRUTH_BGR = (0, 0, 255)


def _draw(image_bgr, box_xywh, colour):
    if not np.all(np.isfinite(box_xywh)):
        return
    x, y, w, h = box_xywh
    cv2.rectangle(
        image_bgr, (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h))), colour, 2
    )


class VideoWriter:
    """An mp4 of frames with boxes; call it per frame, then ``close()``.

    Args:
      path: output ``.mp4`` path (its folder is created).
      groundtruth_xywh: optional [T, 4] 0-based boxes drawn in red (NaN rows skipped).
      fps: frame rate of the video.
      png_frames: 1-based frame numbers also saved as ``<video stem>_<number>.png`` beside it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        groundtruth_xywh: np.ndarray | None = None,
        fps: float = 25.0,
        png_frames: Iterable[int] = (),
    ) -> None:
        self.path = pathlib.Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.groundtruth = groundtruth_xywh
        self.fps = fps
        self.png_frames = {int(n) for n in png_frames}
        self._writer = None

    def __call__(self, index: int, frame_rgb: np.ndarray, box_xywh: npt.ArrayLike) -> None:
        """Draws frame ``index`` ([H, W, 3] uint8 RGB) with its 0-based xywh box."""
        image = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
        if self.groundtruth is not None and index < len(self.groundtruth):
            _draw(image, self.groundtruth[index], GROUNDTRUTH_BGR)
        _draw(image, box_xywh, PREDICTION_BGR)
        cv2.putText(
            image, f"#{index + 1}", (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 0), 2
        )
        if self._writer is None:
            size = (image.shape[1], image.shape[0])
            self._writer = cv2.VideoWriter(
                str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, size
            )
            if not self._writer.isOpened():
                raise OSError(f"OpenCV cannot write the video {self.path}")
        self._writer.write(image)
        if index + 1 in self.png_frames:
            png = self.path.with_name(f"{self.path.stem}_{index + 1:04d}.png")
            if not cv2.imwrite(str(png), image):
                raise OSError(f"OpenCV cannot write {png}")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
