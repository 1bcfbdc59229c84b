"""Ahead-of-time compilation of one sequence's tracker: ``init`` and both forms of ``step``.

``jax.jit`` compiles a function at its first call. Left to that, the first tracked frame waits
for the plain step's compilation and the first fine-tune frame (frame
``temporal_update_interval``) stalls for the fine-tune step's, seconds each on a CPU, and the
frame times a user reads mix compilation into tracking. :func:`start` compiles ``init`` on the
first frame's shapes (``jit(...).lower(...).compile()``) and runs it while both steps
(``fine_tune`` False and True) compile on the state's shapes, taken from ``init``'s lowered
output (``Lowered.out_info``), so that nothing compiles once tracking starts. The compiled functions
are the ones ``jax.jit`` would build (the same program, the same options, the same entries of
the persistent compilation cache): the boxes are bit-identical to calling ``tracker.init`` /
``tracker.step``.

The steps compile in a thread while ``init`` runs (XLA releases the GIL while it compiles and
runs): on the idle 2-core CPU the first box then comes about 1 s sooner, warm or cold cache
(docs/decisions.md D42).
"""

import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import jax
import numpy as np

from tsn_jax import config as config_lib
from tsn_jax import weights as weights_lib

StepFn = Callable[[Any, Any, Any], tuple[Any, Any]]


@dataclasses.dataclass(frozen=True)
class Started:
    """A sequence's tracker after the first frame, ready to track the next ones.

    Attributes:
      state: the TrackerState ``init`` returned (synchronised).
      steps: {fine_tune: ``step(weights, state, frame) -> (state, StepOutput)``}, compiled;
        ``state`` is donated, as by ``tracker.step``.
      compile_seconds: wall seconds the first box waits for compilation: lowering and
        compiling ``init`` (loads from the persistent compilation cache included), then
        whatever of the steps' compilation is left once ``init`` has run; 0 for functions
        that are not jitted.
      init_seconds: wall seconds of ``init``'s run on the first frame (the steps compiling
        beside it).
    """

    state: Any
    steps: Mapping[bool, StepFn]
    compile_seconds: float
    init_seconds: float


def compile_steps(
    step: Callable[..., Any],
    weights: weights_lib.FeatureNetWeights,
    state_info: Any,
    frame_info: Any,
) -> dict[bool, StepFn]:
    """Both forms of ``step`` compiled for a state and frame of the given shapes.

    Args:
      step: ``tracker.step`` (jitted, ``fine_tune`` static, the state donated).
      weights: Feature Net weights (concrete or ``jax.ShapeDtypeStruct`` leaves).
      state_info: the TrackerState's shapes (``jax.ShapeDtypeStruct`` leaves, e.g. ``init``'s
        ``Lowered.out_info``).
      frame_info: [H, W, 3] uint8 frame, or its ``jax.ShapeDtypeStruct``.

    Returns:
      {fine_tune: compiled ``(weights, state, frame) -> (state, StepOutput)``}.
    """
    return {
        fine_tune: step.lower(weights, state_info, frame_info, fine_tune=fine_tune).compile()
        for fine_tune in (False, True)
    }


def in_background(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Starts ``fn()`` in a daemon thread; returns a function that waits for its result.

    The waiting function re-raises what ``fn`` raised. Daemon: a Ctrl-C in the main thread
    ends the process without waiting for a compilation.
    """
    outcome = {}

    def run():
        try:
            outcome["result"] = fn()
        except BaseException as error:  # handed to the waiting thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name="tsn_jax-compile", daemon=True)
    thread.start()

    def wait():
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    return wait


def start(
    init: Callable[..., Any],
    step: Callable[..., Any],
    weights: weights_lib.FeatureNetWeights,
    frame: np.ndarray,
    box_xywh: np.ndarray,
    key: jax.Array,
    config: config_lib.TrackerConfig,
) -> Started:
    """Compiles ``init`` for this sequence's shapes and runs it while both steps compile.

    Args:
      init: ``tracker.init`` (jitted, ``config`` static).
      step: ``tracker.step`` (jitted, ``fine_tune`` static, the state donated). Functions
        without ``lower`` (not jitted: a stand-in tracker) are called as they are, and
        nothing is compiled.
      weights: Feature Net weights.
      frame: [H, W, 3] uint8 RGB first frame.
      box_xywh: [4] float32 initial box, 0-based frame pixels.
      key: the sequence's PRNG key.
      config: TrackerConfig.

    Returns:
      A :class:`Started`: the state after the first frame, the compiled steps and the times.
    """
    if not (hasattr(init, "lower") and hasattr(step, "lower")):
        init_start = time.perf_counter()
        state = jax.block_until_ready(init(weights, frame, box_xywh, key, config))
        steps = {ft: functools.partial(step, fine_tune=ft) for ft in (False, True)}
        return Started(state, steps, 0.0, time.perf_counter() - init_start)

    compile_start = time.perf_counter()
    lowered = init.lower(weights, frame, box_xywh, key, config)
    compiled_init = lowered.compile()
    compile_seconds = time.perf_counter() - compile_start

    steps = in_background(lambda: compile_steps(step, weights, lowered.out_info, frame))
    init_start = time.perf_counter()
    state = jax.block_until_ready(compiled_init(weights, frame, box_xywh, key))
    init_seconds = time.perf_counter() - init_start

    wait_start = time.perf_counter()
    compiled_steps = steps()
    compile_seconds += time.perf_counter() - wait_start
    return Started(state, compiled_steps, compile_seconds, init_seconds)
