"""Smoke tests of the speed benchmark (benchmarks/speed.py) on a tiny config, CPU."""

import dataclasses
import json
import math
import os
import statistics

import jax
import pytest

from benchmarks import speed
from tests import cli, tracker_test
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import synthetic

SMALL = tracker_test.SMALL
NUM_FRAMES = 6


@pytest.fixture(scope="module")
def weights():
    return weights_lib.random_weights("vgg16", jax.random.key(0))


@pytest.fixture(scope="module")
def sequence():
    return synthetic.make_sequence(num_frames=NUM_FRAMES, frame_size_wh=(96, 80), seed=0)


@pytest.fixture(scope="module")
def rows(weights, sequence):
    return [
        speed.measure(
            weights,
            sequence,
            dataclasses.replace(SMALL, proposal_features=mode),
            num_frames=3,
            warmup=1,
            peak_flops=1e12,
            repeats=2,
        )
        for mode in ("roi", "crop")
    ]


def _positive_finite(value):
    return isinstance(value, float) and math.isfinite(value) and value > 0


@pytest.mark.parametrize("index", [0, 1])
def test_measure_reports_positive_finite_numbers(rows, index):
    row = rows[index]
    assert row["mode"] == ("roi", "crop")[index]
    for name in (
        "compile_init_s",
        "compile_step_s",
        "first_frame_ms",
        "latency_median_ms",
        "latency_p90_ms",
        "fps",
        "host_peak_mb",
        "flops_per_frame",
        "achieved_flops_per_s",
    ):
        assert _positive_finite(row[name]), (name, row[name])
    assert row["latency_p90_ms"] >= row["latency_median_ms"]
    # bin.track's definition: the timed frames over their summed time (the mean, not 1 / median).
    assert len(row["frame_ms"]) == 3
    assert row["fps"] == pytest.approx(3e3 / math.fsum(row["frame_ms"]), rel=1e-12)
    assert row["latency_median_ms"] == pytest.approx(statistics.median(row["frame_ms"]))
    assert row["achieved_flops_per_s"] == pytest.approx(row["flops_per_frame"] * row["fps"])
    # CPU is not in the peak table, so the peak_flops argument is used.
    assert row["peak_flops_per_s"] == 1e12
    assert row["fraction_of_peak"] == pytest.approx(row["achieved_flops_per_s"] / 1e12)
    stages = row["stages_ms"]
    for name in (*speed.STAGES, *speed.PARTS, "frame"):
        assert _positive_finite(stages[name]), (name, stages)
    interval = SMALL.temporal_update_interval
    assert stages["frame"] == pytest.approx(
        sum(stages[s] for s in speed.STAGES[:-1]) + stages["fine_tune"] / interval
    )
    json.dumps(row)  # JSON-able


def test_crop_mode_runs_the_feature_net_on_every_proposal(rows):
    # roi: one 63 px window; crop: 16 proposals of 35 px plus 3 spatial windows per frame.
    assert rows[1]["flops_per_frame"] > rows[0]["flops_per_frame"]


def test_format_report_has_one_row_per_mode(rows):
    report = speed.format_report(rows)
    rows_of = [line.split()[1] for line in report.splitlines() if line.startswith("cpu ")]
    assert rows_of == ["roi", "crop", "roi", "crop"]  # main table, then stage table
    for name in (*speed.STAGES, *speed.PARTS):
        assert name in report


def test_measure_without_the_stage_breakdown(weights, sequence, rows):
    row = speed.measure(weights, sequence, SMALL, num_frames=1, warmup=0, repeats=0)
    assert row["stages_ms"] is None and row["trace"] is None
    assert _positive_finite(row["latency_median_ms"])
    report = speed.format_report([rows[0], row])
    assert [line.split()[1] for line in report.splitlines() if line.startswith("cpu ")] == [
        "roi",
        "roi",
        "roi",  # main table, then one stage row: the one that has stages
    ]
    assert "stage breakdown" not in speed.format_report([row])
    with pytest.raises(speed.SpeedError, match="trace_frames needs a trace_dir"):
        speed.measure(weights, sequence, SMALL, num_frames=1, trace_frames=2)


def test_peak_flops_table():
    assert speed.peak_flops_of("NVIDIA H100 80GB HBM3", "bfloat16") == 989.4e12
    assert speed.peak_flops_of("NVIDIA H200", "float32") == 66.9e12
    assert speed.peak_flops_of("cpu", "float32") is None


def test_memory_growth_reports_each_count(weights, sequence):
    growth = speed.memory_growth(weights, sequence, SMALL, frames=(2, 4))
    assert growth["frames"] == [2, 4]
    assert len(growth["rss_mb"]) == 2 and all(r > 0 for r in growth["rss_mb"])
    # The state is fixed-size: a few steps must not grow the process by 50 MB.
    assert abs(growth["growth_mb"]) < 50


def test_measure_rejects_bad_frame_counts(weights, sequence):
    with pytest.raises(speed.SpeedError, match="num_frames=0"):
        speed.measure(weights, sequence, SMALL, num_frames=0)


def test_speed_main(tmp_path):
    output = tmp_path / "speed.json"
    done = cli.run_module(
        "benchmarks.speed",
        "--demo",
        "--allow_random_weights",
        "--speed_frames=3",
        "--speed_warmup=1",
        "--speed_modes=roi",
        "--speed_growth_frames=2,3",
        "--num_init_samples=64",
        "--first_frame_samples=4",
        "--temporal_init_steps=2",
        "--spatial_init_steps=2",
        "--num_proposals=16",
        "--search_size=63",
        "--roi_target_size=25",
        "--crop_size=35",
        "--crop_target_size=25",
        "--spatial_grid=5",
        "--spatial_window_size=35",
        "--feature_grid=2",
        "--temporal_hidden=16",
        "--init_chunk=32",
        "--top_candidates=3",
        "--samples_per_frame=4",
        "--speed_batch_sizes=2",
        "--speed_trace_frames=2",
        f"--speed_output={output}",
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    payload = json.loads(output.read_text())
    assert payload["platform"] == "cpu"
    assert payload["jax"] == jax.__version__
    assert [r["mode"] for r in payload["rows"]] == ["roi"]
    row = payload["rows"][0]
    assert row["latency_median_ms"] > 0 and row["flops_per_frame"] > 0
    assert row["frame_size_wh"] == [640, 480]
    assert row["memory_growth"]["frames"] == [2, 3]
    assert row["trace"]["num_steps"] == 2 and row["trace"]["wall_ms_per_step"] > 0
    assert (tmp_path / "speed_trace" / "roi").is_dir() and os.path.isfile(row["trace"]["file"])
    assert "trace of 2 steps" in done.stdout
    assert "roi" in done.stdout and "feature_net" in done.stdout
    (throughput,) = payload["batch_throughput"]
    assert throughput["batch_size"] == 2 and throughput["mode"] == "roi"
    assert throughput["trace"]["module"] == "batched_step"
    assert throughput["trace"]["num_steps"] == 4  # the warmup step and the 3 timed ones
    assert os.path.isfile(throughput["trace"]["file"])
    assert _positive_finite(throughput["frames_per_s"])


def test_batch_throughput_counts_every_sequence(weights):
    row = speed.batch_throughput(
        weights, SMALL, batch_size=2, num_frames=2, warmup=1, frame_size_wh=(96, 80)
    )
    assert row["batch_size"] == 2 and row["num_frames"] == 2
    # Two sequences per step, two timed steps (median = mean): fps = 2 / step time.
    assert row["frames_per_s"] == pytest.approx(2e3 / row["step_median_ms"], rel=1e-9)
    assert "frames/s" in speed.format_throughput([row])


def test_speed_main_rejects_bad_flags():
    done = cli.run_module("benchmarks.speed", "--speed_batch_sizes=8,0")
    assert done.returncode != 0
    assert "--speed_batch_sizes takes positive integers" in done.stderr
    done = cli.run_module("benchmarks.speed", "--demo", "--speed_modes=roi,fast")
    assert done.returncode != 0
    assert "--speed_modes: unknown mode 'fast'" in done.stderr
