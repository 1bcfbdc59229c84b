r"""Performance benchmark of the tracker: compile time, latency, FLOPs, memory, stage breakdown.

  python -m bin.benchmark --mode=speed --demo [--speed_frames=100] [--speed_modes=roi,crop]
  python -m bin.benchmark --mode=speed --dataset_dir=D --sequences=Basketball

For each ``proposal_features`` mode, ``measure`` reports on one sequence:

* compile time of ``tracker.init`` and of ``tracker.step``'s two forms, with and without the
  Temporal fine-tune (``jit(...).lower(...).compile()``; a load from the persistent
  compilation cache when ``JAX_COMPILATION_CACHE_DIR`` holds it);
* the first-frame (``init``) time of a second run, after compilation;
* steady per-frame latency after ``warmup`` frames (median, p90; each frame synchronised on
  the output box; the frame upload is included, as in ``run.track_sequence``) and fps;
* peak host RSS (``ru_maxrss``) and peak device memory (``memory_stats``, None on CPU);
* XLA's FLOPs of a frame (the two steps averaged over a fine-tune interval), the achieved
  FLOP/s and the fraction of the device's peak;
* a stage breakdown (``stage_times``): each stage jitted on its own, on the same frame/state;
* optionally (``--speed_trace_frames``) a profiler trace of the compiled step: kernels per
  step, device-busy time and the ops that take it (``device_trace``).

All times are wall seconds / milliseconds measured with ``time.perf_counter``. Frames of a
sequence shorter than needed are reused cyclically (the timing does not depend on content).
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
from absl import flags

from tsn_jax import (
    boxes,
    crop,
    device_trace,
    feature_net,
    features,
    results,
    spatial_net,
    tracker,
)

if "speed_frames" not in flags.FLAGS:
    flags.DEFINE_integer("speed_frames", 100, "--mode=speed: timed frames after the warmup.")
if "speed_warmup" not in flags.FLAGS:
    flags.DEFINE_integer("speed_warmup", 3, "--mode=speed: untimed frames before timing.")
if "speed_modes" not in flags.FLAGS:
    flags.DEFINE_list("speed_modes", ["roi", "crop"], "--mode=speed: proposal_features modes.")
if "peak_flops" not in flags.FLAGS:
    flags.DEFINE_float(
        "peak_flops", 0.0, "--mode=speed: device peak FLOP/s when not in the table (0: unknown)."
    )
if "speed_output" not in flags.FLAGS:
    flags.DEFINE_string("speed_output", "results/speed.json", "--mode=speed: JSON report path.")
if "speed_batch_sizes" not in flags.FLAGS:
    flags.DEFINE_list(
        "speed_batch_sizes", [], "--mode=speed: also aggregate fps of batched tracking (1,8,32)."
    )
    flags.register_validator(
        "speed_batch_sizes",
        lambda values: all(v.isdigit() and int(v) > 0 for v in values),
        "--speed_batch_sizes takes positive integers, e.g. 1,8,32",
    )
if "speed_stage_repeats" not in flags.FLAGS:
    flags.DEFINE_integer(
        "speed_stage_repeats",
        5,
        "--mode=speed: timed calls per stage of the breakdown (0: no breakdown, which saves "
        "compiling every stage on its own).",
        lower_bound=0,
    )
if "speed_trace_frames" not in flags.FLAGS:
    flags.DEFINE_integer(
        "speed_trace_frames",
        0,
        "--mode=speed: also trace this many steps with jax.profiler and list the device ops "
        "that take the time (0: no trace); non-zero also traces each batched run whole.",
        lower_bound=0,
    )
if "speed_trace_dir" not in flags.FLAGS:
    flags.DEFINE_string(
        "speed_trace_dir",
        "",
        "--mode=speed: where the traces go (default: <speed_output without .json>_trace/).",
    )
if "speed_growth_frames" not in flags.FLAGS:
    flags.DEFINE_list(
        "speed_growth_frames", ["20", "60"], "--mode=speed: host RSS after these frame counts."
    )

# Dense peak FLOP/s by compute dtype (NVIDIA datasheets; SXM parts; fp32 = non-tensor-core).
_PEAK_FLOPS = (
    ("H200", {"bfloat16": 989.4e12, "float32": 66.9e12}),
    ("H100 PCIE", {"bfloat16": 756.0e12, "float32": 51.2e12}),
    ("H100", {"bfloat16": 989.4e12, "float32": 66.9e12}),
)

STAGES = ("crop", "feature_net", "pool", "tuple", "temporal", "spatial", "updates")


class ProfilingError(ValueError):
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
    the compiled step ({fine_tune: compiled}) of its fine-tune flag, as ``run.track_sequence``
    picks ``tracker.step``'s."""
    indices = itertools.count(1)

    def step(weights, state, frame):
        return compiled[tracker.fine_tune_due(next(indices), config)](weights, state, frame)

    return step


def _frames(sequence, count):
    """The first ``count`` frames after frame 0 (cycling), as uint8 arrays read up front."""
    if len(sequence) < 2:
        raise ProfilingError(f"{sequence.name}: needs at least 2 frames, has {len(sequence)}")
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


def _median_ms(fn, args, repeats):
    """Median wall ms of ``repeats`` synchronised calls (after one untimed call)."""
    jax.block_until_ready(fn(*args))
    return 1e3 * statistics.median(_timed(fn, *args)[0] for _ in range(repeats))


# Stage functions: each one piece of ``tracker.step_fn``, jitted on its own (config static).


def _proposals(state):
    return tracker.propose(state, tracker.frame_keys(state)[0])


def _search_window(state):
    return features.search_window(tracker.search_around(state), state.config)


def _stage_crop(state, frame):
    """roi: the search window crop [1, S, S, 3]; crop: all proposal crops [N, s, s, 3]."""
    config = state.config
    if config.proposal_features == "roi":
        regions = _search_window(state)[None, :]
        size = config.search_size
    else:
        regions = boxes.scale_about_center(_proposals(state), features.context_factor(config))
        size = config.crop_size
    return crop.crop_and_resize(frame, regions, size, valid_size_wh=state.frame_size_wh)


def _stage_feature_net(weights, crops, config):
    return feature_net.apply_frozen(weights, crops, dtype=features._compute_dtype(config))


def _stage_pool(state, maps):
    """[N, D] proposal features from the Feature Net maps (RoIAlign or average pooling)."""
    config = state.config
    if config.proposal_features == "roi":
        window_maps = jax.tree.map(lambda m: m[0], maps)
        return features.roi_features(window_maps, _search_window(state), _proposals(state), config)
    pooled = features.adaptive_average_pool(maps.conv3, config.feature_grid)
    return features._flatten_normalized(pooled)


def _stage_tuple(state):
    """Tuple learning (Eq. 1) of a target over the pool; timed with the pool's first entry."""
    return tracker.learn_next_tuple(state, state.target_pool.features[0])[1]


def _stage_temporal(state, tuple_features, proposal_features):
    return tracker.temporal_model(state.config).apply(
        {"params": state.temporal_params}, tuple_features, proposal_features, train=False
    )


def _stage_spatial(weights, state, frame, maps, scores):
    """Top-B candidates, their Spatial Net inputs, confidence maps, refinement and ensemble.

    (The box regression of the candidates, one [B, D + 1] @ [D + 1, 4] product, is left out.)
    """
    config = state.config
    proposals = _proposals(state)
    top_scores, top = jax.lax.top_k(scores, config.top_candidates)
    candidates = proposals[top]
    windows = features.spatial_windows(candidates, config)
    if config.proposal_features == "roi":
        window_maps = jax.tree.map(lambda m: m[0], maps)
        inputs = features.roi_spatial_inputs(window_maps, _search_window(state), windows, config)
    else:
        inputs = features.crop_spatial_inputs(weights, frame, windows, config, state.frame_size_wh)
    conf = tracker.spatial_model(config).apply({"params": state.spatial_params}, inputs)
    refined, peaks = spatial_net.refine(
        conf, windows, candidates, config.spatial_refine, config.spatial_min_peak
    )
    return spatial_net.ensemble(refined, top_scores * peaks)


def _stage_spatial_update(state):
    config = state.config
    return tracker._train_spatial(
        config,
        state.spatial_params,
        state.spatial_opt_state,
        state.key,
        state.windows,
        config.spatial_update_steps,
    )


def _stage_temporal_update(state):
    config = state.config
    return tracker._train_temporal(
        config,
        state.temporal_params,
        state.temporal_opt_state,
        state.key,
        state.samples,
        None,
        None,
        config.temporal_update_steps,
        tuples=state.tuples,
    )


def stage_times(weights, state, frame, repeats=5):
    """Median wall ms of each stage of one step, each jitted alone and synchronised.

    Args:
      weights: Feature Net weights.
      state: a TrackerState (after a few steps, so the pool and memories are filled).
      frame: [H, W, 3] uint8 frame.
      repeats: timed calls per stage (after one untimed compile call).

    Returns:
      {stage: ms} for ``STAGES`` plus "updates_spatial" (Spatial Net train steps of one frame)
      and "updates_temporal" (one Temporal Net fine-tune; "updates" counts it divided by
      ``temporal_update_interval``). Disabled nets time as 0.
    """
    config = state.config
    frame = jnp.asarray(frame)
    crop_fn = jax.jit(_stage_crop)
    net_fn = jax.jit(_stage_feature_net, static_argnames="config")
    pool_fn, tuple_fn = jax.jit(_stage_pool), jax.jit(_stage_tuple)
    temporal_fn, spatial_fn = jax.jit(_stage_temporal), jax.jit(_stage_spatial)

    crops = crop_fn(state, frame)
    maps = net_fn(weights, crops, config=config)
    proposal_features = pool_fn(state, maps)
    tuple_features = tuple_fn(state)
    scores = temporal_fn(state, tuple_features, proposal_features)
    times = {
        "crop": _median_ms(crop_fn, (state, frame), repeats),
        "feature_net": _median_ms(
            lambda w, c: net_fn(w, c, config=config), (weights, crops), repeats
        ),
        "pool": _median_ms(pool_fn, (state, maps), repeats),
        "tuple": _median_ms(tuple_fn, (state,), repeats) if config.use_temporal else 0.0,
        "temporal": (
            _median_ms(temporal_fn, (state, tuple_features, proposal_features), repeats)
            if config.use_temporal
            else 0.0
        ),
        "spatial": _median_ms(spatial_fn, (weights, state, frame, maps, scores), repeats),
        "updates_spatial": (
            _median_ms(jax.jit(_stage_spatial_update), (state,), repeats)
            if config.use_spatial
            else 0.0
        ),
        "updates_temporal": (
            _median_ms(jax.jit(_stage_temporal_update), (state,), repeats)
            if config.use_temporal
            else 0.0
        ),
    }
    times["updates"] = (
        times["updates_spatial"] + times["updates_temporal"] / config.temporal_update_interval
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
      latency_median_ms, latency_p90_ms, fps, host_peak_mb, device_peak_mb (None on CPU),
      flops_per_frame, achieved_flops_per_s, peak_flops_per_s, fraction_of_peak (None when a
      number is unknown), stages_ms ({stage: ms}; None with ``repeats=0``), num_frames,
      warmup, sequence, config, and trace (``device_trace.summarize`` plus its file; None
      without ``trace_frames``).
    """
    if num_frames < 1 or warmup < 0:
        raise ProfilingError(f"num_frames={num_frames} must be >= 1 and warmup={warmup} >= 0")
    if trace_frames and not trace_dir:
        raise ProfilingError("trace_frames needs a trace_dir")
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
    latencies_ms = 1e3 * np.asarray(latencies)
    median_ms = float(np.median(latencies_ms))
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
    achieved = flops / (median_ms * 1e-3) if flops is not None else None
    return {
        "device": device.device_kind,
        "platform": device.platform,
        "mode": config.proposal_features,
        "compile_init_s": compile_init_s,
        "compile_step_s": compile_step_s,
        "first_frame_ms": 1e3 * first_frame_s,
        "latency_median_ms": median_ms,
        "latency_p90_ms": float(np.percentile(latencies_ms, 90)),
        "fps": 1e3 / median_ms,
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
        raise ProfilingError(f"memory_growth needs >= 2 positive frame counts, got {frames}")
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
    from tsn_jax import batch, synthetic  # noqa: PLC0415 (batch imports run, run imports us)

    if batch_size < 1 or num_frames < 1 or warmup < 1:
        raise ProfilingError(
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
            "stage breakdown, ms (each stage jitted alone; updates = spatial + temporal/N)",
        ]
        lines.append(
            f"{'device':<24}{'mode':<6}" + "".join(f"{s:>12}" for s in STAGES) + f"{'sum':>9}"
        )
    for r in with_stages:
        stages = r["stages_ms"]
        lines.append(
            f"{r['device'][:23]:<24}{r['mode']:<6}"
            + "".join(f"{stages[s]:>12.2f}" for s in STAGES)
            + f"{sum(stages[s] for s in STAGES):>9.2f}"
        )
    for r in rows:
        if r.get("memory_growth"):
            g = r["memory_growth"]
            lines.append(
                f"{r['mode']}: host RSS {g['rss_mb'][0]:.0f} MB after {g['frames'][0]} frames, "
                f"{g['rss_mb'][-1]:.0f} MB after {g['frames'][-1]} ({g['growth_mb']:+.1f} MB)"
            )
    return "\n".join(lines)


def _speed_sequence(warmup):
    """The benchmark's sequence: the first one the flags name, else the synthetic demo."""
    from bin import track as track_cli  # noqa: PLC0415 (bin is not a dependency of tsn_jax)
    from tsn_jax import synthetic  # noqa: PLC0415

    fv = flags.FLAGS
    if fv.demo or not (fv.dataset_dir or fv.video):
        return synthetic.make_sequence(
            num_frames=fv.speed_frames + warmup + 1, frame_size_wh=(640, 480), seed=fv.seed
        )
    return track_cli.sequences_from_flags()[0]


def _versions():
    import jaxlib  # noqa: PLC0415

    return {"jax": jax.__version__, "jaxlib": getattr(jaxlib, "__version__", "unknown")}


def main_from_flags():
    """``bin.benchmark --mode=speed``: measures each mode, prints the table, writes JSON."""
    from bin import config_flags  # noqa: PLC0415
    from bin import track as track_cli  # noqa: PLC0415

    fv = flags.FLAGS
    config = config_flags.config_from_flags()
    weights, source = track_cli.resolve_weights(
        fv.weights, config.feature_net, fv.allow_random_weights, fv.seed
    )
    warmup = fv.speed_warmup
    sequence = _speed_sequence(warmup)
    growth_frames = [int(n) for n in fv.speed_growth_frames]
    output = pathlib.Path(fv.speed_output)
    output.parent.mkdir(parents=True, exist_ok=True)
    trace_root = pathlib.Path(fv.speed_trace_dir or output.with_name(output.stem + "_trace"))
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
        results.atomic_write_text(output, json.dumps(payload, indent=1))

    for mode in fv.speed_modes:
        if mode not in ("roi", "crop"):
            raise ProfilingError(f"--speed_modes: unknown mode {mode!r}; use roi and/or crop")
        mode_config = dataclasses.replace(config, proposal_features=mode)
        print(f"== {mode}: {fv.speed_frames} frames of {sequence.name} on {jax.devices()[0]}")
        row = measure(
            weights,
            sequence,
            mode_config,
            fv.speed_frames,
            warmup=warmup,
            seed=fv.seed,
            peak_flops=fv.peak_flops or None,
            repeats=fv.speed_stage_repeats,
            trace_frames=fv.speed_trace_frames,
            trace_dir=trace_root / mode if fv.speed_trace_frames else None,
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
    for size in fv.speed_batch_sizes:
        print(f"== batched roi tracking, batch of {size}")
        throughput.append(
            batch_throughput(
                weights,
                dataclasses.replace(config, proposal_features="roi"),
                int(size),
                fv.speed_frames,
                warmup=max(warmup, 1),
                trace_dir=trace_root / f"batch{size}" if fv.speed_trace_frames else None,
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
