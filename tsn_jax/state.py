"""The tracking state (a pytree) and the per-frame output."""

from typing import NamedTuple

import flax
import jax
import optax

from tsn_jax import config as config_lib
from tsn_jax import memory, pool


@flax.struct.dataclass
class TrackerState:
    """Everything that changes from frame to frame; arrays only, so it can be vmapped or saved.

    Attributes:
      box_xywh: [4] float32 last estimated box, frame pixels.
      frame_index: [] int32 index of the last processed frame (0 after ``init``).
      frame_size_wh: [2] float32 valid frame width and height, pixels.
      tuple_features: [K, D] float32 the tuple that scores the next frame's proposals: with
        tuple learning, the pool entries chosen by Eq. 1 for the last target.
      tuple_slots: [K] int32 their pool slots (-1 without tuple learning).
      tuple_coefficients: [K] float32 their Lasso coefficients (0 without tuple learning).
      temporal_params, temporal_opt_state: Temporal Net parameters and SGD state.
      spatial_params, spatial_opt_state: Spatial Net parameters and SGD state.
      target_pool: the target pool of tuple learning.
      samples: Temporal Net sample memory (features [M, D], IoU labels [M]).
      tuples: the tuples the sample memory's frames were scored with ([memory_frames + 1, K, D];
        row 0 for the first-frame rows, row 1 + j for the ring's j-th frame block), written
        in step with it (``online.tuple_rows_of_samples``).
      windows: Spatial Net sample memory (fused maps [S, G, G, C], Gaussian labels [S, G, G]).
      box_regression: [D + 1, 4] float32 bounding-box regression weights (first frame).
      search_growth: [] float32 proposal spread multiplier (> 1 after failures).
      score: [] float32 confidence of the last box (best temporal similarity).
      key: PRNG key of the sequence; per-frame keys are folded in from frame_index.
      active: [] bool, False once a batched sequence has ended (its state then stops changing).
      config: the static TrackerConfig (part of the tree structure, not a leaf: a new config
        means a new compilation, the same config reuses the compiled step).
    """

    box_xywh: jax.Array
    frame_index: jax.Array
    frame_size_wh: jax.Array
    tuple_features: jax.Array
    tuple_slots: jax.Array
    tuple_coefficients: jax.Array
    temporal_params: flax.core.FrozenDict | dict
    temporal_opt_state: optax.OptState
    spatial_params: flax.core.FrozenDict | dict
    spatial_opt_state: optax.OptState
    target_pool: pool.TargetPool
    samples: memory.SampleMemory
    tuples: memory.SampleMemory
    windows: memory.SampleMemory
    box_regression: jax.Array
    search_growth: jax.Array
    score: jax.Array
    key: jax.Array
    active: jax.Array
    config: config_lib.TrackerConfig = flax.struct.field(pytree_node=False)


class StepOutput(NamedTuple):
    """What ``step`` reports for one frame.

    Attributes:
      box_xywh: [4] float32 reported box, 0-based frame pixels: the tracked box's centre with
        the box regression's size (the tracked box itself where that is off or on failure).
      score: [] float32 best temporal similarity in (0, 1).
      failed: [] bool, the score fell below the failure threshold or is not finite (box kept,
        search widened).
      tuple_slots: [K] int32 pool slots of the tuple that scored this frame (Eq. 1; -1
        without tuple learning).
      tuple_coefficients: [K] float32 their Lasso coefficients.
    """

    box_xywh: jax.Array
    score: jax.Array
    failed: jax.Array
    tuple_slots: jax.Array
    tuple_coefficients: jax.Array
