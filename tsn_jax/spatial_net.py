"""Spatial Net (paper 3.3, Eqs. 3-8): a confidence map over a candidate's window.

Input: the conv1, conv2 and conv3 maps of a window around a candidate (the candidate with
``spatial_context`` times its side), each resized to one G x G grid, scaled to unit RMS per
layer and concatenated (``fuse``). Three convolutions (ReLU, ReLU, sigmoid; Eqs. 3-4) give a
G x G confidence map. Training (Eq. 5): squared error against a Gaussian label centred on the
target (sigma proportional to the target size) plus ``weight_decay * ||theta||^2``, SGD with
momentum (Eq. 6). Refinement (Eq. 7) moves each candidate's centre to the map's argmax; the
final box is the weighted ensemble of the refined candidates (Eq. 8).

Grid convention: cell (i, j) of a window [x, y, w, h] covers x + j * w / G .. x + (j + 1) * w / G
(columns) and likewise rows; its centre is x + (j + 0.5) * w / G.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from jax.typing import ArrayLike


class PatchConv(nn.Module):
    """A k x k, stride 1, SAME convolution computed as patches @ kernel.

    Same parameters (``kernel`` [k, k, C_in, C_out] HWIO, ``bias`` [C_out]) and result as
    ``nn.Conv(features, (k, k), padding="SAME")``, but its weight gradient is a matrix
    product: XLA:CPU's convolution weight gradient for hundreds of input channels was ~10x
    slower (3.1 s vs 0.34 s for two Spatial Net steps, measured on the 2-core CPU).
    """

    features: int
    size: int = 3

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        channels, k = x.shape[-1], self.size
        kernel = self.param(
            "kernel", nn.initializers.lecun_normal(), (k, k, channels, self.features)
        )
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        if k == 1:
            return x @ kernel[0, 0] + bias
        return _patches(x, k) @ kernel.reshape(k * k * channels, self.features) + bias


def _patches(x, k):
    """[..., H, W, C] -> [..., H, W, k * k * C]: each cell's k x k SAME neighbourhood, ordered
    (kh, kw, C) like an HWIO kernel's rows. Shifted slices of the zero-padded map: XLA:CPU's
    ``conv_general_dilated_patches`` is a convolution with a one-hot kernel, k^2 C times the
    work (16 windows through the Spatial Net: 30 ms against 7 ms on the 2-core CPU)."""
    height, width = x.shape[-3], x.shape[-2]
    before = (k - 1) // 2
    pad = [(0, 0)] * (x.ndim - 3) + [(before, k - 1 - before)] * 2 + [(0, 0)]
    padded = jnp.pad(x, pad)
    shifted = [padded[..., i : i + height, j : j + width, :] for i in range(k) for j in range(k)]
    return jnp.concatenate(shifted, axis=-1)


class SpatialNet(nn.Module):
    """Fused conv1-3 maps [B, G, G, C] -> confidence maps [B, G, G] in (0, 1).

    Attributes:
      features: channels of the two hidden convolutions; the last layer has one channel and
        a sigmoid.
      kernel_sizes: side of each of the three convolutions. The paper does not give them;
        the default 1, 3, 3 first mixes the 448+ fused channels per cell (9x cheaper than a
        3x3 there), then looks at 5x5 cells.
    """

    features: tuple = (64, 32)
    kernel_sizes: tuple = (1, 3, 3)

    @nn.compact
    def __call__(self, inputs: jax.Array, logits: bool = False) -> jax.Array:
        """[B, G, G, C] -> [B, G, G] confidences (or, with ``logits``, the pre-sigmoid map)."""
        x = inputs
        widths = (*self.features, 1)
        for index, (width, size) in enumerate(zip(widths, self.kernel_sizes, strict=True)):
            x = PatchConv(width, size, name=f"conv{index + 1}")(x)
            x = nn.relu(x) if index < len(widths) - 1 else x
        return x[..., 0] if logits else nn.sigmoid(x[..., 0])


def fuse(maps: Sequence[jax.Array], grid: int) -> jax.Array:
    """Resizes feature maps to one grid, scales each layer to unit RMS and concatenates them.

    Args:
      maps: list of [B, h_i, w_i, C_i] float maps (conv1, conv2, conv3 of the same windows).
      grid: G, the output side.

    Returns:
      [B, G, G, sum C_i] float32. Each layer is divided by its root-mean-square per window, so
      layers of very different magnitudes contribute alike.
    """
    fused = []
    for layer in maps:
        layer = layer.astype(jnp.float32)
        if layer.shape[1:3] != (grid, grid):
            layer = jax.image.resize(
                layer, (layer.shape[0], grid, grid, layer.shape[3]), method="linear"
            )
        rms = jnp.sqrt(jnp.mean(jnp.square(layer), axis=(1, 2, 3), keepdims=True))
        fused.append(layer / jnp.maximum(rms, 1e-6))
    return jnp.concatenate(fused, axis=-1)


def cell_centers(windows_xywh: jax.Array, grid: int) -> tuple[jax.Array, jax.Array]:
    """Centres of the grid cells of [B, 4] windows: (xs [B, G], ys [B, G]) frame pixels."""
    offsets = (jnp.arange(grid, dtype=jnp.float32) + 0.5) / grid
    xs = windows_xywh[:, 0:1] + offsets[None, :] * windows_xywh[:, 2:3]
    ys = windows_xywh[:, 1:2] + offsets[None, :] * windows_xywh[:, 3:4]
    return xs, ys


def gaussian_labels(
    windows_xywh: jax.Array, targets_xywh: jax.Array, grid: int, sigma_factor: float
) -> jax.Array:
    """Soft labels: a Gaussian on each window's grid centred on its target.

    Args:
      windows_xywh: [B, 4] windows, frame pixels.
      targets_xywh: [B, 4] target boxes, frame pixels.
      grid: G.
      sigma_factor: sigma = sigma_factor * target width (x) and height (y).

    Returns:
      [B, G, G] float32 labels in [0, 1]; rows are y, columns x.
    """
    xs, ys = cell_centers(windows_xywh, grid)
    centre_x = targets_xywh[:, 0:1] + targets_xywh[:, 2:3] / 2
    centre_y = targets_xywh[:, 1:2] + targets_xywh[:, 3:4] / 2
    sigma_x = sigma_factor * targets_xywh[:, 2:3]
    sigma_y = sigma_factor * targets_xywh[:, 3:4]
    gx = jnp.exp(-jnp.square(xs - centre_x) / (2 * jnp.square(sigma_x)))
    gy = jnp.exp(-jnp.square(ys - centre_y) / (2 * jnp.square(sigma_y)))
    return gy[:, :, None] * gx[:, None, :]


LOSSES = ("l2", "bce")


def loss(
    params: optax.Params,
    map_logits: jax.Array,
    labels: jax.Array,
    weight_decay: float,
    kind: str = "l2",
) -> jax.Array:
    """Eq. 5: mean over windows of the summed map error + weight_decay * ||params||^2.

    Args:
      params: the Spatial Net's parameters (for the decay term).
      map_logits: [B, G, G] pre-sigmoid maps.
      labels: [B, G, G] Gaussian labels in [0, 1].
      weight_decay: lambda of Eq. 5.
      kind: "l2": the paper's squared error of the sigmoid map; "bce": binary cross-entropy
        with the soft labels, whose gradient (sigmoid - label) does not vanish when the map
        saturates (docs/decisions.md D14: the squared error's all-zero maps).
    """
    if kind == "l2":
        errors = jnp.square(jax.nn.sigmoid(map_logits) - labels)
    elif kind == "bce":
        errors = optax.sigmoid_binary_cross_entropy(map_logits, labels)
    else:
        raise ValueError(f"unknown Spatial Net loss {kind!r}; expected one of {LOSSES}")
    data = jnp.mean(jnp.sum(errors, axis=(1, 2)))
    decay = sum(jnp.sum(jnp.square(p)) for p in jax.tree.leaves(params))
    return data + weight_decay * decay


def make_optimizer(
    learning_rate: float, momentum: float, clip_norm: float | None = 1.0
) -> optax.GradientTransformation:
    """SGD with momentum (Eq. 6) on gradients clipped to a global norm of ``clip_norm``.

    Without clipping, the first steps' large gradients (all 289 cells start near 0.5 while
    most labels are 0) drive the sigmoid into saturation: all-zero maps that never recover.
    Measured on two real sequences (DTB70 MountainBike6, OTB Bird2): SGD 1e-4 unclipped
    refined a candidate to 66-106 px from the target (worse than the 15-23 px it started
    from); clipped at 1.0 with the paper's rate 0.01, to 6 px.
    """
    sgd = optax.sgd(learning_rate, momentum=momentum)
    return optax.chain(optax.clip_by_global_norm(clip_norm), sgd) if clip_norm else sgd


def train_step(
    model: SpatialNet,
    optimizer: optax.GradientTransformation,
    params: optax.Params,
    opt_state: optax.OptState,
    batch: tuple[jax.Array, jax.Array],
    weight_decay: float,
    loss_kind: str = "l2",
) -> tuple[optax.Params, optax.OptState, jax.Array]:
    """One SGD step on (inputs [B, G, G, C], labels [B, G, G]) -> (params, opt_state, loss)."""
    inputs, labels = batch
    value, grads = jax.value_and_grad(
        lambda p: loss(
            p, model.apply({"params": p}, inputs, logits=True), labels, weight_decay, loss_kind
        )
    )(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, value


def train(
    model: SpatialNet,
    optimizer: optax.GradientTransformation,
    params: optax.Params,
    opt_state: optax.OptState,
    key: jax.Array,
    inputs: ArrayLike,
    labels: ArrayLike,
    valid: ArrayLike,
    *,
    num_steps: int,
    batch_size: int,
    weight_decay: float,
    loss_kind: str = "l2",
    unroll: bool = False,
) -> tuple[optax.Params, optax.OptState, jax.Array]:
    """``num_steps`` SGD steps on minibatches of valid memory entries (a ``lax.scan``, or unrolled).

    Args:
      model, optimizer, params, opt_state: as in ``train_step``.
      key: PRNG key for drawing minibatches.
      inputs: [S, G, G, C] fused maps; labels: [S, G, G]; valid: [S] bool.
      num_steps, batch_size: static ints.
      weight_decay: lambda of Eq. 5.
      loss_kind: "l2" or "bce" (``loss``).
      unroll: static bool; True: the steps are straight-line code, no loop (for the few steps
        of an online update, so that on a GPU they join the step's command buffers).

    Returns:
      (params, opt_state, losses [num_steps]).
    """
    inputs, labels, valid = jnp.asarray(inputs), jnp.asarray(labels), jnp.asarray(valid)
    valid = valid | ((jnp.arange(valid.shape[0]) == 0) & ~jnp.any(valid))
    logits = jnp.where(valid, 0.0, -jnp.inf)

    def one_step(carry, step_key):
        p, o = carry
        picked = jax.random.categorical(step_key, logits, shape=(batch_size,))
        p, o, value = train_step(
            model, optimizer, p, o, (inputs[picked], labels[picked]), weight_decay, loss_kind
        )
        return (p, o), value

    step_keys = jax.random.split(key, num_steps)
    if not unroll:
        (params, opt_state), losses = jax.lax.scan(one_step, (params, opt_state), step_keys)
        return params, opt_state, losses
    losses = []
    for step_key in step_keys:  # (a scan keeps a loop for a single step)
        (params, opt_state), value = one_step((params, opt_state), step_key)
        losses.append(value)
    return params, opt_state, jnp.stack(losses) if losses else jnp.zeros((0,), jnp.float32)


def refine(
    maps: jax.Array,
    windows_xywh: jax.Array,
    boxes_xywh: jax.Array,
    method: str = "argmax",
    min_peak: float = 0.0,
) -> tuple[jax.Array, jax.Array]:
    """Eq. 7: moves each candidate's centre to its confidence map's peak.

    Args:
      maps: [B, G, G] confidence maps.
      windows_xywh: [B, 4] the windows the maps cover, frame pixels.
      boxes_xywh: [B, 4] the candidates; their sizes are kept.
      method: "argmax" (Eq. 7: the best cell's centre) or "centroid" (the map's centre of
        mass: a flat, unsure map leaves the candidate where it is, a sharp one moves it to
        its peak).
      min_peak: a candidate whose map peaks below this stays where it is (the Spatial Net
        does not see the target there; the centre of an all-near-zero map is noise).

    Returns:
      (refined boxes [B, 4], peak values [B]).
    """
    num, grid, _ = maps.shape
    flat = maps.reshape(num, -1)
    index = jnp.argmax(flat, axis=1)
    peaks = jnp.take_along_axis(flat, index[:, None], axis=1)[:, 0]
    xs, ys = cell_centers(windows_xywh, grid)
    if method == "argmax":
        centre_x = jnp.take_along_axis(xs, (index % grid)[:, None], axis=1)[:, 0]
        centre_y = jnp.take_along_axis(ys, (index // grid)[:, None], axis=1)[:, 0]
    elif method == "centroid":
        mass = jnp.maximum(jnp.sum(maps, axis=(1, 2)), 1e-12)
        centre_x = jnp.sum(maps * xs[:, None, :], axis=(1, 2)) / mass
        centre_y = jnp.sum(maps * ys[:, :, None], axis=(1, 2)) / mass
    else:
        raise ValueError(f"unknown refine method {method!r}; expected 'argmax' or 'centroid'")
    refined = jnp.stack(
        [
            centre_x - boxes_xywh[:, 2] / 2,
            centre_y - boxes_xywh[:, 3] / 2,
            boxes_xywh[:, 2],
            boxes_xywh[:, 3],
        ],
        axis=-1,
    )
    refined = jnp.where((peaks >= min_peak)[:, None], refined, boxes_xywh)
    return refined, peaks


def ensemble(boxes_xywh: jax.Array, weights: jax.Array) -> jax.Array:
    """Eq. 8: sum_k pi_k * box_k with pi = weights / sum(weights) (uniform if they sum to 0).

    Args:
      boxes_xywh: [B, 4]; weights: [B] non-negative importances.

    Returns:
      [4] box.
    """
    weights = jnp.maximum(weights, 0.0)
    total = jnp.sum(weights)
    pi = jnp.where(total > 0, weights / jnp.maximum(total, 1e-12), 1.0 / weights.shape[0])
    return jnp.sum(pi[:, None] * boxes_xywh, axis=0)
