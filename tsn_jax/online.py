"""The learning half of the tracker: the nets, their first-frame training and the online updates.

Paper 3.2 and 3.3 and Algorithm 1's update steps: the Temporal Net learns on the first frame
from tuples of samples around the target and is fine-tuned every ``temporal_update_interval``
frames; the Spatial Net learns on the first frame and is updated every frame; tuple learning
(Eq. 1) picks the next frame's tuple from the target pool before the new target joins it.
Everything here is pure and jittable; ``tracker.py`` calls it in the paper's order.
"""

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from tsn_jax import boxes, features, memory, pool, sampling, spatial_net, temporal_net
from tsn_jax import config as config_lib
from tsn_jax import state as state_lib

# Training loops of at most this many steps are unrolled (``train_spatial``).
_MAX_UNROLL = 8

Params = dict  # A net's parameter tree (Flax Linen ``params``).
PyTree = Any


class Tuple(NamedTuple):
    """A tuple of tuple learning (Eq. 1).

    Attributes:
      slots: [K] int32 target-pool slots of its members (-1 without tuple learning).
      features: [K, D] float32 their unit features.
      coefficients: [K] float32 their Lasso coefficients (0 without tuple learning).
    """

    slots: jax.Array
    features: jax.Array
    coefficients: jax.Array


def temporal_model(config: config_lib.TrackerConfig) -> temporal_net.TemporalNet:
    """The Temporal Net module of a config."""
    return temporal_net.TemporalNet(
        hidden=config.temporal_hidden, dropout_rate=config.temporal_dropout
    )


def spatial_model(config: config_lib.TrackerConfig) -> spatial_net.SpatialNet:
    """The Spatial Net module of a config."""
    return spatial_net.SpatialNet(features=tuple(config.spatial_features))


def optimizers(
    config: config_lib.TrackerConfig,
) -> tuple[optax.GradientTransformation, optax.GradientTransformation]:
    """(Temporal Net optimizer, Spatial Net optimizer)."""
    return (
        temporal_net.make_optimizer(config.temporal_learning_rate, config.momentum),
        spatial_net.make_optimizer(
            config.spatial_learning_rate, config.momentum, config.spatial_clip_norm
        ),
    )


def train_spatial(
    config: config_lib.TrackerConfig,
    params: Params,
    opt_state: optax.OptState,
    key: jax.Array,
    windows: memory.SampleMemory,
    num_steps: int,
) -> tuple[Params, optax.OptState]:
    """``num_steps`` SGD steps of the Spatial Net on minibatches of the window memory.

    A few steps (an online update) are unrolled, many (the first frame's) run as a loop: on a
    GPU a loop's body is launched kernel by kernel, outside the command buffers that replay
    the rest of the step. Returns (params, opt_state).
    """
    _, optimizer = optimizers(config)
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
        unroll=num_steps <= _MAX_UNROLL,  # True: no loop at all (even for one step)
    )
    return params, opt_state


def train_temporal(
    config: config_lib.TrackerConfig,
    params: Params,
    opt_state: optax.OptState,
    key: jax.Array,
    samples: memory.SampleMemory,
    num_steps: int,
    candidates: jax.Array | None = None,
    candidates_valid: jax.Array | None = None,
    pair_boxes: jax.Array | None = None,
    tuples: memory.SampleMemory | None = None,
) -> tuple[Params, optax.OptState]:
    """``num_steps`` SGD steps of the Temporal Net on minibatches of ``samples``.

    Each sample is paired either with ``k`` members drawn from ``candidates`` [P, D] where
    ``candidates_valid`` [P] (first frame), or with its frame's stored tuple from ``tuples``
    (``TrackerState.tuples``; online fine-tune). ``pair_boxes``: optional [N, 4] boxes of the
    samples, which are also the candidates (first frame): the labels are then pairwise IoUs
    (``temporal_label="pair"``). Returns (params, opt_state).
    """
    optimizer, _ = optimizers(config)
    stored = {}
    if tuples is not None:
        stored = dict(tuple_table=tuples.inputs, sample_tuple_rows=tuple_rows_of_samples(config))
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
        num_steps=num_steps,
        batch_size=config.temporal_batch_size,
        k=config.tuple_size,
        shared_tuples=0 if tuples is not None else shared_tuples(config),
        loss_type=config.temporal_loss,
        sample_boxes=pair_boxes,
        tuple_boxes=pair_boxes,
        **stored,
    )
    return params, opt_state


def shared_tuples(config: config_lib.TrackerConfig) -> int:
    """Tuples a first-frame minibatch draws (``init_shared_tuples``, at most the batch)."""
    return min(config.init_shared_tuples, config.temporal_batch_size)


def tuple_rows_of_samples(config: config_lib.TrackerConfig) -> jax.Array:
    """[memory_size] int32: the row of ``TrackerState.tuples`` paired with each sample row.

    The sample memory's first ``first_frame_samples`` rows pair with row 0 (the first frame's
    tuple); its ring is written ``samples_per_frame`` rows a frame from row
    ``first_frame_samples`` on, so block j of the ring pairs with row 1 + j, which the tuple
    memory's own ring (one row a frame after its kept row 0) writes in the same frames.
    """
    rows = jnp.arange(config.memory_size)
    ring_block = (rows - config.first_frame_samples) // config.samples_per_frame
    return jnp.where(rows < config.first_frame_samples, 0, 1 + ring_block).astype(jnp.int32)


def first_frame_temporal(
    config: config_lib.TrackerConfig,
    keys: jax.Array,
    sample_features: jax.Array,
    samples_xywh: jax.Array,
    ious: jax.Array,
) -> tuple[Params, optax.OptState]:
    """The Temporal Net trained on the first frame's samples (paper 3.2.2).

    Args:
      config: TrackerConfig.
      keys: (init key, training key).
      sample_features: [N, D] float32 first-frame sample features; samples_xywh: [N, 4] their
        boxes; ious: [N] their IoU with the target.

    Returns:
      (params, opt_state). Tuples are drawn from the samples with IoU >= ``positive_iou``.
    """
    optimizer, _ = optimizers(config)
    dim = config.feature_size
    params = temporal_model(config).init(
        keys[0], jnp.zeros((1, config.tuple_size, dim)), jnp.zeros((1, dim)), train=False
    )["params"]
    opt_state = optimizer.init(params)
    if not config.use_temporal:
        return params, opt_state
    all_samples = memory.SampleMemory(
        inputs=sample_features,
        labels=ious,
        valid=jnp.ones_like(ious, bool),
        write_position=jnp.zeros((), jnp.int32),
    )
    return train_temporal(
        config,
        params,
        opt_state,
        keys[1],
        all_samples,
        config.temporal_init_steps,
        sample_features,
        ious >= config.positive_iou,
        samples_xywh if config.temporal_label == "pair" else None,
    )


def first_frame_memories(
    config: config_lib.TrackerConfig,
    key: jax.Array,
    sample_features: jax.Array,
    ious: jax.Array,
    first_feature: jax.Array,
) -> tuple[memory.SampleMemory, memory.SampleMemory, jax.Array]:
    """(sample memory, tuple memory, frame 1's tuple features [K, D]) after the first frame.

    The sample memory is filled with a random subset of the first frame's samples; its ring
    then starts at its first row, in step with the tuple memory's, whose every row holds frame
    1's tuple: the pool holds only the first target, so the tuple is K copies of it.
    """
    dim = config.feature_size
    keep = jax.random.permutation(key, config.num_init_samples)
    keep = keep[: min(config.num_init_samples, config.memory_size)]
    samples = memory.write(
        memory.empty(config.memory_size, (dim,)), sample_features[keep], ious[keep]
    )
    samples = samples.replace(write_position=jnp.zeros((), jnp.int32))
    first_tuple = jnp.broadcast_to(first_feature, (config.tuple_size, dim))
    rows = config.memory_frames + 1
    tuples = memory.write(
        memory.empty(rows, first_tuple.shape),
        jnp.broadcast_to(first_tuple, (rows, *first_tuple.shape)),
        jnp.zeros((rows,), jnp.float32),
    )
    return samples, tuples, first_tuple


def first_frame_spatial(
    config: config_lib.TrackerConfig,
    keys: jax.Array,
    frame_features: features.FrameFeatures,
    box: jax.Array,
    frame_size: jax.Array,
) -> tuple[Params, optax.OptState, memory.SampleMemory]:
    """The Spatial Net trained on the first frame (paper 3.3) and its window memory.

    Windows around boxes drawn 1.5x wider than the proposals (different overlaps with the
    target), each with a Gaussian label at the target.

    Args:
      config: TrackerConfig.
      keys: (window key, init key, training key).
      frame_features: the first frame's FrameFeatures.
      box: [4] float32 target box; frame_size: [2] valid frame size.

    Returns:
      (params, opt_state, window memory).
    """
    _, optimizer = optimizers(config)
    num_windows = min(config.spatial_init_samples, config.window_memory_size)
    candidates = sampling.gaussian_proposals(
        keys[0],
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
    params = spatial_model(config).init(keys[1], inputs[:1])["params"]
    opt_state = optimizer.init(params)
    windows = memory.write(
        memory.empty(config.window_memory_size, inputs.shape[1:], labels.shape[1:]), inputs, labels
    )
    if config.use_spatial:
        params, opt_state = train_spatial(
            config, params, opt_state, keys[2], windows, config.spatial_init_steps
        )
    return params, opt_state, windows


def learn_next_tuple(state: state_lib.TrackerState, target_feature: jax.Array) -> Tuple:
    """Tuple learning (Eq. 1): the tuple for the frame after the one ``target_feature`` is from.

    Args:
      state: TrackerState whose pool does not yet hold the target (D_{t-1}).
      target_feature: [D] float32 feature of the target just tracked (p_t).

    Returns:
      The Tuple. Without tuple learning (``tuple_learning="recent"``): the K most recent
      targets, slots -1 and coefficients 0.
    """
    config = state.config
    if config.tuple_learning == "recent":
        return Tuple(
            slots=jnp.full((config.tuple_size,), -1, jnp.int32),
            features=pool.recent_tuple(state.tuple_features, target_feature),
            coefficients=jnp.zeros((config.tuple_size,), jnp.float32),
        )
    slots, tuple_features, coefficients = pool.learn_tuple(
        state.target_pool,
        target_feature,
        config.lasso_lambda,
        config.tuple_size,
        config.lasso_iterations,
        config.lasso_method,
    )
    return Tuple(slots, tuple_features, coefficients[slots])


def keep_unless(learn: jax.Array, new: PyTree, old: PyTree) -> PyTree:
    """``new`` where ``learn`` else ``old``, leaf by leaf (for small trees: a full select)."""
    return jax.tree.map(lambda n, o: jnp.where(learn, n, o), new, old)


def _unchanged(*current: PyTree) -> tuple[PyTree, ...]:
    return current


def trained_by_cond(learn: jax.Array, train: Callable[..., Any], *current: PyTree) -> Any:
    """``train(*current)`` if ``learn`` else ``current``, by a ``lax.cond``."""
    return jax.lax.cond(learn, train, _unchanged, *current)


def trained_by_select(learn: jax.Array, train: Callable[..., Any], *current: PyTree) -> Any:
    """``train(*current)`` where ``learn`` else ``current``, by a select of every leaf."""
    return keep_unless(learn, train(*current), current)


def trained_unless(learn: jax.Array, train: Callable[..., Any], *current: PyTree) -> Any:
    """``train(*current)`` if [] bool ``learn`` else ``current``, for a large tree.

    On a CPU by a conditional: a failed frame skips the training and nothing is copied, where
    a select of the Temporal Net's 38 MB parameters and momentum cost ~10 ms a fine-tune frame
    (docs/decisions.md D49). On other platforms by a select: on a GPU a conditional copies its
    predicate to the host and waits for the device. Chosen when the step is lowered
    (``lax.platform_dependent``); under ``vmap`` with a batched ``learn`` both are a select.
    ``train`` returns a tree shaped like ``current``.
    """
    return jax.lax.platform_dependent(
        *current,
        cpu=functools.partial(trained_by_cond, learn, train),
        default=functools.partial(trained_by_select, learn, train),
    )


def update(
    state: state_lib.TrackerState,
    key: jax.Array,
    learn: jax.Array,
    frame_features: features.FrameFeatures,
    proposals: jax.Array,
    proposal_features: jax.Array,
    box: jax.Array,
    confidence: jax.Array,
    windows: jax.Array,
    inputs: jax.Array,
) -> state_lib.TrackerState:
    """Steps e-f: tuple learning, the target pool, the sample memories and the Spatial Net.

    Eq. 1 codes the new target p_t over the pool before p_t joins it (D_{t-1}), and the chosen
    entries become the next frame's tuple; the tuple that scored this frame is stored beside
    this frame's samples for the fine-tune.

    Args:
      state: the state before the frame.
      key: the frame's update key.
      learn: [] bool, False on failed frames and for ended sequences of a batch: nothing
        changes then.
      frame_features: the frame's FrameFeatures.
      proposals: [N, 4] the frame's proposals; proposal_features: [N, D] their features.
      box: [4] float32 the tracked box; confidence: [] its score.
      windows: [B, 4] the candidates' Spatial Net windows; inputs: [B, G, G, C] their inputs.

    Returns:
      The updated state. The memories are written row by row under ``learn``
      (``memory.write``'s ``where``), never selected whole: a select over the 50 MB window
      memory would force a copy of it every frame. The small parts (pool, tuple, the 1 MB
      Spatial Net and its momentum) are computed and selected. The Spatial Net trains on every
      frame, its few steps unrolled, and is dropped on a failure: no ``lax.cond`` and no loop,
      because on a GPU a conditional copies its predicate to the host and waits for the
      device, and both it and a loop split the step's kernels out of XLA's command buffers.
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
        trained = train_spatial(
            config, *spatial, k_spatial, window_memory, config.spatial_update_steps
        )
        spatial = keep_unless(learn, trained, spatial)
    kept_tuple = keep_unless(
        learn,
        next_tuple,
        Tuple(state.tuple_slots, state.tuple_features, state.tuple_coefficients),
    )
    return state.replace(
        tuple_features=kept_tuple.features,
        tuple_slots=kept_tuple.slots,
        tuple_coefficients=kept_tuple.coefficients,
        target_pool=keep_unless(learn, target_pool, state.target_pool),
        samples=samples,
        tuples=tuples,
        windows=window_memory,
        spatial_params=spatial[0],
        spatial_opt_state=spatial[1],
    )


def fine_tune(
    state: state_lib.TrackerState, key: jax.Array, due: bool | jax.Array, learn: jax.Array
) -> state_lib.TrackerState:
    """Step e, every ``temporal_update_interval`` frames: the Temporal Net's fine-tune.

    Each stored sample is paired with the tuple its frame was scored with.

    Args:
      state: the state after ``update``.
      key: the frame's update key.
      due: a Python bool (static: the fine-tune is traced in or left out, one compiled step
        for each) or a traced [] bool, the predicate of a ``lax.cond``. The drivers know each
        frame's index and pass the bool: on a GPU a conditional copies its predicate to the
        host and waits for the device on every frame. A traced flag must be unbatched (batched
        tracking passes one for the whole batch): under ``vmap`` a cond on a batched predicate
        runs both branches, i.e. the fine-tune every frame.
      learn: [] bool; the result is kept only where True (``trained_unless``: on a CPU a
        conditional, elsewhere a select of the 38 MB parameters and momentum). Either sits
        inside the fine-tune branch, so the other frames neither copy nor select them.

    Returns:
      The state with the fine-tuned Temporal Net.
    """
    config = state.config
    k_temporal = jax.random.split(key, 3)[2]

    def trained(params, opt_state):
        return train_temporal(
            config,
            params,
            opt_state,
            k_temporal,
            state.samples,
            config.temporal_update_steps,
            tuples=state.tuples,
        )

    tuned = functools.partial(trained_unless, learn, trained)
    current = (state.temporal_params, state.temporal_opt_state)
    if isinstance(due, bool):
        params, opt_state = tuned(*current) if due else current
    else:
        params, opt_state = jax.lax.cond(due, tuned, _unchanged, *current)
    return state.replace(temporal_params=params, temporal_opt_state=opt_state)
