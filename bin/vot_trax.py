"""python -m bin.vot_trax: TSN as a TraX server, the tracker process the VOT toolkit runs.

The toolkit (``vot test`` / ``vot evaluate``, configured by ``configs/vot/trackers.ini``)
starts this command and speaks TraX over its standard input and output: it sends the first
frame with the target's region, then one frame at a time, and reads back one region per
frame. Each ``initialize`` (the first frame, and every re-initialisation after a failure in
the supervised experiment) starts ``tsn_jax.Tracker`` afresh; each ``frame`` is one
``update``. Regions are VOT rectangles, 0-based ``(x, y, w, h)`` pixels as the toolkit's own
sequences are drawn (its dummy sequence pastes the target at pixel ``(x, y)``); frames arrive as
image paths. Nothing is printed on standard output (the TraX channel): logs go to stderr.

  python -m bin.vot_trax --flagfile=configs/otb.flags [--weights=FILE] [--seed=0]

Weights: ``--weights``, else ``$TSN_WEIGHTS``, else ``weights/vgg16_imagenet.npz``; random
weights only with ``--allow_random_weights``. Every tracker hyperparameter is a flag, as for
``bin.track``, and the persistent compilation cache is on (``bin/compilation_cache.py``; the
``trackers.ini`` template points it at the checkout's ``.cache/jax``). Needs the ``vot``
extra (``pip install -e '.[vot]'``: the TraX bindings, ``vot-trax``).
"""

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from absl import flags, logging

import tsn_jax
from tsn_jax.evaluation import datasets

from . import compilation_cache, config_flags, errors, flagfiles
from . import track as track_cli

_NAME = flags.DEFINE_string("vot_tracker_name", "TSN", "Tracker name sent in the TraX hello.")


class TraxSessionError(RuntimeError):
    """A TraX request this server cannot answer (names the request and what it held)."""


class TraxMissingError(ImportError):
    """The TraX bindings (vot-trax) are not installed, or another ``trax`` shadows them."""


def import_trax() -> Any:
    """The ``trax`` module of ``vot-trax`` (the TraX bindings), with a clear error without it.

    Raises:
      TraxMissingError: ``vot-trax`` is not installed, or another package named ``trax`` (an
        unrelated library on PyPI) is.
    """
    try:
        import trax
    except ImportError:
        raise TraxMissingError(
            "the TraX bindings are missing: pip install -e '.[vot]' (the vot-trax package)"
        ) from None
    if not hasattr(trax, "Server"):
        raise TraxMissingError(
            f"{trax.__file__} is not vot-trax's trax module (the PyPI package 'trax' is an "
            "unrelated library): pip uninstall trax; pip install -e '.[vot]'"
        )
    return trax


def rectangle_xywh(region: Any, where: str) -> np.ndarray:
    """[4] float64 0-based ``(x, y, w, h)`` of a TraX rectangle region.

    Raises:
      TraxSessionError: the region is not a rectangle (this server announces rectangles only,
        so the toolkit converts polygons and masks to their bounding rectangle first).
    """
    if getattr(region, "type", None) != "rectangle":
        raise TraxSessionError(
            f"{where}: region {region} is a {getattr(region, 'type', type(region).__name__)}, "
            "not a rectangle"
        )
    return np.asarray(region.bounds(), np.float64)


def request_frame(request: Any, read_frame: Callable[[str], np.ndarray], where: str) -> np.ndarray:
    """uint8 [H, W, 3] RGB frame of a TraX request's colour image (a file path)."""
    image = request.image.get("color") if request.image else None
    if image is None:
        raise TraxSessionError(f"{where}: the request holds no colour image")
    return read_frame(image.path())


def serve(
    server: Any,
    tracker: tsn_jax.Tracker,
    make_rectangle: Callable[[float, float, float, float], Any],
    read_frame: Callable[[str], np.ndarray] = datasets.read_image,
) -> int:
    """Answers TraX requests until the client quits; returns the number of frames answered.

    Args:
      server: a ``trax.Server`` (``wait()`` -> request with ``type``, ``image``, ``objects``;
        ``status(objects)``).
      tracker: the tracker each ``initialize`` restarts and each ``frame`` updates.
      make_rectangle: ``(x, y, w, h) -> region`` (``trax.Rectangle.create``).
      read_frame: ``path -> uint8 [H, W, 3]`` RGB frame.

    Raises:
      TraxSessionError: a request with no image or no rectangle, or a frame before the first
        initialisation.
    """
    answered = 0
    initialised = False
    while True:
        request = server.wait()
        if request.type == "quit":
            return answered
        where = f"TraX {request.type} request {answered + 1}"
        if request.type == "initialize":
            if not request.objects:
                raise TraxSessionError(f"{where}: no target region")
            box = rectangle_xywh(request.objects[0][0], where)
            tracker.init(request_frame(request, read_frame, where), box)
            initialised = True
            score = 1.0
        elif request.type == "frame":
            if not initialised:
                raise TraxSessionError(f"{where}: a frame before any initialize request")
            box = tracker.update(request_frame(request, read_frame, where))
            score = tracker.score
        else:
            raise TraxSessionError(f"{where}: unexpected request type {request.type!r}")
        x, y, w, h = (float(v) for v in box)
        confidence = score if np.isfinite(score) else 0.0
        server.status([(make_rectangle(x, y, w, h), {"confidence": f"{confidence:.6f}"})])
        answered += 1


def main(argv: list[str]) -> None:
    del argv
    trax = import_trax()
    config = config_flags.config_from_flags()
    seed = flags.FLAGS.seed
    weights, source = track_cli.resolve_weights(
        flags.FLAGS.weights, config.feature_net, flags.FLAGS.allow_random_weights, seed
    )
    logging.info("vot_trax: weights %s, seed %d, %r", source, seed, config)
    tracker = tsn_jax.Tracker(weights, config, seed=seed)
    start = time.perf_counter()
    with trax.Server(
        [trax.Region.RECTANGLE],
        [trax.Image.PATH],
        ["color"],
        tracker_name=_NAME.value,
        tracker_description="TSN (temporal and spatial deep networks, ICCV 2017) in JAX",
        tracker_family="tsn_jax",
    ) as server:
        frames = serve(server, tracker, trax.Rectangle.create)
    logging.info("vot_trax: %d frames in %.1f s", frames, time.perf_counter() - start)


def run() -> None:
    """The TraX server; ``python -m bin.vot_trax`` from a checkout. A user's error (no weights,
    no TraX bindings, a request it cannot answer) ends it with its message alone on stderr,
    which the toolkit shows, and the exit codes of ``bin/errors.py``."""
    errors.run(
        compilation_cache.with_compilation_cache(main),
        flagfiles.parse_flags,
        input_errors=(TraxSessionError, TraxMissingError, tsn_jax.stateful.TrackerUsageError),
    )


if __name__ == "__main__":
    run()
