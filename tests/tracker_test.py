"""Tests for tsn_jax.tracker: init/step on the generated sequence with a tiny config.

Random Feature Net weights and tiny sizes keep this CPU-fast; accuracy is measured by the
benchmarks on real sequences, not here.
"""

import dataclasses
import re

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tsn_jax import boxes, online, pool, tracker
from tsn_jax import config as config_lib
from tsn_jax import features as features_lib
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import runner, synthetic

SMALL = config_lib.TrackerConfig(
    proposal_features="roi",
    crop_size=35,
    crop_target_size=25,
    search_size=63,
    roi_target_size=25,
    feature_grid=2,
    num_proposals=16,
    pool_capacity=4,
    lasso_iterations=20,
    tuple_size=2,
    temporal_hidden=16,
    temporal_batch_size=8,
    num_init_samples=64,
    init_chunk=32,
    temporal_init_steps=5,
    temporal_update_steps=2,
    temporal_update_interval=2,
    memory_frames=3,
    samples_per_frame=4,
    first_frame_samples=4,
    top_candidates=3,
    spatial_window_size=35,
    spatial_grid=5,
    spatial_features=(8, 4),
    spatial_init_samples=8,
    spatial_init_steps=3,
    spatial_update_steps=1,
    spatial_memory=12,
    first_frame_windows=2,
    spatial_batch_size=4,
    failure_threshold=0.0,
)
NUM_FRAMES = 5
# Options that change one part each, tracked together and shared by the tests of those parts:
# one compiled config serves seven options (each part also has its own test below).
COMBINED = {
    "temporal_loss": "l2",
    "box_regression": False,
    "spatial_loss": "l2",
    "temporal_label": "pair",
    "tuple_learning": "recent",
    "tuple_size": 3,
    "first_frame_samples": 2,
}
# Every frame fails (no score reaches 1.1); every frame is a fine-tune frame.
FAILING = dataclasses.replace(SMALL, failure_threshold=1.1, temporal_update_interval=1)


@pytest.fixture(scope="module")
def weights():
    return weights_lib.random_weights("vgg16", jax.random.key(0))


@pytest.fixture(scope="module")
def sequence():
    return synthetic.make_sequence(num_frames=NUM_FRAMES, frame_size_wh=(96, 80), seed=0)


def _track(weights, frames, box, config, seed=0, step=tracker.step):
    state = tracker.init(weights, frames[0], box, jax.random.key(seed), config)
    outputs = []
    for frame in frames[1:]:
        state, out = step(weights, state, frame)
        outputs.append(out)
    return state, jax.tree.map(lambda *x: np.stack(x), *outputs)


def test_init_and_step_shapes_and_finite(weights, sequence):
    frames = [sequence.frame(i) for i in range(NUM_FRAMES)]
    box = np.asarray(sequence.init_box_xywh, np.float32)
    state, outputs = _track(weights, frames, box, SMALL)
    chex.assert_shape(outputs.box_xywh, (NUM_FRAMES - 1, 4))
    chex.assert_tree_all_finite(
        (state.replace(key=jax.random.key_data(state.key)), outputs.box_xywh, outputs.score)
    )
    assert int(state.frame_index) == NUM_FRAMES - 1
    assert (outputs.box_xywh[:, 2:] >= SMALL.min_box_size).all()
    # Boxes stay inside the frame (boxes.clip_to_frame).
    assert (outputs.box_xywh[:, 0] + outputs.box_xywh[:, 2] <= 96 + 1e-3).all()
    # Each non-failed frame adds its box to the pool (slot 0 is the first frame's).
    assert int(state.target_pool.valid.sum()) == min(SMALL.pool_capacity, NUM_FRAMES)


def test_step_compiles_once_for_a_sequence(weights, sequence):
    frames = [sequence.frame(i) for i in range(NUM_FRAMES)]
    counted = jax.jit(chex.assert_max_traces(tracker.step_fn, n=1))
    _track(weights, frames, np.asarray(sequence.init_box_xywh, np.float32), SMALL, step=counted)


def test_same_seed_same_boxes_other_seed_other_boxes(weights, sequence):
    frames = [sequence.frame(i) for i in range(NUM_FRAMES)]
    box = np.asarray(sequence.init_box_xywh, np.float32)
    _, first = _track(weights, frames, box, SMALL, seed=3)
    _, again = _track(weights, frames, box, SMALL, seed=3)
    _, other = _track(weights, frames, box, SMALL, seed=4)
    np.testing.assert_array_equal(first.box_xywh, again.box_xywh)
    assert not np.array_equal(first.box_xywh, other.box_xywh)


def test_vmap_over_two_sequences_matches_one_by_one(weights):
    sequences = [
        synthetic.make_sequence(num_frames=3, frame_size_wh=(96, 80), seed=s) for s in (1, 2)
    ]
    frames = np.stack([[s.frame(i) for i in range(3)] for s in sequences])  # [2, T, H, W, 3]
    init_boxes = np.stack([np.asarray(s.init_box_xywh, np.float32) for s in sequences])
    keys = jax.random.split(jax.random.key(0), 2)
    init = jax.jit(jax.vmap(tracker.init_fn, in_axes=(None, 0, 0, 0, None)), static_argnums=4)
    states = init(weights, frames[:, 0], init_boxes, keys, SMALL)
    step = jax.jit(jax.vmap(tracker.step_fn, in_axes=(None, 0, 0)))
    batched = []
    for t in range(1, 3):
        states, out = step(weights, states, frames[:, t])
        batched.append(out.box_xywh)
    for i in range(2):
        state = tracker.init(weights, frames[i, 0], init_boxes[i], keys[i], SMALL)
        for t in range(1, 3):
            state, out = tracker.step(weights, state, frames[i, t])
            np.testing.assert_allclose(out.box_xywh, batched[t - 1][i], atol=1e-2)


def test_no_host_transfer_inside_a_step(weights, sequence):
    frames = [jax.device_put(sequence.frame(i)) for i in range(3)]
    state = tracker.init(
        weights,
        frames[0],
        jnp.asarray(sequence.init_box_xywh, jnp.float32),
        jax.random.key(0),
        SMALL,
    )
    state, _ = tracker.step(weights, state, frames[1])  # compile outside the guard
    with jax.transfer_guard("disallow"):
        state, out = tracker.step(weights, state, frames[2])
    assert np.isfinite(np.asarray(out.box_xywh)).all()


@pytest.mark.parametrize(
    "changes",
    [
        {"proposal_features": "crop"},
        {"use_temporal": False},
        {"use_spatial": False},
        COMBINED,
    ],
    ids=["crop", "no_temporal", "no_spatial", "combined"],
)
def test_modes_and_ablations_track(weights, sequence, changes):
    config = dataclasses.replace(SMALL, **changes)
    frames = [sequence.frame(i) for i in range(3)]
    _, outputs = _track(weights, frames, np.asarray(sequence.init_box_xywh, np.float32), config)
    assert np.isfinite(outputs.box_xywh).all()


def test_box_regression_is_fitted_on_the_first_frame(weights, sequence):
    box = np.asarray(sequence.init_box_xywh, np.float32)
    frame = sequence.frame(0)
    fitted = tracker.init(weights, frame, box, jax.random.key(0), SMALL).box_regression
    chex.assert_shape(fitted, (SMALL.feature_size + 1, 4))
    assert np.isfinite(fitted).all() and np.abs(fitted).max() > 0
    off = dataclasses.replace(SMALL, **COMBINED)  # box_regression=False
    assert not np.asarray(
        tracker.init(weights, frame, box, jax.random.key(0), off).box_regression
    ).any()


def test_pair_label_changes_the_first_frame_training(weights, sequence):
    box = np.asarray(sequence.init_box_xywh, np.float32)
    trained = [
        tracker.init(
            weights,
            sequence.frame(0),
            box,
            jax.random.key(0),
            dataclasses.replace(SMALL, temporal_label=label),
        ).temporal_params
        for label in ("target", "pair")
    ]
    assert not np.allclose(trained[0]["fc3"]["bias"], trained[1]["fc3"]["bias"])


def test_update_codes_the_target_over_the_pool_before_adding_it(weights, sequence):
    """Eq. 1 over D_{t-1}: the next tuple is the Lasso of the tracked box's feature over the
    pool as it was before the step, and the slot the box then takes is not in it."""
    box = np.asarray(sequence.init_box_xywh, np.float32)
    state = tracker.init(weights, sequence.frame(0), box, jax.random.key(0), SMALL)
    for t in (1, 2):  # two entries in the pool, so the Lasso has a choice
        state, _ = tracker.step(weights, state, sequence.frame(t))
    frame = sequence.frame(3)
    features = features_lib.FrameFeatures(  # before the step, which donates the state's buffers
        weights, frame, tracker.search_around(state), np.asarray(state.frame_size_wh), SMALL
    )
    before = jax.device_get(state.target_pool)
    scored_with = np.asarray(state.tuple_features)
    scored_slots = np.asarray(state.tuple_slots)
    block = 1 + (int(state.samples.write_position) - SMALL.first_frame_samples) // 4
    new_state, output = tracker.step(weights, state, frame)
    assert not output.failed
    target = features.of_boxes(new_state.box_xywh[None])[0]
    slots, tuple_features, coeffs = pool.learn_tuple(
        before, target, SMALL.lasso_lambda, SMALL.tuple_size, SMALL.lasso_iterations
    )
    np.testing.assert_array_equal(new_state.tuple_slots, slots)
    np.testing.assert_allclose(new_state.tuple_features, tuple_features, atol=1e-5)
    np.testing.assert_allclose(new_state.tuple_coefficients, coeffs[slots], atol=1e-5)
    added = int(np.argmax(~before.valid))  # the first empty slot takes the new target
    np.testing.assert_allclose(new_state.target_pool.features[added], target, atol=1e-4)
    assert added not in np.asarray(new_state.tuple_slots)
    # The output reports the tuple that scored this frame, which the tuple memory stores
    # beside the frame's samples.
    np.testing.assert_array_equal(output.tuple_slots, scored_slots)
    np.testing.assert_allclose(new_state.tuples.inputs[block], scored_with)


def test_recent_tuple_is_the_last_targets(weights, sequence):
    config = dataclasses.replace(SMALL, **COMBINED)  # the recent tuple of 3 targets
    box = np.asarray(sequence.init_box_xywh, np.float32)
    state = tracker.init(weights, sequence.frame(0), box, jax.random.key(0), config)
    targets = [np.asarray(state.target_pool.features[0])]
    for t in (1, 2):
        frame = sequence.frame(t)
        features = features_lib.FrameFeatures(
            weights, frame, tracker.search_around(state), np.asarray(state.frame_size_wh), config
        )
        state, output = tracker.step(weights, state, frame)
        assert not output.failed
        targets.append(np.asarray(features.of_boxes(state.box_xywh[None])[0]))
    want = np.stack([targets[2], targets[1], targets[0]])
    np.testing.assert_allclose(state.tuple_features, want, atol=1e-4)
    np.testing.assert_array_equal(state.tuple_slots, -1)


def test_tuple_rows_of_samples_follow_the_rings():
    """Each sample row pairs with the tuple row its frame wrote: kept rows with row 0, the
    ring's frame blocks with rows 1.. in the order both rings are written."""
    config = dataclasses.replace(SMALL, first_frame_samples=2)  # 2 kept + 3 blocks of 4
    rows = np.asarray(online.tuple_rows_of_samples(config))
    np.testing.assert_array_equal(rows, [0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3])


def test_first_frame_samples_stay_in_the_memory(weights, sequence):
    # 2 first-frame rows + a ring of 3 frames x 4 samples; 4 frames wrap the ring.
    config = dataclasses.replace(SMALL, **COMBINED)  # first_frame_samples=2
    frames = [sequence.frame(i) for i in range(NUM_FRAMES)]
    box = np.asarray(sequence.init_box_xywh, np.float32)
    first = tracker.init(weights, frames[0], box, jax.random.key(0), config)
    chex.assert_shape(first.samples.labels, (config.memory_size,))
    assert config.memory_size == 2 + config.memory_frames * config.samples_per_frame
    kept = jax.device_get(first.samples)  # before the steps, which donate the state
    state, outputs = _track(weights, frames, box, config)
    assert not outputs.failed.any()
    np.testing.assert_array_equal(state.samples.inputs[:2], kept.inputs[:2])
    np.testing.assert_array_equal(state.samples.labels[:2], kept.labels[:2])
    # Every ring row was overwritten by a later frame's samples.
    assert not np.any(np.all(state.samples.inputs[2:, None] == kept.inputs[None], axis=-1))


def test_first_frame_windows_stay_in_the_spatial_memory(weights, sequence):
    # SMALL keeps 2 first-frame rows + a ring of 12; 4 frames x 3 candidates overwrite it.
    config = SMALL
    frames = [sequence.frame(i) for i in range(NUM_FRAMES)]
    box = np.asarray(sequence.init_box_xywh, np.float32)
    first = tracker.init(weights, frames[0], box, jax.random.key(0), config)
    chex.assert_shape(first.windows.valid, (2 + config.spatial_memory,))
    kept = jax.device_get(first.windows)  # before the steps, which donate the state
    state, outputs = _track(weights, frames, box, config)
    assert not outputs.failed.any()
    np.testing.assert_array_equal(state.windows.inputs[:2], kept.inputs[:2])
    np.testing.assert_array_equal(state.windows.labels[:2], kept.labels[:2])
    flat_now = state.windows.inputs[2:].reshape(config.spatial_memory, -1)
    flat_first = kept.inputs.reshape(kept.inputs.shape[0], -1)
    assert not np.any(np.all(flat_now[:, None] == flat_first[None], axis=-1))


def test_failure_keeps_the_box_and_widens_the_search(weights, sequence):
    config = FAILING
    frames = [sequence.frame(i) for i in range(3)]
    box = np.asarray(sequence.init_box_xywh, np.float32)
    state, outputs = _track(weights, frames, box, config)
    assert outputs.failed.all()
    expected = boxes.clip_to_frame(box, (96, 80), config.min_box_size)
    np.testing.assert_allclose(outputs.box_xywh, np.broadcast_to(expected, (2, 4)), atol=1e-5)
    assert float(state.search_growth) == pytest.approx(config.failure_search_growth**2)
    assert int(state.target_pool.valid.sum()) == 1


@pytest.mark.parametrize("fine_tune", [None, True])
def test_a_failed_frame_changes_only_the_frame_index_score_and_search(weights, sequence, fine_tune):
    # None: the fine-tune flag traced (a conditional); True: the drivers' static flag.
    config = FAILING
    frames = [sequence.frame(i) for i in range(2)]
    box = np.asarray(sequence.init_box_xywh, np.float32)
    state = tracker.init(weights, frames[0], box, jax.random.key(0), config)

    def unchanging(s):
        s = s.replace(frame_index=0, score=0.0, search_growth=0.0, key=jax.random.key_data(s.key))
        return jax.tree.map(np.asarray, s)

    before = unchanging(state)
    # A fine-tune frame, too.
    after, output = tracker.step(weights, state, frames[1], fine_tune=fine_tune)
    assert bool(output.failed) and int(after.frame_index) == 1
    jax.tree.map(np.testing.assert_array_equal, before, unchanging(after))


@pytest.mark.parametrize("learn", [True, False])
def test_trained_unless_by_cond_and_by_select_agree(learn):
    # The CPU form (a conditional) and the other platforms' (a select) keep or train alike,
    # alone and under vmap with a batched flag (batched tracking).
    params = {"w": jnp.arange(6.0).reshape(2, 3), "b": jnp.ones(3)}
    momentum = {"w": jnp.full((2, 3), 0.5), "b": jnp.zeros(3)}

    def train(p, m):
        return jax.tree.map(lambda x: 2 * x + 1, p), jax.tree.map(lambda x: x - 1, m)

    flag = jnp.asarray(learn)
    expected = train(params, momentum) if learn else (params, momentum)
    for form in (online.trained_by_cond, online.trained_by_select, online.trained_unless):
        got = jax.jit(form, static_argnums=1)(flag, train, params, momentum)
        jax.tree.map(np.testing.assert_array_equal, got, expected)
    flags = jnp.asarray([learn, not learn])
    stacked = jax.tree.map(lambda x: jnp.stack([x, x]), (params, momentum))
    batched = jax.vmap(online.trained_unless, in_axes=(0, None, 0, 0))(flags, train, *stacked)
    jax.tree.map(lambda b, e: np.testing.assert_array_equal(b[0], e), batched, expected)
    other = train(params, momentum) if not learn else (params, momentum)
    jax.tree.map(lambda b, e: np.testing.assert_array_equal(b[1], e), batched, other)


def test_trained_unless_is_a_conditional_on_the_cpu():
    params = {"w": jnp.ones((4, 4))}
    hlo = (
        jax.jit(online.trained_unless, static_argnums=1)
        .lower(jnp.asarray(True), lambda p: (jax.tree.map(jnp.sin, p),), params)
        .as_text()
    )
    assert "stablehlo.case" in hlo or "stablehlo.if" in hlo


def test_step_writes_the_memories_in_place(weights, sequence):
    # No select over, or copy of, a whole sample memory in the compiled step: the window
    # memory is the largest part of the state (50 MB by default), and under vmap a select
    # or copy of it per frame and sequence cost more than the step's other work.
    frame = sequence.frame(0)
    state = jax.eval_shape(
        lambda f: tracker.init_fn(
            weights, f, jnp.asarray(sequence.init_box_xywh), jax.random.key(0), SMALL
        ),
        frame,
    )
    hlo = tracker.step.lower(weights, state, frame).compile().as_text()
    for buffer in (state.windows.inputs, state.samples.inputs):
        shape = f"f32[{','.join(map(str, buffer.shape))}]" + "{"
        whole = [
            line
            for line in hlo.splitlines()
            if f"= {shape}" in line and (" copy(" in line or " select(" in line)
        ]
        assert not whole, whole


def _exported_for_gpu(weights, sequence, fine_tune):
    frame = jax.ShapeDtypeStruct(sequence.frame(0).shape, jnp.uint8)
    state = jax.eval_shape(
        lambda f: tracker.init_fn(
            weights, f, jnp.asarray(sequence.init_box_xywh), jax.random.key(0), SMALL
        ),
        frame,
    )
    exported = jax.export.export(tracker.step, platforms=("cuda",))
    return exported(weights, state, frame, fine_tune=fine_tune).mlir_module()


def _runtime_conditionals(mlir: str) -> list[str]:
    """The ``stablehlo.if`` ops and the ``stablehlo.case`` ops whose index is not known when
    compiling: ``lax.platform_dependent`` exported for one platform leaves a case on the
    constant platform index and a one-branch case on its result, both folded by XLA."""
    static = set(re.findall(r"(%[\w#]+) = stablehlo\.constant", mlir))
    found = [line for line in mlir.splitlines() if "stablehlo.if" in line]
    for line in mlir.splitlines():
        case = re.search(r"(%[\w#]+)(?::\d+)? = \"stablehlo\.case\"\((%[\w#]+)\)", line)
        if case and case.group(2) in static:
            static.add(case.group(1))
        elif case:
            found.append(line)
    return found


def test_gpu_step_has_no_loop_or_conditional_between_fine_tunes(weights, sequence):
    # Lowered for a GPU (no GPU needed): XLA:GPU runs a loop's body kernel by kernel and a
    # conditional after a device-to-host copy of its predicate, both outside the command
    # buffers (CUDA graphs) that replay straight-line kernels in one launch. The step of a
    # frame without a fine-tune must have neither: FISTA and the Spatial update are unrolled.
    plain = _exported_for_gpu(weights, sequence, fine_tune=False)
    for op in ("stablehlo.while", "stablehlo.if", "stablehlo.case"):
        assert op not in plain, op
    # The fine-tune frames' step loops over the Temporal Net's SGD steps, with no conditional
    # (on a GPU a failed frame's fine-tune is selected away: ``online.trained_unless``).
    tuned = _exported_for_gpu(weights, sequence, fine_tune=True)
    assert tuned.count("stablehlo.while") == 1
    assert not _runtime_conditionals(tuned)


def test_static_fine_tune_flag_matches_the_traced_one(weights, sequence):
    frames = [sequence.frame(i) for i in range(4)]
    box = np.asarray(sequence.init_box_xywh, np.float32)

    def static(w, s, f):
        return tracker.step(w, s, f, fine_tune=tracker.fine_tune_due(int(s.frame_index) + 1, SMALL))

    traced_state, traced = _track(weights, frames, box, SMALL)
    static_state, by_flag = _track(weights, frames, box, SMALL, step=static)
    np.testing.assert_allclose(by_flag.box_xywh, traced.box_xywh, atol=1e-4)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5),
        static_state.temporal_params,
        traced_state.temporal_params,
    )
    # Frame 2 fine-tuned both ways (SMALL's interval is 2).
    first = tracker.init(weights, frames[0], box, jax.random.key(0), SMALL).temporal_params
    moved = jax.tree.map(lambda a, b: np.abs(a - b).max(), static_state.temporal_params, first)
    assert max(jax.tree.leaves(moved)) > 1e-6


def test_inactive_state_does_not_change(weights, sequence):
    frames = [sequence.frame(i) for i in range(2)]
    state = tracker.init(
        weights,
        frames[0],
        np.asarray(sequence.init_box_xywh, np.float32),
        jax.random.key(0),
        SMALL,
    )
    state = state.replace(active=jnp.zeros((), bool))
    before = jax.tree.map(np.asarray, state.replace(key=jax.random.key_data(state.key)))
    after, _ = tracker.step(weights, state, frames[1])
    after = after.replace(key=jax.random.key_data(after.key))
    jax.tree.map(np.testing.assert_array_equal, before, jax.tree.map(np.asarray, after))


def test_compiled_executables_are_released_only_when_maps_run_low(monkeypatch):
    held, limit = runner._memory_map_counts()  # this process's, on Linux
    assert 0 < held < limit
    add_one = jax.jit(lambda x: x + 1)
    add_one(1)
    monkeypatch.setattr(runner, "_memory_map_counts", lambda: (40, 100))
    assert not runner.release_compiled_if_maps_run_low()
    assert add_one._cache_size() == 1
    monkeypatch.setattr(runner, "_memory_map_counts", lambda: (60, 100))
    assert runner.release_compiled_if_maps_run_low()
    assert add_one._cache_size() == 0


def test_track_sequence_rejects_a_frame_of_another_size(weights):
    class Mixed:
        name = "mixed"
        init_box_xywh = np.asarray([10.0, 10.0, 20.0, 20.0])

        def __len__(self):
            return 2

        def __iter__(self):
            yield np.zeros((80, 96, 3), np.uint8)
            yield np.zeros((80, 90, 3), np.uint8)

    with pytest.raises(runner.TrackingError, match="frame 1 is 90x80 but the first frame is 96x80"):
        runner.track_sequence(weights, Mixed(), SMALL, progress=False)


@pytest.mark.parametrize(
    "init_box",
    [[-10.0, -8.0, 30.0, 25.0], [90.0, 70.0, 20.0, 20.0], [40.0, 30.0, 2.0, 1.5]],
    ids=["leaves_top_left", "leaves_bottom_right", "below_min_size"],
)
def test_boxes_stay_finite_inside_the_frame_and_above_min_size(weights, sequence, init_box):
    """Targets partly outside the frame or tinier than min_box_size: clipped, never NaN."""
    frames = [sequence.frame(i) for i in range(3)]
    box = np.asarray(init_box, np.float32)
    state, outputs = _track(weights, frames, box, SMALL)
    boxes_xywh = np.concatenate([np.asarray(state.box_xywh)[None], outputs.box_xywh])
    assert np.all(np.isfinite(boxes_xywh))
    assert np.all(boxes_xywh[:, 2:] >= SMALL.min_box_size - 1e-4)
    assert np.all(boxes_xywh[:, :2] >= -1e-4)
    assert np.all(boxes_xywh[:, 0] + boxes_xywh[:, 2] <= 96 + 1e-3)
    assert np.all(boxes_xywh[:, 1] + boxes_xywh[:, 3] <= 80 + 1e-3)


def test_a_nan_score_is_a_failure(weights, sequence):
    """A diverged Temporal Net (NaN parameters) gives a NaN confidence: the frame must count as
    failed (box kept, no update), not pass the threshold test and keep learning."""
    box = np.asarray(sequence.init_box_xywh, np.float32)
    state = tracker.init(weights, sequence.frame(0), box, jax.random.key(0), SMALL)
    broken = state.replace(
        temporal_params=jax.tree.map(lambda p: p * jnp.nan, state.temporal_params)
    )
    kept = np.asarray(broken.box_xywh)
    pool_before = np.asarray(broken.target_pool.valid)
    new_state, output = tracker.step(weights, broken, sequence.frame(1))
    assert np.isnan(output.score) and bool(output.failed)
    np.testing.assert_array_equal(output.box_xywh, kept)
    np.testing.assert_array_equal(new_state.target_pool.valid, pool_before)
    assert float(new_state.search_growth) > 1.0
