"""Box text files, read and written in one place: ground truth and tracking results alike.

One row of numbers per frame, separated by commas, tabs or spaces (any mix): ``x,y,w,h``
(OTB ground truth and result files) or the 8 polygon corners of VOT ground truth. ``nan``
marks a frame without a box. Trailing blank lines are ignored; a blank line between rows is an
error, because it would shift every later frame.

Inside the library boxes are 0-based xywh floats (see :mod:`tsn_jax.boxes` for the pixel
convention); files on disk are 1-based like OTB ground truth, so other toolkits read the result
files as they are. :func:`read_boxes` and :func:`write_boxes` apply the offset
(:func:`tsn_jax.boxes.from_one_based` / :func:`tsn_jax.boxes.to_one_based`); :func:`read_rows`
returns the values as written (polygons are converted by ``datasets``).

Writes are atomic: the text goes to ``<path>.tmp`` first and is renamed over ``path``, so an
interrupted run never leaves a half-written file behind.
"""

import os
import pathlib
import re

import numpy as np
import numpy.typing as npt

from tsn_jax import boxes

_SEPARATORS = re.compile(r"[,\s]+")


class BoxFileError(ValueError):
    """A box file or a box array that cannot be read or written; names the file and line."""


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Writes ``text`` to ``path`` through ``<path>.tmp`` and ``os.replace``.

    Creates the parent folders. The temporary file is removed when writing fails.

    Args:
      path: destination file (str or path-like).
      text: the whole file content.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_boxes(
    path: str | os.PathLike[str], boxes_xywh: npt.ArrayLike, decimals: int | None = 4
) -> None:
    """Writes per-frame boxes as an OTB-format file (1-based ``x,y,w,h`` rows), atomically.

    Args:
      path: destination ``.txt`` file; parent folders are created.
      boxes_xywh: [T, 4] float 0-based xywh boxes in frame pixels, one per frame. Non-finite
        values mark a frame without a box.
      decimals: digits after the point, non-finite values as ``nan`` (result files: 4); None
        writes each value's shortest exact decimal form and non-finite ones as ``NaN``, as OTB
        ground truth spells them (generated ground truth).

    Raises:
      BoxFileError: ``boxes_xywh`` is not [T, 4].
    """
    array = np.asarray(boxes_xywh, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 4:
        raise BoxFileError(f"{path}: boxes must be [T, 4] xywh, got shape {array.shape}")
    rows = boxes.to_one_based(array)
    if decimals is None:
        text = "".join(",".join(map(_exact, row)) + "\n" for row in rows)
    else:
        text = "".join(",".join(f"{v:.{decimals}f}" for v in row) + "\n" for row in rows)
    atomic_write_text(path, text)


def _exact(value):
    if not np.isfinite(value):
        return "NaN"
    return np.format_float_positional(float(value), trim="-")


def read_rows(
    path: str | os.PathLike[str], allowed_lengths: tuple[int, ...] = (4,), kind: str = "box"
) -> np.ndarray:
    """Reads a box text file: one row of numbers per frame, as written (no conversion).

    Args:
      path: the text file.
      allowed_lengths: the numbers of values a row may have; every row has the first row's.
      kind: what the file holds, for the messages ("ground-truth", "result", ...).

    Returns:
      [N, k] float64, N >= 1.

    Raises:
      BoxFileError: the file is missing, not text or empty, or a line (named by its 1-based
        number, with its text) is blank between rows, holds something that is not a number,
        or has the wrong number of values.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise BoxFileError(f"{path}: {kind} file not found")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise BoxFileError(f"{path}: not a text file ({e})") from None
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise BoxFileError(f"{path}: the file holds no boxes")
    rows = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            raise BoxFileError(f"{path}:{number}: blank line between boxes")
        try:
            values = [float(v) for v in _SEPARATORS.split(text)]
        except ValueError:
            raise BoxFileError(f"{path}:{number}: not a number in {text!r}") from None
        expected = (len(rows[0]),) if rows else allowed_lengths
        if len(values) not in expected:
            raise BoxFileError(
                f"{path}:{number}: expected {' or '.join(map(str, expected))} values, "
                f"got {len(values)}: {text!r}"
            )
        rows.append(values)
    return np.asarray(rows, np.float64)


def read_boxes(path: str | os.PathLike[str], kind: str = "result") -> np.ndarray:
    """Reads an OTB-format file (a result or ground truth): 1-based ``x,y,w,h`` rows.

    Args:
      path: a text file with one 1-based ``x,y,w,h`` row per frame (``nan`` rows kept).
      kind: what the file holds, for the messages.

    Returns:
      [T, 4] float64 0-based xywh boxes in frame pixels.

    Raises:
      BoxFileError: as :func:`read_rows`.
    """
    return boxes.from_one_based(read_rows(path, (4,), kind))
