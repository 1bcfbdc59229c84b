"""Batched tracking: the padding is never read (the results are those of an unpadded batch),
and a vmapped batch equals tracking the sequences one by one to float tolerance."""

import os

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
    """Different lengths (the ended sequence is masked); one frame size, the tiny tests' 96x80,
    so the compiled one-sequence steps are shared with the other test files (persistent
    compilation cache). Padding is test_padding_never_changes_a_result's."""
    return [
        synthetic.make_sequence(num_frames=4, frame_size_wh=(96, 80), seed=1, name="a"),
        synthetic.make_sequence(num_frames=3, frame_size_wh=(96, 80), seed=2, name="b"),
    ]


def test_batch_matches_one_by_one(weights):
    sequences = _sequences()
    seeds = [0, 3]  # per-sequence seeds, as the seed-spread runs use them
    # These compiled batched steps serve the padding test too.
    batched = batch.track_batch(weights, sequences, SMALL, progress=False, seeds=seeds)
    for sequence, seed, result in zip(sequences, seeds, batched, strict=True):
        alone = runner.track_sequence(weights, sequence, SMALL, seed=seed, progress=False)
        assert result.boxes_xywh.shape == (len(sequence), 4)
        # Compiled before the second frame (one device), so every step is a timed frame.
        assert result.compile_seconds > 0 and len(result.timed_seconds) == len(sequence) - 1
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


# Boxes (px) and scores of a padded sequence against its unpadded batch: bit-identical with the
# default XLA:CPU build, 1e-5 apart with the tests' build (test_padding_never_changes_a_result).
_PADDED = 0.0 if os.environ.get("TSN_TEST_XLA_OPT") else 1e-4


def test_padding_never_changes_a_result(weights):
    """The padding is never read: each sequence, padded into a batch with another one, gives
    the boxes and scores of a batch of two copies of itself (no padding). Only the batching
    itself (``vmap``: batched products summing in another order) separates a batch from
    one-by-one tracking; on real sequences online learning amplifies that to pixels (README
    "Many sequences at once").

    With the default XLA:CPU build the two are bit-identical (``TSN_TEST_XLA_OPT=1`` checks
    that). The suite's faster build (tests/conftest.py) rounds the padded and the unpadded
    frame size's programs differently, 1e-5 px after the first fine-tune; a padding read
    would move the boxes by pixels."""
    sequences = [_cornered(_sequences()[0]), _sequences()[1]]
    seeds = [0, 3]
    # Padded to "b"'s size, the frame size of test_batch_matches_one_by_one, so the compiled
    # steps are shared with it (and "b" alone in a batch of two copies needs no new ones); the
    # cornered "a" reads past its valid area into the padding if anything does.
    mixed = batch.track_batch(weights, sequences, SMALL, progress=False, seeds=seeds)
    cornered_hw, full_hw = sequences[0].frame(0).shape[:2], sequences[1].frame(0).shape[:2]
    assert all(c < f for c, f in zip(cornered_hw, full_hw, strict=True)), (cornered_hw, full_hw)
    for sequence, seed, result in zip(sequences, seeds, mixed, strict=True):
        unpadded = batch.track_batch(
            weights, [sequence, sequence], SMALL, progress=False, seeds=[seed, seed]
        )
        for copy in unpadded:
            np.testing.assert_allclose(result.boxes_xywh, copy.boxes_xywh, rtol=0, atol=_PADDED)
            np.testing.assert_allclose(result.scores, copy.scores, rtol=0, atol=_PADDED)
            np.testing.assert_array_equal(result.failed, copy.failed)


def test_batched_step_fine_tunes_only_when_told(weights):
    """Under vmap the Temporal fine-tune is in the fine-tune frames' step alone (a conditional
    on a batched flag would run it every frame), and neither step holds a conditional."""
    # The batch of the tests above (two 96x80 sequences): the programs are the ones they run.
    sequences = _sequences()
    frames = np.stack([s.frame(0) for s in sequences])
    states = batch._batched_init(
        weights,
        frames,
        np.asarray([s.init_box_xywh for s in sequences], np.float32),
        jax.vmap(jax.random.key)(np.asarray([0, 3])),
        SMALL,
        np.asarray([[96.0, 80.0]] * 2, np.float32),
    )
    hlo = {
        fine_tune: batch._batched_step.lower(
            weights, states, frames, np.asarray([True, True]), fine_tune=fine_tune
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


def test_pad_frame():
    frame = np.full((2, 3, 3), 7, np.uint8)
    padded = batch.pad_frame(frame, 4, 5)
    assert padded.shape == (4, 5, 3)
    assert padded[:2, :3].min() == 7 and padded[2:].max() == 0 and padded[:, 3:].max() == 0
