"""The recorded short run (tests/golden/tracker_run.npz) replayed and compared box by box.

A change of tracking behaviour shows up here; regenerate with `python -m bin.make_goldens`
only when the change is intended. Tolerance 0.05 px: the run is deterministic on one machine;
the slack covers float reassociation between XLA versions.
"""

import dataclasses
import json
import pathlib

import numpy as np

from bin import make_goldens
from tsn_jax import config as config_lib

GOLDEN = pathlib.Path(__file__).parent / "golden" / "tracker_run.npz"


def test_golden_run_matches_the_recording():
    recorded = np.load(GOLDEN)
    metadata = json.loads(str(recorded["metadata"]))
    stored = metadata["config"]
    stored["spatial_features"] = tuple(stored["spatial_features"])
    config = config_lib.TrackerConfig(**stored)
    assert config == make_goldens.GOLDEN_CONFIG, "golden config changed: regenerate the golden"
    boxes = make_goldens.golden_run(config)
    np.testing.assert_allclose(boxes, recorded["boxes_xywh"], atol=0.05)
    assert dataclasses.asdict(config) == metadata["config"] | {
        "spatial_features": config.spatial_features
    }
