"""Tracks many sequences at once: ``vmap`` of ``init`` / ``step`` over a batch of states.

Frames of different sizes are padded (bottom and right, zeros) to the batch's largest size and
each state carries its valid size, so the tracker never looks at the padding (crops fill it
with the mean colour of the valid area, boxes are clipped to the valid size). Sequences of
different lengths are handled by masking: once a sequence has ended its state's ``active``
flag is cleared and ``step`` returns it unchanged. With several devices the batch axis is
sharded across them (``jax.sharding``). Many machines share a dataset through a queue of
sequences, not a batch: ``ray_engine``.
"""

import functools
import time
from collections.abc import Iterable

import jax
import jax.numpy as jnp
import numpy as np
import tqdm
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from tsn_jax import config as config_lib
from tsn_jax import tracker
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import compiled, datasets, tracked


@functools.partial(jax.jit, static_argnums=(4,))
def _batched_init(weights, frames, boxes_xywh, keys, config, valid_sizes_wh):
    return jax.vmap(tracker.init_fn, in_axes=(None, 0, 0, 0, None, 0))(
        weights, frames, boxes_xywh, keys, config, valid_sizes_wh
    )


@functools.partial(jax.jit, donate_argnums=(1,), static_argnames=("fine_tune",))
def _batched_step(weights, states, frames, active, fine_tune):
    # fine_tune is one static bool for the whole batch (every sequence is at the same frame):
    # the fine-tune is traced in or left out, never a conditional (online.fine_tune).
    states = states.replace(active=active & states.active)
    step = functools.partial(tracker.step_fn, fine_tune=fine_tune)
    return jax.vmap(step, in_axes=(None, 0, 0))(weights, states, frames)


def _start(weights, frames, boxes_xywh, keys, config, valid_sizes_wh, all_active):
    """Compiles ``_batched_init`` and runs it while both steps compile for the states it
    returns, as ``compiled.start`` does for one sequence (docs/decisions.md D42).

    Returns:
      (states, {fine_tune: compiled step}, init's run in seconds, the wait for compilation
      in seconds).
    """
    start = time.perf_counter()
    lowered = _batched_init.lower(weights, frames, boxes_xywh, keys, config, valid_sizes_wh)
    init = lowered.compile()
    compile_seconds = time.perf_counter() - start
    steps = compiled.in_background(
        lambda: {
            ft: _batched_step.lower(
                weights, lowered.out_info, frames, all_active, fine_tune=ft
            ).compile()
            for ft in (False, True)
        }
    )
    start = time.perf_counter()
    states = jax.block_until_ready(init(weights, frames, boxes_xywh, keys, valid_sizes_wh))
    init_seconds = time.perf_counter() - start
    start = time.perf_counter()
    return states, steps(), init_seconds, compile_seconds + time.perf_counter() - start


def pad_frame(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    """[h, w, 3] uint8 frame -> [height, width, 3], zero padded at the bottom and right."""
    padded = np.zeros((height, width, 3), np.uint8)
    padded[: frame.shape[0], : frame.shape[1]] = frame
    return padded


def _batch_sharding(batch_size):
    """A NamedSharding of the batch axis over the local devices (None for one device)."""
    devices = jax.local_devices()
    if len(devices) < 2 or batch_size % len(devices):
        return None
    return NamedSharding(Mesh(np.asarray(devices), ("batch",)), PartitionSpec("batch"))


def track_batch(
    weights: weights_lib.FeatureNetWeights,
    sequences: Iterable[datasets.Sequence],
    config: config_lib.TrackerConfig,
    seed: int = 0,
    progress: bool = True,
    shard: bool = True,
    seeds: Iterable[int] | None = None,
    pad_to_hw: tuple[int, int] | None = None,
) -> list[tracked.TrackResult]:
    """Tracks sequences together, one batched ``step`` per frame index.

    Every sequence gets ``jax.random.key(seed)``, as ``runner.track_sequence`` gives it, so the
    boxes equal tracking the sequences one by one to float rounding: ``vmap``'s batched
    products sum in another order, and online learning amplifies that to pixels over a long
    sequence (README "Many sequences at once"). The padding is never read: a sequence's
    boxes do not depend on the batch's other sequences or on ``pad_to_hw`` (bit-identical on
    CPU at one batch size).

    Args:
      weights: Feature Net weights.
      sequences: ``datasets.Sequence`` objects (any sizes and lengths; one may appear several
        times, e.g. with different seeds).
      config: TrackerConfig.
      seed: PRNG seed of every sequence.
      seeds: optional per-sequence seeds (overrides ``seed``).
      progress: show a tqdm bar with the aggregate frames per second.
      shard: shard the batch axis across the local devices when there are several (the
        batch is padded with copies of the last sequence, inactive, to a multiple of them).
      pad_to_hw: optional (height, width) the frames are padded to at least, so that batches
        of different sequences share one compiled step.

    Returns:
      A list of ``tracked.TrackResult``, one per sequence; ``step_seconds`` holds the batched
      step's wall time (shared by the batch) for each of the sequence's frames, and
      ``compile_seconds`` the batch's compilation of ``init`` and both steps, done before the
      second frame (None when sharded: then the first call of each compiles it).
    """
    sequences = list(sequences)
    if not sequences:
        raise ValueError("track_batch needs at least one sequence")
    seeds = [seed] * len(sequences) if seeds is None else [int(s) for s in seeds]
    if len(seeds) != len(sequences):
        raise ValueError(f"{len(seeds)} seeds for {len(sequences)} sequences")
    lengths = np.asarray([len(s) for s in sequences])
    num_real = len(sequences)
    devices = len(jax.local_devices()) if shard else 1
    batch_size = -(-num_real // devices) * devices if devices > 1 else num_real
    sharding = _batch_sharding(batch_size) if shard else None

    firsts = [s.frame(0) for s in sequences]
    height = max(f.shape[0] for f in firsts)
    width = max(f.shape[1] for f in firsts)
    if pad_to_hw is not None:
        height, width = max(height, int(pad_to_hw[0])), max(width, int(pad_to_hw[1]))
    init_boxes = []
    for sequence, first in zip(sequences, firsts, strict=True):
        box = np.asarray(sequence.init_box_xywh, np.float64)
        datasets.validate_init_box(
            box, (first.shape[1], first.shape[0]), where=f"{sequence.name} frame 0"
        )
        tracked.check_frame(first, first.shape, sequence.name, 0)
        init_boxes.append(box)
    pad = batch_size - num_real
    firsts += [firsts[-1]] * pad
    init_boxes += [init_boxes[-1]] * pad
    seeds += [seeds[-1]] * pad
    lengths = np.concatenate([lengths, np.zeros(pad, int)])

    def put(x):
        return jax.device_put(x, sharding) if sharding is not None else jnp.asarray(x)

    # One host buffer for the whole run: each sequence's frames have one size, so its padding
    # stays zero and a step only copies the new frames in (no per-step allocation).
    buffer = np.stack([pad_frame(f, height, width) for f in firsts])
    frames = put(buffer)
    valid = put(np.asarray([(f.shape[1], f.shape[0]) for f in firsts], np.float32))
    keys = jax.vmap(jax.random.key)(jnp.asarray(seeds))
    boxes_in = put(np.asarray(init_boxes, np.float32))
    if sharding is None:
        states, steps, init_seconds, compile_seconds = _start(
            weights, frames, boxes_in, keys, config, valid, put(np.ones(batch_size, bool))
        )
    else:
        # Sharded, the step's outputs carry shardings of GSPMD's choosing, not init's, so a
        # step compiled ahead on init's state would not take them: jit compiles on first call.
        start = time.perf_counter()
        states = jax.block_until_ready(
            _batched_init(weights, frames, boxes_in, keys, config, valid)
        )
        init_seconds, compile_seconds = time.perf_counter() - start, None
        steps = {ft: functools.partial(_batched_step, fine_tune=ft) for ft in (False, True)}

    iterators = [iter(s) for s in sequences]
    for it in iterators:
        next(it)
    boxes = [[b] for b in init_boxes[:num_real]]
    scores = [[1.0] for _ in range(num_real)]
    failed = [[False] for _ in range(num_real)]
    step_seconds = [[] for _ in range(num_real)]
    warned = [False] * num_real  # non-finite scores logged, per sequence
    bar = tqdm.tqdm(
        total=int(lengths.sum()) - num_real,
        desc=f"batch of {num_real}",
        unit="frame",
        disable=not progress,
        leave=False,
    )
    for t in range(1, int(lengths.max())):
        active = t < lengths
        for i in np.flatnonzero(active[:num_real]):
            frame = next(iterators[i])
            tracked.check_frame(frame, firsts[i].shape, sequences[i].name, t)
            buffer[i, : frame.shape[0], : frame.shape[1]] = frame
        # Ended sequences keep their last frame in the buffer: masked, never looked at.
        start = time.perf_counter()
        # The buffer is rewritten next frame only after this step's outputs are fetched.
        step = steps[tracker.fine_tune_due(t, config)]
        states, output = step(weights, states, put(buffer), put(np.asarray(active)))
        out_boxes, out_scores, out_failed = jax.device_get(
            (output.box_xywh, output.score, output.failed)
        )
        seconds = time.perf_counter() - start
        for i in np.flatnonzero(active[:num_real]):
            warned[i] = tracked.check_output(
                sequences[i].name, t, out_boxes[i], out_scores[i], warned[i]
            )
            boxes[i].append(np.asarray(out_boxes[i], np.float64))
            scores[i].append(float(out_scores[i]))
            failed[i].append(bool(out_failed[i]) or not np.isfinite(out_scores[i]))
            step_seconds[i].append(seconds)
        bar.update(int(active[:num_real].sum()))
        bar.set_postfix(fps=f"{active[:num_real].sum() / max(seconds, 1e-9):.1f}")
    bar.close()
    return [
        tracked.TrackResult(
            np.stack(boxes[i]),
            np.asarray(scores[i], np.float32),
            np.asarray(failed[i]),
            init_seconds,
            np.asarray(step_seconds[i]),
            compile_seconds,
        )
        for i in range(num_real)
    ]
