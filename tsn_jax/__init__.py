"""tsn_jax: the TSN visual object tracker (temporal and spatial deep networks) in JAX/Flax.

  weights = tsn_jax.load_weights("weights/vgg16_imagenet.npz")
  config = tsn_jax.TrackerConfig()
  state = tsn_jax.init(weights, first_frame, box_xywh, jax.random.key(0), config)
  for frame in frames:
      state, output = tsn_jax.step(weights, state, frame)   # output.box_xywh: [4]

  tracker = tsn_jax.Tracker(weights, config)               # or, as an object
  tracker.init(first_frame, box_xywh)
  box_xywh = tracker.update(frame)

Boxes are 0-based xywh frame pixels (``tsn_jax.boxes``); frames RGB uint8 [H, W, 3].
"""

from tsn_jax.config import TrackerConfig
from tsn_jax.state import StepOutput, TrackerState
from tsn_jax.stateful import Tracker
from tsn_jax.tracker import init, init_fn, step, step_fn
from tsn_jax.weights import FeatureNetWeights, random_weights
from tsn_jax.weights import load as load_weights

__all__ = [
    "FeatureNetWeights",
    "StepOutput",
    "Tracker",
    "TrackerConfig",
    "TrackerState",
    "init",
    "init_fn",
    "load_weights",
    "random_weights",
    "step",
    "step_fn",
]
