"""Per-box features for the Temporal Net and per-window inputs for the Spatial Net.

Two ways, chosen by ``TrackerConfig.proposal_features`` (docs/decisions.md D3):

* ``crop`` (the paper's): every box is cropped with context from the frame, resized to
  ``crop_size`` and passed through the Feature Net; its conv3 map is average-pooled to a
  ``feature_grid`` x ``feature_grid`` grid.
* ``roi`` (fast): the Feature Net runs once on a search window around the last box
  (``search_size`` pixels a side, the box spanning ``roi_target_size`` of them); each box's
  context region is pooled from the window's conv3 map by RoIAlign to the same grid. The
  window's conv1-3 maps also feed the Spatial Net.

In both, a box's feature describes its context region: the box scaled about its centre by
``crop_size / crop_target_size`` (MDNet's 107 / 75). Features are unit L2-normalised (the
target pool stores unit features, paper 3.2.1). Boxes are xywh frame pixels (``boxes.py``).
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from tsn_jax import boxes, crop, feature_net, pool, spatial_net
from tsn_jax import config as config_lib
from tsn_jax import weights as weights_lib


def context_factor(config: config_lib.TrackerConfig) -> float:
    """Context region side / box side."""
    return config.crop_size / config.crop_target_size


def search_window(box_xywh: jax.Array, config: config_lib.TrackerConfig) -> jax.Array:
    """[4] xywh search window of the roi mode around the [4] xywh box (frame pixels).

    "aspect": the box scaled by search_size / roi_target_size per axis, so the box spans
    roi_target_size of the window on both axes. "covering": each axis at least that, and wide
    enough to hold the context region of every proposal the sampler can draw around the box
    (shifts up to 2 std of translation_std x the mean side, scales up to scale_step^(2 std)),
    so no proposal of a tall or wide target reads zeros across its short side. For a square
    box the two are the same.
    """
    aspect = boxes.scale_about_center(box_xywh, config.search_size / config.roi_target_size)
    if config.search_window == "aspect":
        return aspect
    sizes = box_xywh[2:]
    largest_scale = config.scale_step ** (2 * config.proposal_scale_std)
    reach = 4 * config.proposal_translation_std * jnp.mean(sizes)
    covering = jnp.maximum(aspect[2:], context_factor(config) * largest_scale * sizes + reach)
    centre = box_xywh[:2] + sizes / 2
    return jnp.concatenate([centre - covering / 2, covering])


def to_window_pixels(
    boxes_xywh: jax.Array, window_xywh: jax.Array, window_size: float
) -> jax.Array:
    """Maps frame-pixel boxes [N, 4] into the pixels of a window resized to window_size^2."""
    scale_x = window_size / window_xywh[2]
    scale_y = window_size / window_xywh[3]
    return jnp.stack(
        [
            (boxes_xywh[:, 0] - window_xywh[0]) * scale_x,
            (boxes_xywh[:, 1] - window_xywh[1]) * scale_y,
            boxes_xywh[:, 2] * scale_x,
            boxes_xywh[:, 3] * scale_y,
        ],
        axis=-1,
    )


def adaptive_average_pool(maps: jax.Array, grid: int) -> jax.Array:
    """Average-pools [N, h, w, C] maps to [N, grid, grid, C] (torch AdaptiveAvgPool2d bins).

    Bin i covers rows floor(i * h / grid) .. ceil((i + 1) * h / grid) - 1, so a map that is
    already grid x grid passes through unchanged.
    """
    _, height, width, _ = maps.shape
    rows = []
    for i in range(grid):
        r0, r1 = (i * height) // grid, -((-(i + 1) * height) // grid)
        cols = []
        for j in range(grid):
            c0, c1 = (j * width) // grid, -((-(j + 1) * width) // grid)
            cols.append(maps[:, r0:r1, c0:c1, :].mean(axis=(1, 2)))
        rows.append(jnp.stack(cols, axis=1))
    return jnp.stack(rows, axis=1)


def _flatten_normalized(pooled):
    """[N, g, g, C] -> [N, g * g * C] unit-norm features."""
    flat = pooled.reshape(pooled.shape[0], -1)
    return jax.vmap(pool.normalize)(flat)


def _compute_dtype(config):
    return jnp.bfloat16 if config.compute_dtype == "bfloat16" else jnp.float32


def _in_chunks(fn, boxes_xywh, chunk):
    """Applies fn ([chunk, 4] -> [chunk, ...]) over [N, 4] boxes chunk by chunk (bounded memory)."""
    num = boxes_xywh.shape[0]
    if num <= chunk:
        return fn(boxes_xywh)
    num_chunks = -(-num // chunk)
    padded = jnp.concatenate(
        [boxes_xywh, jnp.broadcast_to(boxes_xywh[:1], (num_chunks * chunk - num, 4))]
    )
    out = jax.lax.map(fn, padded.reshape(num_chunks, chunk, 4))
    return out.reshape(num_chunks * chunk, *out.shape[2:])[:num]


def crop_features(
    weights: weights_lib.FeatureNetWeights,
    frame: jax.Array,
    boxes_xywh: jax.Array,
    config: config_lib.TrackerConfig,
    valid_size_wh: jax.Array | None = None,
) -> jax.Array:
    """``crop`` mode: [N, D] unit features of boxes, from per-box crops.

    Args:
      weights: feature_net weights (``weights.FeatureNetWeights``).
      frame: [H, W, 3] uint8 or float frame (RGB, 0-255).
      boxes_xywh: [N, 4] float32 boxes, frame pixels.
      config: TrackerConfig.
      valid_size_wh: optional [2] valid frame size inside a padded frame.

    Returns:
      [N, D] float32 features, D = conv3 channels * feature_grid^2.
    """

    def chunk_features(chunk_boxes):
        regions = boxes.scale_about_center(chunk_boxes, context_factor(config))
        crops = crop.crop_and_resize(frame, regions, config.crop_size, valid_size_wh=valid_size_wh)
        maps = feature_net.apply_frozen(weights, crops, dtype=_compute_dtype(config))
        return _flatten_normalized(adaptive_average_pool(maps.conv3, config.feature_grid))

    return _in_chunks(chunk_features, boxes_xywh, config.init_chunk)


def window_maps(
    weights: weights_lib.FeatureNetWeights,
    frame: jax.Array,
    window_xywh: jax.Array,
    config: config_lib.TrackerConfig,
    valid_size_wh: jax.Array | None = None,
) -> feature_net.FeatureMaps:
    """``roi`` mode: Feature Net maps of one search window, each [h_i, w_i, C_i]."""
    image = crop.crop_and_resize(
        frame, window_xywh[None, :], config.search_size, valid_size_wh=valid_size_wh
    )
    maps = feature_net.apply_frozen(weights, image, dtype=_compute_dtype(config))
    return jax.tree.map(lambda m: m[0], maps)


def _roi_pool(feature_map, boxes_in_window, out_size, config):
    """RoIAlign of window-pixel boxes from one [h, w, C] map of the search window."""
    scale = feature_map.shape[0] / config.search_size
    return crop.roi_align(feature_map, boxes_in_window, out_size, spatial_scale=scale)


def roi_features(
    maps: feature_net.FeatureMaps,
    window_xywh: jax.Array,
    boxes_xywh: jax.Array,
    config: config_lib.TrackerConfig,
) -> jax.Array:
    """``roi`` mode: [N, D] unit features of boxes, RoIAligned from the window's conv3 map."""
    regions = boxes.scale_about_center(boxes_xywh, context_factor(config))
    in_window = to_window_pixels(regions, window_xywh, config.search_size)
    pooled = _roi_pool(maps.conv3, in_window, config.feature_grid, config)
    return _flatten_normalized(pooled)


def spatial_windows(boxes_xywh: jax.Array, config: config_lib.TrackerConfig) -> jax.Array:
    """[B, 4] Spatial Net windows: candidate boxes with ``spatial_context`` times their side."""
    return boxes.scale_about_center(boxes_xywh, config.spatial_context)


def crop_spatial_inputs(
    weights: weights_lib.FeatureNetWeights,
    frame: jax.Array,
    windows_xywh: jax.Array,
    config: config_lib.TrackerConfig,
    valid_size_wh: jax.Array | None = None,
) -> jax.Array:
    """``crop`` mode: [B, G, G, C1+C2+C3] Spatial Net inputs from per-window crops."""

    def chunk_inputs(chunk_windows):
        crops = crop.crop_and_resize(
            frame, chunk_windows, config.spatial_window_size, valid_size_wh=valid_size_wh
        )
        maps = feature_net.apply_frozen(weights, crops, dtype=_compute_dtype(config))
        return spatial_net.fuse(list(maps), config.spatial_grid)

    return _in_chunks(chunk_inputs, windows_xywh, config.init_chunk)


def roi_spatial_inputs(
    maps: feature_net.FeatureMaps,
    window_xywh: jax.Array,
    windows_xywh: jax.Array,
    config: config_lib.TrackerConfig,
) -> jax.Array:
    """``roi`` mode: [B, G, G, C1+C2+C3] Spatial Net inputs RoIAligned from the window's maps."""
    in_window = to_window_pixels(windows_xywh, window_xywh, config.search_size)
    layers = [_roi_pool(m, in_window, config.spatial_grid, config) for m in maps]
    return spatial_net.fuse(layers, config.spatial_grid)


def target_feature(
    weights: weights_lib.FeatureNetWeights,
    frame: ArrayLike,
    box_xywh: ArrayLike,
    config: config_lib.TrackerConfig,
) -> jax.Array:
    """[D] unit feature of one box, seen as on the first frame (roi: in its own search window).

    What the target pool would hold for a box tracked exactly: probes and tests take pools of
    real features from ground-truth boxes with it.

    Args:
      weights: feature_net weights (``weights.FeatureNetWeights``).
      frame: [H, W, 3] uint8 or float frame (RGB, 0-255).
      box_xywh: [4] float32 box, frame pixels.
      config: TrackerConfig.
    """
    box_xywh = jnp.asarray(box_xywh, jnp.float32)
    if config.proposal_features == "roi":
        window = search_window(box_xywh, config)
        maps = window_maps(weights, frame, window, config)
        return roi_features(maps, window, box_xywh[None], config)[0]
    return crop_features(weights, frame, box_xywh[None], config)[0]


class FrameFeatures:
    """Feature extraction for one frame, with the crop / roi choice made once.

    In roi mode the Feature Net runs once, at construction, on the search window around
    ``around_xywh``; ``of_boxes`` and ``spatial_inputs`` then pool from its maps. In crop
    mode each call crops and runs the Feature Net on its own boxes.
    """

    def __init__(
        self,
        weights: weights_lib.FeatureNetWeights,
        frame: jax.Array,
        around_xywh: jax.Array,
        valid_size_wh: jax.Array | None,
        config: config_lib.TrackerConfig,
    ) -> None:
        """
        Args:
          weights: Feature Net weights (``weights.FeatureNetWeights``).
          frame: [H, W, 3] uint8 RGB frame.
          around_xywh: [4] float32 box the roi search window is centred on.
          valid_size_wh: optional [2] valid size of a padded frame (batched tracking).
          config: TrackerConfig.
        """
        self.weights, self.frame, self.valid, self.config = weights, frame, valid_size_wh, config
        if config.proposal_features == "roi":
            self.window = search_window(around_xywh, config)
            self.maps = window_maps(weights, frame, self.window, config, valid_size_wh)

    def of_boxes(self, boxes_xywh: jax.Array) -> jax.Array:
        """[N, 4] boxes -> [N, D] unit features."""
        if self.config.proposal_features == "roi":
            return roi_features(self.maps, self.window, boxes_xywh, self.config)
        return crop_features(self.weights, self.frame, boxes_xywh, self.config, self.valid)

    def spatial_inputs(self, windows_xywh: jax.Array) -> jax.Array:
        """[B, 4] Spatial Net windows -> [B, G, G, C] fused conv1-3 maps."""
        if self.config.proposal_features == "roi":
            return roi_spatial_inputs(self.maps, self.window, windows_xywh, self.config)
        return crop_spatial_inputs(self.weights, self.frame, windows_xywh, self.config, self.valid)
