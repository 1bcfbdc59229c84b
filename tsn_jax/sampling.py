"""Random boxes around a target: per-frame proposals and first-frame training samples.

Algorithm 1, steps 1 and 3 of the paper: 5000 shifted and scaled samples on the first frame
(IoU labels spread over [0, 1]) and 256 Gaussian proposals around the last box on every later
frame. Spreads follow MDNet's Gaussian sampler (translation in units of the box's mean side,
scale as a power of ``scale_step``). Boxes are xywh in frame pixels (see ``boxes.py``).
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from tsn_jax import boxes


def _jitter(box_xywh, translation, log_scale, scale_step):
    """Shifts and scales one box: translation [N, 2] in mean sides, log_scale [N] -> [N, 4]."""
    cx, cy, w, h = boxes.xywh_to_cxcywh(box_xywh)
    mean_side = (w + h) / 2
    scale = jnp.power(scale_step, log_scale)
    jittered = jnp.stack(
        [
            cx + translation[:, 0] * mean_side,
            cy + translation[:, 1] * mean_side,
            w * scale,
            h * scale,
        ],
        axis=-1,
    )
    return boxes.cxcywh_to_xywh(jittered)


def gaussian_proposals(
    key: jax.Array,
    box_xywh: jax.Array,
    num: int,
    translation_std: float,
    scale_std: float,
    scale_step: float,
    frame_size_wh: ArrayLike | tuple[float, float],
    min_size: float,
) -> jax.Array:
    """Proposals drawn from a Gaussian around the last box; the first one is the box itself.

    Args:
      key: PRNG key.
      box_xywh: [4] float32 last box, frame pixels.
      num: number of proposals N (static).
      translation_std: std of the centre shift, in units of the box's mean side.
      scale_std: std of the log-scale, in units of log(scale_step).
      scale_step: base of the scale jitter (MDNet's 1.05).
      frame_size_wh: [2] valid frame width and height, pixels.
      min_size: smallest width and height kept, pixels.

    Returns:
      [N, 4] float32 xywh proposals inside the frame, of the box's aspect (MDNet's sampler).
    """
    key_t, key_s = jax.random.split(key)
    translation = translation_std * jax.random.normal(key_t, (num, 2))
    log_scale = scale_std * jax.random.normal(key_s, (num,))
    # Clipping the draws at 2 std keeps the occasional far outlier from landing off-target.
    translation = jnp.clip(translation, -2 * translation_std, 2 * translation_std)
    log_scale = jnp.clip(log_scale, -2 * scale_std, 2 * scale_std)
    translation = translation.at[0].set(0.0)
    log_scale = log_scale.at[0].set(0.0)
    proposals = _jitter(box_xywh, translation, log_scale, scale_step)
    return boxes.clip_to_frame(proposals, frame_size_wh, min_size)


def training_samples(
    key: jax.Array,
    box_xywh: jax.Array,
    num: int,
    scale_step: float,
    frame_size_wh: ArrayLike | tuple[float, float],
    min_size: float,
) -> tuple[jax.Array, jax.Array]:
    """First-frame samples with IoU labels spread over [0, 1].

    Half the samples are close to the target (translation std 0.1, log-scale std 1), half are
    spread uniformly (translation up to one mean side, log-scale up to +-5 steps), so that the
    labels cover positives, hard negatives and easy negatives.

    Args:
      key: PRNG key.
      box_xywh: [4] float32 target box, frame pixels.
      num: number of samples N (static).
      scale_step: base of the scale jitter.
      frame_size_wh: [2] frame width and height, pixels.
      min_size: smallest width and height kept, pixels.

    Returns:
      (samples [N, 4] float32 xywh, labels [N] float32 IoU with the target).
    """
    near = num // 2
    far = num - near
    k1, k2, k3, k4 = jax.random.split(key, 4)
    translation = jnp.concatenate(
        [
            0.1 * jax.random.normal(k1, (near, 2)),
            jax.random.uniform(k2, (far, 2), minval=-1.0, maxval=1.0),
        ]
    )
    log_scale = jnp.concatenate(
        [
            jax.random.normal(k3, (near,)),
            jax.random.uniform(k4, (far,), minval=-5.0, maxval=5.0),
        ]
    )
    samples = _jitter(box_xywh, translation, log_scale, scale_step)
    samples = boxes.clip_to_frame(samples, frame_size_wh, min_size)
    return samples, boxes.iou(samples, box_xywh[None, :])
