"""Success and precision plots (PNG, matplotlib's Agg canvas: no window, no pyplot state).

One line per tracker, legends ``name [score]`` (``name [mean ± std]`` over several runs), best
tracker first, as in the OTB benchmark's figures and the paper's Fig. 7-8: the OTB success plot
(:func:`plot_success`, AUC), precision plot (:func:`plot_precision`, precision at 20 px),
LaSOT's normalised precision plot (:func:`plot_normalized_precision`) and GOT-10k's success plot
(:func:`plot_got10k_success`, AO). The curves come from :mod:`tsn_jax.evaluation.metrics`.
"""

import os
import pathlib
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tsn_jax.evaluation import metrics

_LINE_STYLES = ("-", "--", "-.", ":")


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


def legend_label(name: str, score: float, std: float | None = None) -> str:
    """``name [0.612]``, or ``name [0.612 ± 0.004]`` when a finite ``std`` over runs is given."""
    if std is None or not np.isfinite(std):
        return f"{name} [{score:.3f}]"
    return f"{name} [{score:.3f} ± {std:.3f}]"


def plot_curves(
    curves: Mapping[str, npt.ArrayLike],
    thresholds: npt.ArrayLike,
    scores: Mapping[str, float],
    path: str | os.PathLike[str],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    std: Mapping[str, float] | None = None,
    legend_loc: str = "lower left",
) -> list[str]:
    """Draws one curve per tracker, best ``scores`` first, and saves a PNG.

    Args:
      curves: {tracker name: [K] curve}, values in [0, 1] at each threshold.
      thresholds: [K] the x values (IoU, pixels or normalised distance).
      scores: {tracker name: the figure its legend shows and the ranking uses}.
      path: the PNG file to write; parent folders are created.
      title, xlabel, ylabel: the axes' texts.
      std: optional {tracker name: standard deviation of its score over runs}, shown as ``±``.
      legend_loc: matplotlib's legend location.

    Returns:
      The legend labels, best tracker first.

    Raises:
      ValueError: no curve, a curve of another length than ``thresholds``, or a tracker
        without a score (named).
    """
    thresholds = np.asarray(thresholds, np.float64)
    curves = _checked(curves, len(thresholds), title)
    missing = [name for name in curves if name not in scores]
    if missing:
        raise ValueError(f"{title}: no score for {', '.join(missing)}")
    std = std or {}
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure = Figure(figsize=(6, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    ranked = sorted(curves, key=lambda name: -scores[name])
    labels = [legend_label(name, scores[name], std.get(name)) for name in ranked]
    for rank, (name, label) in enumerate(zip(ranked, labels, strict=True)):
        # A line style per tracker as well: identical results (or close ones) stay visible.
        style = _LINE_STYLES[rank % len(_LINE_STYLES)]
        axes.plot(thresholds, curves[name], linewidth=2, linestyle=style, label=label)
    axes.set_xlim(thresholds[0], thresholds[-1])
    axes.set_ylim(0, 1.02)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(loc=legend_loc)
    figure.tight_layout()
    figure.savefig(path, format="png")
    return labels


def plot_success(
    curves: Mapping[str, npt.ArrayLike],
    path: str | os.PathLike[str],
    title: str = "Success plot",
    std: Mapping[str, float] | None = None,
) -> list[str]:
    """Writes an OTB success plot; the legends give the AUC (the curve's mean).

    Args:
      curves: {tracker name: [21] success curve} over ``metrics.SUCCESS_THRESHOLDS``.
      path: the PNG file to write; parent folders are created.
      title: the plot title.
      std: optional {tracker name: standard deviation of the AUC over runs}.

    Returns:
      The legend labels, best tracker first.

    Raises:
      ValueError: no curve, or a curve of the wrong shape (named).
    """
    curves = _checked(curves, len(metrics.SUCCESS_THRESHOLDS), "plot_success")
    return plot_curves(
        curves,
        metrics.SUCCESS_THRESHOLDS,
        {name: float(np.mean(curve)) for name, curve in curves.items()},
        path,
        title=title,
        xlabel="Overlap threshold (IoU)",
        ylabel="Success rate",
        std=std,
    )


def plot_precision(
    curves: Mapping[str, npt.ArrayLike],
    path: str | os.PathLike[str],
    title: str = "Precision plot",
    std: Mapping[str, float] | None = None,
) -> list[str]:
    """Writes an OTB precision plot; the legends give the precision at 20 px.

    Args:
      curves: {tracker name: [51] precision curve} over ``metrics.PRECISION_THRESHOLDS`` (px).
      path: the PNG file to write; parent folders are created.
      title: the plot title.
      std: optional {tracker name: standard deviation of precision@20 over runs}.

    Returns:
      The legend labels, best tracker first.

    Raises:
      ValueError: no curve, or a curve of the wrong shape (named).
    """
    curves = _checked(curves, len(metrics.PRECISION_THRESHOLDS), "plot_precision")
    return plot_curves(
        curves,
        metrics.PRECISION_THRESHOLDS,
        {name: float(curve[20]) for name, curve in curves.items()},
        path,
        title=title,
        xlabel="Location error threshold (pixels)",
        ylabel="Precision",
        std=std,
        legend_loc="lower right",
    )


def plot_normalized_precision(
    curves: Mapping[str, npt.ArrayLike],
    path: str | os.PathLike[str],
    title: str = "Normalized precision plot",
    std: Mapping[str, float] | None = None,
) -> list[str]:
    """Writes LaSOT's normalised precision plot; the legends give the value at 0.2.

    Args:
      curves: {tracker name: [51] curve} over ``metrics.NORMALIZED_PRECISION_THRESHOLDS``
        (centre error over the ground truth's size, 0 .. 0.5).
      path: the PNG file to write; parent folders are created.
      title: the plot title.
      std: optional {tracker name: standard deviation of the normalised precision over runs}.

    Returns:
      The legend labels, best tracker first.
    """
    curves = _checked(
        curves, len(metrics.NORMALIZED_PRECISION_THRESHOLDS), "plot_normalized_precision"
    )
    return plot_curves(
        curves,
        metrics.NORMALIZED_PRECISION_THRESHOLDS,
        {name: float(curve[20]) for name, curve in curves.items()},
        path,
        title=title,
        xlabel="Normalized location error threshold",
        ylabel="Normalized precision",
        std=std,
        legend_loc="lower right",
    )


def plot_got10k_success(
    curves: Mapping[str, npt.ArrayLike],
    average_overlaps: Mapping[str, float],
    path: str | os.PathLike[str],
    title: str = "Success plot",
    std: Mapping[str, float] | None = None,
) -> list[str]:
    """Writes GOT-10k's success plot; the legends give the AO, as its toolkit's plot does.

    Args:
      curves: {tracker name: [101] success curve} over ``metrics.GOT10K_SUCCESS_THRESHOLDS``.
      average_overlaps: {tracker name: AO}.
      path: the PNG file to write; parent folders are created.
      title: the plot title.
      std: optional {tracker name: standard deviation of the AO over runs}.

    Returns:
      The legend labels, best tracker first.
    """
    return plot_curves(
        curves,
        metrics.GOT10K_SUCCESS_THRESHOLDS,
        average_overlaps,
        path,
        title=title,
        xlabel="Overlap threshold (IoU)",
        ylabel="Success rate",
        std=std,
    )
