"""Records the short end-to-end golden run compared box by box by tests/golden_run_test.py.

  python -m bin.make_goldens   # rewrites tests/golden/tracker_run.npz

The run: the generated sequence (seed 0), random VGG16 weights (key 0), a tiny config stored in
the file's metadata, tracker seed 0. Regenerate only when a change of behaviour is intended, and
say why in the commit.
"""

import dataclasses
import json
import pathlib

import jax
import numpy as np
from absl import app, flags

from tsn_jax import config as config_lib
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import runner, synthetic

_OUTPUT = flags.DEFINE_string(
    "golden_output", "tests/golden/tracker_run.npz", "Golden file to write."
)

GOLDEN_CONFIG = config_lib.TrackerConfig(
    search_size=83,
    roi_target_size=30,
    crop_size=43,
    crop_target_size=30,
    feature_grid=2,
    num_proposals=32,
    pool_capacity=6,
    tuple_size=2,
    temporal_hidden=32,
    temporal_batch_size=16,
    num_init_samples=128,
    init_chunk=64,
    temporal_init_steps=20,
    temporal_update_steps=5,
    temporal_update_interval=3,
    memory_frames=4,
    samples_per_frame=8,
    first_frame_samples=16,
    spatial_grid=7,
    spatial_features=(8, 4),
    spatial_init_samples=16,
    spatial_init_steps=10,
    spatial_memory=20,
    first_frame_windows=4,
    spatial_batch_size=8,
)
NUM_FRAMES = 12
FRAME_SIZE_WH = (128, 96)


def golden_run(config):
    """Tracks the golden sequence; returns [T, 4] boxes."""
    sequence = synthetic.make_sequence(num_frames=NUM_FRAMES, frame_size_wh=FRAME_SIZE_WH, seed=0)
    weights = weights_lib.random_weights(config.feature_net, jax.random.key(0))
    return runner.track_sequence(weights, sequence, config, seed=0, progress=False).boxes_xywh


def golden_metadata(config: config_lib.TrackerConfig) -> str:
    """The golden file's metadata as strict JSON (no NaN / Infinity, which strict readers such
    as ``json.loads(..., parse_constant=refuse)`` reject): generator, JAX version, seed, config.

    Raises:
      ValueError: a config value that is not finite (strict JSON has no number for it).
    """
    metadata = {
        "generator": "bin/make_goldens.py",
        "jax": jax.__version__,
        "seed": 0,
        "config": dataclasses.asdict(config),
    }
    return json.dumps(metadata, allow_nan=False)


def main(argv):
    del argv
    metadata = golden_metadata(GOLDEN_CONFIG)  # before the run: a bad config fails at once
    boxes = golden_run(GOLDEN_CONFIG)
    path = pathlib.Path(_OUTPUT.value)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, boxes_xywh=boxes, metadata=metadata)
    print(f"wrote {path}: {len(boxes)} boxes")


if __name__ == "__main__":
    app.run(main)
