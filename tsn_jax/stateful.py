"""A stateful tracker object over the pure ``init`` / ``step`` (paper Algorithm 1).

Toolkits drive trackers with an object that is initialised on a frame and a box and then
asked for one box per frame (the VOT toolkit through TraX, got10k's ``Tracker``, pytracking,
pysot). :class:`Tracker` is that object: it holds the ``TrackerState`` and the frame count
and runs the jitted ``tracker.init`` / ``tracker.step`` compiled ahead, as the runner does
(``fine_tune=tracker.fine_tune_due(index, config)``), so its boxes are the runner's boxes.

Host-side NumPy in and out; boxes 0-based ``(x, y, w, h)`` in frame pixels (``boxes.py``),
frames ``uint8 [H, W, 3]`` RGB.
"""

import jax
import numpy as np
import numpy.typing as npt

from tsn_jax import config as config_lib
from tsn_jax import state as state_lib
from tsn_jax import tracker
from tsn_jax import weights as weights_lib


class TrackerUsageError(ValueError):
    """A call the tracker cannot serve: a bad frame or box, or ``update`` before ``init``."""


def check_frame(frame: npt.ArrayLike, where: str) -> np.ndarray:
    """Returns ``frame`` as a NumPy array after checking that it is ``uint8 [H, W, 3]``.

    Raises:
      TrackerUsageError: another dtype or shape (``where`` names the frame).
    """
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise TrackerUsageError(
            f"{where}: frame has dtype {frame.dtype} and shape {frame.shape}, "
            "expected uint8 [H, W, 3] RGB"
        )
    return frame


def check_box(box_xywh: npt.ArrayLike, frame_size_wh: tuple[int, int], where: str) -> np.ndarray:
    """Returns the [4] float64 box after checking it can start tracking.

    Args:
      box_xywh: [4] 0-based ``(x, y, w, h)`` in frame pixels.
      frame_size_wh: ``(W, H)`` of the frame, pixels.
      where: what the error names (e.g. "init").

    Raises:
      TrackerUsageError: not 4 values, a non-finite value, ``w <= 0`` or ``h <= 0``, or no
        overlap with the frame ``[0, W] x [0, H]``.
    """
    box = np.asarray(box_xywh, np.float64)
    if box.shape != (4,):
        raise TrackerUsageError(f"{where}: box {box_xywh!r} is not 4 values x, y, w, h")
    if not np.all(np.isfinite(box)):
        raise TrackerUsageError(f"{where}: box {box.tolist()} has non-finite values")
    x, y, w, h = box
    if w <= 0 or h <= 0:
        raise TrackerUsageError(f"{where}: box {box.tolist()} has zero or negative size")
    width, height = frame_size_wh
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise TrackerUsageError(
            f"{where}: box {box.tolist()} lies outside the {width}x{height} frame"
        )
    return box


class Tracker:
    """TSN as an object: ``init(frame, box)`` once, then ``update(frame) -> box`` per frame.

    ``init`` may be called again at any time (the VOT toolkit re-initialises after a failure);
    it starts afresh with the same seed, as a new sequence would. ``init`` compiles ``init``
    and the two ``step`` variants for its frame size, once per size and process (the
    persistent compilation cache, ``JAX_COMPILATION_CACHE_DIR``, keeps them across
    processes), so no ``update`` waits for a compilation.

    Example::

      tracker = tsn_jax.Tracker(tsn_jax.load_weights(path), tsn_jax.TrackerConfig())
      tracker.init(first_frame, (x, y, w, h))    # 0-based pixels
      for frame in frames:
          x, y, w, h = tracker.update(frame)     # [4] float64
    """

    def __init__(
        self,
        weights: weights_lib.FeatureNetWeights,
        config: config_lib.TrackerConfig,
        seed: int = 0,
    ) -> None:
        """Holds the weights and config; nothing is compiled before the first ``init``.

        Args:
          weights: Feature Net weights (``tsn_jax.load_weights`` / ``random_weights``).
          config: the TrackerConfig (static: one compilation per config and frame size).
          seed: PRNG seed of every initialisation; the same seed gives the same boxes.
        """
        self.weights = weights
        self.config = config
        self.seed = int(seed)
        self._state: state_lib.TrackerState | None = None
        self._steps = {}  # {fine_tune: compiled step} for the init frame's size
        self._frame_shape: tuple[int, ...] | None = None
        self._index = 0
        self.score = float("nan")
        self.failed = False

    @property
    def frame_index(self) -> int:
        """Frames stepped since the last ``init`` (0 right after it)."""
        return self._index

    @property
    def state(self) -> state_lib.TrackerState | None:
        """The current TrackerState (None before ``init``); donated by the next ``update``."""
        return self._state

    def init(self, frame: npt.ArrayLike, box_xywh: npt.ArrayLike) -> None:
        """Starts tracking ``box_xywh`` in ``frame`` (discarding any earlier target).

        Args:
          frame: uint8 [H, W, 3] RGB frame.
          box_xywh: [4] target box, 0-based ``(x, y, w, h)`` in frame pixels.

        Raises:
          TrackerUsageError: a bad frame or box (see :func:`check_frame`, :func:`check_box`).
        """
        frame = check_frame(frame, "init")
        box = check_box(box_xywh, (frame.shape[1], frame.shape[0]), "init")
        box, key = box.astype(np.float32), jax.random.key(self.seed)
        # Both steps are compiled here, before the first update, so that no update waits for a
        # compilation (the first fine-tune frame would; docs/decisions.md D42). The executables
        # are jax.jit's own (the boxes are bit-identical); a frame size seen before in this
        # process compiles nothing again.
        init = tracker.init.lower(self.weights, frame, box, key, self.config).compile()
        self._state = init(self.weights, frame, box, key)
        self._steps = {
            fine_tune: tracker.step.lower(
                self.weights, self._state, frame, fine_tune=fine_tune
            ).compile()
            for fine_tune in (False, True)
        }
        self._frame_shape = frame.shape
        self._index = 0
        self.score, self.failed = 1.0, False

    def update(self, frame: npt.ArrayLike) -> np.ndarray:
        """Tracks the target into the next frame.

        Args:
          frame: uint8 [H, W, 3] RGB frame of the ``init`` frame's size.

        Returns:
          [4] float64 box, 0-based ``(x, y, w, h)`` in frame pixels. ``score`` and ``failed``
          then hold the frame's confidence and failure flag (``StepOutput``).

        Raises:
          TrackerUsageError: called before ``init``, or a frame of another dtype, shape or size.
        """
        if self._state is None:
            raise TrackerUsageError("update called before init")
        where = f"frame {self._index + 1} after init"
        frame = check_frame(frame, where)
        if frame.shape != self._frame_shape:
            raise TrackerUsageError(
                f"{where}: frame is {frame.shape[1]}x{frame.shape[0]} but the init frame is "
                f"{self._frame_shape[1]}x{self._frame_shape[0]}; all frames must have one size"
            )
        index = self._index + 1
        step = self._steps[tracker.fine_tune_due(index, self.config)]
        self._state, output = step(self.weights, self._state, frame)
        box, score, failed = jax.device_get((output.box_xywh, output.score, output.failed))
        self._index = index
        self.score = float(score)
        self.failed = bool(failed) or not np.isfinite(score)
        return np.asarray(box, np.float64)
