"""Tracking sequences: frames (read lazily) and ground truth, from OTB and VOT folders or videos.

A :class:`Sequence` pairs a frame source with its boxes. Three sources fit behind it:

* image files (OTB ``img/``, VOT folders, any folder of images), decoded on demand;
* a video file, read sequentially through ``cv2.VideoCapture``;
* an in-memory renderer ``render(i)`` (the synthetic sequences of ``synthetic.py``).

Frames are ``uint8[H, W, 3]`` RGB (OpenCV's BGR never leaves this module; grayscale frames are
expanded to 3 channels). Iterating a sequence streams its frames, so a 3000-frame video never
sits in memory.

A dataset folder is listed as :class:`SequenceSource` entries, a name and a ``load()``
(:func:`sequence_sources`, :func:`otb_sources`): a run loads each sequence when its turn comes,
so one bad folder fails alone. :func:`load_sequences` loads them all at once.

Boxes follow ``boxes.py``: 0-based ``(x, y, w, h)`` floats in frame pixels. Ground-truth files
are 1-based (OTB convention), read by ``boxfiles.read_rows`` (the reader of result files too) and
converted once here, with ``boxes.from_one_based``.
"""

import dataclasses
import functools
import os
import pathlib
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Self

import cv2
import numpy as np
import numpy.typing as npt

from tsn_jax import boxes
from tsn_jax.evaluation import boxfiles

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")

# OTB sequences whose ground truth covers only part of the images in img/: 1-based inclusive
# (first, last) frame numbers, as in the OTB toolkit's configSeqs.m (startFrame, endFrame).
OTB_FRAME_RANGES = {
    "David": (300, 770),
    "Football1": (1, 74),
    "Freeman3": (1, 460),
    "Freeman4": (1, 283),
    "Diving": (1, 215),
    "Tiger1": (6, 354),
    "BlurCar1": (247, 988),
    "BlurCar3": (3, 359),
    "BlurCar4": (18, 397),
}

_JPEG_SOI = b"\xff\xd8"
_JPEG_EOI = b"\xff\xd9"


class DatasetError(ValueError):
    """A sequence, frame or ground-truth file that cannot be used; the message says where."""


class FrameIndexError(DatasetError, IndexError):
    """A frame index outside the sequence."""


# ---------------------------------------------------------------------------------------------
# Frame sources: __len__, read(i) -> RGB uint8 [H, W, 3], stream() -> iterator over all frames.


def _to_rgb(image, where):
    """uint8 [H, W] / [H, W, 1] / [H, W, 3] RGB -> uint8 [H, W, 3] RGB (no colour conversion)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise DatasetError(f"{where}: frame dtype is {image.dtype}, expected uint8")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3) or 0 in image.shape[:2]:
        raise DatasetError(f"{where}: frame shape {image.shape}, expected [H, W] or [H, W, 3]")
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image)


def read_image(path: str | os.PathLike[str], index: int | None = None) -> np.ndarray:
    """Reads one image file as RGB.

    JPEG files must end with the EOI marker ``FF D9`` (trailing zero or whitespace bytes are
    ignored): OpenCV silently returns a partly decoded image for a truncated JPEG.

    Args:
      path: image file (JPEG or PNG; anything OpenCV decodes).
      index: the frame index, only for error messages.

    Returns:
      uint8 [H, W, 3] RGB; grayscale images are expanded to 3 channels.

    Raises:
      DatasetError: the file is missing, unreadable, empty, truncated or not an image.
    """
    where = f"{path}" + ("" if index is None else f" (frame {index})")
    try:
        data = pathlib.Path(path).read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{where}: frame file is missing") from None
    except OSError as error:
        raise DatasetError(f"{where}: cannot read frame file: {error}") from None
    if not data:
        raise DatasetError(f"{where}: frame file is empty (0 bytes)")
    if data.startswith(_JPEG_SOI) and not data.rstrip(b"\x00 \t\r\n").endswith(_JPEG_EOI):
        raise DatasetError(f"{where}: truncated JPEG (no end-of-image marker FF D9)")
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:  # OpenCV raises on some malformed data instead of returning None.
        image = None
    if image is None:
        raise DatasetError(f"{where}: not a readable image ({len(data)} bytes)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class _ImageFiles:
    """Frames from a list of image files, each decoded when asked for."""

    def __init__(self, paths):
        self.paths = [pathlib.Path(p) for p in paths]

    def __len__(self):
        return len(self.paths)

    def read(self, index):
        return read_image(self.paths[index], index)

    def stream(self):
        for index in range(len(self.paths)):
            yield self.read(index)


class _VideoFile:
    """Frames from a video file. ``len`` is the container's frame count, possibly an estimate."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        capture = self._open()
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        capture.release()
        self._count = count if count > 0 else None
        self._capture, self._next = None, 0  # Kept open so frame(i), frame(i + 1) is sequential.

    def _open(self):
        if not self.path.is_file():
            raise DatasetError(f"{self.path}: video file is missing")
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise DatasetError(f"{self.path}: OpenCV cannot open this video")
        return capture

    def __len__(self):
        if self._count is None:  # The container does not say: count by decoding once.
            self._count = sum(1 for _ in self.stream())
        return self._count

    def read(self, index):
        if self._capture is None or index != self._next:
            if self._capture is None:
                self._capture = self._open()
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = self._capture.read()
        if not ok:
            self._capture.release()
            self._capture = None
            raise DatasetError(f"{self.path} (frame {index}): cannot decode this frame")
        self._next = index + 1
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

    def stream(self):
        capture = self._open()
        try:
            while True:
                ok, image = capture.read()
                if not ok:
                    return
                yield cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        finally:
            capture.release()


class _Rendered:
    """Frames made on demand by ``render(i) -> uint8 [H, W, 3] RGB`` (or [H, W] grayscale)."""

    def __init__(self, num_frames, render, name):
        self.num_frames, self.render, self.name = int(num_frames), render, name

    def __len__(self):
        return self.num_frames

    def read(self, index):
        return _to_rgb(self.render(index), f"{self.name} (frame {index})")

    def stream(self):
        for index in range(self.num_frames):
            yield self.read(index)


class Sequence:
    """A tracking sequence: lazily read frames, optional ground truth and the initial box.

    Attributes:
      name: the sequence name (its folder or file name).
      groundtruth_xywh: [T, 4] float64 0-based xywh boxes in frame pixels, NaN rows where the
        target is not annotated; None when unknown (videos, plain image folders).
      init_box_xywh: [4] float64 0-based xywh box of the target in frame 0.
    """

    def __init__(
        self,
        name: str,
        source: _ImageFiles | _VideoFile | _Rendered,
        groundtruth_xywh: npt.ArrayLike | None = None,
        init_box_xywh: npt.ArrayLike | None = None,
    ) -> None:
        """Builds a sequence from a frame source (use the ``from_*`` constructors).

        Args:
          name: sequence name.
          source: a frame source (``_ImageFiles``, ``_VideoFile`` or ``_Rendered``).
          groundtruth_xywh: optional [T, 4] 0-based xywh boxes, one per frame.
          init_box_xywh: optional [4] 0-based xywh; defaults to the first ground-truth row.

        Raises:
          DatasetError: no initial box, or ground truth of the wrong shape or length.
        """
        self.name = str(name)
        self._source = source
        self._frame_size_wh = None
        if groundtruth_xywh is not None:
            groundtruth_xywh = np.asarray(groundtruth_xywh, np.float64)
            if groundtruth_xywh.ndim != 2 or groundtruth_xywh.shape[1] != 4:
                raise DatasetError(
                    f"{name}: ground truth has shape {groundtruth_xywh.shape}, expected [T, 4]"
                )
            if not isinstance(source, _VideoFile) and len(groundtruth_xywh) != len(source):
                raise DatasetError(
                    f"{name}: {len(groundtruth_xywh)} ground-truth rows for {len(source)} frames"
                )
        self.groundtruth_xywh = groundtruth_xywh
        if init_box_xywh is None:
            if groundtruth_xywh is None or len(groundtruth_xywh) == 0:
                raise DatasetError(f"{name}: neither an initial box nor ground truth given")
            init_box_xywh = groundtruth_xywh[0]
        init_box_xywh = np.asarray(init_box_xywh, np.float64).copy()
        if init_box_xywh.shape != (4,):
            raise DatasetError(f"{name}: initial box {init_box_xywh} is not 4 values x, y, w, h")
        self.init_box_xywh = init_box_xywh

    @classmethod
    def from_image_paths(
        cls,
        name: str,
        paths: Iterable[str | os.PathLike[str]],
        groundtruth_xywh: npt.ArrayLike | None = None,
        init_box_xywh: npt.ArrayLike | None = None,
    ) -> Self:
        """A sequence over image files (decoded on demand). Boxes are 0-based xywh."""
        return cls(name, _ImageFiles(paths), groundtruth_xywh, init_box_xywh)

    @classmethod
    def from_video(
        cls,
        name: str,
        path: str | os.PathLike[str],
        init_box_xywh: npt.ArrayLike,
        groundtruth_xywh: npt.ArrayLike | None = None,
    ) -> Self:
        """A sequence over a video file, read sequentially. Boxes are 0-based xywh."""
        return cls(name, _VideoFile(path), groundtruth_xywh, init_box_xywh)

    @classmethod
    def from_render(
        cls,
        name: str,
        num_frames: int,
        render: Callable[[int], np.ndarray],
        groundtruth_xywh: npt.ArrayLike | None = None,
        init_box_xywh: npt.ArrayLike | None = None,
    ) -> Self:
        """A sequence whose frame ``i`` is ``render(i)`` (uint8 [H, W, 3] RGB), made on demand."""
        return cls(name, _Rendered(num_frames, render, name), groundtruth_xywh, init_box_xywh)

    def __len__(self) -> int:
        """The number of frames (for a video, the container's count: possibly an estimate)."""
        return len(self._source)

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (0-based; negative counts from the end) as uint8 [H, W, 3] RGB.

        Raises:
          FrameIndexError: the index is outside the sequence.
          DatasetError: the frame cannot be read (the message names the file and index).
        """
        count = len(self)
        if not -count <= index < count:
            raise FrameIndexError(f"{self.name}: frame {index} outside [0, {count})")
        return self._source.read(index % count)

    def __iter__(self) -> Iterator[np.ndarray]:
        """Yields the frames in order, one at a time (uint8 [H, W, 3] RGB)."""
        return self._source.stream()

    @property
    def frame_size_wh(self) -> tuple[int, int]:
        """(W, H) of frame 0, in pixels."""
        if self._frame_size_wh is None:
            height, width = self.frame(0).shape[:2]
            self._frame_size_wh = (int(width), int(height))
        return self._frame_size_wh

    def __repr__(self) -> str:
        gt = "none" if self.groundtruth_xywh is None else f"{len(self.groundtruth_xywh)} rows"
        return f"Sequence({self.name!r}, {len(self)} frames, ground truth {gt})"


# ---------------------------------------------------------------------------------------------
# Files.


@dataclasses.dataclass(frozen=True)
class SequenceSource:
    """A sequence not read yet: its name and how to load it.

    A dataset run loads each sequence when its turn comes, so one bad folder is reported with
    its error while the others are still tracked.
    """

    name: str
    load: Callable[[], Sequence]


def _natural_key(path):
    """Sort key so that 2.jpg comes before 10.jpg."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def _image_files(folder):
    """Image files directly in ``folder``, naturally sorted."""
    paths = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    return sorted(paths, key=_natural_key)


def _read_groundtruth(path, allowed_lengths=(4,)):
    """[N, k] float64 rows of a ground-truth file, as written (``boxfiles.read_rows``).

    Raises:
      DatasetError: the file is missing, empty, or holds a malformed row (file, line, text).
    """
    try:
        return boxfiles.read_rows(path, allowed_lengths, kind="ground-truth")
    except boxfiles.BoxFileError as error:
        raise DatasetError(str(error)) from None


def _check_first_box(box_xywh, where):
    """Checks a ground-truth file's first box (0-based here) by its values; the error shows it
    1-based, as the file has it."""
    validate_init_box(boxes.to_one_based(box_xywh), None, where, one_based=True)


def _frame_number(path):
    try:
        return int(path.stem)
    except ValueError:
        return None


def _select_range(paths, frame_range, where):
    """The frames numbered ``first..last`` (1-based inclusive), by file number or position."""
    first, last = (int(v) for v in frame_range)
    if not 1 <= first <= last:
        raise DatasetError(f"{where}: bad frame range {frame_range}")
    numbers = [_frame_number(p) for p in paths]
    if all(n is not None for n in numbers):
        return [p for p, n in zip(paths, numbers, strict=True) if first <= n <= last]
    return paths[first - 1 : last]


def load_otb_sequence(
    path: str | os.PathLike[str],
    name: str | None = None,
    frame_range: tuple[int, int] | None = None,
    groundtruth_file: str | os.PathLike[str] | None = None,
) -> Sequence:
    """Loads one OTB-layout sequence.

    The folder holds ``img/`` (frames, naturally sorted: 0001.jpg, ...; jpg, jpeg or png) and
    ``groundtruth_rect.txt`` (rows x, y, w, h, 1-based, separated by commas, tabs or spaces;
    ``NaN`` rows allowed).

    Args:
      path: the sequence folder.
      name: the sequence name; defaults to the folder name.
      frame_range: optional 1-based inclusive (first, last) frame numbers that the ground-truth
        rows describe. When None and ``name`` is a key of ``OTB_FRAME_RANGES`` (case-insensitive),
        that range is used, unless img/ already holds exactly one frame per ground-truth row (a
        pre-trimmed copy). Frames are picked by the number in their file name when every name
        is a number, by position otherwise.
      groundtruth_file: the ground-truth file, when not ``<path>/groundtruth_rect.txt`` (OTB's
        multi-target folders hold ``groundtruth_rect.1.txt`` and ``groundtruth_rect.2.txt``).

    Returns:
      A Sequence with 0-based ground truth; the initial box is the first row.

    Raises:
      DatasetError: missing folder, missing or empty img/, missing ground truth, a malformed
        row, a row count different from the frame count, or an invalid first box.
    """
    path = pathlib.Path(path)
    name = path.name if name is None else name
    if not path.is_dir():
        raise DatasetError(f"{path}: sequence folder is missing")
    img = path / "img"
    if not img.is_dir():
        raise DatasetError(f"{img}: frame folder img/ is missing")
    frames = _image_files(img)
    if not frames:
        raise DatasetError(f"{img}: no {'/'.join(IMAGE_SUFFIXES)} frames in img/")
    gt_path = path / "groundtruth_rect.txt" if groundtruth_file is None else groundtruth_file
    gt_path = pathlib.Path(gt_path)
    rows = _read_groundtruth(gt_path)
    if frame_range is None:
        known = {k.lower(): v for k, v in OTB_FRAME_RANGES.items()}
        frame_range = known.get(name.lower())
        if frame_range is not None and len(rows) == len(frames):
            frame_range = None
    if frame_range is not None:
        frames = _select_range(frames, frame_range, img)
    if len(rows) != len(frames):
        selected = "" if frame_range is None else f" (frames {frame_range[0]}..{frame_range[1]})"
        raise DatasetError(
            f"{gt_path}: {len(rows)} ground-truth rows but {len(frames)} frames in {img}{selected}"
        )
    groundtruth = boxes.from_one_based(rows)
    _check_first_box(groundtruth[0], f"{gt_path}:1")
    return Sequence.from_image_paths(name, frames, groundtruth)


def _polygons_to_xywh(rows):
    """[N, 8] polygons x1, y1, ..., x4, y4 -> [N, 4] axis-aligned xywh (same origin)."""
    xs, ys = rows[:, 0::2], rows[:, 1::2]
    x0, y0 = xs.min(axis=1), ys.min(axis=1)
    return np.stack([x0, y0, xs.max(axis=1) - x0, ys.max(axis=1) - y0], axis=1)


def load_vot_sequence(path: str | os.PathLike[str], name: str | None = None) -> Sequence:
    """Loads one VOT-layout sequence.

    Frames are the images in ``color/`` when it exists, else in the folder itself.
    ``groundtruth.txt`` holds rows of 4 values (x, y, w, h) or 8 values (a rotated polygon
    x1, y1, ..., x4, y4). A polygon becomes its axis-aligned bounding box (min and max of the
    corners), as the OTB-style evaluation needs. VOT files are treated as 1-based like OTB's
    (the VOT toolkit's Matlab heritage), so 1 is subtracted from x and y here; this keeps boxes
    from both benchmarks in one convention.

    Args:
      path: the sequence folder.
      name: the sequence name; defaults to the folder name.

    Returns:
      A Sequence with 0-based xywh ground truth; the initial box is the first row.

    Raises:
      DatasetError: missing folder or frames, missing ground truth, a malformed row, or a row
        count different from the frame count.
    """
    path = pathlib.Path(path)
    name = path.name if name is None else name
    if not path.is_dir():
        raise DatasetError(f"{path}: sequence folder is missing")
    folder = path / "color" if (path / "color").is_dir() else path
    frames = _image_files(folder)
    if not frames:
        raise DatasetError(f"{folder}: no {'/'.join(IMAGE_SUFFIXES)} frames")
    gt_path = path / "groundtruth.txt"
    rows = _read_groundtruth(gt_path, (4, 8))
    if len(rows) != len(frames):
        raise DatasetError(f"{gt_path}: {len(rows)} ground-truth rows but {len(frames)} frames")
    if rows.shape[1] == 8:
        rows = _polygons_to_xywh(rows)
    groundtruth = boxes.from_one_based(rows)
    _check_first_box(groundtruth[0], f"{gt_path}:1")
    return Sequence.from_image_paths(name, frames, groundtruth)


def _user_box(init_box_xywh, where):
    """A 1-based box typed by a user, checked by its values (the error shows it as typed) ->
    [4] 0-based xywh."""
    box = np.asarray(init_box_xywh, np.float64).reshape(-1)
    if box.shape != (4,):
        raise DatasetError(f"{where}: initial box {init_box_xywh} is not 4 values x, y, w, h")
    validate_init_box(box, None, where, one_based=True)
    return boxes.from_one_based(box)


def load_video(path: str | os.PathLike[str], init_box_xywh: npt.ArrayLike) -> Sequence:
    """A sequence over a video file, without ground truth.

    Args:
      path: the video file (any format OpenCV's VideoCapture opens).
      init_box_xywh: [4] the target in frame 0, 1-BASED x, y, w, h as typed on the command line;
        stored 0-based.

    Raises:
      DatasetError: the file is missing or OpenCV cannot open it, or the box cannot start
        tracking (a value not finite, w or h <= 0; the error shows the box as given).
    """
    path = pathlib.Path(path)
    return Sequence.from_video(path.stem, path, _user_box(init_box_xywh, path))


def load_image_folder(path: str | os.PathLike[str], init_box_xywh: npt.ArrayLike) -> Sequence:
    """A sequence over the images of a folder (naturally sorted), without ground truth.

    Args:
      path: the folder; its images, or those of its ``img/`` when it has none itself.
      init_box_xywh: [4] the target in frame 0, 1-BASED x, y, w, h; stored 0-based.

    Raises:
      DatasetError: the folder is missing or holds no images, or the box cannot start
        tracking (a value not finite, w or h <= 0; the error shows the box as given).
    """
    path = pathlib.Path(path)
    if not path.is_dir():
        raise DatasetError(f"{path}: image folder is missing")
    frames = _image_files(path)
    if not frames and (path / "img").is_dir():
        frames = _image_files(path / "img")
    if not frames:
        raise DatasetError(f"{path}: no {'/'.join(IMAGE_SUFFIXES)} images in this folder")
    return Sequence.from_image_paths(path.name, frames, None, _user_box(init_box_xywh, path))


def _is_otb(path):
    return (path / "img").is_dir()


def _is_vot(path):
    return (path / "groundtruth.txt").is_file()


def parse_names(names: str | Iterable[str] | None) -> list[str] | None:
    """Sequence names from a list or a comma-separated string; None (all) when empty."""
    if names is None:
        return None
    if isinstance(names, str):
        names = names.split(",")
    names = [n.strip() for n in names if n.strip()]
    return names or None


def _select(available, names, root):
    """Picks ``names`` (list, comma string or None = all) from {name: value}, sorted by name."""
    names = parse_names(names)
    if names is None:
        return [available[n] for n in sorted(available)]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise DatasetError(
            f"{root}: unknown sequence(s) {', '.join(unknown)}; available: "
            f"{', '.join(sorted(available)) or 'none'}"
        )
    return [available[n] for n in names]


def load_source(item: Sequence | SequenceSource) -> Sequence:
    """The sequence of ``item``: a Sequence as it is, a SequenceSource loaded now.

    Raises:
      What the source's ``load`` raises (``DatasetError`` for a bad folder or file).
    """
    return item.load() if isinstance(item, SequenceSource) else item


def otb_sources(
    root: str | os.PathLike[str], names: str | Iterable[str] | None = None
) -> list[SequenceSource]:
    """Every OTB sequence (subfolder with img/) under ``root``, sorted by name, not read yet.

    Each source's ``load`` is :func:`load_otb_sequence` of its folder, so a bad sequence raises
    its ``DatasetError`` only when it is loaded, and the others can still be used.

    Args:
      root: the dataset folder.
      names: optional list or comma-separated string of sequence names (in that order).

    Raises:
      DatasetError: missing root or an unknown name (lists the available ones).
    """
    root = pathlib.Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder is missing")
    available = {p.name: p for p in root.iterdir() if p.is_dir() and _is_otb(p)}
    return [
        SequenceSource(p.name, functools.partial(load_otb_sequence, p))
        for p in _select(available, names, root)
    ]


def load_otb_dataset(
    root: str | os.PathLike[str], names: str | Iterable[str] | None = None
) -> list[Sequence]:
    """Every OTB sequence under ``root``, each loaded now (:func:`otb_sources`, loaded).

    Raises:
      DatasetError: missing root, an unknown name (lists the available ones), or a bad sequence.
    """
    return [source.load() for source in otb_sources(root, names)]


def sequence_sources(
    dataset_dir: str | os.PathLike[str], names: str | Iterable[str] | None = None
) -> list[SequenceSource]:
    """The sequences of a folder, not read yet: one OTB or VOT sequence, or a root of such.

    A folder with ``img/`` is an OTB sequence (:func:`load_otb_sequence`); one with
    ``groundtruth.txt`` a VOT sequence (:func:`load_vot_sequence`). Otherwise each subfolder
    detected as either is listed, sorted by name. Nothing of a sequence is read until its
    source is loaded, so one bad folder fails alone, when its turn comes.

    Args:
      dataset_dir: a sequence folder or a dataset root.
      names: optional list or comma-separated string selecting sequences by folder name.

    Raises:
      DatasetError: missing folder, nothing found, or an unknown name.
    """
    root = pathlib.Path(dataset_dir)
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder is missing")
    folders = {}
    if _is_otb(root) or _is_vot(root):
        folders[root.name] = root
    else:
        for p in root.iterdir():
            if p.is_dir() and (_is_otb(p) or _is_vot(p)):
                folders[p.name] = p
    if not folders:
        raise DatasetError(
            f"{root}: no sequences found (an OTB sequence has img/, a VOT one groundtruth.txt)"
        )
    return [
        SequenceSource(
            p.name, functools.partial(load_otb_sequence if _is_otb(p) else load_vot_sequence, p)
        )
        for p in _select(folders, names, root)
    ]


def load_sequences(
    dataset_dir: str | os.PathLike[str], names: str | Iterable[str] | None = None
) -> list[Sequence]:
    """The sequences of a folder, each loaded now (:func:`sequence_sources`, loaded).

    Raises:
      DatasetError: missing folder, nothing found, an unknown name, or a bad sequence.
    """
    return [source.load() for source in sequence_sources(dataset_dir, names)]


def _format_box(box):
    return ",".join(f"{float(v):g}" for v in box)


def validate_init_box(
    box_xywh: npt.ArrayLike,
    frame_size_wh: tuple[float, float] | None,
    where: str,
    *,
    one_based: bool = False,
) -> None:
    """Checks that an initial box can start tracking; the error says which condition failed.

    Args:
      box_xywh: [4] xywh box in frame pixels, 0-based (1-based with ``one_based``).
      frame_size_wh: (W, H) of the frame, in pixels; None checks the values alone.
      where: what to name in the error (e.g. "Bolt frame 0", "groundtruth_rect.txt:1").
      one_based: the box is 1-based, as a ground-truth file or ``--init_box`` gives it, and is
        shown so in the error.

    Raises:
      DatasetError: not 4 values, a value not finite, w or h <= 0, or the box does not overlap
        the frame ``[0, W] x [0, H]`` at all.
    """
    box = np.asarray(box_xywh, np.float64)
    if box.shape != (4,):
        raise DatasetError(f"{where}: initial box {box_xywh} is not 4 values x, y, w, h")
    shown = f"initial box {_format_box(box)} ({1 if one_based else 0}-based x, y, w, h)"
    for name, value in zip(("x", "y", "width", "height"), box, strict=True):
        if not np.isfinite(value):
            raise DatasetError(
                f"{where}: {shown} cannot start tracking: its {name} is {value:g}, not a "
                "finite number"
            )
    x, y, w, h = box - (1, 1, 0, 0) if one_based else box
    for name, size in (("width", w), ("height", h)):
        if size <= 0:
            raise DatasetError(
                f"{where}: {shown} cannot start tracking: its {name} is {size:g}, and a target "
                f"needs a {name} > 0"
            )
    if frame_size_wh is None:
        return
    width, height = frame_size_wh
    for outside, why in (
        (x >= width, "it starts right of the frame's last column"),
        (y >= height, "it starts below the frame's last row"),
        (x + w <= 0, "it ends left of the frame's first column"),
        (y + h <= 0, "it ends above the frame's first row"),
    ):
        if outside:
            raise DatasetError(f"{where}: {shown} lies outside the {width}x{height} frame: {why}")
