r"""How well TSN sees a target's size: scores and box regressions of rescaled true boxes.

  python -m benchmarks.size_probe --flagfile=configs/otb.flags --dataset_dir=D \
      --sequences=vot2015_ball1 [--probe_frames=1,10,30,60] [--weights=FILE]

Tracks each sequence with the given config and, before the listed frames, takes boxes at the
true centre scaled by ``--probe_scales`` and prints (1) the Temporal Net's score of each and
(2) regressed / true size (sqrt of areas) for box regressions refitted on the first frame with
other RoI grids, contexts and ridges (``--probe_variants``, grid:context:ridge; context 0
means the config's), each applied once and twice (the second time to the first's boxes, their
features re-read). Ends with each variant's mean |log(regressed / true)| (0 is perfect; the
identity gives the mean |log scale|). docs/decisions.md D21 and T4-T9 come from it.

``--oracle_results=DIR`` instead scores the result files in DIR twice more: with each box's
centre kept and the true width and height put in, and with each sequence's boxes rescaled by
one constant (its median true / predicted size): what perfect sizes would be worth.
"""

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from bin import config_flags, dataset_flags
from bin import track as track_cli  # defines the tracking flags the flagfiles set
from tsn_jax import box_regression, boxes, features, sampling, tracker
from tsn_jax.evaluation import boxfiles, datasets, metrics

_FRAMES = flags.DEFINE_list("probe_frames", ["1", "10", "30", "60"], "Frames probed.")
_SCALES = flags.DEFINE_list(
    "probe_scales", ["0.7", "0.85", "1.0", "1.15", "1.3"], "Scales of the true box."
)
_ORACLE = flags.DEFINE_string(
    "oracle_results", None, "Score this results folder with oracle sizes instead (above)."
)
_VARIANTS = flags.DEFINE_list(
    "probe_variants",
    ["3:0:1000", "5:0:1000", "3:1:1000", "5:1:1000", "5:0:100"],
    "Box regressions refitted on frame 0, as grid:context:ridge (context 0: the config's).",
)


def _pooled(frame_features, boxes_xywh, grid, context, config):
    """[N, grid*grid*C] unit RoI features of boxes from a frame's search-window conv3 map."""
    regions = boxes.scale_about_center(boxes_xywh, context)
    in_window = features.to_window_pixels(regions, frame_features.window, config.search_size)
    pooled = features._roi_pool(frame_features.maps.conv3, in_window, grid, config)
    return features._flatten_normalized(pooled)


def _scaled(box_xywh, scales):
    centre = box_xywh[:2] + box_xywh[2:] / 2
    sizes = box_xywh[None, 2:] * scales[:, None]
    return np.concatenate([centre - sizes / 2, sizes], axis=1).astype(np.float32)


def probe(weights, sequence, config, frames, scales, variants):
    """Prints the probe of one sequence; returns {variant: [F, S] regressed / true sizes}."""
    variants = [(g, c or features.context_factor(config), r) for g, c, r in variants]
    first = jnp.asarray(sequence.frame(0))
    box0 = jnp.asarray(sequence.init_box_xywh, jnp.float32)
    size_wh = jnp.asarray([first.shape[1], first.shape[0]], jnp.float32)
    samples, ious = sampling.training_samples(
        jax.random.key(5), box0, config.num_init_samples, config.scale_step, size_wh, 4.0
    )
    first_features = features.FrameFeatures(weights, first, box0, None, config)
    fitted = []
    for grid, context, ridge in variants:
        sample_features = _pooled(first_features, samples, grid, context, config)
        weights_of = (ious >= config.box_regression_min_iou).astype(jnp.float32)
        fitted.append(box_regression.fit(sample_features, samples, box0, weights_of, ridge))
    state = tracker.init(weights, first, box0, jax.random.key(0), config)
    truth = np.asarray(sequence.groundtruth_xywh, np.float32)
    ratios = {v + (n,): [] for v in variants for n in ("once", "twice")}
    for t in range(1, max(frames) + 1):
        frame = jnp.asarray(sequence.frame(t))
        if t in frames and boxes.is_valid(truth[t : t + 1])[0]:
            probed = jnp.asarray(_scaled(truth[t], scales))
            # One Feature Net pass per probed frame, in the window the next step will use.
            frame_features = features.FrameFeatures(
                weights, frame, tracker.search_around(state), None, config
            )
            scores = tracker.score_proposals(
                state, frame_features, probed, frame_features.of_boxes(probed)
            )
            print(f"{sequence.name} frame {t}: scores {np.round(np.asarray(scores), 2)}")
            for variant, regression in zip(variants, fitted, strict=True):
                grid, context, _ = variant
                pooled = _pooled(frame_features, probed, grid, context, config)
                regressed = box_regression.predict(regression, pooled, probed)
                again = box_regression.predict(
                    regression, _pooled(frame_features, regressed, grid, context, config), regressed
                )
                for name, out in (("once", regressed), ("twice", again)):
                    out = np.asarray(out)
                    ratio = np.sqrt(np.prod(out[:, 2:], 1) / np.prod(truth[t, 2:]))
                    ratios[variant + (name,)].append(ratio)
                    print(f"  regression {variant} {name}: regressed / true {np.round(ratio, 2)}")
        state, _ = tracker.step(weights, state, frame)
    return {v: np.asarray(r) for v, r in ratios.items()}


def oracle_sizes(results_dir, sequences):
    """Prints AUC as tracked, with true sizes at the tracked centres, and rescaled."""
    scores = {"tracked": [], "true size": [], "one rescale": []}
    for sequence in sequences:
        truth = np.asarray(sequence.groundtruth_xywh, np.float64)
        tracked = np.asarray(boxfiles.read_boxes(f"{results_dir}/{sequence.name}.txt"))
        valid = boxes.is_valid(truth)
        centres = tracked[:, :2] + tracked[:, 2:] / 2
        sizes = np.where(valid[:, None], truth[:, 2:], tracked[:, 2:])
        true_size = np.concatenate([centres - sizes / 2, sizes], axis=1)
        ratio = np.median(np.sqrt(np.prod(truth[valid, 2:], 1) / np.prod(tracked[valid, 2:], 1)))
        rescaled_sizes = tracked[:, 2:] * ratio
        rescaled = np.concatenate([centres - rescaled_sizes / 2, rescaled_sizes], axis=1)
        for name, predicted in zip(scores, (tracked, true_size, rescaled), strict=True):
            scores[name].append(metrics.evaluate_sequence(predicted, truth))
        print(f"{sequence.name}: median true / tracked size {ratio:.2f}")
    for name, per_sequence in scores.items():
        print(f"{name}: AUC {metrics.aggregate(per_sequence).auc:.3f}")


def main(argv):
    del argv
    if _ORACLE.value:
        sequences = datasets.load_sequences(
            dataset_flags.DATASET_DIR.value, dataset_flags.SEQUENCES.value
        )
        return oracle_sizes(_ORACLE.value, sequences)
    config = config_flags.config_from_flags()
    weights, _ = track_cli.resolve_weights(
        flags.FLAGS.weights, config.feature_net, flags.FLAGS.allow_random_weights
    )
    frames = {int(f) for f in _FRAMES.value}
    scales = np.asarray([float(s) for s in _SCALES.value], np.float32)
    variants = [tuple(float(x) for x in v.split(":")) for v in _VARIANTS.value]
    variants = [(int(g), c, r) for g, c, r in variants]
    sequences = datasets.load_sequences(
        dataset_flags.DATASET_DIR.value, dataset_flags.SEQUENCES.value
    )
    print(f"scales {scales}; identity mean |log scale| {np.abs(np.log(scales)).mean():.3f}")
    for sequence in sequences:
        ratios = probe(weights, sequence, config, frames, scales, variants)
        for variant, ratio in ratios.items():
            error = np.abs(np.log(ratio)).mean() if ratio.size else float("nan")
            print(f"{sequence.name} {variant}: mean |log(regressed / true)| {error:.3f}")


if __name__ == "__main__":
    app.run(main)
