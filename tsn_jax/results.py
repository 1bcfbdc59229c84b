"""Tracking result files in the OTB text format (one ``x,y,w,h`` row per frame, 1-based).

Inside the library boxes are 0-based xywh floats (see :mod:`tsn_jax.boxes` for the pixel
convention); files on disk are 1-based like OTB ground truth, so other toolkits read them as they
are. :func:`tsn_jax.boxes.to_one_based` / :func:`tsn_jax.boxes.from_one_based` apply the offset.

Writes are atomic: the text goes to ``<path>.tmp`` first and is renamed over ``path``, so an
interrupted run never leaves a half-written file behind.
"""

import os
import pathlib
import re

import numpy as np
import numpy.typing as npt

from tsn_jax import boxes

_SEPARATORS = re.compile(r"[,\t ]+")


class ResultsError(ValueError):
    """A result file or a box array that cannot be read or written; names the file and line."""


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


def write_results(path: str | os.PathLike[str], boxes_xywh: npt.ArrayLike) -> None:
    """Writes per-frame boxes as an OTB result file.

    Args:
      path: destination ``.txt`` file; parent folders are created.
      boxes_xywh: [T, 4] float 0-based xywh boxes in frame pixels, one per frame. Non-finite
        values are written as ``nan`` (a frame without a prediction).

    Raises:
      ResultsError: ``boxes_xywh`` is not [T, 4].
    """
    array = np.asarray(boxes_xywh, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ResultsError(f"{path}: boxes must be [T, 4] xywh, got shape {array.shape}")
    rows = boxes.to_one_based(array)
    text = "".join(",".join(f"{v:.4f}" for v in row) + "\n" for row in rows)
    atomic_write_text(path, text)


def _parse_line(path, line_number, line):
    fields = [f for f in _SEPARATORS.split(line.strip()) if f]
    if len(fields) != 4:
        raise ResultsError(
            f"{path}:{line_number}: expected 4 values x,y,w,h, got {len(fields)}: {line.strip()!r}"
        )
    try:
        return [float(f) for f in fields]
    except ValueError:
        raise ResultsError(f"{path}:{line_number}: not a number in {line.strip()!r}") from None


def read_results(path: str | os.PathLike[str]) -> np.ndarray:
    """Reads an OTB result (or ground-truth) file.

    Values may be separated by commas, tabs or spaces (any mix). Trailing blank lines are
    ignored; a blank line between rows is an error because it would shift every later frame.
    ``nan`` values are kept (frames without a prediction).

    Args:
      path: a text file with one 1-based ``x,y,w,h`` row per frame.

    Returns:
      [T, 4] float64 0-based xywh boxes in frame pixels.

    Raises:
      ResultsError: the file is missing or empty, or a line (named by number, 1-based) does not
        hold exactly four numbers.
    """
    path = pathlib.Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ResultsError(f"{path}: result file not found") from None
    except UnicodeDecodeError as e:
        raise ResultsError(f"{path}: not a text file ({e})") from None
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ResultsError(f"{path}: the file holds no boxes")
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise ResultsError(f"{path}:{number}: blank line between boxes")
        rows.append(_parse_line(path, number, line))
    return boxes.from_one_based(np.asarray(rows, dtype=np.float64))
