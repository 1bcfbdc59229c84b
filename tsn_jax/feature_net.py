"""The frozen Feature Net: conv1, conv2 and conv3 maps of VGG16 or VGG-M (paper 3.1, Table 1).

Two architectures behind one interface (docs/decisions.md D2):

* ``vgg16``: torchvision VGG16 ``features`` through conv3_3. 3x3 convs (stride 1, padding 1),
  ReLU after each; a 2x2/2 max-pool after conv1_2 and after conv2_2, none after conv3_3. The
  conv1 and conv2 maps are taken after their pools. A 107x107 input gives 53x53x64, 26x26x128
  and 26x26x256.
* ``vggm``: the paper's Table 1 (MDNet's VGG-M conv1-3). conv1 7x7/2, 96 ch, ReLU, LRN,
  3x3/2 max-pool; conv2 5x5/2, 256 ch, ReLU, LRN, 3x3/2 max-pool; conv3 3x3/1, 512 ch, ReLU.
  No padding anywhere. A 107x107 input gives 25x25x96, 5x5x256 and 3x3x512.

Max-pools drop incomplete windows (floor mode, as torch's and MatConvNet's defaults). All
arrays are NHWC; kernels are HWIO. The network is never trained: :func:`apply_frozen` wraps
its outputs in ``jax.lax.stop_gradient``.
"""

from typing import TYPE_CHECKING, Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

if TYPE_CHECKING:  # weights imports this module.
    from tsn_jax import weights as weights_lib

ARCHS = ("vgg16", "vggm")


class LayerSpec(NamedTuple):
    """One conv layer: name, square kernel side, channels in/out, stride, symmetric padding."""

    name: str
    kernel: int
    in_channels: int
    out_channels: int
    stride: int
    padding: int


_LAYERS = {
    "vgg16": (
        LayerSpec("conv1_1", 3, 3, 64, 1, 1),
        LayerSpec("conv1_2", 3, 64, 64, 1, 1),
        LayerSpec("conv2_1", 3, 64, 128, 1, 1),
        LayerSpec("conv2_2", 3, 128, 128, 1, 1),
        LayerSpec("conv3_1", 3, 128, 256, 1, 1),
        LayerSpec("conv3_2", 3, 256, 256, 1, 1),
        LayerSpec("conv3_3", 3, 256, 256, 1, 1),
    ),
    "vggm": (
        LayerSpec("conv1", 7, 3, 96, 2, 0),
        LayerSpec("conv2", 5, 96, 256, 2, 0),
        LayerSpec("conv3", 3, 256, 512, 1, 0),
    ),
}

# MatConvNet vl_nnnormalize parameters of VGG-M: [N, kappa, alpha, beta].
LRN_SIZE, LRN_KAPPA, LRN_ALPHA, LRN_BETA = 5, 2.0, 1e-4, 0.75


class FeatureMaps(NamedTuple):
    """The Feature Net's three outputs, float32 NHWC.

    Attributes:
      conv1: [N, h1, w1, C1] float32 (after the first pool).
      conv2: [N, h2, w2, C2] float32 (after the second pool).
      conv3: [N, h3, w3, C3] float32 (after the last ReLU; no pool).
    """

    conv1: jax.Array
    conv2: jax.Array
    conv3: jax.Array


def _check_arch(arch: str) -> None:
    if arch not in _LAYERS:
        raise ValueError(f"unknown Feature Net arch {arch!r}; expected one of {ARCHS}")


def layer_specs(arch: str) -> tuple[LayerSpec, ...]:
    """The conv layers of ``arch`` in order. Raises ValueError for an unknown arch."""
    _check_arch(arch)
    return _LAYERS[arch]


def param_shapes(arch: str) -> dict[str, dict[str, tuple[int, ...]]]:
    """{layer: {"kernel": (k, k, in, out) HWIO, "bias": (out,)}} of the Flax params of ``arch``."""
    return {
        s.name: {
            "kernel": (s.kernel, s.kernel, s.in_channels, s.out_channels),
            "bias": (s.out_channels,),
        }
        for s in layer_specs(arch)
    }


def output_channels(arch: str) -> tuple[int, int, int]:
    """(C1, C2, C3): channels of the conv1, conv2 and conv3 maps of ``arch``."""
    _check_arch(arch)
    return {"vgg16": (64, 128, 256), "vggm": (96, 256, 512)}[arch]


def output_sizes(arch: str, size: int) -> tuple[int, int, int]:
    """(h1, h2, h3): spatial side of the conv1-3 maps for a ``size`` x ``size`` input."""

    def conv(n, k, s, p):
        return (n + 2 * p - k) // s + 1

    if arch == "vgg16":
        h1 = conv(size, 2, 2, 0)
        h2 = conv(h1, 2, 2, 0)
        return h1, h2, h2
    _check_arch(arch)
    h1 = conv(conv(size, 7, 2, 0), 3, 2, 0)
    h2 = conv(conv(h1, 5, 2, 0), 3, 2, 0)
    return h1, h2, conv(h2, 3, 1, 0)


def local_response_norm(
    x: jax.Array,
    size: int = LRN_SIZE,
    kappa: float = LRN_KAPPA,
    alpha: float = LRN_ALPHA,
    beta: float = LRN_BETA,
) -> jax.Array:
    """Cross-channel LRN as MatConvNet's ``vl_nnnormalize``.

    ``y_c = x_c / (kappa + alpha * sum_{q in window(c)} x_q^2) ** beta``, the window being the
    ``size`` channels centred on c (clipped at the ends). Note that alpha is NOT divided by
    ``size`` (torch's ``LocalResponseNorm`` does divide, so its equivalent takes
    ``alpha * size``).

    Args:
      x: [..., C] activations, channels last.
      size: window length in channels (odd).
      kappa, alpha, beta: the normalisation constants.

    Returns:
      [..., C] array of x's dtype.
    """
    channels = x.shape[-1]
    squares = jnp.square(x)
    half = (size - 1) // 2
    pad = [(0, 0)] * (x.ndim - 1) + [(half, size - 1 - half)]
    padded = jnp.pad(squares, pad)
    # A sum of `size` shifted slices: exact (no cumulative-sum cancellation) and cheap for N=5.
    window_sum = sum(padded[..., k : k + channels] for k in range(size))
    return x * jnp.power(kappa + alpha * window_sum, -beta)


def _max_pool(x: jax.Array, window: int, stride: int) -> jax.Array:
    # VALID padding drops incomplete windows: torch's floor mode.
    return nn.max_pool(x, (window, window), strides=(stride, stride), padding="VALID")


class FeatureNet(nn.Module):
    """VGG16 or VGG-M conv1-3 (see the module docstring).

    Attributes:
      arch: "vgg16" or "vggm".
      dtype: computation dtype (None: inferred from inputs and params).
      precision: conv precision (None: the backend default; TF32 on recent NVIDIA GPUs).
    """

    arch: str
    dtype: Any = None
    precision: Any = None

    def _conv(self, spec: LayerSpec) -> nn.Conv:
        return nn.Conv(
            features=spec.out_channels,
            kernel_size=(spec.kernel, spec.kernel),
            strides=(spec.stride, spec.stride),
            padding=[(spec.padding, spec.padding)] * 2,
            dtype=self.dtype,
            precision=self.precision,
            kernel_init=nn.initializers.he_normal(),
            name=spec.name,
        )

    @nn.compact
    def __call__(self, images: jax.Array) -> FeatureMaps:
        """Runs the net.

        Args:
          images: [N, S, S, 3] normalised float images (see :func:`apply_frozen`).

        Returns:
          FeatureMaps of the computation dtype.
        """
        specs = layer_specs(self.arch)
        if images.ndim != 4 or images.shape[-1] != specs[0].in_channels:
            raise ValueError(f"FeatureNet expects [N, S, S, 3] images, got shape {images.shape}")
        x = images
        if self.arch == "vgg16":
            outputs = []
            for block, last in (("conv1", 2), ("conv2", 2), ("conv3", 3)):
                for i in range(1, last + 1):
                    spec = next(s for s in specs if s.name == f"{block}_{i}")
                    x = nn.relu(self._conv(spec)(x))
                if block != "conv3":
                    x = _max_pool(x, 2, 2)
                outputs.append(x)
            return FeatureMaps(*outputs)
        conv1_spec, conv2_spec, conv3_spec = specs
        conv1 = _max_pool(local_response_norm(nn.relu(self._conv(conv1_spec)(x))), 3, 2)
        conv2 = _max_pool(local_response_norm(nn.relu(self._conv(conv2_spec)(conv1))), 3, 2)
        conv3 = nn.relu(self._conv(conv3_spec)(conv2))
        return FeatureMaps(conv1, conv2, conv3)


def normalize(images: jax.Array, mean_rgb: jax.Array, std_rgb: jax.Array) -> jax.Array:
    """(images - mean) / std per RGB channel.

    Args:
      images: [..., 3] RGB in 0-255, uint8 or float.
      mean_rgb: [3] float32 0-255.
      std_rgb: [3] float32 0-255 (ones for Caffe-style weights).

    Returns:
      [..., 3] float32.
    """
    x = jnp.asarray(images).astype(jnp.float32)
    return (x - jnp.asarray(mean_rgb, jnp.float32)) / jnp.asarray(std_rgb, jnp.float32)


def apply_frozen(
    weights: "weights_lib.FeatureNetWeights",
    images: jax.Array,
    dtype: jax.typing.DTypeLike = jnp.float32,
) -> FeatureMaps:
    """Normalises RGB 0-255 images and runs the frozen Feature Net on them.

    Pure and jittable (``weights`` is a pytree whose ``arch`` is static); vmappable over a
    leading axis of ``images``.

    Args:
      weights: a ``tsn_jax.weights.FeatureNetWeights`` (params, mean_rgb, std_rgb, arch).
      images: [N, S, S, 3] RGB in 0-255, uint8 or float.
      dtype: computation dtype: float32, or bfloat16 (params and inputs cast; faster on GPUs).

    Returns:
      FeatureMaps, float32, under ``jax.lax.stop_gradient``.

    Raises:
      ValueError: images are not [N, S, S, 3].
    """
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"apply_frozen expects [N, S, S, 3] RGB images, got {images.shape}")
    x = normalize(images, weights.mean_rgb, weights.std_rgb).astype(dtype)
    params = jax.tree_util.tree_map(lambda p: jnp.asarray(p).astype(dtype), weights.params)
    maps = FeatureNet(arch=weights.arch, dtype=dtype).apply({"params": params}, x)
    return FeatureMaps(*(jax.lax.stop_gradient(m.astype(jnp.float32)) for m in maps))
