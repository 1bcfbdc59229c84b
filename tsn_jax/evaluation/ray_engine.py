"""Tracks a dataset on a Ray cluster: tracker actors that hold the weights once, a queue of
sequences, retries, and one results folder (the ``ray`` extra).

The local runner (``runner.track_all``) tracks on one machine; this engine spreads the same work
over the nodes of a Ray cluster, for datasets of thousands of sequences. The driver
(:func:`track_all_ray`) keeps a queue of the sequences without results and hands them, one (or
``batch_size``) at a time, to whichever worker is free. Each worker (:class:`TrackerWorker`, a
Ray actor) loads the Feature Net weights once, from a file (or one ``ray.put`` of random
weights), reads the frames itself from paths every node can see (a shared filesystem: what
travels through Ray is a ``datasets.Sequence`` or ``datasets.SequenceSource``, file paths and
boxes, never frames), tracks with ``runner.track_sequence`` (``batch.track_batch`` when
``batch_size > 1``) and writes ``<output_dir>/<name>.txt`` atomically as soon as a sequence is
done. It returns the ``TrackResult`` (boxes and timings, kilobytes) and the driver merges the
timing into ``timings.json`` (``runner.save_result``, which rewrites the same result bytes):
only the driver writes that file, so its read-merge-write never races.

Failures:

* a worker process that dies (killed, out of memory, node lost) is restarted by Ray, on another
  node if its own is gone, and the sequences it was tracking are tracked again from their first
  frame (``retries`` times); the other workers go on, so a death costs only those sequences;
* a sequence that cannot be tracked for a data reason (``tracked.SEQUENCE_ERRORS``, the local
  runner's: a missing folder, a corrupt frame, a frame of another size) is reported with its
  message and the job goes on; it has no result file, so the next run tries it again;
* a rerun skips the sequences that have result files, as the local runner does.
"""

import collections
import dataclasses
import os
import pathlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import jax
import numpy as np
import ray
import tqdm
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from tsn_jax import config as config_lib
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import batch, boxfiles, datasets, runner, tracked

SequenceLike = datasets.Sequence | datasets.SequenceSource
WeightsLike = str | os.PathLike[str] | weights_lib.FeatureNetWeights

# A sequence's own errors (the local runner's): reported with the sequence, never retried within
# a run, never fatal to the job.
DATA_ERRORS = tracked.SEQUENCE_ERRORS
# Seconds between the driver's looks at the progress board, and between a worker's reports.
_POLL_SECONDS = 0.5


@dataclasses.dataclass
class SequenceOutcome:
    """What a worker did with one sequence.

    Attributes:
      name: the sequence's name.
      result: its TrackResult (written to ``<output_dir>/<name>.txt``), None when it failed.
      error: why it could not be tracked (the data error's message), None when tracked.
      worker_pid: the process id of the worker that tracked it.
      node_id: the Ray node the worker ran on (hex).
    """

    name: str
    result: tracked.TrackResult | None
    error: str | None
    worker_pid: int
    node_id: str


@dataclasses.dataclass
class RayRun:
    """The outcome of :func:`track_all_ray`.

    Attributes:
      outcomes: {name: SequenceOutcome} of the sequences this run handed to a worker, tracked
        or failed, in the order they were given.
      skipped: names of the sequences that had result files already.
      workers: the number of tracker workers started.
      frames: frames tracked by this run (first frames included).
      seconds: wall time of the run, workers' start-up (weights, compilation) included.
    """

    outcomes: dict[str, SequenceOutcome]
    skipped: list[str]
    workers: int
    frames: int
    seconds: float

    @property
    def failed(self) -> dict[str, str]:
        """{name: error message} of the sequences that could not be tracked."""
        return {n: o.error for n, o in self.outcomes.items() if o.error is not None}

    @property
    def frames_per_second(self) -> float:
        """Frames tracked per second of the whole run (all workers together, start-up in)."""
        return self.frames / self.seconds if self.seconds > 0 else float("nan")


@dataclasses.dataclass(frozen=True)
class WorkerPlan:
    """How many tracker workers to start and what each asks Ray for.

    Attributes:
      count: number of workers.
      num_cpus: CPUs each worker reserves.
      num_gpus: GPUs each worker reserves (0 on a CPU cluster; below 1 when workers share a GPU).
      env_vars: environment of each worker process (a GPU's memory share when shared).
    """

    count: int
    num_cpus: float
    num_gpus: float
    env_vars: dict[str, str]


def plan_workers(
    cluster_resources: Mapping[str, float],
    num_workers: int | None = None,
    cpus_per_worker: float = 1.0,
) -> WorkerPlan:
    """One tracker per GPU of the cluster by default; one per ``cpus_per_worker`` CPUs without.

    Args:
      cluster_resources: ``ray.cluster_resources()`` (keys "CPU", "GPU").
      num_workers: the number of workers, or None for the default. On a GPU cluster more
        workers than GPUs share them (each reserves ``GPUs / workers`` of one and that share of
        its memory: JAX would otherwise take 75 % of a GPU per process); fewer leave GPUs idle.
      cpus_per_worker: CPUs each worker reserves.

    Returns:
      The WorkerPlan.

    Raises:
      ValueError: ``num_workers < 1``, ``cpus_per_worker <= 0``, or a cluster without CPUs.
    """
    if num_workers is not None and num_workers < 1:
        raise ValueError(f"the number of Ray workers must be at least 1, got {num_workers}")
    if cpus_per_worker <= 0:
        raise ValueError(f"CPUs per worker must be positive, got {cpus_per_worker}")
    cpus = float(cluster_resources.get("CPU", 0))
    gpus = int(cluster_resources.get("GPU", 0))
    if cpus <= 0:
        raise ValueError(f"the Ray cluster has no CPU: {dict(cluster_resources)}")
    if gpus > 0:
        count = num_workers or gpus
        share = min(1.0, gpus / count)
        env = {} if share >= 1 else {"XLA_PYTHON_CLIENT_MEM_FRACTION": f"{0.9 * share:.2f}"}
        return WorkerPlan(count, min(cpus_per_worker, cpus / count), share, env)
    count = num_workers or max(1, int(cpus // cpus_per_worker))
    return WorkerPlan(count, cpus_per_worker, 0.0, {})


class ProgressBoard:
    """Frames done and to do per sequence, reported by the workers, read by the driver (a Ray
    actor that reserves no CPU).

    A sequence's entry is overwritten by each report, so a sequence tracked again after its
    worker died counts its frames once.
    """

    def __init__(self, totals: Mapping[str, int] | None = None) -> None:
        """A board with ``totals`` ({name: frames}, those known before loading) none done."""
        self._frames = {}
        self._done = 0
        self._total = 0
        for name, total in (totals or {}).items():
            self.update(name, 0, total)

    def update(self, name: str, done: int, total: int) -> None:
        """Sets sequence ``name`` to ``done`` of ``total`` frames."""
        old_done, old_total = self._frames.get(name, (0, 0))
        self._frames[name] = (done, total)
        self._done += done - old_done
        self._total += total - old_total

    def read(self) -> tuple[int, int]:
        """(frames done, frames known to do) over every sequence reported."""
        return self._done, self._total


class TrackerWorker:
    """One tracker: the weights loaded once, then sequences tracked into the results folder.

    Used as a Ray actor by :func:`track_all_ray` (one per GPU, or per CPU share), and usable as
    a plain object on one machine.
    """

    def __init__(
        self,
        weights: WeightsLike,
        config: config_lib.TrackerConfig,
        output_dir: str | os.PathLike[str],
        seed: int = 0,
        batch_size: int = 1,
        working_dir: str | None = None,
    ) -> None:
        """Loads the weights.

        Args:
          weights: a weight file every node can read (``weights.load``), or the weights
            themselves (Ray passes them once through its object store).
          config: TrackerConfig.
          output_dir: the results folder (shared by every node).
          seed: PRNG seed of every sequence.
          batch_size: 1 tracks sequence by sequence (``runner.track_sequence``); more tracks
            the sequences handed over together with ``batch.track_batch``, as the local runner
            does with that ``batch_size``.
          working_dir: the driver's working directory: entered when this node has it, so that
            relative paths given on the driver mean the same files on a shared filesystem.

        Raises:
          ValueError: the weights are of another architecture than ``config.feature_net``.
        """
        if working_dir is not None and os.path.isdir(working_dir):
            os.chdir(working_dir)
        where = "the weights given"
        if not isinstance(weights, weights_lib.FeatureNetWeights):
            where, weights = str(weights), weights_lib.load(weights)
        if weights.arch != config.feature_net:
            raise ValueError(
                f"{where}: {weights.arch} weights but the config's Feature Net is "
                f"{config.feature_net}"
            )
        self._weights = weights
        self._config = config
        self._output_dir = pathlib.Path(output_dir)
        self._seed = seed
        self._batched = batch_size > 1
        self._board = None

    def _report(self, name: str, done: int, total: int) -> None:
        if self._board is not None:
            self._board.update.remote(name, done, total)

    def _reporter(self, name: str, total: int) -> Callable[[int, np.ndarray, np.ndarray], None]:
        """An ``on_frame`` callback that reports progress at most every _POLL_SECONDS."""
        last = [0.0]

        def on_frame(index, frame, box_xywh):
            del frame, box_xywh
            now = time.monotonic()
            if now - last[0] >= _POLL_SECONDS or index + 1 >= total:
                last[0] = now
                self._report(name, index + 1, total)

        return on_frame

    def _outcome(self, name, result=None, error=None):
        if result is not None:
            boxfiles.write_boxes(self._output_dir / f"{name}.txt", result.boxes_xywh)
            self._report(name, len(result.boxes_xywh), len(result.boxes_xywh))
        node = ray.get_runtime_context().get_node_id() if ray.is_initialized() else "local"
        return SequenceOutcome(name, result, error, os.getpid(), node)

    def _track_batch(self, sequences):
        for sequence in sequences:
            self._report(sequence.name, 0, len(sequence))
        results = batch.track_batch(
            self._weights, sequences, self._config, seed=self._seed, progress=False
        )
        return [self._outcome(s.name, r) for s, r in zip(sequences, results, strict=True)]

    def track(self, items: Sequence[SequenceLike], board: Any = None) -> list[SequenceOutcome]:
        """Tracks ``items`` and writes each one's ``<output_dir>/<name>.txt`` (atomically).

        Args:
          items: ``datasets.Sequence`` or ``datasets.SequenceSource`` objects (loaded here, so
            the frames are read from this node's view of the files). With ``batch_size > 1``
            they are tracked together; a data error in a batch tracks its sequences again one
            by one, so that only the bad one fails.
          board: a ProgressBoard actor handle the frames done are reported to, or None.

        Returns:
          One SequenceOutcome per item, in order: the TrackResult, or the data error's message.
        """
        runner.release_compiled_if_maps_run_low()
        self._board = board
        outcomes, loaded = {}, []
        for item in items:
            try:
                loaded.append(datasets.load_source(item))
            except DATA_ERRORS as error:
                outcomes[item.name] = self._outcome(item.name, error=str(error))
        if self._batched and len(loaded) > 1:
            try:
                outcomes.update((o.name, o) for o in self._track_batch(loaded))
                loaded = []
            except DATA_ERRORS:
                pass  # Tracked again one by one below, each with its own error.
        for sequence in loaded:
            try:
                if self._batched:
                    (outcome,) = self._track_batch([sequence])
                else:
                    result = runner.track_sequence(
                        self._weights,
                        sequence,
                        self._config,
                        seed=self._seed,
                        progress=False,
                        on_frame=self._reporter(sequence.name, len(sequence)),
                    )
                    outcome = self._outcome(sequence.name, result)
            except DATA_ERRORS as error:
                outcome = self._outcome(sequence.name, error=str(error))
            outcomes[sequence.name] = outcome
        return [outcomes[item.name] for item in items]


def connect(address: str | None = None) -> dict[str, float]:
    """Joins the Ray cluster at ``address`` (or starts a local one); returns its resources.

    Args:
      address: "auto" (the cluster ``ray start`` made on this node), "HOST:PORT" of a head
        node, or None: ``$RAY_ADDRESS`` when set, else a new cluster on this machine.
    """
    if not ray.is_initialized():
        ray.init(address=address or None, log_to_driver=True)
    return ray.cluster_resources()


def _pending(items, output_dir, overwrite):
    """(items to track, names skipped because their result file exists)."""
    todo, skipped = [], []
    for item in items:
        result_path = output_dir / f"{item.name}.txt"
        if result_path.exists() and not overwrite:
            print(f"{item.name}: results exist at {result_path}, skipped (--overwrite redoes)")
            skipped.append(item.name)
        else:
            todo.append(item)
    return todo, skipped


def _chunks(items, size):
    return collections.deque(items[start : start + size] for start in range(0, len(items), size))


def compilation_env() -> dict[str, str]:
    """The driver's compilation settings, as environment variables for the workers.

    A worker compiles what the driver would: the same ``XLA_FLAGS``, and the driver's
    persistent compilation cache (``jax_compilation_cache_dir``, however it was set), so that
    a restarted worker, or a second one on the same node, loads the compiled steps instead of
    compiling them again (minutes on a CPU).
    """
    env = {}
    cache_dir = jax.config.jax_compilation_cache_dir
    if cache_dir:
        env["JAX_COMPILATION_CACHE_DIR"] = str(cache_dir)
        env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = str(
            jax.config.jax_persistent_cache_min_compile_time_secs
        )
    if os.environ.get("XLA_FLAGS"):
        env["XLA_FLAGS"] = os.environ["XLA_FLAGS"]
    return env


def _start_workers(make, plan, count, retries):
    """Starts ``count`` TrackerWorker actors (``make``: weights, config, output_dir, seed,
    batch_size) that Ray restarts whenever they die, retrying their call ``retries`` times."""
    weights, *rest = make
    if isinstance(weights, weights_lib.FeatureNetWeights):
        weights = ray.put(weights)  # Once; each worker reads it from its node's object store.
    else:
        weights = str(pathlib.Path(weights).resolve())
    worker_class = ray.remote(TrackerWorker).options(
        num_cpus=plan.num_cpus,
        num_gpus=plan.num_gpus,
        max_restarts=-1,
        max_task_retries=retries,
        runtime_env={"env_vars": {**compilation_env(), **plan.env_vars}},
    )
    return [worker_class.remote(weights, *rest, os.getcwd()) for _ in range(count)]


def _finished(ref, chunk, retries):
    """(the outcomes of a worker's call on ``chunk``, None), or (None, the error) when the
    worker could not start. A worker that died on every try fails the chunk's sequences."""
    try:
        return ray.get(ref), None
    except ray.exceptions.RayActorError as error:
        if getattr(error, "actor_init_failed", False):
            return None, error
        died = str(error).strip().splitlines()[0]
        message = f"its worker died {retries + 1} times while tracking it ({died})"
        return [SequenceOutcome(item.name, None, message, -1, "") for item in chunk], None


def _save(outcome, output_dir, info, board):
    """Merges a tracked sequence's timing into timings.json (``runner.save_result``, which also
    rewrites its result file with the same bytes) or says why it failed; returns its frames."""
    frames = 0 if outcome.result is None else len(outcome.result.boxes_xywh)
    # The final count, ordered before the driver's next read (a failed sequence leaves the bar).
    board.update.remote(outcome.name, frames, frames)
    if outcome.result is None:
        print(f"{outcome.name}: not tracked: {outcome.error}")
    else:
        runner.save_result(output_dir, outcome.name, outcome.result, info)
    return frames


def _show(bar, board, sequences_done):
    """Brings the bar to the board's counts; redrawn only when they changed."""
    done, total = ray.get(board.read.remote())
    if (done, total, sequences_done) != (bar.n, bar.total, getattr(bar, "postfix", None)):
        bar.n, bar.total = done, total
        bar.set_postfix_str(sequences_done, refresh=False)
        bar.refresh()


def track_all_ray(
    weights: WeightsLike,
    sequences: Iterable[SequenceLike],
    config: config_lib.TrackerConfig,
    output_dir: str | os.PathLike[str],
    batch_size: int = 1,
    *,
    seed: int = 0,
    num_workers: int | None = None,
    cpus_per_worker: float = 1.0,
    retries: int = 2,
    progress: bool = True,
    overwrite: bool = False,
    info: Mapping[str, Any] | None = None,
) -> RayRun:
    """Tracks sequences on the connected Ray cluster into ``output_dir``, resumably.

    The result files and ``timings.json`` are those of ``runner.track_all`` with the same
    ``batch_size`` and seed. One tqdm bar counts the frames of the whole job (a sequence's
    frames join its total when a worker has loaded it). Call :func:`connect` first (else a
    local cluster is started).

    Args:
      weights: a weight file that every node can read (its absolute path is sent), or the
        weights themselves (put in Ray's object store once, e.g. random weights).
      sequences: ``datasets.Sequence`` (with frames on a shared filesystem, or rendered) or
        ``datasets.SequenceSource`` objects, loaded by the workers.
      config: TrackerConfig.
      output_dir: the results folder, on a filesystem every node shares (created).
      batch_size: sequences a worker tracks at once (``batch.track_batch``; 1: one by one).
      seed: PRNG seed of every sequence.
      num_workers: tracker workers; None: one per GPU, or one per ``cpus_per_worker`` CPUs
        without GPUs (:func:`plan_workers`), never more than there are batches to track.
      cpus_per_worker: CPUs each worker reserves.
      retries: times a sequence is tracked again after its worker died while tracking it.
      progress: show the bar.
      overwrite: re-track sequences that already have results.
      info: extra JSON-able facts stored in timings.json (weights, config, ...).

    Returns:
      A RayRun: each sequence's outcome (the failed ones with their message), the skipped ones,
      and frames per second of the whole run.

    Raises:
      ValueError: ``batch_size < 1``, a bad worker count, or two sequences of one name (they
        would share a result file).
      RuntimeError: no worker could start (the first one's error is said).
      ray.exceptions.RayTaskError: a worker raised something other than a data error (a bug).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    start = time.perf_counter()
    items = list(sequences)
    names = [item.name for item in items]
    repeated = sorted(n for n, count in collections.Counter(names).items() if count > 1)
    if repeated:
        raise ValueError(f"sequence names repeat ({', '.join(repeated)}): one result file each")
    output_dir = pathlib.Path(output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    todo, skipped = _pending(items, output_dir, overwrite)
    if not todo:
        return RayRun({}, skipped, 0, 0, time.perf_counter() - start)
    connect()
    chunks = _chunks(todo, batch_size)
    plan = plan_workers(ray.cluster_resources(), num_workers, cpus_per_worker)
    count = min(plan.count, len(chunks))
    make = (weights, config, str(output_dir), seed, batch_size)
    idle = _start_workers(make, plan, count, retries)
    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=True)
    known = {item.name: len(item) for item in todo if isinstance(item, datasets.Sequence)}
    board = ray.remote(ProgressBoard).options(num_cpus=0, scheduling_strategy=here).remote(known)
    print(
        f"Ray: tracker workers: {count} ({plan.num_cpus:g} CPU, {plan.num_gpus:g} GPU each) for "
        f"{len(todo)} sequences, {len(skipped)} with results skipped"
    )
    bar = tqdm.tqdm(total=sum(known.values()), unit="frame", disable=not progress)
    running, outcomes, frames, init_error = {}, {}, 0, None
    try:
        while chunks or running:
            while idle and chunks:
                worker, chunk = idle.pop(), chunks.popleft()
                running[worker.track.remote(chunk, board)] = (worker, chunk)
            if not running:
                break  # No worker left.
            ready, _ = ray.wait(list(running), num_returns=1, timeout=_POLL_SECONDS)
            for ref in ready:
                worker, chunk = running.pop(ref)
                done, worker_error = _finished(ref, chunk, retries)
                if done is None:  # The worker could not start: not these sequences' fault.
                    init_error = init_error or worker_error
                    chunks.appendleft(chunk)
                    ray.kill(worker)
                    continue
                idle.append(worker)
                bar.clear()
                for outcome in done:
                    outcomes[outcome.name] = outcome
                    frames += _save(outcome, output_dir, info, board)
            _show(bar, board, f"sequences {len(outcomes)}/{len(todo)}")
    finally:
        bar.close()
        for worker, _ in running.values():
            ray.kill(worker)
        for worker in idle:
            ray.kill(worker)
        ray.kill(board)
    if chunks:
        cause = str(init_error).strip().splitlines()[-1]  # The constructor's exception.
        raise RuntimeError(f"no Ray tracker worker could start: {cause}")
    seconds = time.perf_counter() - start
    run = RayRun({n: outcomes[n] for n in names if n in outcomes}, skipped, count, frames, seconds)
    print(
        f"Ray: {len(run.outcomes) - len(run.failed)} sequences tracked, {len(run.failed)} "
        f"failed, {len(skipped)} skipped; {frames} frames in {seconds:.1f} s "
        f"({run.frames_per_second:.1f} frames/s over the job, tracker workers: {count})"
    )
    return run
