r"""How many proposals read features from outside the roi search window, per sequence.

In roi mode the Feature Net sees one search window around the last box
(``features.search_window``) and each proposal's feature is RoIAligned from its context region
(the proposal scaled by ``crop_size / crop_target_size``). Proposals move in units of the box's
mean side, so with the ``aspect`` window (the box scaled by ``search_size / roi_target_size``
per axis) many context regions of a tall or wide box stick out of the window along the short
side, and the part outside reads zeros; the ``covering`` window holds them all. For every
frame the ground-truth box stands in for the last box and the tracker's own sampler draws the
proposals (no tracking, no Feature Net: geometry only).

  python -m benchmarks.window_coverage --dataset_dir=$TSN_DATA_DIR [--search_window=aspect]
"""

import jax
import numpy as np
from absl import app, flags

from bin import config_flags, dataset_flags
from bin import track as track_cli  # noqa: F401  (defines the tracker's flags, --search_window too)
from tsn_jax import boxes, features, sampling
from tsn_jax.evaluation import datasets

_FRAMES = flags.DEFINE_integer("frames", 50, "Frames per sequence (evenly spaced).")


def outside_shares(box_xywh, frame_size_wh, config, key, growth=1.0):
    """(share of proposals partly outside, mean share of context area outside, the box's share
    of the window across the box's short side) for one box."""
    box = np.asarray(box_xywh, np.float32)
    proposals = sampling.gaussian_proposals(
        key,
        box,
        config.num_proposals,
        config.proposal_translation_std * growth,
        config.proposal_scale_std,
        config.scale_step,
        np.asarray(frame_size_wh, np.float32),
        config.min_box_size,
    )
    regions = np.asarray(boxes.scale_about_center(proposals, features.context_factor(config)))
    window = np.asarray(
        features.search_window(boxes.scale_about_center(box, growth), config), np.float64
    )
    low, high = regions[:, :2], regions[:, :2] + regions[:, 2:]
    inside_low = np.maximum(low, window[:2])
    inside_high = np.minimum(high, window[:2] + window[2:])
    inside = np.prod(np.clip(inside_high - inside_low, 0, None), axis=1)
    area = np.prod(regions[:, 2:], axis=1)
    partly = np.any((low < window[:2] - 1e-3) | (high > window[:2] + window[2:] + 1e-3), axis=1)
    short = int(np.argmin(box[2:]))
    outside = max(0.0, float(np.mean(1 - inside / area)))
    return float(partly.mean()), outside, float(box[2 + short] / window[2 + short])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    if not dataset_flags.DATASET_DIR.value:
        raise app.UsageError("--dataset_dir is required")
    config = config_flags.config_from_flags()
    print(
        "sequence | aspect w/h (median) | proposals partly outside | context area outside"
        " | box / window across the short side"
    )
    for sequence in datasets.load_otb_dataset(
        dataset_flags.DATASET_DIR.value, dataset_flags.SEQUENCES.value
    ):
        name = sequence.name
        truth = np.asarray(sequence.groundtruth_xywh, np.float32)
        picked = np.linspace(0, len(truth) - 1, _FRAMES.value).astype(int)
        picked = [t for t in picked if np.all(np.isfinite(truth[t]))]
        shares = np.asarray(
            [
                outside_shares(truth[t], sequence.frame_size_wh, config, jax.random.key(int(t)))
                for t in picked
            ]
        )
        aspect = np.median(truth[picked, 2] / truth[picked, 3])
        print(
            f"{name} | {aspect:.2f} | {shares[:, 0].mean():.2f} | {shares[:, 1].mean():.3f}"
            f" | {shares[:, 2].mean():.2f}"
        )


if __name__ == "__main__":
    app.run(main)
