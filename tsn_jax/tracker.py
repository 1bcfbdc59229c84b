"""The TSN tracker: ``init`` on the first frame and ``step`` per frame (paper Algorithm 1).

Both are pure functions of arrays. ``init`` and ``step`` are the jitted public forms; research
code may call the un-jitted ``init_fn`` / ``step_fn`` inside its own ``jit`` or ``vmap``.

One ``step`` (DESIGN.md "The per-frame step"), with no host round trip inside:

1. 256 proposals from a Gaussian around the last box (wider after failures).
2. Proposal features (``features.py``: per-proposal crops or one search window + RoIAlign).
3. Temporal Net similarities (Eq. 2) of the proposals to the tuple learnt after the previous
   frame; top B. (Without the Temporal Net the Spatial Net ranks the proposals.)
4. Spatial Net confidence maps of the B candidates' windows; argmax refinement (Eq. 7) and the
   weighted ensemble (Eq. 8) give the new box. The reported box takes its size from the first
   frame's bounding-box regression of the candidates (``box_regression.py``; not in the paper).
5. Failure test: best similarity below ``failure_threshold`` keeps the last box, widens the
   search and skips every update.
6. Otherwise: tuple learning (Eq. 1) codes the new target p_t over the pool D_{t-1} and
   keeps the next frame's tuple; then p_t joins the pool. The sample memories and the Spatial
   Net are updated every frame; the Temporal Net is fine-tuned every
   ``temporal_update_interval`` frames (a static flag from the driver, or a ``lax.cond``) on
   the stored samples, each paired with the learnt tuple its frame was scored with. The
   Temporal Net's sample memory takes a random subset of the proposals, labelled by their IoU
   with the tracked box; its first ``first_frame_samples`` rows keep first-frame samples for
   the whole sequence, and the Spatial Net's window memory its first ``first_frame_windows``
   windows.
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
    config,
    params,
    opt_state,
    key,
    samples,
    candidates,
    candidates_valid,
    steps,
    pair_boxes=None,
    tuples=None,
):
    """``pair_boxes``: optional [N, 4] boxes of the samples, which are also the tuple
    candidates (first frame): the labels are then pairwise IoUs (``temporal_label="pair"``).
    ``tuples``: optional memory of stored tuples (``TrackerState.tuples``), which then pair
    with the samples instead of random draws from the candidates."""
    stored = {}
    if tuples is not None:
        stored = dict(tuple_table=tuples.inputs, sample_tuple_rows=tuple_rows_of_samples(config))
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
        **stored,
    )
    return params, opt_state


def tuple_rows_of_samples(config):
    """[memory_size] int32: the row of ``TrackerState.tuples`` paired with each sample row.

    The sample memory's first ``first_frame_samples`` rows pair with row 0 (the first frame's
    tuple); its ring is written ``samples_per_frame`` rows a frame from row
    ``first_frame_samples`` on, so block j of the ring pairs with row 1 + j, which the tuple
    memory's own ring (one row a frame after its kept row 0) writes in the same frames.
    """
    rows = jnp.arange(config.memory_size)
    ring_block = (rows - config.first_frame_samples) // config.samples_per_frame
    return jnp.where(rows < config.first_frame_samples, 0, 1 + ring_block).astype(jnp.int32)


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
    # The ring's first write starts at its first row, in step with the tuple memory's.
    sample_memory = sample_memory.replace(write_position=jnp.zeros((), jnp.int32))
    # Frame 1's tuple: the pool holds only the first-frame target (slot 0).
    first_tuple = jnp.broadcast_to(target_pool.features[0], (config.tuple_size, dim))
    tuple_memory = memory.write(
        memory.empty(config.memory_frames + 1, first_tuple.shape),
        jnp.broadcast_to(first_tuple, (config.memory_frames + 1, *first_tuple.shape)),
        jnp.zeros((config.memory_frames + 1,), jnp.float32),
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


def score_proposals(state, frame_features, proposals, proposal_features):
    """Step 3: [N] scores of the [N, 4] proposals, the higher the likelier the target.

    With the Temporal Net: its similarity (Eq. 2) of each proposal's [N, D] feature to the
    state's learnt tuple. Without it (the ablation), the Spatial Net ranks the proposals: each
    scores its confidence map's value at the proposal's own centre (the centre cell of its
    window), i.e. how sure the Spatial Net is that the target is centred there.
    """
    config = state.config
    if config.use_temporal:
        return temporal_model(config).apply(
            {"params": state.temporal_params},
            state.tuple_features,
            proposal_features,
            train=False,
        )
    windows = features.spatial_windows(proposals, config)
    maps = spatial_model(config).apply(
        {"params": state.spatial_params}, frame_features.spatial_inputs(windows)
    )
    centre = config.spatial_grid // 2
    return maps[:, centre, centre]


def _locate(state, frame_features, proposals, proposal_features, scores):
    """Top-B candidates -> Spatial refinement (Eq. 7), ensemble (Eq. 8) and box regression.

    Returns (box [4], reported box [4], confidence [], windows [B, 4], spatial inputs
    [B, G, G, C]). The box drives the next frame's proposals; the reported box has the same
    centre and the size the box regression gives the candidates. It never becomes the next
    proposals' centre box, as in MDNet: fed back so, the regression's small per-frame errors
    compound, and a box grew to 6x its target within 30 frames on DTB70 MountainBike6.
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
    """Step 6: tuple learning, target pool, sample memories and Spatial Net, kept only where
    ``learn``.

    Eq. 1 codes the new target p_t over the pool before p_t joins it (D_{t-1}), and the
    chosen entries become the next frame's tuple; the tuple that scored this frame is stored
    beside this frame's samples for the fine-tune.

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
    next_tuple = learn_next_tuple(state, box_feature)
    target_pool = pool.add(state.target_pool, box_feature, confidence)

    pick = jax.random.permutation(k_pick, config.num_proposals)[: config.samples_per_frame]
    labels = boxes.iou(proposals[pick], box[None, :])
    samples = memory.write(
        state.samples, proposal_features[pick], labels, config.first_frame_samples, where=learn
    )
    tuples = memory.write(
        state.tuples, state.tuple_features[None], jnp.zeros((1,)), keep_rows=1, where=learn
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
    slots, tuple_features, coefficients = _keep_unless(
        learn,
        next_tuple,
        (state.tuple_slots, state.tuple_features, state.tuple_coefficients),
    )
    return state.replace(
        tuple_features=tuple_features,
        tuple_slots=slots,
        tuple_coefficients=coefficients,
        target_pool=_keep_unless(learn, target_pool, state.target_pool),
        samples=samples,
        tuples=tuples,
        windows=window_memory,
        spatial_params=spatial[0],
        spatial_opt_state=spatial[1],
    )


def learn_next_tuple(state, target_feature):
    """Tuple learning (Eq. 1): the tuple for the frame after the one ``target_feature`` is from.

    Args:
      state: TrackerState whose pool does not yet hold the target (D_{t-1}).
      target_feature: [D] float32 feature of the target just tracked (p_t).

    Returns:
      (slots [K] int32, features [K, D] float32, coefficients [K] float32). Without tuple
      learning (``tuple_learning="recent"``): the K most recent targets, slots -1 and
      coefficients 0.
    """
    config = state.config
    if config.tuple_learning == "recent":
        recent = pool.recent_tuple(state.tuple_features, target_feature)
        return (
            jnp.full((config.tuple_size,), -1, jnp.int32),
            recent,
            jnp.zeros((config.tuple_size,), jnp.float32),
        )
    slots, tuple_features, coefficients = pool.learn_tuple(
        state.target_pool,
        target_feature,
        config.lasso_lambda,
        config.tuple_size,
        config.lasso_iterations,
        config.lasso_method,
    )
    return slots, tuple_features, coefficients[slots]


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
            None,
            None,
            config.temporal_update_steps,
            tuples=state.tuples,
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
    scores = score_proposals(state, frame_features, proposals, proposal_features)
    box, reported, confidence, windows, inputs = _locate(
        state, frame_features, proposals, proposal_features, scores
    )
    box = boxes.clip_to_frame(box, state.frame_size_wh, config.min_box_size)
    reported = boxes.clip_to_frame(reported, state.frame_size_wh, config.min_box_size)
    # A NaN or infinite confidence (a diverged net) is a failure too.
    failed = ~(confidence >= config.failure_threshold) | ~jnp.isfinite(confidence)
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
        box,
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
