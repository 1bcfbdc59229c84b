"""The TSN tracker: ``init`` on the first frame and ``step`` per frame (paper Algorithm 1).

Both are pure functions of arrays. ``init`` and ``step`` are the jitted public forms; research
code may call the un-jitted ``init_fn`` / ``step_fn`` inside its own ``jit`` or ``vmap``, or
compose the public stages (``propose``, ``score_proposals``, ``locate``, ``online.update``).

``step_fn`` reads as Algorithm 1, with no host round trip inside:

a. 256 proposals from a Gaussian around the last box (wider after failures).
b. Proposal features (``features.FrameFeatures``: one search window + RoIAlign, or crops).
c. Temporal Net similarities (Eq. 2) of the proposals to the tuple learnt after the previous
   frame. (Without the Temporal Net the Spatial Net ranks the proposals.)
d. Top B; Spatial Net confidence maps of their windows, refinement (Eq. 7) and the weighted
   ensemble (Eq. 8) give the new box; the reported box takes its size from the first frame's
   bounding-box regression of the candidates (``box_regression.py``; not in the paper). Best
   similarity below ``failure_threshold`` (or not finite) is a failure: the last box is kept,
   the search widened and every update skipped.
e. Online updates (``online.py``): the sample memories and the Spatial Net every frame, the
   Temporal Net every ``temporal_update_interval`` frames (a static flag from the driver, or
   a ``lax.cond``), each sample paired with the tuple its frame was scored with.
f. Tuple learning (Eq. 1) codes the new target p_t over the target pool D_{t-1} and keeps the
   next frame's tuple; then p_t joins the pool.
"""

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from tsn_jax import box_regression, boxes, features, online, pool, sampling, spatial_net
from tsn_jax import config as config_lib
from tsn_jax import state as state_lib
from tsn_jax import weights as weights_lib


class Location(NamedTuple):
    """Step d's result.

    Attributes:
      box_xywh: [4] float32 the tracked box: it centres the next frame's proposals.
      reported_xywh: [4] float32 the reported box: the same centre, the box regression's size.
      confidence: [] float32 the best Temporal Net similarity (the best Spatial Net peak
        without the Temporal Net).
      windows_xywh: [B, 4] float32 the top candidates' Spatial Net windows.
      inputs: [B, G, G, C] float32 their Spatial Net inputs.
    """

    box_xywh: jax.Array
    reported_xywh: jax.Array
    confidence: jax.Array
    windows_xywh: jax.Array
    inputs: jax.Array


def _frame_size(frame, valid_size_wh):
    if valid_size_wh is None:
        return jnp.asarray([frame.shape[1], frame.shape[0]], jnp.float32)
    return jnp.asarray(valid_size_wh, jnp.float32)


def init_fn(
    weights: weights_lib.FeatureNetWeights,
    frame: jax.Array,
    box_xywh: jax.Array,
    key: jax.Array,
    config: config_lib.TrackerConfig,
    valid_size_wh: jax.Array | None = None,
) -> state_lib.TrackerState:
    """First frame: trains the Temporal and Spatial Nets and fills the pool and memories.

    Args:
      weights: Feature Net weights (``weights.FeatureNetWeights``).
      frame: [H, W, 3] uint8 RGB first frame.
      box_xywh: [4] float target box, 0-based frame pixels (validated by the caller).
      key: PRNG key for the whole sequence.
      config: TrackerConfig (static).
      valid_size_wh: optional [2] valid size when the frame is padded (batched tracking).

    Returns:
      The initial TrackerState.
    """
    chex.assert_rank(frame, 3)
    chex.assert_shape(box_xywh, (4,))
    frame_size = _frame_size(frame, valid_size_wh)
    box = boxes.clip_to_frame(jnp.asarray(box_xywh, jnp.float32), frame_size, config.min_box_size)
    keys = jax.random.split(key, 8)

    # 5000 samples around the target with their IoU labels (paper 4.1); sample 0 is the box.
    samples, ious = sampling.training_samples(
        keys[0], box, config.num_init_samples, config.scale_step, frame_size, config.min_box_size
    )
    samples = samples.at[0].set(box)
    ious = ious.at[0].set(1.0)
    frame_features = features.FrameFeatures(weights, frame, box, valid_size_wh, config)
    sample_features = frame_features.of_boxes(samples)
    target_pool = pool.init_pool(sample_features[0], config.pool_capacity)

    t_params, t_opt_state = online.first_frame_temporal(
        config, keys[1:3], sample_features, samples, ious
    )
    sample_memory, tuple_memory, first_tuple = online.first_frame_memories(
        config, keys[3], sample_features, ious, target_pool.features[0]
    )
    s_params, s_opt_state, window_memory = online.first_frame_spatial(
        config, keys[4:7], frame_features, box, frame_size
    )
    box_weights = jnp.zeros((config.feature_size + 1, 4), jnp.float32)
    if config.box_regression:
        box_weights = box_regression.fit(
            sample_features,
            samples,
            box,
            (ious >= config.box_regression_min_iou).astype(jnp.float32),
            config.box_regression_ridge,
        )

    return state_lib.TrackerState(
        box_xywh=box,
        frame_index=jnp.zeros((), jnp.int32),
        frame_size_wh=frame_size,
        tuple_features=first_tuple,
        tuple_slots=jnp.zeros((config.tuple_size,), jnp.int32),
        tuple_coefficients=jnp.zeros((config.tuple_size,), jnp.float32),
        temporal_params=t_params,
        temporal_opt_state=t_opt_state,
        spatial_params=s_params,
        spatial_opt_state=s_opt_state,
        target_pool=target_pool,
        samples=sample_memory,
        tuples=tuple_memory,
        windows=window_memory,
        box_regression=box_weights,
        search_growth=jnp.ones((), jnp.float32),
        score=jnp.ones((), jnp.float32),
        key=keys[7],
        active=jnp.ones((), bool),
        config=config,
    )


def frame_keys(state: state_lib.TrackerState) -> tuple[jax.Array, jax.Array]:
    """(proposal key, update key) of the frame after ``state.frame_index``."""
    key = jax.random.fold_in(state.key, state.frame_index + 1)
    k_proposals, k_update = jax.random.split(key)
    return k_proposals, k_update


def propose(state: state_lib.TrackerState, key: jax.Array) -> jax.Array:
    """Step a: [num_proposals, 4] Gaussian proposals around the last box (wider after
    failures)."""
    config = state.config
    return sampling.gaussian_proposals(
        key,
        state.box_xywh,
        config.num_proposals,
        config.proposal_translation_std * state.search_growth,
        config.proposal_scale_std,
        config.scale_step,
        state.frame_size_wh,
        config.min_box_size,
    )


def search_around(state: state_lib.TrackerState) -> jax.Array:
    """[4] box the roi search window is centred on: the last box, grown after failures."""
    return boxes.scale_about_center(state.box_xywh, state.search_growth)


def fine_tune_due(frame_index: int, config: config_lib.TrackerConfig) -> bool:
    """Whether frame ``frame_index`` (1-based after the first) fine-tunes the Temporal Net."""
    return frame_index % config.temporal_update_interval == 0


def score_proposals(
    state: state_lib.TrackerState,
    frame_features: features.FrameFeatures,
    proposals: jax.Array,
    proposal_features: jax.Array,
) -> jax.Array:
    """Step c: [N] scores of the [N, 4] proposals, the higher the likelier the target.

    With the Temporal Net: its similarity (Eq. 2) of each proposal's [N, D] feature to the
    state's learnt tuple. Without it (the ablation), the Spatial Net ranks the proposals: each
    scores its confidence map's value at the proposal's own centre (the centre cell of its
    window), i.e. how sure the Spatial Net is that the target is centred there.
    """
    config = state.config
    chex.assert_shape(proposals, (None, 4))
    chex.assert_shape(proposal_features, (proposals.shape[0], config.feature_size))
    if config.use_temporal:
        return online.temporal_model(config).apply(
            {"params": state.temporal_params},
            state.tuple_features,
            proposal_features,
            train=False,
        )
    windows = features.spatial_windows(proposals, config)
    maps = online.spatial_model(config).apply(
        {"params": state.spatial_params}, frame_features.spatial_inputs(windows)
    )
    centre = config.spatial_grid // 2
    return maps[:, centre, centre]


def locate(
    state: state_lib.TrackerState,
    frame_features: features.FrameFeatures,
    proposals: jax.Array,
    proposal_features: jax.Array,
    scores: jax.Array,
) -> Location:
    """Step d: top-B candidates -> Spatial refinement (Eq. 7), ensemble (Eq. 8), box regression.

    The reported box never becomes the next proposals' centre box, as in MDNet: fed back so,
    the regression's small per-frame errors compound, and a box grew to 6x its target within
    30 frames on DTB70 MountainBike6. Both boxes are clipped to the frame.
    """
    config = state.config
    chex.assert_shape(scores, (proposals.shape[0],))
    top_scores, top = jax.lax.top_k(scores, config.top_candidates)
    candidates = proposals[top]
    windows = features.spatial_windows(candidates, config)
    inputs = frame_features.spatial_inputs(windows)
    if config.use_spatial:
        maps = online.spatial_model(config).apply({"params": state.spatial_params}, inputs)
        refined, peaks = spatial_net.refine(
            maps, windows, candidates, config.spatial_refine, config.spatial_min_peak
        )
        importance = top_scores * peaks
        confidence = top_scores[0] if config.use_temporal else jnp.max(peaks)
    else:
        refined, importance, confidence = candidates, top_scores, top_scores[0]
    box = spatial_net.ensemble(refined, importance)
    reported = box
    if config.box_regression:
        regressed = box_regression.predict(state.box_regression, proposal_features[top], candidates)
        size = spatial_net.ensemble(regressed, importance)[2:]
        reported = jnp.concatenate([box[:2] + (box[2:] - size) / 2, size])
    return Location(
        box_xywh=boxes.clip_to_frame(box, state.frame_size_wh, config.min_box_size),
        reported_xywh=boxes.clip_to_frame(reported, state.frame_size_wh, config.min_box_size),
        confidence=confidence,
        windows_xywh=windows,
        inputs=inputs,
    )


def step_fn(
    weights: weights_lib.FeatureNetWeights,
    state: state_lib.TrackerState,
    frame: jax.Array,
    fine_tune: bool | jax.Array | None = None,
) -> tuple[state_lib.TrackerState, state_lib.StepOutput]:
    """One frame of Algorithm 1.

    Args:
      weights: Feature Net weights (``weights.FeatureNetWeights``).
      state: TrackerState from ``init`` or the previous ``step``.
      frame: [H, W, 3] uint8 RGB frame (the size of the first frame, or padded to the batch's
        common size with the valid size carried in the state).
      fine_tune: whether this frame fine-tunes the Temporal Net: a Python bool (static in
        ``step``: the drivers pass ``fine_tune_due(index, config)`` and get two compiled steps,
        neither with a conditional), a traced [] bool (a ``lax.cond``; unbatched under
        ``vmap``, see ``online.fine_tune``), or None: ``fine_tune_due`` of the state's frame
        index, traced.

    Returns:
      (new state, StepOutput). A state whose ``active`` flag is False is returned unchanged.
    """
    config = state.config
    chex.assert_rank(frame, 3)
    frame_index = state.frame_index + 1
    if fine_tune is None:
        fine_tune = fine_tune_due(frame_index, config)
    elif not isinstance(fine_tune, jax.Array):
        fine_tune = bool(fine_tune)
    k_proposals, k_update = frame_keys(state)

    proposals = propose(state, k_proposals)  # a
    frame_features = features.FrameFeatures(  # b
        weights, frame, search_around(state), state.frame_size_wh, config
    )
    proposal_features = frame_features.of_boxes(proposals)
    scores = score_proposals(state, frame_features, proposals, proposal_features)  # c
    found = locate(state, frame_features, proposals, proposal_features, scores)  # d
    confidence = found.confidence
    failed = ~(confidence >= config.failure_threshold) | ~jnp.isfinite(confidence)
    # No select over the whole state: every part is kept or updated under its own mask, so
    # the memories are written in place (``online.update``).
    learn = state.active & ~failed

    new_state = online.update(  # e (memories, Spatial Net) and f (tuple learning, pool)
        state,
        k_update,
        learn,
        frame_features,
        proposals,
        proposal_features,
        found.box_xywh,
        confidence,
        found.windows_xywh,
        found.inputs,
    )
    if config.use_temporal:
        new_state = online.fine_tune(new_state, k_update, fine_tune, learn)  # e (Temporal Net)

    grown = jnp.minimum(
        state.search_growth * config.failure_search_growth, config.max_search_growth
    )
    new_state = new_state.replace(
        box_xywh=jnp.where(learn, found.box_xywh, state.box_xywh),
        frame_index=jnp.where(state.active, frame_index, state.frame_index),
        score=jnp.where(state.active, confidence, state.score),
        search_growth=jnp.where(
            state.active, jnp.where(failed, grown, jnp.ones_like(grown)), state.search_growth
        ),
    )
    reported = jnp.where(failed | ~state.active, new_state.box_xywh, found.reported_xywh)
    output = state_lib.StepOutput(
        box_xywh=reported,
        score=confidence,
        failed=failed & state.active,
        tuple_slots=state.tuple_slots,
        tuple_coefficients=state.tuple_coefficients,
    )
    return new_state, output


init = jax.jit(init_fn, static_argnames=("config",))
init.__doc__ = init_fn.__doc__
step = jax.jit(step_fn, donate_argnums=(1,), static_argnames=("fine_tune",))
step.__doc__ = step_fn.__doc__
