"""The runner: sequences in, result files and timings out, one sequence at a time or batched.

:func:`track_all` tracks sequences into a results folder with ``tracker.init`` /
``tracker.step``: ``batch_size=1`` runs :func:`track_sequence`, the one-sequence loop;
``batch_size > 1`` runs ``batch.track_batch`` (``vmap`` over padded frames) on chunks of that
many sequences. Either way each sequence's boxes go to ``<output_dir>/<name>.txt`` (OTB format,
``boxfiles.write_boxes``) atomically as soon as it is done, its timing is merged into
``timings.json``, and a rerun skips sequences that have results (resumable). :func:`track_each`
is the same resumable loop around any tracker (the OpenCV peers, precomputed results).

Several runs of the same sequences (``track_all(..., runs=N)``, seeds ``seed .. seed + N - 1``)
write ``<name>_001.txt`` ... ``<name>_00N.txt``, the GOT-10k / pytracking convention
(:func:`run_name`); one run keeps ``<name>.txt``. Each run file is resumable on its own.

Sequences may be given as ``datasets.SequenceSource`` entries (a name and a ``load()``): each
is loaded when its turn comes. A sequence that cannot be loaded or tracked for a data reason
(``tracked.SEQUENCE_ERRORS``: a missing ground truth, a corrupt frame, a size change) is said
and skipped, every other sequence is tracked, and the run ends by raising
:class:`SequencesFailed`, which lists them with their errors. An interrupt (Ctrl-C) stops the
run between frames, or once the compiled call in progress returns: finished result files stay,
the sequence in progress leaves no file behind (its video included).

The one-sequence loop's only host work per frame is reading the frame, one upload, and one
``jax.device_get`` of the box, score, failure flag and tuple (the tuple's pool slots and Lasso
coefficients are logged at debug level: ``--verbosity=1``). Frames are read lazily, so memory
does not grow with sequence length.
"""

import copy
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
from tsn_jax.evaluation import batch, boxfiles, compiled, datasets, visualize
from tsn_jax.evaluation.tracked import (
    SEQUENCE_ERRORS,
    TrackingError,
    TrackResult,
    check_frame,
    check_output,
    describe_failures,
    describe_speed,
    read_timings,
    timing_entry,
    warn_small_target,
)

__all__ = [
    "SEQUENCE_ERRORS",
    "SequencesFailed",
    "TrackResult",
    "TrackingError",
    "check_frame",
    "check_output",
    "read_timings",
    "release_compiled_if_maps_run_low",
    "run_name",
    "save_result",
    "track_all",
    "track_each",
    "track_sequence",
]

SequenceLike = datasets.Sequence | datasets.SequenceSource


class SequencesFailed(Exception):
    """A run tracked what it could, but some sequences failed; raised at the end of the run.

    Attributes:
      failures: {sequence name: the error's message}, in the run's order.
      timings: {name: timing dict} of every sequence with results, as the run would return.
    """

    def __init__(self, failures: Mapping[str, str], timings: Mapping[str, Any]) -> None:
        """Keeps the failures and the timings; the message lists the failures."""
        self.failures = dict(failures)
        self.timings = dict(timings)
        super().__init__(describe_failures(self.failures, "tracked"))


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

    ``init`` and both forms of ``step`` are compiled before the second frame is tracked
    (``compiled.start``), so no frame waits for a compilation (the fine-tune frames
    included); the boxes are those of calling ``tracker.init`` / ``tracker.step``.

    Returns:
      A TrackResult: ``compile_seconds`` the compilation, ``init_seconds`` init's run alone,
      ``step_seconds`` each later frame's step (its upload and box download included, its
      decoding not), none with compilation in it. A frame whose score is not finite counts
      as failed; the first such frame of the sequence is logged as a warning, as is an
      initial box smaller than ``config.min_box_size``.

    Raises:
      TrackingError: no frames, a frame of another size or type, or a non-finite box.
      datasets.DatasetError: a frame that cannot be read, or an initial box that cannot start
        tracking.
    """
    frames = iter(sequence)
    first = next(frames, None)
    if first is None:
        raise TrackingError(f"{sequence.name}: the sequence has no frames")
    init_box = np.asarray(sequence.init_box_xywh, np.float64)
    frame_wh = (first.shape[1], first.shape[0])
    datasets.validate_init_box(init_box, frame_wh, where=f"{sequence.name} frame 0")
    check_frame(first, first.shape, sequence.name, 0)
    warn_small_target(sequence.name, init_box, config.min_box_size)

    started = compiled.start(
        tracker.init,
        tracker.step,
        weights,
        first,
        init_box.astype(np.float32),
        jax.random.key(seed),
        config,
    )
    state, steps = started.state, started.steps

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
        state, output = steps[tracker.fine_tune_due(index, config)](weights, state, frame)
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
        started.init_seconds,
        np.asarray(step_seconds),
        started.compile_seconds,
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

    Prints one line: the frame count, the compilation, the first frame and the speed of the
    frames after it (``tracked.describe_speed``: fps and p50 / p90 frame time, compilation
    excluded, as ``benchmarks.speed`` measures them), the failed frames and the file.

    Returns:
      The sequence's timing dict (``tracked.timing_entry``: frames, compile_seconds,
      init_seconds, fps, frame_ms_p50, frame_ms_p90, steady_frames, steady_seconds, frame_ms,
      failed_frames; None where a figure is undefined, e.g. the fps of a 1-frame sequence).

    Raises:
      ValueError: ``info`` holds a NaN or infinite number (timings.json is strict JSON).
    """
    output_dir = pathlib.Path(output_dir)
    result_path = output_dir / f"{name}.txt"
    boxfiles.write_boxes(result_path, result.boxes_xywh)
    timing = timing_entry(result)
    timings_path = output_dir / "timings.json"
    timings = read_timings(timings_path)
    timings.setdefault("sequences", {})[name] = timing
    timings.update(info or {})
    boxfiles.atomic_write_text(timings_path, json.dumps(timings, indent=1, allow_nan=False))
    speed = describe_speed(result.compile_seconds, result.init_seconds, result.speed)
    print(
        f"{name}: {timing['frames']} frames, {speed}, {timing['failed_frames']} failed frames "
        f"-> {result_path}"
    )
    return timing


def _skipped(name, output_dir, overwrite):
    """Whether sequence ``name`` has a result file in ``output_dir`` to keep (said when it has)."""
    result_path = output_dir / f"{name}.txt"
    if result_path.exists() and not overwrite:
        print(f"{name}: results exist at {result_path}, skipped (--overwrite redoes)")
        return True
    return False


def _failed(failures, name, error):
    """Records that sequence ``name`` failed with ``error`` and says so."""
    failures[name] = str(error)
    print(f"{name}: not tracked: {error}")


def _end(output_dir, failures):
    """The run's timings; raises SequencesFailed when some sequences failed."""
    timings = read_timings(output_dir / "timings.json").get("sequences", {})
    if failures:
        raise SequencesFailed(failures, timings)
    return timings


def track_each(
    sequences: Iterable[SequenceLike],
    track_one: Callable[[datasets.Sequence], TrackResult],
    output_dir: str | os.PathLike[str],
    overwrite: bool = False,
    info: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Tracks sequences one by one with any tracker into ``output_dir``, resumably.

    Each sequence is loaded when its turn comes and its result saved (:func:`save_result`) as
    soon as it finishes; a sequence whose result file exists is skipped (not even loaded)
    unless ``overwrite``, so an interrupted run loses only the sequence in progress. A
    sequence that raises one of ``SEQUENCE_ERRORS`` while loaded or tracked is said and
    skipped; the others are tracked.

    Args:
      sequences: ``datasets.Sequence`` or ``datasets.SequenceSource`` objects.
      track_one: ``sequence -> TrackResult`` (e.g. ``peers.track_sequence`` bound to a name).
      output_dir: results folder (created).
      overwrite: re-track sequences that already have results.
      info: extra JSON-able facts stored in timings.json (weights, config, ...).

    Returns:
      {name: timing dict} of every sequence with results (this run's and earlier runs').

    Raises:
      SequencesFailed: at the end, when some sequences could not be loaded or tracked (their
        names and errors; the others' results are saved).
    """
    output_dir = pathlib.Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    failures = {}
    for item in sequences:
        if _skipped(item.name, output_dir, overwrite):
            continue
        release_compiled_if_maps_run_low()
        try:
            result = track_one(datasets.load_source(item))
        except SEQUENCE_ERRORS as error:
            _failed(failures, item.name, error)
            continue
        save_result(output_dir, item.name, result, info)
    return _end(output_dir, failures)


def _discard_video(writer):
    """Closes ``writer`` and removes what it wrote: the video of a sequence not finished."""
    writer.close()
    writer.path.unlink(missing_ok=True)
    for number in writer.png_frames:  # visualize.VideoWriter's PNG names.
        writer.path.with_name(f"{writer.path.stem}_{number:04d}.png").unlink(missing_ok=True)


def _track_chunk(weights, chunk, config, output_dir, failures, *, seed, progress, info):
    """Tracks loaded sequences together (``batch.track_batch``) and saves each result.

    When the batch fails for a data reason, its sequences are tracked again one per batch, so
    that only the bad one fails (the others' boxes then are those of a batch of one).
    """
    release_compiled_if_maps_run_low()
    try:
        results = batch.track_batch(weights, chunk, config, seed=seed, progress=progress)
    except SEQUENCE_ERRORS as error:
        if len(chunk) == 1:
            _failed(failures, chunk[0].name, error)
            return
        print(f"batch of {len(chunk)} failed ({error}); tracking its sequences one at a time")
        for sequence in chunk:
            _track_chunk(
                weights,
                [sequence],
                config,
                output_dir,
                failures,
                seed=seed,
                progress=progress,
                info=info,
            )
        return
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


def run_name(name: str, run: int, runs: int) -> str:
    """The result-file stem of run ``run`` (1-based) of ``runs`` runs of sequence ``name``.

    One run: ``name`` (``<name>.txt``, as ever). Several: ``name_001`` ... (``<name>_001.txt``),
    the convention of the GOT-10k toolkit and pytracking, which ``submission`` reads too.

    Raises:
      ValueError: ``run`` outside ``1..runs``, or more than 999 runs.
    """
    if not 1 <= run <= runs or runs > 999:
        raise ValueError(f"run {run} of {runs}: runs are numbered 1..runs, at most 999")
    return name if runs == 1 else f"{name}_{run:03d}"


def _as_run(item, result_name):
    """``item`` tracked under ``result_name``: a source whose ``load()`` returns a shallow copy
    of the sequence renamed (the frames and ground truth are shared), so that its result file,
    timings entry, progress bar and messages carry the run's name."""

    def load():
        sequence = copy.copy(datasets.load_source(item))
        sequence.name = result_name
        return sequence

    return datasets.SequenceSource(result_name, load)


def _track_runs(weights, sequences, config, output_dir, batch_size, runs, seed, **kwargs):
    """Run ``k`` (1-based) of ``runs``: every sequence as ``run_name(name, k, runs)`` with seed
    ``seed + k - 1``, run after run; failures of all runs are raised together at the end."""
    sequences = list(sequences)
    failures, timings = {}, {}
    for run in range(1, runs + 1):
        print(f"== run {run} of {runs} (seed {seed + run - 1})")
        items = [_as_run(item, run_name(item.name, run, runs)) for item in sequences]
        try:
            timings = track_all(
                weights, items, config, output_dir, batch_size, seed=seed + run - 1, **kwargs
            )
        except SequencesFailed as failed:
            failures.update(failed.failures)
            timings = failed.timings
    if failures:
        raise SequencesFailed(failures, timings)
    return timings


def track_all(
    weights: weights_lib.FeatureNetWeights,
    sequences: Iterable[SequenceLike],
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
    runs: int = 1,
) -> dict[str, Any]:
    """Tracks sequences with TSN into ``output_dir``, resumably, one at a time or batched.

    With ``batch_size=1`` each sequence is loaded when its turn comes, tracked by
    :func:`track_sequence` and saved as soon as it finishes. With ``batch_size > 1`` the
    sequences without results are loaded and tracked in chunks of ``batch_size`` by
    ``batch.track_batch`` (sharded over the local devices), each chunk's results saved when the
    chunk finishes, with its aggregate frames per second printed; a chunk that fails for a data
    reason is tracked again one sequence at a time. Result files and ``timings.json`` are those
    of :func:`save_result` either way; sequences with results are skipped unless
    ``overwrite``. A sequence that cannot be loaded or tracked (``SEQUENCE_ERRORS``) is said
    and skipped, and the run goes on.

    Args:
      weights: Feature Net weights.
      sequences: ``datasets.Sequence`` or ``datasets.SequenceSource`` objects.
      config: TrackerConfig.
      output_dir: results folder (created).
      batch_size: sequences tracked at once (1: the one-sequence loop).
      seed: PRNG seed of every sequence; the same seed gives the same boxes.
      progress: show a tqdm bar with frames per second.
      overwrite: re-track sequences that already have results.
      info: extra JSON-able facts stored in timings.json (weights, config, ...).
      video_dir: with ``batch_size=1``, also write ``<video_dir>/<name>.mp4`` with the boxes
        drawn (``visualize.VideoWriter``); a sequence not finished leaves no video.
      video_png_frames: 1-based frame numbers also saved as PNG beside each video.
      runs: how many times to track every sequence; run ``k`` (1-based) uses seed
        ``seed + k - 1`` and writes ``run_name(name, k, runs)``: ``<name>.txt`` for one run,
        ``<name>_001.txt`` ... for several (videos and timings entries likewise).

    Returns:
      {name: timing dict} of every sequence (every run's name) with results (this run's and
      earlier runs').

    Raises:
      ValueError: ``batch_size < 1``, ``runs`` outside ``1..999``, or ``video_dir`` with
        ``batch_size > 1``.
      SequencesFailed: at the end, when some sequences could not be loaded or tracked (their
        names and errors; every other sequence's results are saved).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if not 1 <= runs <= 999:
        raise ValueError(f"runs must be in 1..999, got {runs}")
    if runs > 1:
        return _track_runs(
            weights,
            sequences,
            config,
            output_dir,
            batch_size,
            runs,
            seed,
            progress=progress,
            overwrite=overwrite,
            info=info,
            video_dir=video_dir,
            video_png_frames=video_png_frames,
        )
    if batch_size == 1:

        def track_one(sequence):
            if video_dir is None:
                return track_sequence(weights, sequence, config, seed=seed, progress=progress)
            writer = visualize.VideoWriter(
                pathlib.Path(video_dir) / f"{sequence.name}.mp4",
                sequence.groundtruth_xywh,
                png_frames=video_png_frames,
            )
            try:
                result = track_sequence(
                    weights, sequence, config, seed=seed, progress=progress, on_frame=writer
                )
            except BaseException:  # an error or an interrupt: no partial video
                _discard_video(writer)
                raise
            writer.close()
            print(f"{sequence.name}: video written to {writer.path}")
            return result

        return track_each(sequences, track_one, output_dir, overwrite, info)

    if video_dir is not None:
        raise ValueError("videos are written with batch_size=1 only")
    output_dir = pathlib.Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    failures, chunk = {}, []
    pending = [s for s in sequences if not _skipped(s.name, output_dir, overwrite)]
    for position, item in enumerate(pending):
        try:
            sequence = datasets.load_source(item)
        except SEQUENCE_ERRORS as error:
            _failed(failures, item.name, error)
        else:
            warn_small_target(sequence.name, sequence.init_box_xywh, config.min_box_size)
            chunk.append(sequence)
        if chunk and (len(chunk) == batch_size or position == len(pending) - 1):
            _track_chunk(
                weights,
                chunk,
                config,
                output_dir,
                failures,
                seed=seed,
                progress=progress,
                info=info,
            )
            chunk = []
    return _end(output_dir, failures)
