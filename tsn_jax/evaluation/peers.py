"""Classical peer trackers run on the same frames as TSN: OpenCV's CSRT and KCF.

They live in OpenCV's contrib modules: ``pip install -e '.[peers]'`` installs
``opencv-contrib-python-headless`` (the same cv2 with the extra modules).
"""

import time

import cv2
import numpy as np
import tqdm

from tsn_jax.evaluation import datasets, tracked

_FACTORIES = {"csrt": "TrackerCSRT", "kcf": "TrackerKCF"}
NAMES = tuple(_FACTORIES)


class PeerUnavailableError(RuntimeError):
    """The installed OpenCV lacks the contrib trackers."""


def create(name: str) -> cv2.Tracker:
    """A fresh OpenCV tracker by name ("csrt" or "kcf")."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown peer tracker {name!r}; known: {', '.join(NAMES)}")
    class_name = _FACTORIES[name]
    factory = getattr(cv2, class_name, None)
    if factory is None or not hasattr(factory, "create"):
        raise PeerUnavailableError(
            f"cv2 {cv2.__version__} has no {class_name}: install OpenCV's contrib "
            "modules with `pip install -e '.[peers]'` (opencv-contrib-python-headless)."
        )
    return factory.create()


def _opencv_box(box_xywh, frame_wh):
    """0-based float box -> the integer (x, y, w, h) OpenCV wants, kept inside the frame."""
    x, y, w, h = (float(v) for v in box_xywh)
    x0, y0 = max(int(round(x)), 0), max(int(round(y)), 0)
    x1, y1 = min(int(round(x + w)), frame_wh[0]), min(int(round(y + h)), frame_wh[1])
    return (x0, y0, max(x1 - x0, 1), max(y1 - y0, 1))


def track_sequence(
    name: str, sequence: datasets.Sequence, progress: bool = True
) -> tracked.TrackResult:
    """Tracks a sequence with an OpenCV tracker.

    Args:
      name: "csrt" or "kcf".
      sequence: a ``datasets.Sequence`` (RGB frames; converted to BGR for OpenCV).
      progress: show a tqdm bar.

    Returns:
      A ``tracked.TrackResult``; a frame where OpenCV reports a loss keeps the last box and is
      marked failed.
    """
    tracker = create(name)
    frames = iter(sequence)
    first = next(frames, None)
    if first is None:
        raise tracked.TrackingError(f"{sequence.name}: the sequence has no frames")
    box = np.asarray(sequence.init_box_xywh, np.float64)
    frame_wh = (first.shape[1], first.shape[0])
    start = time.perf_counter()
    tracker.init(cv2.cvtColor(first, cv2.COLOR_RGB2BGR), _opencv_box(box, frame_wh))
    init_seconds = time.perf_counter() - start
    boxes, failed, step_seconds = [box], [False], []
    bar = tqdm.tqdm(
        total=len(sequence) - 1,
        desc=f"{name} {sequence.name}",
        unit="frame",
        disable=not progress,
        leave=False,
    )
    for index, frame in enumerate(frames, start=1):
        tracked.check_frame(frame, first.shape, sequence.name, index)
        start = time.perf_counter()
        found, found_box = tracker.update(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        step_seconds.append(time.perf_counter() - start)
        if found:
            box = np.asarray(found_box, np.float64)
        boxes.append(box)
        failed.append(not found)
        bar.update(1)
    bar.close()
    return tracked.TrackResult(
        np.stack(boxes),
        np.ones(len(boxes), np.float32),
        np.asarray(failed),
        init_seconds,
        np.asarray(step_seconds),
    )
