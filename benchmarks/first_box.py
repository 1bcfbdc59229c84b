r"""Time to the first box and the fine-tune frames' times of one sequence, as a user waits for them.

  python -m benchmarks.first_box --flagfile=configs/demo.flags --weights=$TSN_WEIGHTS \
      [--first_box_compile=on_first_call] [--first_box_output=results/first_box.json]
  JAX_COMPILATION_CACHE_DIR=$(mktemp -d) python -m benchmarks.first_box ...   # a cold cache

The sequence, weight and tracker config flags are ``bin.track``'s (``--demo``,
``--dataset_dir`` / ``--sequences``: the first sequence named, ``--video``, ``--weights``,
``--seed``; other ``bin.track`` flags in a flagfile are read and unused). The sequence is tracked
by ``runner.track_sequence``, and every box is stamped with the wall clock as it reaches the
host, so that the figures are what a user of ``bin.track`` waits, compilation included (the
compilation cache as ``bin.track`` sets it, ``--compilation_cache_dir`` and the environment):

* ``first_box_s``: from the call (the first frame in hand) to the second frame's box: the
  compilation, the first frame's training and one step;
* ``frame_s``: each later frame's wall time, from the previous box to its own (the frame's
  decoding included; frame 1's from the end of the first frame); ``fine_tune_frames`` the
  frames that fine-tune the Temporal Net, and ``first_fine_tune_s`` the first of them;
* the ``TrackResult``'s own figures (``tracked.frame_times``: fps and p50 / p90 over the
  frames after the first, compilation excluded; ``compile_seconds``, ``init_seconds``).

``--first_box_compile=on_first_call`` measures the driver as it was before it compiled ahead
(``compiled.start``): ``tracker.init`` and ``tracker.step`` handed to it as plain functions, so
that ``jax.jit`` compiles ``init`` in the first frame, the plain step in the second and the
fine-tune step in the first fine-tune frame; its ``compile_seconds`` is then 0 and its
compilation sits in ``init_seconds`` and those frames' times.
"""

import json
import pathlib
import time
import types

import jax
import numpy as np
from absl import app, flags

from bin import compilation_cache, config_flags
from bin import track as track_cli  # the sequence, weight and config flags
from tsn_jax import tracker
from tsn_jax.evaluation import boxfiles, runner, tracked

_COMPILE = flags.DEFINE_enum(
    "first_box_compile",
    "ahead",
    ["ahead", "on_first_call"],
    "ahead: the runner as it is (init and both steps compiled before the second frame); "
    "on_first_call: jax.jit compiles each on its first call, as the runner did before.",
)
_OUTPUT = flags.DEFINE_string(
    "first_box_output", "results/first_box.json", "Where the JSON report goes."
)


def _jit_on_first_call():
    """``tsn_jax.tracker`` as ``runner.track_sequence`` reads it, with ``init`` and ``step`` as
    plain functions (no ``lower``): ``compiled.start`` then calls them, and ``jax.jit`` compiles
    each on its first call."""
    return types.SimpleNamespace(
        init=lambda *args, **kwargs: tracker.init(*args, **kwargs),
        step=lambda *args, **kwargs: tracker.step(*args, **kwargs),
        fine_tune_due=tracker.fine_tune_due,
    )


def measure(weights, sequence, config, seed=0, compile_ahead=True):
    """Tracks ``sequence`` with ``runner.track_sequence`` and stamps each box.

    Args:
      weights: Feature Net weights.
      sequence: a ``datasets.Sequence`` of at least 2 frames.
      config: TrackerConfig.
      seed: PRNG seed.
      compile_ahead: False: the driver compiles on first call (see the module docstring).

    Returns:
      A JSON-able dict: sequence, frames (T), compile ("ahead" / "on_first_call"),
      first_box_s, frame_s ([T - 1] wall seconds of frames 1 .. T - 1, box to box; frame 1's
      from the end of the first frame), fine_tune_frames (the fine-tune frames' numbers, 0 the
      first frame), first_fine_tune_s (None when the sequence ends before one),
      compile_seconds, init_seconds, fps, frame_ms_p50, frame_ms_p90
      (``tracked.timing_entry``'s; None where undefined).

    Raises:
      ValueError: a sequence of fewer than 2 frames.
    """
    if len(sequence) < 2:
        raise ValueError(f"{sequence.name}: needs at least 2 frames, has {len(sequence)}")
    stamps = {}

    def stamp(index, frame, box):
        del frame, box
        stamps[index] = time.perf_counter()

    original = runner.tracker
    runner.tracker = tracker if compile_ahead else _jit_on_first_call()
    try:
        start = time.perf_counter()
        result = runner.track_sequence(
            weights, sequence, config, seed=seed, progress=False, on_frame=stamp
        )
    finally:
        runner.tracker = original
    count = len(result.boxes_xywh)
    frame_s = [stamps[i] - stamps[i - 1] for i in range(1, count)]
    fine_tune_frames = [i for i in range(1, count) if tracker.fine_tune_due(i, config)]
    entry = tracked.timing_entry(result)
    return {
        "sequence": sequence.name,
        "frames": count,
        "compile": "ahead" if compile_ahead else "on_first_call",
        "first_box_s": stamps[1] - start,
        "frame_s": frame_s,
        "fine_tune_frames": fine_tune_frames,
        "first_fine_tune_s": frame_s[fine_tune_frames[0] - 1] if fine_tune_frames else None,
        **{
            key: entry[key]
            for key in ("compile_seconds", "init_seconds", "fps", "frame_ms_p50", "frame_ms_p90")
        },
    }


def format_row(row):
    """One line: time to the first box, the first fine-tune frame, the other frames."""
    others = [s for i, s in enumerate(row["frame_s"], start=1) if i not in row["fine_tune_frames"]]
    fine_tune = row["first_fine_tune_s"]
    return (
        f"{row['sequence']} ({row['frames']} frames, compiled {row['compile']}): first box "
        f"after {row['first_box_s']:.1f} s; first fine-tune frame "
        + ("-" if fine_tune is None else f"{fine_tune:.2f} s")
        + f"; other frames median {1e3 * float(np.median(others)) if others else float('nan'):.0f}"
        " ms"
    )


def main(argv):
    """Measures the first sequence the flags name and writes the JSON report."""
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    fv = flags.FLAGS
    config = config_flags.config_from_flags()
    weights, source = track_cli.resolve_weights(
        fv.weights, config.feature_net, fv.allow_random_weights, fv.seed
    )
    sequence = track_cli.sequences_from_flags()[0]
    row = measure(weights, sequence, config, fv.seed, _COMPILE.value == "ahead")
    row.update(
        device=jax.devices()[0].device_kind,
        weights=source,
        compilation_cache_dir=jax.config.jax_compilation_cache_dir,
        config=repr(config),
    )
    print(format_row(row))
    output = pathlib.Path(_OUTPUT.value)
    output.parent.mkdir(parents=True, exist_ok=True)
    boxfiles.atomic_write_text(output, json.dumps(row, indent=1, allow_nan=False))
    print(f"First-box report written to {output}")


if __name__ == "__main__":
    app.run(compilation_cache.with_compilation_cache(main))
