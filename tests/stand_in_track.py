"""``bin.track`` with a stand-in for the tracker, for the command-line tests (no compilation).

  STAND_IN_STEP_SECONDS=0.2 python -m tests.stand_in_track --dataset_dir=D --output_dir=R

Everything but the tracker is the real command: flags, datasets, the runner, the reporter and
the exit codes. The stand-in keeps the initial box and sleeps ``STAND_IN_STEP_SECONDS`` per
step, as a compiled step would take time; no weights are loaded.
"""

import os
import signal
import time
import types

import numpy as np

from bin import track
from tsn_jax.evaluation import runner


def stand_in_tracker(step_seconds: float) -> types.SimpleNamespace:
    """``tsn_jax.tracker``'s init / step / fine_tune_due: the box kept, each step slept."""

    def init(weights, frame, box_xywh, key, config):
        del weights, frame, key, config
        return np.asarray(box_xywh, np.float32)

    def step(weights, state, frame, fine_tune=None):
        del weights, frame, fine_tune
        time.sleep(step_seconds)
        output = types.SimpleNamespace(
            box_xywh=state,
            score=np.float32(1.0),
            failed=np.bool_(False),
            tuple_slots=np.zeros(3, np.int32),
            tuple_coefficients=np.zeros(3, np.float32),
        )
        return state, output

    return types.SimpleNamespace(init=init, step=step, fine_tune_due=lambda index, config: False)


if __name__ == "__main__":
    # Ctrl-C raises KeyboardInterrupt here even when pytest was started as a background job,
    # whose shell ignores SIGINT for it and every child (Python then leaves SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    runner.tracker = stand_in_tracker(float(os.environ.get("STAND_IN_STEP_SECONDS", "0")))
    track.resolve_weights = lambda *args: (None, "stand-in tracker")
    track.run()
