"""Tests for tsn_jax.sampling: proposals and first-frame samples."""

import jax
import jax.numpy as jnp
import numpy as np

from tsn_jax import boxes, sampling

FRAME_WH = jnp.asarray([320.0, 240.0])
BOX = jnp.asarray([100.0, 80.0, 40.0, 30.0])


def test_proposals_stay_in_frame_and_start_with_the_box():
    proposals = sampling.gaussian_proposals(
        jax.random.key(0), BOX, 256, 0.3, 0.5, 1.05, FRAME_WH, 4.0
    )
    assert proposals.shape == (256, 4)
    np.testing.assert_allclose(proposals[0], BOX, atol=1e-5)
    xyxy = boxes.xywh_to_xyxy(np.asarray(proposals))
    assert (xyxy[:, :2] >= 0).all() and (xyxy[:, 2] <= 320).all() and (xyxy[:, 3] <= 240).all()
    centres = boxes.xywh_to_cxcywh(np.asarray(proposals))[:, :2]
    spread = centres.std(axis=0) / 35.0  # mean side of BOX
    assert 0.15 < spread.min() and spread.max() < 0.4  # std 0.3 clipped at 2 std


def test_proposals_near_the_border_are_shifted_inside():
    corner = jnp.asarray([300.0, 225.0, 40.0, 30.0])
    proposals = sampling.gaussian_proposals(
        jax.random.key(1), corner, 64, 0.3, 0.5, 1.05, FRAME_WH, 4.0
    )
    assert np.isfinite(np.asarray(proposals)).all()
    assert (proposals[:, 0] + proposals[:, 2] <= 320 + 1e-4).all()


def test_training_samples_spread_iou_labels():
    samples, labels = sampling.training_samples(jax.random.key(2), BOX, 2000, 1.05, FRAME_WH, 4.0)
    labels = np.asarray(labels)
    np.testing.assert_allclose(labels, boxes.iou(np.asarray(samples), np.asarray(BOX)), atol=1e-5)
    for low, high in [(0.0, 0.3), (0.3, 0.7), (0.7, 1.01)]:
        fraction = np.mean((labels >= low) & (labels < high))
        assert fraction > 0.1, (low, high, fraction)
