"""The TSN tracker: ``init`` on the first frame and ``step`` per frame (paper Algorithm 1).

Both are pure functions of arrays. ``init`` and ``step`` are the jitted public forms; research
code may call the un-jitted ``init_fn`` / ``step_fn`` inside its own ``jit`` or ``vmap``.

One ``step`` (DESIGN.md "The per-frame step"), with no host round trip inside:

1. 256 proposals from a Gaussian around the last box (wider after failures).
2. Proposal features (``features.py``: per-proposal crops or one search window + RoIAlign).
3. Tuple by Lasso over the target pool (Eq. 1); Temporal Net similarities (Eq. 2); top B.
4. Spatial Net confidence maps of the B candidates' windows; argmax refinement (Eq. 7) and the
   weighted ensemble (Eq. 8) give the new box. The reported box takes its size from the first
   frame's bounding-box regression of the candidates (``box_regression.py``; not in the paper).
5. Failure test: best similarity below ``failure_threshold`` keeps the last box, widens the
   search and skips every update.
6. Otherwise: the target pool, the sample memories and the Spatial Net are updated every frame;
   the Temporal Net is fine-tuned every ``temporal_update_interval`` frames (a static flag
   from the driver, or a ``lax.cond``).
   They learn the tracked box, or with ``learn_regressed_box`` the reported one. The Temporal
   Net's sample memory takes a random subset of the proposals or, with
   ``online_samples="resampled"``, fresh boxes drawn around that box like the first frame's;
   its first ``first_frame_samples`` rows keep first-frame samples for the whole sequence, and
   the Spatial Net's window memory its first ``first_frame_windows`` windows.
"""

import jax
import jax.numpy as jnp

from tsn_jax import (
    box_regression,
    boxes,
    features,
    memory,
    pool,
    sampling,
    spatial_net,
    temporal_net,
)
from tsn_jax import state as state_lib

# Training loops of at most this many steps are unrolled (``_update``).
_MAX_UNROLL = 8


def temporal_model(config):
    """The Temporal Net module of a config."""
    return temporal_net.TemporalNet(
        hidden=config.temporal_hidden, dropout_rate=config.temporal_dropout
    )


def spatial_model(config):
    """The Spatial Net module of a config."""
    return spatial_net.SpatialNet(features=tuple(config.spatial_features))


def _optimizers(config):
    return (
        temporal_net.make_optimizer(config.temporal_learning_rate, config.momentum),
        spatial_net.make_optimizer(
            config.spatial_learning_rate, config.momentum, config.spatial_clip_norm
        ),
    )


class _FrameFeatures:
    """Feature extraction for one frame, hiding the crop / roi difference from the tracker."""

    def __init__(self, weights, frame, around_xywh, valid_size_wh, config):
        self.weights, self.frame, self.valid, self.config = weights, frame, valid_size_wh, config
        if config.proposal_features == "roi":
            self.window = features.search_window(around_xywh, config)
            self.maps = features.window_maps(weights, frame, self.window, config, valid_size_wh)

    def of_boxes(self, boxes_xywh):
        """[N, 4] boxes -> [N, D] unit features."""
        if self.config.proposal_features == "roi":
            return features.roi_features(self.maps, self.window, boxes_xywh, self.config)
        return features.crop_features(self.weights, self.frame, boxes_xywh, self.config, self.valid)

    def spatial_inputs(self, windows_xywh):
        """[B, 4] Spatial Net windows -> [B, G, G, C] fused conv1-3 maps."""
        if self.config.proposal_features == "roi":
            return features.roi_spatial_inputs(self.maps, self.window, windows_xywh, self.config)
        return features.crop_spatial_inputs(
            self.weights, self.frame, windows_xywh, self.config, self.valid
        )


def _frame_size(frame, valid_size_wh):
    if valid_size_wh is None:
        return jnp.asarray([frame.shape[1], frame.shape[0]], jnp.float32)
    return jnp.asarray(valid_size_wh, jnp.float32)


def _train_spatial(config, params, opt_state, key, windows, num_steps):
    """``num_steps`` SGD steps; a few (an online update) unrolled, many (the first frame's) a
    loop (``_update``)."""
    _, optimizer = _optimizers(config)
    unroll = num_steps <= _MAX_UNROLL  # True: no loop at all (even for one step)
    params, opt_state, _ = spatial_net.train(
        spatial_model(config),
        optimizer,
        params,
        opt_state,
        key,
        windows.inputs,
        windows.labels,
        windows.valid,
        num_steps=num_steps,
        batch_size=config.spatial_batch_size,
        weight_decay=config.spatial_weight_decay,
        loss_kind=config.spatial_loss,
        unroll=unroll,
    )
    return params, opt_state


def _train_temporal(
    config, params, opt_state, key, samples, candidates, candidates_valid, steps, pair_boxes=None
):
    """``pair_boxes``: optional [N, 4] boxes of the samples, which are also the tuple
    candidates (first frame): the labels are then pairwise IoUs (``temporal_label="pair"``)."""
    optimizer, _ = _optimizers(config)
    params, opt_state, _ = temporal_net.train(
        temporal_model(config),
        optimizer,
        params,
        opt_state,
        key,
        samples.inputs,
        samples.labels,
        samples.valid,
        candidates,
        candidates_valid,
        num_steps=steps,
        batch_size=config.temporal_batch_size,
        k=config.tuple_size,
        loss_type=config.temporal_loss,
        sample_boxes=pair_boxes,
        tuple_boxes=pair_boxes,
    )
    return params, opt_state


def init_fn(weights, frame, box_xywh, key, config, valid_size_wh=None):
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
    frame_size = _frame_size(frame, valid_size_wh)
    box = boxes.clip_to_frame(jnp.asarray(box_xywh, jnp.float32), frame_size, config.min_box_size)
    keys = jax.random.split(key, 8)

    samples, ious = sampling.training_samples(
        keys[0], box, config.num_init_samples, config.scale_step, frame_size, config.min_box_size
    )
    samples = samples.at[0].set(box)
    ious = ious.at[0].set(1.0)
    frame_features = _FrameFeatures(weights, frame, box, valid_size_wh, config)
    sample_features = frame_features.of_boxes(samples)
    target_pool = pool.init_pool(sample_features[0], config.pool_capacity)

    # Temporal Net (paper 3.2.2): tuples from first-frame samples that overlap the target.
    t_model = temporal_model(config)
    t_optimizer, s_optimizer = _optimizers(config)
    dim = config.feature_size
    t_params = t_model.init(
        keys[1], jnp.zeros((1, config.tuple_size, dim)), jnp.zeros((1, dim)), train=False
    )["params"]
    t_opt_state = t_optimizer.init(t_params)
    all_samples = memory.SampleMemory(
        inputs=sample_features,
        labels=ious,
        valid=jnp.ones_like(ious, bool),
        write_position=jnp.zeros((), jnp.int32),
    )
    if config.use_temporal:
        t_params, t_opt_state = _train_temporal(
            config,
            t_params,
            t_opt_state,
            keys[2],
            all_samples,
            sample_features,
            ious >= config.positive_iou,
            config.temporal_init_steps,
            samples if config.temporal_label == "pair" else None,
        )
    keep = jax.random.permutation(keys[3], config.num_init_samples)
    keep = keep[: min(config.num_init_samples, config.memory_size)]
    sample_memory = memory.write(
        memory.empty(config.memory_size, (dim,)), sample_features[keep], ious[keep]
    )

    # Spatial Net (paper 3.3): windows around boxes with different overlaps, Gaussian labels.
    num_windows = min(config.spatial_init_samples, config.window_memory_size)
    candidates = sampling.gaussian_proposals(
        keys[4],
        box,
        num_windows,
        1.5 * config.proposal_translation_std,
        1.5 * config.proposal_scale_std,
        config.scale_step,
        frame_size,
        config.min_box_size,
    )
    windows_xywh = features.spatial_windows(candidates, config)
    inputs = frame_features.spatial_inputs(windows_xywh)
    labels = spatial_net.gaussian_labels(
        windows_xywh,
        jnp.broadcast_to(box, windows_xywh.shape),
        config.spatial_grid,
        config.spatial_sigma,
    )
    s_model = spatial_model(config)
    s_params = s_model.init(keys[5], inputs[:1])["params"]
    s_opt_state = s_optimizer.init(s_params)
    window_memory = memory.write(
        memory.empty(config.window_memory_size, inputs.shape[1:], labels.shape[1:]), inputs, labels
    )
    if config.use_spatial:
        s_params, s_opt_state = _train_spatial(
            config, s_params, s_opt_state, keys[6], window_memory, config.spatial_init_steps
        )

    box_weights = jnp.zeros((dim + 1, 4), jnp.float32)
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
        target_feature=sample_features[0],
        temporal_params=t_params,
        temporal_opt_state=t_opt_state,
        spatial_params=s_params,
        spatial_opt_state=s_opt_state,
        target_pool=target_pool,
        samples=sample_memory,
        windows=window_memory,
        box_regression=box_weights,
        search_growth=jnp.ones((), jnp.float32),
        score=jnp.ones((), jnp.float32),
        key=keys[7],
        active=jnp.ones((), bool),
        config=config,
    )


def _score_proposals(state, proposal_features):
    """Eq. 1 tuple + Eq. 2 Temporal Net: [N] similarities (all ones without the Temporal Net)."""
    config = state.config
    if not config.use_temporal:
        return jnp.ones(proposal_features.shape[0], jnp.float32)
    _, tuple_features, _ = pool.learn_tuple(
        state.target_pool,
        state.target_feature,
        config.lasso_lambda,
        config.tuple_size,
        config.lasso_iterations,
    )
    return temporal_model(config).apply(
        {"params": state.temporal_params}, tuple_features, proposal_features, train=False
    )


def _locate(state, frame_features, proposals, proposal_features, scores):
    """Top-B candidates -> Spatial refinement (Eq. 7), ensemble (Eq. 8) and box regression.

    Returns (box [4], reported box [4], confidence [], windows [B, 4], spatial inputs
    [B, G, G, C]). The box drives the next frame's proposals; the reported box has the same
    centre and the size the box regression gives the candidates. It never becomes the next
    proposals' centre box, as in MDNet: fed back so, the regression's small per-frame errors
    compound, and a box grew to 6x its target within 30 frames on DTB70 MountainBike6. With
    ``learn_regressed_box`` the updates learn it instead, and the proposals follow only as
    the Temporal Net does.
    """
    config = state.config
    top_scores, top = jax.lax.top_k(scores, config.top_candidates)
    candidates = proposals[top]
    windows = features.spatial_windows(candidates, config)
    inputs = frame_features.spatial_inputs(windows)
    if config.use_spatial:
        maps = spatial_model(config).apply({"params": state.spatial_params}, inputs)
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
    return box, reported, confidence, windows, inputs


def _keep_unless(learn, new, old):
    """``new`` where ``learn`` else ``old``, leaf by leaf (for small trees: a full select)."""
    return jax.tree.map(lambda n, o: jnp.where(learn, n, o), new, old)


def _update(
    state,
    key,
    learn,
    frame_features,
    proposals,
    proposal_features,
    box,
    confidence,
    windows,
    inputs,
):
    """Step 6: target pool, sample memories and Spatial Net, kept only where ``learn``.

    ``learn`` ([] bool) is False on failed frames and for ended sequences of a batch. The
    memories are written row by row under it (``memory.write``'s ``where``), never selected
    whole: a select over the 50 MB window memory would force a copy of it every frame (and
    under ``vmap`` one per sequence). The small parts (pool, target feature, the 1 MB Spatial
    Net and its momentum) are computed and selected. The Spatial Net trains on every frame,
    its few steps unrolled, and is dropped on a failure: no ``lax.cond`` and no loop, because
    on a GPU a conditional copies its predicate to the host and waits for the device (a round
    trip in the middle of every step), and both it and a loop split the step's kernels out of
    XLA's command buffers (CUDA graphs).
    """
    config = state.config
    k_pick, k_spatial, _ = jax.random.split(key, 3)
    box_feature = frame_features.of_boxes(box[None, :])[0]
    target_pool = pool.add(state.target_pool, box_feature, confidence)

    if config.online_samples == "resampled":
        sample_boxes, labels = sampling.training_samples(
            k_pick,
            box,
            config.samples_per_frame,
            config.scale_step,
            state.frame_size_wh,
            config.min_box_size,
        )
        sample_features = frame_features.of_boxes(sample_boxes)
    else:
        pick = jax.random.permutation(k_pick, config.num_proposals)[: config.samples_per_frame]
        labels = boxes.iou(proposals[pick], box[None, :])
        sample_features = proposal_features[pick]
    samples = memory.write(
        state.samples, sample_features, labels, config.first_frame_samples, where=learn
    )

    window_labels = spatial_net.gaussian_labels(
        windows, jnp.broadcast_to(box, windows.shape), config.spatial_grid, config.spatial_sigma
    )
    window_memory = memory.write(
        state.windows, inputs, window_labels, config.first_frame_windows, where=learn
    )
    spatial = (state.spatial_params, state.spatial_opt_state)
    if config.use_spatial:
        trained = _train_spatial(
            config, *spatial, k_spatial, window_memory, config.spatial_update_steps
        )
        spatial = _keep_unless(learn, trained, spatial)
    return state.replace(
        target_feature=jnp.where(learn, box_feature, state.target_feature),
        target_pool=_keep_unless(learn, target_pool, state.target_pool),
        samples=samples,
        windows=window_memory,
        spatial_params=spatial[0],
        spatial_opt_state=spatial[1],
    )


def _fine_tune(state, key, fine_tune, learn):
    """Step 6, every ``temporal_update_interval`` frames: the Temporal Net's fine-tune.

    ``fine_tune`` is a Python bool (static: the fine-tune is traced in or left out, one
    compiled step for each) or a traced [] bool, the predicate of a ``lax.cond``. The drivers
    know each frame's index and pass the bool: on a GPU a conditional copies its predicate to
    the host and waits for the device on every frame. A traced flag must be unbatched (batched
    tracking passes one for the whole batch): under ``vmap`` a cond on a batched predicate
    runs both branches, i.e. the fine-tune every frame. The result is kept only where
    ``learn`` (not on failed frames, not for ended sequences); that select of the 38 MB
    parameters and momentum sits inside the fine-tune branch, so the other frames neither
    copy nor select them.
    """
    config = state.config
    k_temporal = jax.random.split(key, 3)[2]

    def tuned(params, opt_state):
        trained = _train_temporal(
            config,
            params,
            opt_state,
            k_temporal,
            state.samples,
            state.target_pool.features,
            state.target_pool.valid,
            config.temporal_update_steps,
        )
        return _keep_unless(learn, trained, (params, opt_state))

    current = (state.temporal_params, state.temporal_opt_state)
    if isinstance(fine_tune, bool):
        params, opt_state = tuned(*current) if fine_tune else current
    else:
        params, opt_state = jax.lax.cond(fine_tune, tuned, lambda p, o: (p, o), *current)
    return state.replace(temporal_params=params, temporal_opt_state=opt_state)


def frame_keys(state):
    """(proposal key, update key) of the frame after ``state.frame_index``."""
    key = jax.random.fold_in(state.key, state.frame_index + 1)
    k_proposals, k_update = jax.random.split(key)
    return k_proposals, k_update


def propose(state, key):
    """Step 1: [num_proposals, 4] Gaussian proposals around the last box (wider after failures)."""
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
        config.proposal_aspect_std,
    )


def search_around(state):
    """[4] box the roi search window is centred on: the last box, grown after failures."""
    return boxes.scale_about_center(state.box_xywh, state.search_growth)


def fine_tune_due(frame_index, config):
    """Whether frame ``frame_index`` (1-based after the first) fine-tunes the Temporal Net."""
    return frame_index % config.temporal_update_interval == 0


def step_fn(weights, state, frame, fine_tune=None):
    """One frame of Algorithm 1.

    Args:
      weights: Feature Net weights (``weights.FeatureNetWeights``).
      state: TrackerState from ``init`` or the previous ``step``.
      frame: [H, W, 3] uint8 RGB frame (the size of the first frame, or padded to the batch's
        common size with the valid size carried in the state).
      fine_tune: whether this frame fine-tunes the Temporal Net: a Python bool (static in
        ``step``: the drivers pass ``fine_tune_due(index, config)`` and get two compiled steps,
        neither with a conditional), a traced [] bool (a ``lax.cond``; unbatched under
        ``vmap``, see ``_fine_tune``), or None: ``fine_tune_due`` of the state's frame index,
        traced.

    Returns:
      (new state, StepOutput). A state whose ``active`` flag is False is returned unchanged.
    """
    config = state.config
    frame_index = state.frame_index + 1
    if fine_tune is None:
        fine_tune = fine_tune_due(frame_index, config)
    elif not isinstance(fine_tune, jax.Array):
        fine_tune = bool(fine_tune)
    k_proposals, k_update = frame_keys(state)
    proposals = propose(state, k_proposals)
    frame_features = _FrameFeatures(
        weights, frame, search_around(state), state.frame_size_wh, config
    )
    proposal_features = frame_features.of_boxes(proposals)
    scores = _score_proposals(state, proposal_features)
    box, reported, confidence, windows, inputs = _locate(
        state, frame_features, proposals, proposal_features, scores
    )
    box = boxes.clip_to_frame(box, state.frame_size_wh, config.min_box_size)
    reported = boxes.clip_to_frame(reported, state.frame_size_wh, config.min_box_size)
    failed = confidence < config.failure_threshold
    # No select over the whole state: every part is kept or updated under its own mask
    # (``_update``), so the memories are written in place (see ``_update``).
    learn = state.active & ~failed
    grown = jnp.minimum(
        state.search_growth * config.failure_search_growth, config.max_search_growth
    )
    new_state = _update(
        state,
        k_update,
        learn,
        frame_features,
        proposals,
        proposal_features,
        reported if config.learn_regressed_box else box,
        confidence,
        windows,
        inputs,
    )
    if config.use_temporal:
        new_state = _fine_tune(new_state, k_update, fine_tune, learn)
    new_state = new_state.replace(
        box_xywh=jnp.where(learn, box, state.box_xywh),
        frame_index=jnp.where(state.active, frame_index, state.frame_index),
        score=jnp.where(state.active, confidence, state.score),
        search_growth=jnp.where(
            state.active, jnp.where(failed, grown, jnp.ones_like(grown)), state.search_growth
        ),
    )
    reported = jnp.where(failed | ~state.active, new_state.box_xywh, reported)
    output = state_lib.StepOutput(box_xywh=reported, score=confidence, failed=failed & state.active)
    return new_state, output


init = jax.jit(init_fn, static_argnames=("config",))
init.__doc__ = init_fn.__doc__
step = jax.jit(step_fn, donate_argnums=(1,), static_argnames=("fine_tune",))
step.__doc__ = step_fn.__doc__
