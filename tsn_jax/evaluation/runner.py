"""The runner: sequences in, result files and timings out, one sequence at a time or batched.

:func:`track_all` tracks sequences into a results folder with ``tracker.init`` /
``tracker.step``: ``batch_size=1`` runs :func:`track_sequence`, the one-sequence loop;
``batch_size > 1`` runs ``batch.track_batch`` (``vmap`` over padded frames) on chunks of that
many sequences. Either way each sequence's boxes go to ``<output_dir>/<name>.txt`` (OTB format,
``boxfiles.write_boxes``) atomically as soon as it is done, its timing is merged into
``timings.json``, and a rerun skips sequences that have results (resumable). :func:`track_each`
is the same resumable loop around any tracker (the OpenCV peers, precomputed results).

The one-sequence loop's only host work per frame is reading the frame, one upload, and one
``jax.device_get`` of the box, score, failure flag and tuple (the tuple's pool slots and Lasso
coefficients are logged at debug level: ``--verbosity=1``). Frames are read lazily, so memory
does not grow with sequence length.
"""

import json
import os
import pathlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import jax
import numpy as np
import tqdm
from absl import logging

from tsn_jax import config as config_lib
from tsn_jax import tracker
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import batch, boxfiles, datasets, visualize
from tsn_jax.evaluation.tracked import (
    TrackingError,
    TrackResult,
    check_frame,
    check_output,
    read_timings,
)

__all__ = [
    "TrackResult",
    "TrackingError",
    "check_frame",
    "check_output",
    "read_timings",
    "release_compiled_if_maps_run_low",
    "save_result",
    "track_all",
    "track_each",
    "track_sequence",
]


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


def save_result(
    output_dir: str | os.PathLike[str],
    name: str,
    result: TrackResult,
    info: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Writes one sequence's result: ``<output_dir>/<name>.txt`` (``boxfiles.write_boxes``,
    atomic) and its timing, merged into ``<output_dir>/timings.json`` (atomic) with ``info``.

    Args:
      output_dir: results folder (created).
      name: the sequence's name.
      result: its TrackResult.
      info: extra JSON-able facts stored in timings.json (weights, config, ...).

    Returns:
      The sequence's timing dict: frames, init_seconds, fps, steady_frames, steady_seconds
      (the steps after the first, which includes compilation, for pooled fps), failed_frames.
    """
    output_dir = pathlib.Path(output_dir)
    result_path = output_dir / f"{name}.txt"
    boxfiles.write_boxes(result_path, result.boxes_xywh)
    timing = {
        "frames": len(result.boxes_xywh),
        "init_seconds": result.init_seconds,
        "fps": result.fps,
        "steady_frames": max(len(result.step_seconds) - 1, 0),
        "steady_seconds": float(np.sum(result.step_seconds[1:])),
        "failed_frames": int(result.failed.sum()),
    }
    timings_path = output_dir / "timings.json"
    timings = read_timings(timings_path)
    timings.setdefault("sequences", {})[name] = timing
    timings.update(info or {})
    boxfiles.atomic_write_text(timings_path, json.dumps(timings, indent=1))
    print(
        f"{name}: {timing['frames']} frames, init {result.init_seconds:.1f} s, "
        f"{result.fps:.2f} fps, {timing['failed_frames']} failed frames -> {result_path}"
    )
    return timing


def _skipped(sequence, output_dir, overwrite):
    """Whether ``sequence`` has a result file in ``output_dir`` to keep (said when it has)."""
    result_path = output_dir / f"{sequence.name}.txt"
    if result_path.exists() and not overwrite:
        print(f"{sequence.name}: results exist at {result_path}, skipped (--overwrite redoes)")
        return True
    return False


def track_each(
    sequences: Iterable[datasets.Sequence],
    track_one: Callable[[datasets.Sequence], TrackResult],
    output_dir: str | os.PathLike[str],
    overwrite: bool = False,
    info: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Tracks sequences one by one with any tracker into ``output_dir``, resumably.

    Each sequence's result is saved (:func:`save_result`) as soon as it finishes; a sequence
    whose result file exists is skipped unless ``overwrite``, so an interrupted run loses only
    the sequence in progress.

    Args:
      sequences: ``datasets.Sequence`` objects.
      track_one: ``sequence -> TrackResult`` (e.g. ``peers.track_sequence`` bound to a name).
      output_dir: results folder (created).
      overwrite: re-track sequences that already have results.
      info: extra JSON-able facts stored in timings.json (weights, config, ...).

    Returns:
      {name: timing dict} of every sequence with results (this run's and earlier runs').
    """
    output_dir = pathlib.Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for sequence in sequences:
        if _skipped(sequence, output_dir, overwrite):
            continue
        release_compiled_if_maps_run_low()
        save_result(output_dir, sequence.name, track_one(sequence), info)
    return read_timings(output_dir / "timings.json").get("sequences", {})


def track_all(
    weights: weights_lib.FeatureNetWeights,
    sequences: Iterable[datasets.Sequence],
    config: config_lib.TrackerConfig,
    output_dir: str | os.PathLike[str],
    batch_size: int = 1,
    *,
    seed: int = 0,
    progress: bool = True,
    overwrite: bool = False,
    info: Mapping[str, Any] | None = None,
    video_dir: str | os.PathLike[str] | None = None,
    video_png_frames: Sequence[int] = (),
) -> dict[str, Any]:
    """Tracks sequences with TSN into ``output_dir``, resumably, one at a time or batched.

    With ``batch_size=1`` each sequence is tracked by :func:`track_sequence` and saved as soon
    as it finishes. With ``batch_size > 1`` the sequences without results are tracked in chunks
    of ``batch_size`` by ``batch.track_batch`` (sharded over the local devices), each chunk's
    results saved when the chunk finishes, with its aggregate frames per second printed. Result
    files and ``timings.json`` are those of :func:`save_result` either way; sequences with
    results are skipped unless ``overwrite``.

    Args:
      weights: Feature Net weights.
      sequences: ``datasets.Sequence`` objects.
      config: TrackerConfig.
      output_dir: results folder (created).
      batch_size: sequences tracked at once (1: the one-sequence loop).
      seed: PRNG seed of every sequence; the same seed gives the same boxes.
      progress: show a tqdm bar with frames per second.
      overwrite: re-track sequences that already have results.
      info: extra JSON-able facts stored in timings.json (weights, config, ...).
      video_dir: with ``batch_size=1``, also write ``<video_dir>/<name>.mp4`` with the boxes
        drawn (``visualize.VideoWriter``).
      video_png_frames: 1-based frame numbers also saved as PNG beside each video.

    Returns:
      {name: timing dict} of every sequence with results (this run's and earlier runs').

    Raises:
      ValueError: ``batch_size < 1``, or ``video_dir`` with ``batch_size > 1``.
      TrackingError: a sequence that cannot be tracked (its name and frame said).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if batch_size == 1:

        def track_one(sequence):
            writer = None
            if video_dir is not None:
                writer = visualize.VideoWriter(
                    pathlib.Path(video_dir) / f"{sequence.name}.mp4",
                    sequence.groundtruth_xywh,
                    png_frames=video_png_frames,
                )
            try:
                return track_sequence(
                    weights, sequence, config, seed=seed, progress=progress, on_frame=writer
                )
            finally:
                if writer is not None:
                    writer.close()
                    print(f"{sequence.name}: video written to {writer.path}")

        return track_each(sequences, track_one, output_dir, overwrite, info)

    if video_dir is not None:
        raise ValueError("videos are written with batch_size=1 only")
    output_dir = pathlib.Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    pending = [s for s in sequences if not _skipped(s, output_dir, overwrite)]
    for start in range(0, len(pending), batch_size):
        chunk = pending[start : start + batch_size]
        release_compiled_if_maps_run_low()
        results = batch.track_batch(weights, chunk, config, seed=seed, progress=progress)
        frames = sum(len(r.boxes_xywh) - 1 for r in results)
        seconds = (
            sum(results[0].step_seconds)
            if len(chunk) == 1
            else max(sum(r.step_seconds) for r in results)
        )
        print(
            f"batch of {len(chunk)}: {frames} frames, {frames / max(seconds, 1e-9):.1f} "
            "frames/s aggregate"
        )
        for sequence, result in zip(chunk, results, strict=True):
            save_result(output_dir, sequence.name, result, info)
    return read_timings(output_dir / "timings.json").get("sequences", {})
