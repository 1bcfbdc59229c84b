"""Tracking a dataset on Ray (tsn_jax/evaluation/ray_engine.py): a local two-CPU cluster gives
the local runner's result files, a worker killed mid-sequence loses nothing, a rerun skips
finished sequences, and a bad sequence is reported without sinking the job.

The cluster tests need the ``ray`` extra and skip without it; the plain parts (worker plan,
progress board, data errors in a worker, and that ``bin.track`` does not import Ray) run
anyway. Three generated 5-frame 96x80 sequences, the tiny config of tracker_test and random
weights keep each tracked job to seconds; starting the cluster takes most of the time.
"""

import dataclasses
import functools
import os
import signal
import subprocess
import sys
import threading
import time

import jax
import numpy as np
import pytest

from tests import cli, tracker_test
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import datasets, runner, synthetic

SMALL = tracker_test.SMALL
NAMES = ("syn1", "syn2", "syn3")
# How long the stalled worker waits to be killed, and the killer for it to stall: generous, as
# a worker may first compile (minutes on a loaded 2-core machine); the kill ends the wait.
_STALL_SECONDS = 900

# ray.init starts its processes with subprocess (fork, then exec at once) after JAX has started
# its threads; Python warns about any fork in a threaded process.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")


def _source(name, seed):
    """A generated 5-frame sequence, as a source the worker loads (renders) itself."""
    make = functools.partial(
        synthetic.make_sequence, num_frames=5, frame_size_wh=(96, 80), seed=seed, name=name
    )
    return datasets.SequenceSource(name, make)


def _render_or_stall(sequence, pid_file, index):
    """Frame ``index`` of ``sequence``; at frame 2, the first time, writes this process's id to
    ``pid_file`` and waits to be killed."""
    if index == 2 and not pid_file.exists():
        pid_file.with_suffix(".part").write_text(str(os.getpid()))
        pid_file.with_suffix(".part").rename(pid_file)
        time.sleep(_STALL_SECONDS)
    return sequence.frame(index)


def _stalls_once(name, seed, pid_file):
    """The sequence of ``_source(name, seed)``, whose worker stalls at frame 2 the first time."""
    sequence = _source(name, seed).load()
    render = functools.partial(_render_or_stall, sequence, pid_file)
    return datasets.Sequence.from_render(name, len(sequence), render, sequence.groundtruth_xywh)


def _kill_when_stalled(pid_file, killed):
    """Waits for ``pid_file`` and kills that process (SIGKILL); its pid goes into ``killed``."""
    deadline = time.monotonic() + _STALL_SECONDS
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_file.exists():
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)


def _corrupt_otb(folder):
    """A 4-frame OTB sequence in ``folder`` whose frame 2 is a truncated JPEG."""
    sequence = synthetic.make_sequence(num_frames=4, frame_size_wh=(96, 80), seed=9, name="bad")
    path = synthetic.write_otb(sequence, folder)
    frame = path / "img" / "0003.jpg"
    frame.write_bytes(frame.read_bytes()[:300])
    return path


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "random_vgg16.npz"
    weights_lib.save(path, weights_lib.random_weights("vgg16", jax.random.key(0)))
    return path


@pytest.fixture(scope="module")
def local_results(tmp_path_factory, weights_file):
    """The local runner's result folder for the three sequences (this process, batch 1)."""
    folder = tmp_path_factory.mktemp("local")
    sequences = [_source(name, seed).load() for seed, name in enumerate(NAMES, start=1)]
    runner.track_all(weights_lib.load(weights_file), sequences, SMALL, folder, progress=False)
    return folder


def _same_files(folder, reference, names):
    for name in names:
        assert (folder / f"{name}.txt").read_text() == (reference / f"{name}.txt").read_text(), name


def test_bin_track_does_not_import_ray():
    done = subprocess.run(
        [sys.executable, "-c", "import sys, bin.track; print('ray' in sys.modules)"],
        cwd=cli.ROOT,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


# The parts that run without a cluster.


@pytest.fixture
def ray_engine():
    pytest.importorskip("ray")
    from tsn_jax.evaluation import ray_engine

    return ray_engine


def test_plan_one_worker_per_gpu_else_per_cpu(ray_engine):
    plan = ray_engine.plan_workers
    assert plan({"CPU": 16.0, "GPU": 4.0}) == ray_engine.WorkerPlan(4, 1.0, 1.0, {})
    shared = plan({"CPU": 16.0, "GPU": 2.0}, num_workers=4)
    assert (shared.count, shared.num_gpus) == (4, 0.5)
    assert shared.env_vars == {"XLA_PYTHON_CLIENT_MEM_FRACTION": "0.45"}
    assert plan({"CPU": 8.0}) == ray_engine.WorkerPlan(8, 1.0, 0.0, {})
    assert plan({"CPU": 8.0}, cpus_per_worker=4).count == 2
    assert plan({"CPU": 8.0}, num_workers=3).count == 3
    with pytest.raises(ValueError, match="at least 1, got 0"):
        plan({"CPU": 8.0}, num_workers=0)
    with pytest.raises(ValueError, match="no CPU"):
        plan({"GPU": 1.0})


def test_progress_board_counts_a_retried_sequence_once(ray_engine):
    board = ray_engine.ProgressBoard({"a": 10})
    board.update("b", 3, 7)
    board.update("a", 6, 10)
    board.update("a", 2, 10)  # tracked again from the start after its worker died
    assert board.read() == (5, 17)


def test_worker_reports_a_corrupt_frame_and_tracks_the_rest(ray_engine, weights_file, tmp_path):
    bad = _corrupt_otb(tmp_path / "data")
    worker = ray_engine.TrackerWorker(weights_file, SMALL, tmp_path / "out")
    missing = datasets.SequenceSource("gone", lambda: datasets.load_otb_sequence(bad.parent / "x"))
    items = [
        datasets.SequenceSource("bad", functools.partial(datasets.load_otb_sequence, bad)),
        missing,
        _source("syn1", 1),
    ]
    bad_outcome, missing_outcome, good = worker.track(items)
    assert bad_outcome.result is None and "0003.jpg (frame 2): truncated JPEG" in bad_outcome.error
    assert missing_outcome.error == f"{bad.parent / 'x'}: sequence folder is missing"
    assert good.error is None and good.worker_pid == os.getpid()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["syn1.txt"]
    expected = runner.track_sequence(
        weights_lib.load(weights_file), _source("syn1", 1).load(), SMALL, progress=False
    )
    np.testing.assert_array_equal(good.result.boxes_xywh, expected.boxes_xywh)


def test_worker_refuses_weights_of_another_architecture(ray_engine, weights_file, tmp_path):
    vggm = dataclasses.replace(SMALL, feature_net="vggm")
    with pytest.raises(ValueError, match="vgg16 weights but the config's Feature Net is vggm"):
        ray_engine.TrackerWorker(weights_file, vggm, tmp_path)


def test_two_sequences_of_one_name_are_refused_before_any_work(ray_engine, tmp_path):
    sources = [_source("syn1", 1), _source("syn1", 2)]
    with pytest.raises(ValueError, match=r"sequence names repeat \(syn1\)"):
        ray_engine.track_all_ray(tmp_path / "w.npz", sources, SMALL, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# A local Ray cluster of two CPUs.


@pytest.fixture(scope="module")
def cluster():
    ray = pytest.importorskip("ray")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no attempt to reach the network
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 2**20)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def killed_run(cluster, weights_file, local_results, tmp_path_factory):
    """A rerun on two workers: syn1 has its result file already, syn2's worker is killed at its
    frame 2, syn3 is tracked, and ``bad`` has a truncated frame.

    After ``local_results``: this process has then compiled the tiny config's programs into
    the persistent compilation cache, which the workers inherit, so they do not compile.

    Returns (output folder, RayRun, [killed pid], {syn1: its file's mtime before the run}).
    """
    from tsn_jax.evaluation import ray_engine

    scratch = tmp_path_factory.mktemp("kill")
    output_dir = scratch / "out"
    output_dir.mkdir()
    (output_dir / "syn1.txt").write_text((local_results / "syn1.txt").read_text())
    kept = {"syn1": (output_dir / "syn1.txt").stat().st_mtime_ns}
    pid_file = scratch / "stalled.pid"
    sources = [
        _source("syn1", 1),
        datasets.SequenceSource("syn2", functools.partial(_stalls_once, "syn2", 2, pid_file)),
        _source("syn3", 3),
    ]
    bad = _corrupt_otb(scratch / "data")
    sources.append(
        datasets.SequenceSource("bad", functools.partial(datasets.load_otb_sequence, bad))
    )
    killed = []
    killer = threading.Thread(target=_kill_when_stalled, args=(pid_file, killed), daemon=True)
    killer.start()
    run = ray_engine.track_all_ray(
        weights_file, sources, SMALL, output_dir, num_workers=2, progress=False
    )
    killer.join(timeout=5)
    return output_dir, run, killed, kept


def test_killed_worker_loses_nothing_and_files_match_the_local_runner(killed_run, local_results):
    output_dir, run, killed, _ = killed_run
    assert len(killed) == 1, "the stalled worker was never seen"
    assert list(run.outcomes) == ["syn2", "syn3", "bad"]
    # syn2 was tracked again by the restarted worker, a new process.
    assert run.outcomes["syn2"].worker_pid not in (killed[0], -1)
    _same_files(output_dir, local_results, NAMES)
    timings = runner.read_timings(output_dir / "timings.json")
    assert sorted(timings["sequences"]) == ["syn2", "syn3"]
    assert run.frames == 10 and not list(output_dir.glob("*.tmp"))


def test_rerun_skips_finished_sequences_and_reports_a_bad_one(killed_run):
    output_dir, run, _, kept = killed_run
    assert run.skipped == ["syn1"]
    assert {n: (output_dir / f"{n}.txt").stat().st_mtime_ns for n in kept} == kept
    assert list(run.failed) == ["bad"]
    assert "0003.jpg (frame 2): truncated JPEG" in run.failed["bad"]
    assert not (output_dir / "bad.txt").exists()


def test_workers_that_cannot_start_fail_the_job_with_their_error(cluster, tmp_path):
    from tsn_jax.evaluation import ray_engine

    missing = tmp_path / "no_weights.npz"
    with pytest.raises(RuntimeError, match="no Ray tracker worker could start: .*no_weights.npz"):
        ray_engine.track_all_ray(
            missing, [_source("syn1", 1)], SMALL, tmp_path / "out", num_workers=1, progress=False
        )
    assert not (tmp_path / "out" / "syn1.txt").exists()


def test_workers_compile_as_the_driver_does(monkeypatch):
    from tsn_jax.evaluation import ray_engine

    monkeypatch.setenv("XLA_FLAGS", "--xla_backend_optimization_level=0")
    env = ray_engine.compilation_env()
    # tests/conftest.py set this process's persistent cache; the workers get the same one.
    assert jax.config.jax_compilation_cache_dir
    assert env["JAX_COMPILATION_CACHE_DIR"] == str(jax.config.jax_compilation_cache_dir)
    assert env["XLA_FLAGS"] == "--xla_backend_optimization_level=0"
    assert float(env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]) >= 0
    monkeypatch.delenv("XLA_FLAGS")
    assert "XLA_FLAGS" not in ray_engine.compilation_env()
