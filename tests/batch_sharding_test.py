"""A batch sharded over two (forced) CPU devices equals the unsharded batch.

Its own file so that it runs beside batch_test.py's tests, not after them (one test file per
worker under ``pytest -n 2 --dist=loadfile``).
"""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import jax
import numpy as np

from tests import batch_test, tracker_test
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import batch


def test_sharded_over_two_cpu_devices_matches_unsharded():
    """The sharded batch runs in a subprocess (the device count is fixed when JAX starts); the
    unsharded one here, with the programs batch_test.py compiles (persistent cache)."""
    script = textwrap.dedent(
        """
        import json, jax
        from tests import batch_test, tracker_test
        from tsn_jax.evaluation import batch
        from tsn_jax import weights as weights_lib
        assert len(jax.devices()) == 2, jax.devices()
        weights = weights_lib.random_weights("vgg16", jax.random.key(0))
        sharded = batch.track_batch(
            weights, batch_test._sequences(), tracker_test.SMALL, progress=False
        )
        print(json.dumps([r.boxes_xywh.tolist() for r in sharded]))
        """
    )
    root = pathlib.Path(__file__).resolve().parents[1]
    env = dict(
        os.environ,
        JAX_PLATFORMS="cpu",
        XLA_FLAGS=os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2",
        PYTHONPATH=str(root),
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    sharded = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(jax.devices()) == 1
    weights = weights_lib.random_weights("vgg16", jax.random.key(0))
    single = batch.track_batch(weights, batch_test._sequences(), tracker_test.SMALL, progress=False)
    assert len(sharded) == len(single) == 2
    for boxes, result in zip(sharded, single, strict=True):
        np.testing.assert_allclose(np.asarray(boxes), result.boxes_xywh, atol=1e-2)
