"""benchmarks/device_trace.py: the trace summary on a hand-made GPU trace, capture on CPU."""

import gzip
import json
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks import device_trace


def _meta(kind, pid, name, tid=None):
    event = {"ph": "M", "name": kind, "pid": pid, "args": {"name": name}}
    if tid is not None:
        event["tid"] = tid
    return event


def _event(pid, tid, name, dur, hlo_op=None):
    args = {"hlo_op": hlo_op} if hlo_op else {}
    return {"ph": "X", "pid": pid, "tid": tid, "name": name, "ts": 0.0, "dur": dur, "args": args}


def _gpu_trace():
    """Two steps on one GPU: per step two FISTA kernels of 10 us, a 30 us conv, a 5 us copy.

    The XLA Ops and Framework Ops lines repeat the kernels' time and the host process has its
    own events: none of them may be counted.
    """
    events = [
        _meta("process_name", 1, "/host:CPU"),
        _meta("process_name", 2, "/device:GPU:0"),
        _meta("thread_name", 2, "Stream #13(Compute)", tid=13),
        _meta("thread_name", 2, "Stream #14(MemcpyH2D)", tid=14),
        _meta("thread_name", 2, "XLA Ops", tid=99),
        _meta("thread_name", 2, "Framework Ops", tid=98),
    ]
    for _ in range(2):
        events += [
            _event(2, 13, "loop_fusion_kernel", 10.0, hlo_op="fista_body_fusion"),
            _event(2, 13, "loop_fusion_kernel", 10.0, hlo_op="fista_body_fusion"),
            _event(2, 13, "sm90_xmma_conv", 30.0, hlo_op="cudnn-conv.1"),
            _event(2, 14, "MemcpyH2D", 5.0),
            _event(2, 99, "fista_body_fusion", 20.0),
            _event(2, 98, "jit(step_fn)", 55.0),
            _event(1, 7, "PjitFunction(step)", 400.0),
        ]
    return {"traceEvents": events}


def test_summarize_counts_stream_events_per_step():
    summary = device_trace.summarize(_gpu_trace(), num_steps=2, wall_s=2e-4)
    assert summary["devices"] == ["/device:GPU:0"]
    assert summary["kernels_per_step"] == 4.0
    assert summary["busy_ms_per_step"] == pytest.approx(0.055)
    assert summary["wall_ms_per_step"] == pytest.approx(0.1)
    assert summary["busy_fraction"] == pytest.approx(0.55)
    names = [op["name"] for op in summary["ops"]]
    assert names == ["cudnn-conv.1", "fista_body_fusion", "MemcpyH2D"]
    fista = summary["ops"][1]
    assert fista["per_step"] == 2.0 and fista["mean_us"] == 10.0
    assert fista["ms_per_step"] == pytest.approx(0.02)
    assert sum(op["share"] for op in summary["ops"]) == pytest.approx(1.0)
    assert device_trace.summarize(_gpu_trace(), 2, top=1)["ops"][0]["name"] == "cudnn-conv.1"
    text = device_trace.format_summary(summary)
    assert "4 kernels/copies per step" in text and "55% of wall" in text
    assert "fista_body_fusion" in text


def test_summarize_reads_the_xla_ops_line_of_a_device_without_streams():
    events = [
        _meta("process_name", 3, "/device:TPU:0"),
        _meta("thread_name", 3, "XLA Ops", tid=1),
        _meta("thread_name", 3, "XLA Modules", tid=2),
        _event(3, 1, "fusion.1", 8.0),
        _event(3, 1, "fusion.2", 2.0),
        _event(3, 2, "jit_step", 10.0),
    ]
    summary = device_trace.summarize({"traceEvents": events}, num_steps=1)
    assert summary["kernels_per_step"] == 2 and summary["busy_ms_per_step"] == 0.01


def test_summarize_counts_one_module_by_argument_or_by_its_spans():
    events = [
        _meta("process_name", 2, "/device:GPU:0"),
        _meta("thread_name", 2, "Stream #7", tid=7),
        _meta("thread_name", 2, "XLA Modules", tid=50),
        # By argument: one kernel of the batched step, one of init.
        _event(2, 7, "k1", 4.0) | {"args": {"hlo_module": "jit__batched_step", "hlo_op": "a"}},
        _event(2, 7, "k2", 9.0) | {"args": {"hlo_module": "jit__batched_init", "hlo_op": "b"}},
        # By time: no argument, inside (ts 105) or outside (ts 300) the step's span.
        _event(2, 50, "jit__batched_step", 100.0) | {"ts": 100.0},
        _event(2, 50, "jit__batched_init", 100.0) | {"ts": 250.0},
        _event(2, 7, "k3", 2.0) | {"ts": 105.0},
        _event(2, 7, "k4", 7.0) | {"ts": 300.0},
    ]
    summary = device_trace.summarize({"traceEvents": events}, 1, module="batched_step")
    assert sorted(op["name"] for op in summary["ops"]) == ["a", "k3"]
    assert summary["module"] == "batched_step" and summary["busy_ms_per_step"] == 0.006
    assert device_trace.summarize({"traceEvents": events}, 1)["kernels_per_step"] == 4


def test_summarize_reads_a_gzipped_file(tmp_path):
    path = tmp_path / "run.trace.json.gz"
    with gzip.open(path, "wt") as f:
        json.dump(_gpu_trace(), f)
    assert device_trace.summarize(path, 2)["kernels_per_step"] == 4.0


def test_summarize_rejects_bad_input(tmp_path):
    with pytest.raises(device_trace.TraceError, match="num_steps"):
        device_trace.summarize(_gpu_trace(), 0)
    with pytest.raises(device_trace.TraceError, match="no trace file"):
        device_trace.summarize(tmp_path / "missing.trace.json.gz", 1)
    broken = tmp_path / "broken.trace.json.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(device_trace.TraceError, match="cannot read trace"):
        device_trace.summarize(broken, 1)


def test_capture_on_cpu_writes_a_trace_without_device_events(tmp_path):
    update = jax.jit(lambda weights, state, frame: state + jnp.mean(frame / 1.0) * weights)

    def step(weights, state, frame):
        state = update(weights, state, frame)
        return state, types.SimpleNamespace(box_xywh=state)

    frames = [np.full((8, 8, 3), i, np.uint8) for i in range(3)]
    state, path, wall_s = device_trace.capture(step, 2.0, jnp.zeros(4), frames, tmp_path)
    np.testing.assert_allclose(np.asarray(state), 2.0 * (0 + 1 + 2))
    assert path.name.endswith(".trace.json.gz") and path.is_relative_to(tmp_path)
    summary = device_trace.summarize(path, len(frames), wall_s)
    assert summary["devices"] == [] and summary["kernels_per_step"] == 0
    assert "no per-op device events" in device_trace.format_summary(summary)
    with pytest.raises(device_trace.TraceError, match="at least one frame"):
        device_trace.capture(step, 2.0, state, [], tmp_path)
