"""OTB success and precision plots (PNG, matplotlib's Agg canvas: no window, no pyplot state).

One line per tracker, legends ``name [AUC]`` / ``name [prec@20]``, best tracker first, as in
the OTB benchmark's figures. The curves come from :mod:`tsn_jax.evaluation.metrics`.
"""

import os
import pathlib
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tsn_jax.evaluation import metrics


def _checked(curves, length, what):
    if not curves:
        raise ValueError(f"{what}: no curve to plot")
    checked = {}
    for name, curve in curves.items():
        curve = np.asarray(curve, dtype=np.float64)
        if curve.shape != (length,):
            raise ValueError(
                f"{what}: curve {name!r} must have shape ({length},), got {curve.shape}"
            )
        checked[name] = curve
    return checked


def _plot(curves, thresholds, score, path, title, xlabel, ylabel):
    """Draws ``curves`` sorted by ``score`` (best first) and saves a PNG at ``path``."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure = Figure(figsize=(6, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    ranked = sorted(curves.items(), key=lambda item: -score(item[1]))
    for name, curve in ranked:
        axes.plot(thresholds, curve, linewidth=2, label=f"{name} [{score(curve):.3f}]")
    axes.set_xlim(thresholds[0], thresholds[-1])
    axes.set_ylim(0, 1.02)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower left" if xlabel.startswith("Overlap") else "lower right")
    figure.tight_layout()
    figure.savefig(path, format="png")
    return [f"{name} [{score(curve):.3f}]" for name, curve in ranked]


def plot_success(
    curves: Mapping[str, npt.ArrayLike], path: str | os.PathLike[str], title: str = "Success plot"
) -> list[str]:
    """Writes an OTB success plot.

    Args:
      curves: {tracker name: [21] success curve} over ``metrics.SUCCESS_THRESHOLDS``.
      path: the PNG file to write; parent folders are created.
      title: the plot title.

    Returns:
      The legend labels, best tracker first.

    Raises:
      ValueError: no curve, or a curve of the wrong shape (named).
    """
    curves = _checked(curves, len(metrics.SUCCESS_THRESHOLDS), "plot_success")
    return _plot(
        curves,
        metrics.SUCCESS_THRESHOLDS,
        lambda c: float(np.mean(c)),
        path,
        title,
        "Overlap threshold (IoU)",
        "Success rate",
    )


def plot_precision(
    curves: Mapping[str, npt.ArrayLike], path: str | os.PathLike[str], title: str = "Precision plot"
) -> list[str]:
    """Writes an OTB precision plot.

    Args:
      curves: {tracker name: [51] precision curve} over ``metrics.PRECISION_THRESHOLDS`` (px).
      path: the PNG file to write; parent folders are created.
      title: the plot title.

    Returns:
      The legend labels, best tracker first.

    Raises:
      ValueError: no curve, or a curve of the wrong shape (named).
    """
    curves = _checked(curves, len(metrics.PRECISION_THRESHOLDS), "plot_precision")
    return _plot(
        curves,
        metrics.PRECISION_THRESHOLDS,
        lambda c: float(c[20]),
        path,
        title,
        "Location error threshold (pixels)",
        "Precision",
    )
