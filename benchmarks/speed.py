r"""Speed benchmark of the tracker: compile time, latency, FLOPs, memory, stage breakdown.

  python -m benchmarks.speed --demo [--speed_frames=100] [--speed_modes=roi,crop] \
      [--weights=FILE] [--flagfile=configs/otb.flags] [--speed_batch_sizes=1,8,32]
  python -m benchmarks.speed --dataset_dir=D --sequences=Basketball

Tracker config flags are ``bin/config_flags.py``'s and the sequence and weight flags
``bin.track``'s (``--demo``, ``--dataset_dir``, ``--video``, ``--weights``, ``--seed``). For
each ``proposal_features`` mode, ``measure`` reports on one sequence:

* compile time of ``tracker.init`` and of ``tracker.step``'s two forms, with and without the
  Temporal fine-tune (``jit(...).lower(...).compile()``; a load from the persistent
  compilation cache when ``JAX_COMPILATION_CACHE_DIR`` holds it);
* the first-frame (``init``) time of a second run, after compilation;
* the speed of the frames after ``warmup`` untimed ones (``tracked.frame_times``, the
  definition ``bin.track`` prints and stores in ``timings.json``): fps = timed frames over
  their summed wall time (the mean, fine-tune frames included, compilation excluded: both steps
  are compiled before the first frame), and the median / p90 frame time; each frame is timed
  from the step's call to its output box on the host, the frame upload included, as in
  ``runner.track_sequence``. ``bin.track`` times every frame after the first:
  ``--speed_warmup=0`` does the same;
* peak host RSS (``ru_maxrss``) and peak device memory (``memory_stats``, None on CPU);
* XLA's FLOPs of a frame (the two steps averaged over a fine-tune interval), the achieved
  FLOP/s and the fraction of the device's peak;
* a stage breakdown (``stage_times``): the step's public stages (``tracker.propose``,
  ``features.FrameFeatures``, ``tracker.score_proposals``, ``tracker.locate``,
  ``online.update``, ``online.fine_tune``), each jitted on its own, on the same frame and
  state, and the parts inside them that the step has no stage for (the crop and the Feature
  Net of the features, tuple learning and the Spatial Net's training of the update);
* optionally (``--speed_trace_frames``) a profiler trace of the compiled step: kernels per
  step, device-busy time and the ops that take it (``benchmarks/device_trace.py``).

``--speed_batch_sizes`` adds the aggregate frames per second of ``batch.track_batch`` over
synthetic sequences. All times are wall seconds / milliseconds measured with
``time.perf_counter``. Frames of a sequence shorter than needed are reused cyclically (the
timing does not depend on content). The report is printed and written as JSON
(``--speed_output``) after every measurement, so a run cut short keeps what finished.
"""

import contextlib
import dataclasses
import gc
import itertools
import json
import pathlib
import resource
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from benchmarks import device_trace
from bin import config_flags
from bin import track as track_cli  # the sequence, weight and config flags
from tsn_jax import boxes, crop, feature_net, features, online, tracker
from tsn_jax.evaluation import batch, boxfiles, synthetic, tracked

_FRAMES = flags.DEFINE_integer("speed_frames", 100, "Timed frames after the warmup.")
_WARMUP = flags.DEFINE_integer("speed_warmup", 3, "Untimed frames before timing.")
_MODES = flags.DEFINE_list("speed_modes", ["roi", "crop"], "proposal_features modes measured.")
_PEAK_FLOPS_FLAG = flags.DEFINE_float(
    "peak_flops", 0.0, "Device peak FLOP/s when the device is not in the table (0: unknown)."
)
_OUTPUT = flags.DEFINE_string("speed_output", "results/speed.json", "JSON report path.")
_BATCH_SIZES = flags.DEFINE_list(
    "speed_batch_sizes", [], "Also the aggregate fps of batched tracking at these sizes (1,8,32)."
)
flags.register_validator(
    "speed_batch_sizes",
    lambda values: all(v.isdigit() and int(v) > 0 for v in values),
    "--speed_batch_sizes takes positive integers, e.g. 1,8,32",
)
_STAGE_REPEATS = flags.DEFINE_integer(
    "speed_stage_repeats",
    5,
    "Timed calls per stage of the breakdown (0: no breakdown, which saves compiling every "
    "stage on its own).",
    lower_bound=0,
)
_TRACE_FRAMES = flags.DEFINE_integer(
    "speed_trace_frames",
    0,
    "Also trace this many steps with jax.profiler and list the device ops that take the time "
    "(0: no trace); non-zero also traces each batched run whole.",
    lower_bound=0,
)
_TRACE_DIR = flags.DEFINE_string(
    "speed_trace_dir", "", "Where the traces go (default: <speed_output without .json>_trace/)."
)
_GROWTH_FRAMES = flags.DEFINE_list(
    "speed_growth_frames", ["20", "60"], "Host RSS after these frame counts."
)

# Dense peak FLOP/s by compute dtype (NVIDIA datasheets; SXM parts; fp32 = non-tensor-core).
_PEAK_FLOPS = (
    ("H200", {"bfloat16": 989.4e12, "float32": 66.9e12}),
    ("H100 PCIE", {"bfloat16": 756.0e12, "float32": 51.2e12}),
    ("H100", {"bfloat16": 989.4e12, "float32": 66.9e12}),
)


class SpeedError(ValueError):
    """A benchmark cannot run as asked (names the sequence or value at fault)."""


def peak_flops_of(device_kind, compute_dtype):
    """Dense peak FLOP/s of a device kind (e.g. 'NVIDIA H100 80GB HBM3') or None if unknown."""
    kind = device_kind.upper()
    for name, peaks in _PEAK_FLOPS:
        if name in kind:
            return peaks[compute_dtype]
    return None


def host_peak_mb():
    """Peak resident set size of this process, MB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def host_current_mb():
    """Current resident set size, MB (/proc/self/statm; the peak where that is missing)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return host_peak_mb()


def device_peak_mb(device=None):
    """Peak device memory in use, MB, or None where the backend keeps no statistics (CPU)."""
    device = device or jax.devices()[0]
    try:
        stats = device.memory_stats()
    except (NotImplementedError, RuntimeError, AttributeError):
        return None
    if not stats or "peak_bytes_in_use" not in stats:
        return None
    return stats["peak_bytes_in_use"] / 2**20


def flops_of(compiled):
    """FLOPs of a compiled computation from XLA's cost analysis (dict or list of dicts)."""
    analysis = compiled.cost_analysis()
    if isinstance(analysis, (list, tuple)):
        analysis = analysis[0] if analysis else None
    if not analysis or "flops" not in analysis:
        return None
    return float(analysis["flops"])


def _flops_per_frame(compiled, config):
    """XLA's FLOPs of a frame averaged over a fine-tune interval, from the two compiled steps
    ({fine_tune: compiled}); None when the cost analysis gives none."""
    plain, tuned = flops_of(compiled[False]), flops_of(compiled[True])
    if plain is None or tuned is None:
        return None
    interval = config.temporal_update_interval
    return ((interval - 1) * plain + tuned) / interval


def _driver(compiled, config):
    """``step(weights, state, frame)`` for consecutive frames after the first: each frame runs
    the compiled step ({fine_tune: compiled}) of its fine-tune flag, as ``runner.track_sequence``
    picks ``tracker.step``'s."""
    indices = itertools.count(1)

    def step(weights, state, frame):
        return compiled[tracker.fine_tune_due(next(indices), config)](weights, state, frame)

    return step


def _frames(sequence, count):
    """The first ``count`` frames after frame 0 (cycling), as uint8 arrays read up front."""
    if len(sequence) < 2:
        raise SpeedError(f"{sequence.name}: needs at least 2 frames, has {len(sequence)}")
    distinct = min(count, len(sequence) - 1)
    loaded = [np.asarray(sequence.frame(1 + i)) for i in range(distinct)]
    return [loaded[i % distinct] for i in range(count)]


def _initial(sequence, seed):
    first = np.asarray(sequence.frame(0))
    box = np.asarray(sequence.init_box_xywh, np.float32)
    return first, box, jax.random.key(seed)


def _timed(fn, *args):
    """(seconds, output) of one call, synchronised on the output."""
    start = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return time.perf_counter() - start, out


# The stage breakdown. Each stage is one of the step's public stages (``tracker.step_fn``'s a-f),
# called as the step calls it and jitted on its own (config static); "fine_tune" runs on every
# ``temporal_update_interval``-th frame only.
STAGES = ("propose", "features", "score", "locate", "update", "fine_tune")
# Parts inside the stages that the step has no stage for: the crop and the Feature Net of
# "features" (roi: the search window; crop: every proposal's context region), and tuple
# learning (Eq. 1) and the Spatial Net's training steps inside "update".
PARTS = ("crop", "feature_net", "tuple", "spatial_update")


def _proposals(state):
    """Step a: the proposals of the frame after ``state``."""
    return tracker.propose(state, tracker.frame_keys(state)[0])


def _frame_features(weights, state, frame):
    """Step b's FrameFeatures (in roi mode its construction runs the Feature Net)."""
    return features.FrameFeatures(
        weights, frame, tracker.search_around(state), state.frame_size_wh, state.config
    )


def _features(weights, state, frame, proposals):
    """Step b: [N, D] proposal features."""
    return _frame_features(weights, state, frame).of_boxes(proposals)


class _HeldFeatures:
    """A frame's FrameFeatures computed once and handed to the jitted stages that read it.

    A FrameFeatures is a plain object, not a pytree: ``arrays`` are its attributes that hold
    arrays (roi: the window's Feature Net maps; both modes: the weights and the frame), the
    others (the config) are kept aside. A jitted stage takes ``arrays`` as an argument and
    calls ``rebuild`` on them, so that it reads the maps, as the step's later stages do,
    instead of running the Feature Net again.
    """

    def __init__(self, weights, state, frame):
        self._kept = {}

        def build(weights, state, frame):
            arrays = {}
            for name, value in vars(_frame_features(weights, state, frame)).items():
                holds_arrays = all(isinstance(leaf, jax.Array) for leaf in jax.tree.leaves(value))
                (arrays if holds_arrays else self._kept)[name] = value
            return arrays

        self.arrays = jax.jit(build)(weights, state, frame)

    def rebuild(self, arrays):
        rebuilt = object.__new__(features.FrameFeatures)
        vars(rebuilt).update(self._kept, **arrays)
        return rebuilt


def _net_input(state, frame, proposals):
    """The images step b's Feature Net sees: roi, the search window [1, S, S, 3]; crop, every
    proposal's context region [N, s, s, 3] (one batch here; the step takes ``init_chunk`` at a
    time)."""
    config = state.config
    if config.proposal_features == "roi":
        regions = features.search_window(tracker.search_around(state), config)[None, :]
        size = config.search_size
    else:
        regions = boxes.scale_about_center(proposals, features.context_factor(config))
        size = config.crop_size
    return crop.crop_and_resize(frame, regions, size, valid_size_wh=state.frame_size_wh)


def _net(weights, images, config):
    return feature_net.apply_frozen(weights, images, dtype=jnp.dtype(config.compute_dtype))


def _copied(tree):
    return jax.block_until_ready(jax.tree.map(jnp.copy, tree))


def _median_ms(fn, args, repeats, donated=False):
    """Median wall ms of ``repeats`` synchronised calls (after one untimed call).

    ``donated``: ``fn`` donates its first argument (a state it writes in place, as the step
    does), so each call gets a fresh copy of it, made before the call's timing starts.
    """

    def call():
        call_args = (_copied(args[0]), *args[1:]) if donated else args
        start = time.perf_counter()
        jax.block_until_ready(fn(*call_args))
        return time.perf_counter() - start

    call()
    return 1e3 * statistics.median(call() for _ in range(repeats))


def stage_times(weights, state, frame, repeats=5):
    """Median wall ms of each stage of one step, each jitted alone and synchronised.

    The stages run on the same frame and state, each on the outputs of the ones before it;
    ``update`` and ``fine_tune`` write a copy of the state in place (donated), as the step
    writes its state, and both learn (no failure).

    Args:
      weights: Feature Net weights.
      state: a TrackerState (after a few steps, so the pool and memories are filled).
      frame: [H, W, 3] uint8 frame.
      repeats: timed calls per stage (after one untimed compile call).

    Returns:
      {name: ms} for ``STAGES`` and ``PARTS``, and "frame": the stages' sum with the
      fine-tune counted once per ``temporal_update_interval`` frames. The fine-tune and the
      Spatial Net's training time as 0 where the config disables their net.
    """
    config = state.config
    frame = jnp.asarray(frame)
    k_update = tracker.frame_keys(state)[1]
    learn = jnp.ones((), bool)
    held = _HeldFeatures(weights, state, frame)

    def score(arrays, state, proposals, proposal_features):
        return tracker.score_proposals(state, held.rebuild(arrays), proposals, proposal_features)

    def locate(arrays, state, proposals, proposal_features, scores):
        frame_features = held.rebuild(arrays)
        return tracker.locate(state, frame_features, proposals, proposal_features, scores)

    def update(state, arrays, key, learn, proposals, proposal_features, found):
        return online.update(
            state,
            key,
            learn,
            held.rebuild(arrays),
            proposals,
            proposal_features,
            found.box_xywh,
            found.confidence,
            found.windows_xywh,
            found.inputs,
        )

    def target_feature(arrays, box):
        return held.rebuild(arrays).of_boxes(box[None, :])[0]

    def spatial_update(state, key):
        return online.train_spatial(
            config,
            state.spatial_params,
            state.spatial_opt_state,
            key,
            state.windows,
            config.spatial_update_steps,
        )

    propose_fn, features_fn = jax.jit(_proposals), jax.jit(_features)
    score_fn, locate_fn = jax.jit(score), jax.jit(locate)
    update_fn = jax.jit(update, donate_argnums=0)
    fine_tune_fn = jax.jit(
        lambda s, key, learn: online.fine_tune(s, key, True, learn), donate_argnums=0
    )
    crop_fn, net_fn = jax.jit(_net_input), jax.jit(_net, static_argnames="config")
    tuple_fn = jax.jit(online.learn_next_tuple)

    proposals = propose_fn(state)
    proposal_features = features_fn(weights, state, frame, proposals)
    scores = score_fn(held.arrays, state, proposals, proposal_features)
    found = locate_fn(held.arrays, state, proposals, proposal_features, scores)
    images = crop_fn(state, frame, proposals)
    target = jax.jit(target_feature)(held.arrays, found.box_xywh)
    update_args = (state, held.arrays, k_update, learn, proposals, proposal_features, found)
    times = {
        "propose": _median_ms(propose_fn, (state,), repeats),
        "features": _median_ms(features_fn, (weights, state, frame, proposals), repeats),
        "score": _median_ms(score_fn, (held.arrays, state, proposals, proposal_features), repeats),
        "locate": _median_ms(
            locate_fn, (held.arrays, state, proposals, proposal_features, scores), repeats
        ),
        "update": _median_ms(update_fn, update_args, repeats, donated=True),
        "fine_tune": (
            _median_ms(fine_tune_fn, (state, k_update, learn), repeats, donated=True)
            if config.use_temporal
            else 0.0
        ),
        "crop": _median_ms(crop_fn, (state, frame, proposals), repeats),
        "feature_net": _median_ms(
            lambda w, i: net_fn(w, i, config=config), (weights, images), repeats
        ),
        "tuple": _median_ms(tuple_fn, (state, target), repeats),
        "spatial_update": (
            _median_ms(jax.jit(spatial_update), (state, k_update), repeats)
            if config.use_spatial
            else 0.0
        ),
    }
    times["frame"] = (
        sum(times[s] for s in STAGES if s != "fine_tune")
        + times["fine_tune"] / config.temporal_update_interval
    )
    return times


def measure(
    weights,
    sequence,
    config,
    num_frames,
    warmup=3,
    seed=0,
    peak_flops=None,
    repeats=5,
    trace_frames=0,
    trace_dir=None,
):
    """Compile time, first-frame time, steady latency, memory, FLOPs and stages of one config.

    Args:
      weights: Feature Net weights (``weights.FeatureNetWeights``).
      sequence: a ``datasets.Sequence`` (frames reused cyclically if it is short).
      config: TrackerConfig.
      num_frames: timed steps after the warmup.
      warmup: untimed steps first.
      seed: PRNG seed of ``init``.
      peak_flops: device peak FLOP/s, used when the device kind is not in the table.
      repeats: timed calls per stage of the breakdown; 0 skips the breakdown (each stage
        compiles on its own: on a GPU that is most of a call's time).
      trace_frames: steps traced after the timed ones (0: none); needs ``trace_dir``.
      trace_dir: folder of the profiler trace.

    Returns:
      A JSON-able dict: device, mode, compile_init_s, compile_step_s, first_frame_ms,
      latency_median_ms, latency_p90_ms and fps (``tracked.frame_times`` of the timed frames:
      fps is their count over their summed time), frame_ms (each timed frame), host_peak_mb,
      device_peak_mb (None on CPU), flops_per_frame, achieved_flops_per_s (FLOPs per frame x
      fps), peak_flops_per_s, fraction_of_peak (None when a number is unknown), stages_ms
      (``stage_times``; None with ``repeats=0``), num_frames, warmup, sequence, config, and
      trace (``device_trace.summarize`` plus its file; None without ``trace_frames``).
    """
    if num_frames < 1 or warmup < 0:
        raise SpeedError(f"num_frames={num_frames} must be >= 1 and warmup={warmup} >= 0")
    if trace_frames and not trace_dir:
        raise SpeedError("trace_frames needs a trace_dir")
    device = jax.devices()[0]
    first, box, key = _initial(sequence, seed)
    frames = _frames(sequence, warmup + num_frames)

    start = time.perf_counter()
    init_compiled = tracker.init.lower(weights, first, box, key, config).compile()
    compile_init_s = time.perf_counter() - start
    jax.block_until_ready(init_compiled(weights, first, box, key))
    first_frame_s, state = _timed(init_compiled, weights, first, box, key)

    start = time.perf_counter()
    compiled = {
        fine_tune: tracker.step.lower(weights, state, frames[0], fine_tune=fine_tune).compile()
        for fine_tune in (False, True)
    }
    compile_step_s = time.perf_counter() - start
    flops = _flops_per_frame(compiled, config)

    step = _driver(compiled, config)
    latencies = []
    for index, frame in enumerate(frames):
        start = time.perf_counter()
        state, output = step(weights, state, frame)
        jax.block_until_ready(output.box_xywh)
        if index >= warmup:
            latencies.append(time.perf_counter() - start)
    speed = tracked.frame_times(latencies)
    trace = None
    if trace_frames:
        state, trace_file, wall_s = device_trace.capture(
            step, weights, state, _frames(sequence, trace_frames), trace_dir
        )
        trace = {
            **device_trace.summarize(trace_file, trace_frames, wall_s),
            "file": str(trace_file),
        }
    stages = stage_times(weights, state, frames[-1], repeats=repeats) if repeats else None

    peak = peak_flops_of(device.device_kind, config.compute_dtype) or peak_flops or None
    achieved = flops * speed.fps if flops is not None else None
    return {
        "device": device.device_kind,
        "platform": device.platform,
        "mode": config.proposal_features,
        "compile_init_s": compile_init_s,
        "compile_step_s": compile_step_s,
        "first_frame_ms": 1e3 * first_frame_s,
        "latency_median_ms": speed.p50_ms,
        "latency_p90_ms": speed.p90_ms,
        "fps": speed.fps,
        "frame_ms": [1e3 * s for s in latencies],
        "host_peak_mb": host_peak_mb(),
        "device_peak_mb": device_peak_mb(device),
        "flops_per_frame": flops,
        "achieved_flops_per_s": achieved,
        "peak_flops_per_s": peak,
        "fraction_of_peak": achieved / peak if achieved is not None and peak else None,
        "stages_ms": stages,
        "num_frames": num_frames,
        "warmup": warmup,
        "sequence": sequence.name,
        "frame_size_wh": [int(first.shape[1]), int(first.shape[0])],
        "config": repr(config),
        "trace": trace,
    }


def memory_growth(weights, sequence, config, frames=(20, 60), seed=0):
    """Host RSS after each of several frame counts; the state is fixed-size, so ~0 growth.

    Args:
      weights, sequence, config, seed: as in ``measure``.
      frames: increasing step counts at which the current RSS is read (after ``gc.collect``).

    Returns:
      {"frames": [...], "rss_mb": [...], "growth_mb": last - first, "growth_mb_per_frame"}.
    """
    frames = sorted(int(n) for n in frames)
    if len(frames) < 2 or frames[0] < 1:
        raise SpeedError(f"memory_growth needs >= 2 positive frame counts, got {frames}")
    first, box, key = _initial(sequence, seed)
    clips = _frames(sequence, frames[-1])
    state = tracker.init(weights, first, box, key, config)
    rss = []
    for index, frame in enumerate(clips, start=1):
        fine_tune = tracker.fine_tune_due(index, config)
        state, output = tracker.step(weights, state, frame, fine_tune=fine_tune)
        jax.block_until_ready(output.box_xywh)
        if index in frames:
            gc.collect()
            rss.append(host_current_mb())
    growth = rss[-1] - rss[0]
    return {
        "frames": frames,
        "rss_mb": rss,
        "growth_mb": growth,
        "growth_mb_per_frame": growth / (frames[-1] - frames[0]),
    }


def batch_throughput(
    weights, config, batch_size, num_frames, warmup=3, frame_size_wh=(640, 480), trace_dir=None
):
    """Aggregate frames per second of ``batch.track_batch`` over synthetic sequences.

    Args:
      weights: Feature Net weights.
      config: TrackerConfig.
      batch_size: sequences tracked together (each a different synthetic seed).
      num_frames: timed batched steps after the warmup.
      warmup: untimed steps first (the first one compiles).
      frame_size_wh: frame size of every sequence, pixels.
      trace_dir: optional folder: the whole run is traced and its batched steps summarised
        (``device_trace.summarize`` of the "batched_step" module, every step counted, against
        the median step's wall time).

    Returns:
      A JSON-able dict: batch_size, mode, init_s (compile included), step_median_ms (one batched
      step, frame upload included), frames_per_s (batch_size x steps / their summed time),
      trace (None without ``trace_dir``).
    """
    if batch_size < 1 or num_frames < 1 or warmup < 1:
        raise SpeedError(
            f"batch_size={batch_size}, num_frames={num_frames} and warmup={warmup} must be >= 1"
        )
    sequences = [
        synthetic.make_sequence(
            num_frames=warmup + num_frames + 1, frame_size_wh=frame_size_wh, seed=seed
        )
        for seed in range(batch_size)
    ]
    recorder = (
        contextlib.nullcontext({}) if trace_dir is None else device_trace.recording(trace_dir)
    )
    with recorder as written:
        tracked = batch.track_batch(weights, sequences, config, progress=False)
    steady = np.asarray(tracked[0].step_seconds[warmup:])
    trace = None
    if trace_dir is not None:
        # Wall time per step: the steady median (the first step's compilation would swamp a
        # mean); the device events are those of every step, the fine-tune frames among them.
        steps = len(tracked[0].step_seconds)
        summary = device_trace.summarize(
            written["file"], steps, steps * float(np.median(steady)), module="batched_step"
        )
        trace = {**summary, "file": str(written["file"])}
    return {
        "device": jax.devices()[0].device_kind,
        "mode": config.proposal_features,
        "batch_size": batch_size,
        "init_s": tracked[0].init_seconds,
        "step_median_ms": 1e3 * float(np.median(steady)),
        "frames_per_s": batch_size * len(steady) / float(np.sum(steady)),
        "num_frames": num_frames,
        "frame_size_wh": list(frame_size_wh),
        "trace": trace,
    }


def format_throughput(rows):
    """The batched-tracking table: one row per (mode, batch size)."""
    lines = [f"{'device':<24}{'mode':<6}{'batch':>6}{'init s':>9}{'step ms':>10}{'frames/s':>10}"]
    for r in rows:
        lines.append(
            f"{r['device'][:23]:<24}{r['mode']:<6}{r['batch_size']:>6}{r['init_s']:>9.1f}"
            f"{r['step_median_ms']:>10.2f}{r['frames_per_s']:>10.1f}"
        )
    return "\n".join(lines)


def _fmt(value, scale=1.0, spec=".1f"):
    return "-" if value is None else format(value * scale, spec)


def format_report(rows):
    """The speed table: one row per (device, mode), then the stage breakdown in ms of the rows
    that have one, then the host memory growth."""
    lines = [
        f"{'device':<24}{'mode':<6}{'compile s':>18}{'init ms':>9}{'median ms':>10}"
        f"{'p90 ms':>8}{'fps':>8}{'GFLOP':>8}{'TFLOP/s':>9}{'%peak':>7}{'host MB':>9}"
        f"{'dev MB':>8}",
    ]
    for r in rows:
        compile_s = f"{r['compile_init_s']:.1f}+{r['compile_step_s']:.1f}"
        fraction = r["fraction_of_peak"]
        lines.append(
            f"{r['device'][:23]:<24}{r['mode']:<6}{compile_s:>18}{r['first_frame_ms']:>9.1f}"
            f"{r['latency_median_ms']:>10.2f}{r['latency_p90_ms']:>8.2f}{r['fps']:>8.1f}"
            f"{_fmt(r['flops_per_frame'], 1e-9, '.2f'):>8}"
            f"{_fmt(r['achieved_flops_per_s'], 1e-12, '.3f'):>9}"
            f"{_fmt(fraction, 100.0, '.1f'):>7}{r['host_peak_mb']:>9.0f}"
            f"{_fmt(r['device_peak_mb'], 1.0, '.0f'):>8}"
        )
    with_stages = [r for r in rows if r["stages_ms"] is not None]
    if with_stages:
        lines += [
            "",
            "stage breakdown, ms: the step's stages, each jitted alone; frame = their sum with "
            "fine_tune / temporal_update_interval;",
            "then parts of them: crop and feature_net of features, tuple and spatial_update of "
            "update",
            f"{'device':<24}{'mode':<6}"
            + "".join(f"{s:>11}" for s in STAGES)
            + f"{'frame':>9}"
            + "".join(f"{p:>15}" for p in PARTS),
        ]
    for r in with_stages:
        stages = r["stages_ms"]
        lines.append(
            f"{r['device'][:23]:<24}{r['mode']:<6}"
            + "".join(f"{stages[s]:>11.2f}" for s in STAGES)
            + f"{stages['frame']:>9.2f}"
            + "".join(f"{stages[p]:>15.2f}" for p in PARTS)
        )
    for r in rows:
        if r.get("memory_growth"):
            g = r["memory_growth"]
            lines.append(
                f"{r['mode']}: host RSS {g['rss_mb'][0]:.0f} MB after {g['frames'][0]} frames, "
                f"{g['rss_mb'][-1]:.0f} MB after {g['frames'][-1]} ({g['growth_mb']:+.1f} MB)"
            )
    return "\n".join(lines)


def _speed_sequence(frames, warmup):
    """The benchmark's sequence: the first one the flags name, else the synthetic demo."""
    fv = flags.FLAGS
    if fv.demo or not (fv.dataset_dir or fv.video):
        return synthetic.make_sequence(
            num_frames=frames + warmup + 1, frame_size_wh=(640, 480), seed=fv.seed
        )
    return track_cli.sequences_from_flags()[0]


def _versions():
    import jaxlib  # noqa: PLC0415

    return {"jax": jax.__version__, "jaxlib": getattr(jaxlib, "__version__", "unknown")}


def main(argv):
    """Measures each mode, prints the tables and writes the JSON report."""
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    fv = flags.FLAGS
    for mode in _MODES.value:
        if mode not in ("roi", "crop"):
            raise app.UsageError(f"--speed_modes: unknown mode {mode!r}; use roi and/or crop")
    config = config_flags.config_from_flags()
    weights, source = track_cli.resolve_weights(
        fv.weights, config.feature_net, fv.allow_random_weights, fv.seed
    )
    frames, warmup = _FRAMES.value, _WARMUP.value
    sequence = _speed_sequence(frames, warmup)
    growth_frames = [int(n) for n in _GROWTH_FRAMES.value]
    output = pathlib.Path(_OUTPUT.value)
    output.parent.mkdir(parents=True, exist_ok=True)
    trace_frames = _TRACE_FRAMES.value
    trace_root = pathlib.Path(_TRACE_DIR.value or output.with_name(output.stem + "_trace"))
    rows, throughput = [], []

    def write_report():  # after every measurement, so a run cut short keeps what finished
        payload = {
            "device_kind": jax.devices()[0].device_kind,
            "platform": jax.devices()[0].platform,
            "num_devices": jax.device_count(),
            # With a persistent cache, compile times are cache loads after the first run.
            "compilation_cache_dir": jax.config.jax_compilation_cache_dir,
            **_versions(),
            "weights": source,
            "rows": rows,
            "batch_throughput": throughput,
        }
        boxfiles.atomic_write_text(output, json.dumps(payload, indent=1))

    for mode in _MODES.value:
        mode_config = dataclasses.replace(config, proposal_features=mode)
        print(f"== {mode}: {frames} frames of {sequence.name} on {jax.devices()[0]}")
        row = measure(
            weights,
            sequence,
            mode_config,
            frames,
            warmup=warmup,
            seed=fv.seed,
            peak_flops=_PEAK_FLOPS_FLAG.value or None,
            repeats=_STAGE_REPEATS.value,
            trace_frames=trace_frames,
            trace_dir=trace_root / mode if trace_frames else None,
        )
        if len(growth_frames) >= 2:
            row["memory_growth"] = memory_growth(
                weights, sequence, mode_config, growth_frames, seed=fv.seed
            )
        rows.append(row)
        print(format_report([row]))
        if row["trace"]:
            print(device_trace.format_summary(row["trace"]))
            print(f"trace file: {row['trace']['file']}")
        write_report()
    if rows:
        print(format_report(rows))
    for size in _BATCH_SIZES.value:
        print(f"== batched roi tracking, batch of {size}")
        throughput.append(
            batch_throughput(
                weights,
                dataclasses.replace(config, proposal_features="roi"),
                int(size),
                frames,
                warmup=max(warmup, 1),
                trace_dir=trace_root / f"batch{size}" if trace_frames else None,
            )
        )
        print(format_throughput(throughput[-1:]))
        if throughput[-1]["trace"]:
            print(device_trace.format_summary(throughput[-1]["trace"]))
        write_report()
    if throughput:
        print(format_throughput(throughput))
    write_report()
    print(f"Speed report written to {output}")


if __name__ == "__main__":
    app.run(main)
