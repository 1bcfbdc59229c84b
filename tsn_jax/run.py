"""Host-side driver: tracks one sequence frame by frame with ``tracker.init`` / ``tracker.step``.

The only host work per frame is reading the frame, one upload, and one ``jax.device_get`` of
the box, score, failure flag and tuple (the tuple's pool slots and Lasso coefficients are
logged at debug level: ``--verbosity=1``). Frames are read lazily, so memory does not grow
with sequence length.
"""

import dataclasses
import json
import os
import pathlib
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jax
import numpy as np
import numpy.typing as npt
import tqdm
from absl import logging

from tsn_jax import config as config_lib
from tsn_jax import datasets, results, tracker
from tsn_jax import weights as weights_lib


class TrackingError(ValueError):
    """A sequence cannot be tracked as given (names the sequence and the frame)."""


@dataclasses.dataclass
class TrackResult:
    """One tracked sequence.

    Attributes:
      boxes_xywh: [T, 4] float64 boxes, 0-based frame pixels; row 0 is the initial box.
      scores: [T] float32 confidence per frame (1 on the first frame).
      failed: [T] bool, frames where the tracker kept the previous box.
      init_seconds: wall time of ``init`` (first call includes compilation).
      step_seconds: [T - 1] wall time of each ``step``, synchronised on the box.
    """

    boxes_xywh: np.ndarray
    scores: np.ndarray
    failed: np.ndarray
    init_seconds: float
    step_seconds: np.ndarray

    @property
    def fps(self) -> float:
        """Frames per second over the steps after the first (which includes compilation)."""
        steady = self.step_seconds[1:] if len(self.step_seconds) > 1 else self.step_seconds
        return float(len(steady) / max(np.sum(steady), 1e-9)) if len(steady) else float("nan")


def _memory_map_counts():
    """(memory maps this process holds, the kernel's limit), or None off Linux."""
    try:
        with open("/proc/self/maps", "rb") as maps:
            held = sum(1 for _ in maps)
        with open("/proc/sys/vm/max_map_count") as limit:
            return held, int(limit.read())
    except (OSError, ValueError):
        return None


def release_compiled_if_maps_run_low(fraction: float = 0.5) -> bool:
    """Drops JAX's compiled executables (``jax.clear_caches``) once this process holds more
    than ``fraction`` of the kernel's memory-map limit; returns whether it did.

    XLA:CPU maps each compiled executable's kernels separately (about 1,000 maps for a step,
    as many for ``init``), JAX keeps every executable it compiled, and each new frame size
    compiles a new ``init`` and ``step``. At the limit (``vm.max_map_count``, 65,530 by default)
    the next compilation fails and the process dies in the error's unwinding, about 20 frame
    sizes into a run over many sequences. Called between sequences; what is dropped is
    compiled again when needed (from the persistent compilation cache when one is set).
    """
    counts = _memory_map_counts()
    if counts is None or counts[0] <= fraction * counts[1]:
        return False
    jax.clear_caches()
    return True


def check_frame(
    frame: np.ndarray, expected_shape: tuple[int, ...], sequence_name: str, index: int
) -> None:
    """Raises TrackingError unless ``frame`` is uint8 [H, W, 3] of the first frame's size."""
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise TrackingError(
            f"{sequence_name}: frame {index} has dtype {frame.dtype} and shape {frame.shape}, "
            "expected uint8 [H, W, 3]"
        )
    if frame.shape != expected_shape:
        raise TrackingError(
            f"{sequence_name}: frame {index} is {frame.shape[1]}x{frame.shape[0]} but the first "
            f"frame is {expected_shape[1]}x{expected_shape[0]}; all frames must have one size"
        )


def check_output(
    name: str, index: int, box: npt.ArrayLike, score: npt.ArrayLike, warned: bool
) -> bool:
    """Checks one frame's output on the host: a non-finite box is an error; a non-finite score
    (a diverged net; the step counts the frame as failed and keeps the last box) is logged,
    once per sequence.

    Args:
      name: the sequence's name; index: the frame's number.
      box: [4] the output box; score: [] its score.
      warned: whether this sequence's non-finite score was logged already.

    Returns:
      Whether it has been logged now.

    Raises:
      TrackingError: on a non-finite box.
    """
    if not np.all(np.isfinite(box)):
        raise TrackingError(f"{name}: non-finite box {box} at frame {index}")
    if not np.isfinite(score) and not warned:
        logging.warning("%s: non-finite score at frame %d: counted as a failure", name, index)
        return True
    return warned


def track_sequence(
    weights: weights_lib.FeatureNetWeights,
    sequence: datasets.Sequence,
    config: config_lib.TrackerConfig,
    seed: int = 0,
    progress: bool = True,
    on_frame: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
) -> TrackResult:
    """Tracks a whole sequence from its initial box.

    Args:
      weights: Feature Net weights (``weights.FeatureNetWeights``).
      sequence: a ``datasets.Sequence``.
      config: TrackerConfig.
      seed: PRNG seed; the same seed gives the same boxes.
      progress: show a tqdm bar with frames per second.
      on_frame: optional callback ``(index, frame, box_xywh)`` called on the host per frame
        (e.g. a video writer).

    Returns:
      A TrackResult. A frame whose score is not finite counts as failed; the first such frame
      of the sequence is logged as a warning.

    Raises:
      TrackingError: no frames, a frame of another size or type, or a non-finite box.
    """
    frames = iter(sequence)
    first = next(frames, None)
    if first is None:
        raise TrackingError(f"{sequence.name}: the sequence has no frames")
    init_box = np.asarray(sequence.init_box_xywh, np.float64)
    frame_wh = (first.shape[1], first.shape[0])
    datasets.validate_init_box(init_box, frame_wh, where=f"{sequence.name} frame 0")
    check_frame(first, first.shape, sequence.name, 0)

    start = time.perf_counter()
    state = tracker.init(weights, first, init_box.astype(np.float32), jax.random.key(seed), config)
    jax.block_until_ready(state)
    init_seconds = time.perf_counter() - start

    # Lists, not arrays of len(sequence): a video's frame count is only an estimate.
    boxes, scores, failed, step_seconds = [init_box], [1.0], [False], []
    warned_score = False
    if on_frame is not None:
        on_frame(0, first, init_box)
    bar = tqdm.tqdm(
        total=len(sequence) - 1,
        desc=sequence.name,
        unit="frame",
        disable=not progress,
        leave=False,
    )
    for index, frame in enumerate(frames, start=1):
        check_frame(frame, first.shape, sequence.name, index)
        start = time.perf_counter()
        fine_tune = tracker.fine_tune_due(index, config)
        state, output = tracker.step(weights, state, frame, fine_tune=fine_tune)
        box, score, fail, slots, coefficients = jax.device_get(
            (
                output.box_xywh,
                output.score,
                output.failed,
                output.tuple_slots,
                output.tuple_coefficients,
            )
        )
        logging.debug(
            "%s frame %d: tuple slots %s, coefficients %s",
            sequence.name,
            index,
            slots.tolist(),
            np.round(coefficients, 4).tolist(),
        )
        step_seconds.append(time.perf_counter() - start)
        warned_score = check_output(sequence.name, index, box, score, warned_score)
        fail = fail or not np.isfinite(score)
        boxes.append(np.asarray(box, np.float64))
        scores.append(float(score))
        failed.append(bool(fail))
        if on_frame is not None:
            on_frame(index, frame, boxes[-1])
        bar.update(1)
        bar.set_postfix(fps=f"{1.0 / max(step_seconds[-1], 1e-9):.1f}")
    bar.close()
    return TrackResult(
        np.stack(boxes),
        np.asarray(scores, np.float32),
        np.asarray(failed),
        init_seconds,
        np.asarray(step_seconds),
    )


def read_timings(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The timings.json of a results folder as a dict ({} when missing or unreadable)."""
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def track_all(
    sequences: Iterable[datasets.Sequence],
    track_one: Callable[[datasets.Sequence], TrackResult],
    output_dir: str | os.PathLike[str],
    overwrite: bool = False,
    info: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Tracks sequences one by one into ``output_dir``, resumably.

    Each sequence's boxes are written to ``<output_dir>/<name>.txt`` (OTB format, 1-based) as
    soon as it finishes, atomically, and its timing is merged into ``timings.json``; a sequence
    whose result file exists is skipped unless ``overwrite``, so an interrupted run loses only
    the sequence in progress.

    Args:
      sequences: ``datasets.Sequence`` objects.
      track_one: ``sequence -> TrackResult``.
      output_dir: results folder (created).
      overwrite: re-track sequences that already have results.
      info: extra JSON-able facts stored in timings.json (weights, config, ...).

    Returns:
      {name: timing dict} of every sequence with results (this run's and earlier runs').
    """
    output_dir = pathlib.Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    timings_path = output_dir / "timings.json"
    for sequence in sequences:
        result_path = output_dir / f"{sequence.name}.txt"
        if result_path.exists() and not overwrite:
            print(f"{sequence.name}: results exist at {result_path}, skipped (--overwrite redoes)")
            continue
        release_compiled_if_maps_run_low()
        result = track_one(sequence)
        results.write_results(result_path, result.boxes_xywh)
        timing = {
            "frames": len(result.boxes_xywh),
            "init_seconds": result.init_seconds,
            "fps": result.fps,
            # Steps after the first (which includes compilation), for pooled fps.
            "steady_frames": max(len(result.step_seconds) - 1, 0),
            "steady_seconds": float(np.sum(result.step_seconds[1:])),
            "failed_frames": int(result.failed.sum()),
        }
        timings = read_timings(timings_path)
        timings.setdefault("sequences", {})[sequence.name] = timing
        timings.update(info or {})
        results.atomic_write_text(timings_path, json.dumps(timings, indent=1))
        print(
            f"{sequence.name}: {timing['frames']} frames, init {result.init_seconds:.1f} s, "
            f"{result.fps:.2f} fps, {timing['failed_frames']} failed frames -> {result_path}"
        )
    return read_timings(timings_path).get("sequences", {})
