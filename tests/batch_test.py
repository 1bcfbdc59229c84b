"""Batched tracking: the padding is never read (results bit-identical whatever the padding),
and a vmapped batch equals tracking the sequences one by one to float tolerance."""

import os
import pathlib
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from tests import tracker_test
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import batch, datasets, runner, synthetic

SMALL = tracker_test.SMALL


@pytest.fixture(scope="module")
def weights():
    return weights_lib.random_weights("vgg16", jax.random.key(0))


def _sequences():
    """Different sizes and lengths: padding and masking both matter."""
    return [
        synthetic.make_sequence(num_frames=4, frame_size_wh=(96, 80), seed=1, name="a"),
        synthetic.make_sequence(num_frames=3, frame_size_wh=(104, 88), seed=2, name="b"),
    ]


def test_batch_matches_one_by_one(weights):
    sequences = _sequences()
    seeds = [0, 3]  # per-sequence seeds, as the seed-spread runs use them
    # pad_to_hw larger than both: the padding is never looked at, whatever its size.
    batched = batch.track_batch(
        weights, sequences, SMALL, progress=False, seeds=seeds, pad_to_hw=(100, 112)
    )
    for sequence, seed, result in zip(sequences, seeds, batched, strict=True):
        alone = runner.track_sequence(weights, sequence, SMALL, seed=seed, progress=False)
        assert result.boxes_xywh.shape == (len(sequence), 4)
        # Float tolerance: the batched convolutions may sum in another order.
        np.testing.assert_allclose(result.boxes_xywh, alone.boxes_xywh, atol=1e-2)


def _cornered(sequence, margin=3):
    """The sequence cut to end ``margin`` pixels right of and below its first box, so that its
    crops reach past the bottom-right edge of the valid area, into a batch's padding."""
    x, y, w, h = sequence.init_box_xywh
    width, height = int(x + w) + margin, int(y + h) + margin
    return datasets.Sequence.from_render(
        f"{sequence.name}_cornered",
        len(sequence),
        lambda i: np.ascontiguousarray(sequence.frame(i)[:height, :width]),
        sequence.groundtruth_xywh,
    )


def test_padding_never_changes_a_result(weights):
    """The padding is never read: each sequence, padded into a batch with another one, gives
    bit-identical boxes and scores to a batch of two copies of itself (no padding). Only the
    batching itself (``vmap``: batched products summing in another order) separates a batch
    from one-by-one tracking; on real sequences online learning amplifies that to pixels
    (README "Many sequences at once")."""
    sequences = [_cornered(_sequences()[0]), _sequences()[1]]
    seeds = [0, 3]
    # The frame size of test_batch_matches_one_by_one: the compiled steps are shared.
    mixed = batch.track_batch(
        weights, sequences, SMALL, progress=False, seeds=seeds, pad_to_hw=(100, 112)
    )
    for sequence, seed, result in zip(sequences, seeds, mixed, strict=True):
        unpadded = batch.track_batch(
            weights, [sequence, sequence], SMALL, progress=False, seeds=[seed, seed]
        )
        for copy in unpadded:
            np.testing.assert_array_equal(result.boxes_xywh, copy.boxes_xywh)
            np.testing.assert_array_equal(result.scores, copy.scores)
            np.testing.assert_array_equal(result.failed, copy.failed)


def test_batched_step_fine_tunes_only_when_told(weights):
    """Under vmap the Temporal fine-tune is in the fine-tune frames' step alone (a conditional
    on a batched flag would run it every frame), and neither step holds a conditional."""
    sequence = _sequences()[0]
    frames = sequence.frame(0)[None]
    states = batch._batched_init(
        weights,
        frames,
        np.asarray([sequence.init_box_xywh], np.float32),
        jax.vmap(jax.random.key)(np.asarray([0])),
        SMALL,
        np.asarray([[96.0, 80.0]], np.float32),
    )
    hlo = {
        fine_tune: batch._batched_step.lower(
            weights, states, frames, np.asarray([True]), fine_tune=fine_tune
        )
        .compile()
        .as_text()
        for fine_tune in (False, True)
    }
    # The Temporal Net's gradient (jvp) appears only where it is trained.
    assert "jvp(TemporalNet)" not in hlo[False]
    assert "jvp(TemporalNet)" in hlo[True]
    assert " conditional(" not in hlo[False] + hlo[True]


def test_batch_rejects_seeds_of_another_length(weights):
    with pytest.raises(ValueError, match="1 seeds for 2 sequences"):
        batch.track_batch(weights, _sequences(), SMALL, progress=False, seeds=[0])


def test_pad_frame_and_process_share():
    frame = np.full((2, 3, 3), 7, np.uint8)
    padded = batch.pad_frame(frame, 4, 5)
    assert padded.shape == (4, 5, 3)
    assert padded[:2, :3].min() == 7 and padded[2:].max() == 0 and padded[:, 3:].max() == 0
    names = list("abcde")
    shares = [batch.process_share(names, i, 2) for i in range(2)]
    assert shares == [["a", "c", "e"], ["b", "d"]]


def test_sharded_over_two_cpu_devices_matches_unsharded():
    """Runs in a subprocess: the device count is fixed when JAX starts."""
    script = textwrap.dedent(
        """
        import jax, numpy as np
        from tests import batch_test, tracker_test
        from tsn_jax.evaluation import batch
        from tsn_jax import weights as weights_lib
        assert len(jax.devices()) == 2, jax.devices()
        weights = weights_lib.random_weights("vgg16", jax.random.key(0))
        sequences = batch_test._sequences()[:1] + batch_test._sequences()
        sharded = batch.track_batch(weights, sequences, tracker_test.SMALL, progress=False)
        single = batch.track_batch(
            weights, sequences, tracker_test.SMALL, progress=False, shard=False
        )
        for a, b in zip(sharded, single, strict=True):
            np.testing.assert_allclose(a.boxes_xywh, b.boxes_xywh, atol=1e-2)
        print("OK", len(sharded))
        """
    )
    root = pathlib.Path(__file__).resolve().parents[1]
    env = dict(
        os.environ,
        JAX_PLATFORMS="cpu",
        XLA_FLAGS="--xla_force_host_platform_device_count=2",
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
    assert "OK 3" in done.stdout
