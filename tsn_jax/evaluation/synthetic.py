"""A procedurally generated tracking sequence with exact ground truth (demo, tests, goldens).

A colourful, structured target texture moves along a smooth random path over a muted textured
background, scales between 0.7x and 1.4x its base size, and is partly hidden by an occluder
for a stretch of frames. Everything is drawn from one ``numpy.random.Generator`` seeded by
``seed``, so a seed fixes every pixel. Frames are rendered when asked for (well under a
millisecond for 320x240), so long sequences cost no memory.

The ground-truth box of frame ``t`` is the integer-pixel rectangle the target occupies, in the
0-based xywh convention of ``boxes.py`` (covering pixels ``x .. x + w - 1``); the occluder does
not change it (OTB annotates occluded targets by their full extent).
"""

import dataclasses
import os
import pathlib

import cv2
import numpy as np

from tsn_jax import boxes
from tsn_jax.evaluation import boxfiles, datasets

MIN_SCALE, MAX_SCALE = 0.7, 1.4
# The target's base size as a fraction of the frame's (W, H); at 320x240 and MIN_SCALE the
# smallest box is about 34 x 34 px.
_BASE_FRACTION = (0.15, 0.2)
_OCCLUDED_FRACTION = 0.4  # Part of the target's width the occluder hides.
_MIN_FRAME_SIDE = 32


@dataclasses.dataclass(frozen=True)
class Scene:
    """Everything needed to render the synthetic sequence.

    Attributes:
      background: uint8 [H, W, 3] RGB background.
      texture: uint8 [h, w, 3] RGB target texture at MAX_SCALE; resized per frame.
      boxes_xywh: [T, 4] float64 0-based integer-valued xywh of the target per frame.
      occluder_boxes_xywh: [T, 4] float64 0-based xywh of the occluder (clipped to the frame);
        all zeros in frames without occlusion.
      occluder_colour: uint8 [3] RGB of the occluder.
    """

    background: np.ndarray
    texture: np.ndarray
    boxes_xywh: np.ndarray
    occluder_boxes_xywh: np.ndarray
    occluder_colour: np.ndarray

    def target_patch(self, index: int) -> np.ndarray:
        """uint8 [h, w, 3] RGB: the texture resized to frame ``index``'s box."""
        _, _, w, h = self.boxes_xywh[index].astype(int)
        return cv2.resize(self.texture, (w, h), interpolation=cv2.INTER_AREA)

    def occluder_mask(self, index: int) -> np.ndarray:
        """bool [H, W]: the pixels the occluder covers in frame ``index``."""
        mask = np.zeros(self.background.shape[:2], bool)
        x, y, w, h = self.occluder_boxes_xywh[index].astype(int)
        mask[y : y + h, x : x + w] = True
        return mask

    def render(self, index: int) -> np.ndarray:
        """Frame ``index`` as uint8 [H, W, 3] RGB."""
        frame = self.background.copy()
        x, y, w, h = self.boxes_xywh[index].astype(int)
        frame[y : y + h, x : x + w] = self.target_patch(index)
        ox, oy, ow, oh = self.occluder_boxes_xywh[index].astype(int)
        frame[oy : oy + oh, ox : ox + ow] = self.occluder_colour
        return frame


def _smooth_noise(rng, size_wh, cells, channels):
    """float32 [H, W, C] noise, smooth at the scale of ``cells`` cells across the width."""
    width, height = size_wh
    cells_h = max(2, round(cells * height / width))
    coarse = rng.normal(size=(cells_h, cells, channels)).astype(np.float32)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return smooth.reshape(height, width, channels)


def _background(rng, size_wh):
    """Muted, low-saturation smoothed noise at two scales (uint8 [H, W, 3] RGB)."""
    grey = 0.7 * _smooth_noise(rng, size_wh, 8, 1) + 0.3 * _smooth_noise(rng, size_wh, 40, 1)
    tint = 0.15 * _smooth_noise(rng, size_wh, 4, 3)
    image = 110 + 28 * (grey + tint)
    return np.clip(image, 0, 255).astype(np.uint8)


def _texture(rng, size_wh):
    """A saturated, structured texture: colour blobs, stripes and a dark frame (uint8 RGB)."""
    width, height = size_wh
    colours = _smooth_noise(rng, size_wh, 3, 3)
    colours = (colours - colours.mean((0, 1))) / (colours.std((0, 1)) + 1e-6)
    v, u = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    period = max(4.0, min(width, height) / 3)
    phase = (u * np.cos(angle) + v * np.sin(angle)) * 2 * np.pi / period
    stripes = np.sin(phase)[:, :, None] * rng.uniform(-1, 1, 3).astype(np.float32)
    image = 128 + 70 * colours + 50 * stripes
    border = max(1, round(min(width, height) / 12))
    image[:border], image[-border:], image[:, :border], image[:, -border:] = 20, 20, 20, 20
    return np.clip(image, 0, 255).astype(np.uint8)


def _smooth_path(rng, num_frames, cycles):
    """[T] float in [-1, 1]: a sum of two random low-frequency sinusoids."""
    t = np.arange(num_frames, dtype=np.float64)
    periods = rng.uniform(*cycles, size=2)
    phases = rng.uniform(0, 2 * np.pi, size=2)
    weights = rng.uniform(0.4, 1.0, size=2)
    waves = np.sin(2 * np.pi * t[:, None] / periods + phases)  # [T, 2]
    return waves @ weights / weights.sum()


def _occluder_boxes(target_xywh, frame_size_wh, side):
    """[T, 4] occluder boxes: a bar over one side of the target, taller than it."""
    x, y, w, h = (target_xywh[:, i] for i in range(4))
    width = np.maximum(1, np.round(_OCCLUDED_FRACTION * w))
    x0 = x + w - width if side > 0 else x
    pad = np.round(0.2 * h)
    xyxy = np.stack([x0, y - pad, x0 + width, y + h + pad], axis=1)
    xyxy[:, 0::2] = np.clip(xyxy[:, 0::2], 0, frame_size_wh[0])
    xyxy[:, 1::2] = np.clip(xyxy[:, 1::2], 0, frame_size_wh[1])
    return boxes.xyxy_to_xywh(xyxy)


def make_scene(
    num_frames: int = 60, frame_size_wh: tuple[int, int] = (320, 240), seed: int = 0
) -> Scene:
    """Draws the synthetic scene (see the module docstring); deterministic for ``seed``.

    Args:
      num_frames: T, the number of frames (>= 1).
      frame_size_wh: (W, H) in pixels, each >= 32.
      seed: seed of the ``numpy.random.Generator`` that draws everything.

    Returns:
      A Scene.

    Raises:
      ValueError: too few frames or a frame too small.
    """
    width, height = (int(v) for v in frame_size_wh)
    if num_frames < 1:
        raise ValueError(f"num_frames={num_frames}: need at least 1 frame")
    if min(width, height) < _MIN_FRAME_SIDE:
        raise ValueError(f"frame_size_wh={frame_size_wh}: each side must be >= {_MIN_FRAME_SIDE}")
    rng = np.random.default_rng(seed)
    background = _background(rng, (width, height))
    base = np.asarray(_BASE_FRACTION) * (width, height) * rng.uniform(0.85, 1.15, size=2)
    texture = _texture(rng, tuple(int(np.ceil(v * MAX_SCALE)) for v in base))

    middle, amplitude = (MAX_SCALE + MIN_SCALE) / 2, (MAX_SCALE - MIN_SCALE) / 2
    scale = middle + amplitude * _smooth_path(rng, num_frames, (50, 120))
    size = np.maximum(4, np.round(base[None] * scale[:, None]))  # [T, 2] w, h
    # The centre roams the area where even the largest box stays inside the frame.
    margin = base * MAX_SCALE / 2
    centre = np.stack(
        [
            width / 2 + (width / 2 - margin[0]) * 0.9 * _smooth_path(rng, num_frames, (80, 200)),
            height / 2 + (height / 2 - margin[1]) * 0.9 * _smooth_path(rng, num_frames, (80, 200)),
        ],
        axis=1,
    )
    corner = np.clip(np.round(centre - size / 2), 0, np.asarray([width, height]) - size)
    target = np.concatenate([corner, size], axis=1)

    occluder = _occluder_boxes(target, (width, height), side=rng.choice([-1, 1]))
    occluded = np.zeros(num_frames, bool)
    if num_frames > 1:
        start = max(1, round(0.45 * num_frames))
        occluded[start : start + max(1, round(0.15 * num_frames))] = True
    occluder[~occluded] = 0
    colour = rng.integers(30, 90, size=3).astype(np.uint8)
    return Scene(background, texture, target, occluder, colour)


def make_sequence(
    num_frames: int = 60,
    frame_size_wh: tuple[int, int] = (320, 240),
    seed: int = 0,
    name: str = "synthetic",
) -> datasets.Sequence:
    """A synthetic ``datasets.Sequence`` with exact 0-based ground truth, rendered lazily.

    Args:
      num_frames: T, the number of frames.
      frame_size_wh: (W, H) in pixels, each >= 32.
      seed: the seed; the same seed gives the same frames and boxes.
      name: the sequence name.

    Returns:
      A Sequence with ``groundtruth_xywh`` [T, 4] float64 and frames uint8 [H, W, 3] RGB.
    """
    scene = make_scene(num_frames, frame_size_wh, seed)
    return datasets.Sequence.from_render(name, num_frames, scene.render, scene.boxes_xywh)


def write_otb(sequence: datasets.Sequence, directory: str | os.PathLike[str]) -> pathlib.Path:
    """Writes a sequence in the OTB layout that ``datasets.load_otb_sequence`` reads.

    Writes ``directory/<name>/img/0001.jpg ...`` (JPEG quality 95) and
    ``groundtruth_rect.txt`` (1-based x,y,w,h, exact values, ``boxfiles.write_boxes``), streaming
    the frames.

    Args:
      sequence: a ``datasets.Sequence`` with ground truth.
      directory: the dataset folder to write into (created if needed).

    Returns:
      pathlib.Path of the sequence folder.

    Raises:
      datasets.DatasetError: the sequence has no ground truth, or a frame cannot be written.
    """
    if sequence.groundtruth_xywh is None:
        raise datasets.DatasetError(f"{sequence.name}: no ground truth to write")
    folder = pathlib.Path(directory) / sequence.name
    img = folder / "img"
    img.mkdir(parents=True, exist_ok=True)
    digits = max(4, len(str(len(sequence))))
    for index, frame in enumerate(sequence, start=1):
        path = img / f"{index:0{digits}d}.jpg"
        bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        if not cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 95]):
            raise datasets.DatasetError(f"{path} (frame {index - 1}): cannot write this frame")
    boxfiles.write_boxes(folder / "groundtruth_rect.txt", sequence.groundtruth_xywh, None)
    return folder
