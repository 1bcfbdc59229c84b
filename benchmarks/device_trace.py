"""Where a tracking step's device time goes: a ``jax.profiler`` trace of steps, summarised.

  python -m benchmarks.speed --demo --speed_trace_frames=10 [--speed_trace_dir=D]

On a GPU the roi step is latency-bound (docs/results.md "Speed on one H100"): a few ms of small
kernels. The stage breakdown of ``benchmarks.speed`` times each stage jitted alone; a trace
shows the compiled step itself: how many kernels one step launches, how long the device is
busy, and which HLO ops take the time. ``capture`` runs steps under ``jax.profiler.trace``;
``summarize`` reads the ``*.trace.json.gz`` it writes (Chrome trace events, microseconds).
Part of the lab: ``benchmarks.speed`` calls it, nothing in ``tsn_jax`` or ``bin`` does.

Device events are those of processes named ``/device:...`` (one per GPU). Their threads are
the device's streams ("Stream #N(...)": one event per kernel or copy) and derived lines
("XLA Ops", "XLA Modules", "Steps", "Framework Ops", ...) that repeat the same time per HLO
op, per executable or per step. Only stream events are counted, so nothing is counted twice;
a device without streams (a TPU) is read from its "XLA Ops" line. A kernel is named by its
``hlo_op`` argument where the trace gives one (the fusion or custom call it belongs to),
else by its kernel name. The CPU client records no per-op device events: there the summary
says so and holds only the step count and wall time.
"""

import collections
import contextlib
import gzip
import json
import pathlib
import time

import jax


class TraceError(ValueError):
    """A trace that cannot be read or summarised (no file, no steps)."""


@contextlib.contextmanager
def recording(log_dir):
    """Runs the ``with`` block under ``jax.profiler.trace``.

    Args:
      log_dir: folder the profiler writes under (``plugins/profile/<run>/``).

    Yields:
      A dict whose "file" is, once the block has ended, the ``*.trace.json.gz`` written.
    """
    log_dir = pathlib.Path(log_dir)
    before = set(log_dir.glob("plugins/profile/*/*.trace.json.gz"))
    written = {}
    with jax.profiler.trace(str(log_dir)):
        yield written
    new = sorted(set(log_dir.glob("plugins/profile/*/*.trace.json.gz")) - before)
    if not new:
        raise TraceError(f"jax.profiler wrote no *.trace.json.gz under {log_dir}")
    written["file"] = new[-1]


def capture(step, weights, state, frames, log_dir):
    """Runs ``step`` on each frame under ``jax.profiler.trace``.

    Args:
      step: a step function, e.g. ``tracker.step`` or its compiled form (called as
        ``step(weights, state, frame) -> (state, output)``; its state argument may be donated).
      weights: Feature Net weights.
      state: the TrackerState to start from.
      frames: [T] list of [H, W, 3] uint8 frames, one step each, each synchronised on its box.
      log_dir: folder the profiler writes under (``plugins/profile/<run>/``).

    Returns:
      (final state, path of the ``*.trace.json.gz`` written, wall seconds of the steps).
    """
    if not frames:
        raise TraceError("capture needs at least one frame")
    with recording(log_dir) as written:
        start = time.perf_counter()
        for frame in frames:
            state, output = step(weights, state, frame)
            jax.block_until_ready(output.box_xywh)
        wall_s = time.perf_counter() - start
    return state, written["file"], wall_s


def _load(path):
    path = pathlib.Path(path)
    if not path.is_file():
        raise TraceError(f"no trace file at {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise TraceError(f"cannot read trace {path}: {e}") from e


def _counted_threads(devices, threads):
    """(pid, tid) of the threads whose events are counted: each device's streams, or its
    "XLA Ops" line where it has no streams."""
    counted = set()
    for pid in devices:
        own = {key: name for key, name in threads.items() if key[0] == pid}
        streams = {key for key, name in own.items() if name.startswith("Stream")}
        counted |= streams or {key for key, name in own.items() if name == "XLA Ops"}
    return counted


def _module_spans(events, threads, devices, module):
    """[(start, end)] us of the "XLA Modules" events of the devices whose name has ``module``."""
    spans = []
    for e in events:
        key = (e.get("pid"), e.get("tid"))
        if e.get("ph") == "X" and key[0] in devices and threads.get(key) == "XLA Modules":
            if module in str(e.get("name", "")):
                start = float(e.get("ts", 0.0))
                spans.append((start, start + float(e.get("dur", 0.0))))
    return spans


def _in_module(event, module, spans):
    """Whether an event belongs to ``module``: by its ``hlo_module`` argument, else by time."""
    named = event.get("args", {}).get("hlo_module")
    if named is not None:
        return module in str(named)
    start = float(event.get("ts", 0.0))
    return any(lo <= start < hi for lo, hi in spans)


def summarize(trace, num_steps, wall_s=None, top=25, module=None):
    """Kernel counts and device-busy time per step, and the ops that take the most time.

    Args:
      trace: a trace dict (``{"traceEvents": [...]}``) or the path of a ``*.trace.json[.gz]``.
      num_steps: steps the trace holds (each op's total is divided by it).
      wall_s: optional wall seconds of those steps (for the busy fraction).
      top: ops listed, by total time.
      module: optional part of an XLA module name (e.g. "batched_step"): only that module's
        kernels count (by their ``hlo_module`` argument, or by the module's spans on the
        device's "XLA Modules" line), so a trace of a whole run can be read per step.

    Returns:
      A JSON-able dict: module, num_steps, wall_ms_per_step (None without ``wall_s``), devices
      (process names), kernels_per_step, busy_ms_per_step (summed stream events: kernels and
      copies; overlapping streams count twice), busy_fraction (busy / wall, None without
      ``wall_s``), ops ([{name, per_step, mean_us, ms_per_step, share}], longest first;
      ``share`` of the busy time).
    """
    if num_steps < 1:
        raise TraceError(f"num_steps must be >= 1, got {num_steps}")
    if not isinstance(trace, dict):
        trace = _load(trace)
    events = trace.get("traceEvents", [])
    processes, threads = {}, {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "process_name":
            processes[e["pid"]] = e.get("args", {}).get("name", "")
        elif e.get("ph") == "M" and e.get("name") == "thread_name":
            threads[(e["pid"], e.get("tid"))] = e.get("args", {}).get("name", "")
    devices = {pid: name for pid, name in processes.items() if name.startswith("/device:")}
    counted = _counted_threads(devices, threads)
    spans = _module_spans(events, threads, devices, module) if module else []
    totals = collections.defaultdict(float)
    counts = collections.Counter()
    for e in events:
        if e.get("ph") != "X" or (e.get("pid"), e.get("tid")) not in counted:
            continue
        if module and not _in_module(e, module, spans):
            continue
        name = str(e.get("args", {}).get("hlo_op") or e.get("name", "?"))
        totals[name] += float(e.get("dur", 0.0))
        counts[name] += 1
    busy_us = sum(totals.values())
    busy_ms = busy_us / 1e3 / num_steps
    wall_ms = None if wall_s is None else 1e3 * wall_s / num_steps
    ops = [
        {
            "name": name,
            "per_step": counts[name] / num_steps,
            "mean_us": totals[name] / counts[name],
            "ms_per_step": totals[name] / 1e3 / num_steps,
            "share": totals[name] / busy_us if busy_us > 0 else 0.0,
        }
        for name in sorted(totals, key=totals.get, reverse=True)[:top]
    ]
    return {
        "module": module,
        "num_steps": num_steps,
        "wall_ms_per_step": wall_ms,
        "devices": sorted(devices.values()),
        "kernels_per_step": sum(counts.values()) / num_steps,
        "busy_ms_per_step": busy_ms,
        "busy_fraction": busy_ms / wall_ms if wall_ms else None,
        "ops": ops,
    }


def format_summary(summary):
    """A few lines: per-step kernels, busy and wall time, then the top ops."""
    wall = summary["wall_ms_per_step"]
    head = f"trace of {summary['num_steps']} steps"
    if wall is not None:
        head += f": {wall:.2f} ms wall per step"
    if not summary["devices"]:
        return head + "; no per-op device events (the CPU client records none)"
    fraction = summary["busy_fraction"]
    lines = [
        head
        + f", {summary['kernels_per_step']:.0f} kernels/copies per step, device busy "
        + f"{summary['busy_ms_per_step']:.2f} ms"
        + ("" if fraction is None else f" ({100 * fraction:.0f}% of wall)"),
        f"{'op':<48}{'per step':>9}{'mean us':>9}{'ms/step':>9}{'share':>7}",
    ]
    for op in summary["ops"]:
        lines.append(
            f"{op['name'][:47]:<48}{op['per_step']:>9.1f}{op['mean_us']:>9.1f}"
            f"{op['ms_per_step']:>9.3f}{100 * op['share']:>6.1f}%"
        )
    return "\n".join(lines)
