"""Feature Net vs an independent PyTorch CPU reference (float64), normalisation, shapes, bf16.

The reference is written here with plain torch.nn layers (Conv2d, ReLU, MaxPool2d and
LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2), which equals MatConvNet's vl_nnnormalize
[5, 2, 1e-4, 0.75] because torch divides alpha by the window size). It runs in float64 on the
same weights; our float32 maps must match to a relative error (max abs error / max abs
reference) of 1e-4, the usual float32 accumulation error of a 3-7 layer conv stack.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tsn_jax import feature_net
from tsn_jax import weights as weights_lib

torch = pytest.importorskip("torch")

RTOL = 1e-4  # float32 conv stack vs float64 reference, relative to the map's max |value|.


def _with_random_biases(weights, seed):
    """Random biases so the bias path is tested too (random_weights gives zeros)."""
    rng = np.random.default_rng(seed)
    params = {
        layer: {
            "kernel": leaves["kernel"],
            "bias": rng.normal(0, 0.1, leaves["bias"].shape).astype(np.float32),
        }
        for layer, leaves in weights.params.items()
    }
    return weights.replace(params=params)


def _torch_conv(params, spec):
    conv = torch.nn.Conv2d(
        spec.in_channels, spec.out_channels, spec.kernel, spec.stride, spec.padding
    ).double()
    with torch.no_grad():
        kernel = np.asarray(params[spec.name]["kernel"], np.float64)  # HWIO
        conv.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))  # OIHW
        conv.bias.copy_(torch.from_numpy(np.asarray(params[spec.name]["bias"], np.float64)))
    return conv


def _torch_reference(weights, images_uint8):
    """float64 conv1/conv2/conv3 maps, NHWC NumPy, from plain torch.nn layers."""
    x = images_uint8.astype(np.float64)
    x = (x - np.asarray(weights.mean_rgb, np.float64)) / np.asarray(weights.std_rgb, np.float64)
    x = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    specs = {s.name: s for s in feature_net.layer_specs(weights.arch)}
    conv = {name: _torch_conv(weights.params, spec) for name, spec in specs.items()}
    relu = torch.nn.ReLU()
    if weights.arch == "vgg16":
        pool = torch.nn.MaxPool2d(2, 2)
        c1 = pool(relu(conv["conv1_2"](relu(conv["conv1_1"](x)))))
        c2 = pool(relu(conv["conv2_2"](relu(conv["conv2_1"](c1)))))
        c3 = relu(conv["conv3_3"](relu(conv["conv3_2"](relu(conv["conv3_1"](c2))))))
    else:
        lrn = torch.nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
        pool = torch.nn.MaxPool2d(3, 2)
        c1 = pool(lrn(relu(conv["conv1"](x))))
        c2 = pool(lrn(relu(conv["conv2"](c1))))
        c3 = relu(conv["conv3"](c2))
    with torch.no_grad():
        return [m.detach().numpy().transpose(0, 2, 3, 1) for m in (c1, c2, c3)]


def _assert_maps_close(maps, reference, rtol):
    for name, ours, ref in zip(feature_net.FeatureMaps._fields, maps, reference, strict=True):
        assert ours.shape == ref.shape, (name, ours.shape, ref.shape)
        scale = np.max(np.abs(ref))
        assert scale > 0, f"{name}: reference map is all zeros (a test that cannot fail)"
        err = np.max(np.abs(np.asarray(ours, np.float64) - ref)) / scale
        assert err <= rtol, f"{name}: relative error {err:.3g} > {rtol}"


def _images(n, size, seed):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


_apply = jax.jit(feature_net.apply_frozen, static_argnames="dtype")


@pytest.mark.parametrize("arch,size", [("vgg16", 64), ("vggm", 107)])
def test_random_weights_match_torch_reference(arch, size):
    weights = _with_random_biases(weights_lib.random_weights(arch, jax.random.key(1)), seed=2)
    images = _images(2, size, seed=3)
    maps = _apply(weights, images)
    for m in maps:
        assert m.dtype == jnp.float32
    _assert_maps_close(maps, _torch_reference(weights, images), RTOL)


def test_real_vgg16_weights_match_torch_reference(weights_path):
    weights = weights_lib.load(weights_path)
    assert weights.arch == "vgg16"
    images = _images(2, 64, seed=4)
    _assert_maps_close(_apply(weights, images), _torch_reference(weights, images), RTOL)


def test_lrn_matches_torch():
    x = np.random.default_rng(5).normal(0, 30, (2, 4, 4, 11))  # large values: LRN bites.
    ours = feature_net.local_response_norm(jnp.asarray(x, jnp.float32))
    lrn = torch.nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
    ref = lrn(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy().transpose(0, 2, 3, 1)
    # Elementwise float32 op: ~1e-6 relative.
    np.testing.assert_allclose(ours, ref, rtol=2e-6, atol=1e-6)
    assert not np.allclose(ref, x / 2.0**0.75, rtol=1e-3)  # the window sum matters here.


@pytest.mark.parametrize("arch", feature_net.ARCHS)
def test_output_shapes_for_107(arch):
    weights = weights_lib.random_weights(arch, jax.random.key(0))
    maps = jax.eval_shape(lambda w, x: feature_net.apply_frozen(w, x), weights, _images(3, 107, 0))
    sides = feature_net.output_sizes(arch, 107)
    channels = feature_net.output_channels(arch)
    expected = {
        "vgg16": [(3, 53, 53, 64), (3, 26, 26, 128), (3, 26, 26, 256)],
        "vggm": [(3, 25, 25, 96), (3, 5, 5, 256), (3, 3, 3, 512)],
    }[arch]
    assert [m.shape for m in maps] == expected
    assert [(3, s, s, c) for s, c in zip(sides, channels, strict=True)] == expected
    assert all(m.dtype == jnp.float32 for m in maps)


def test_apply_frozen_normalisation_equals_manual():
    weights = weights_lib.random_weights("vggm", jax.random.key(6))
    weights = weights.replace(
        mean_rgb=np.array([100.0, 120.0, 90.0], np.float32),
        std_rgb=np.array([50.0, 60.0, 70.0], np.float32),
    )
    images = _images(2, 107, seed=7)
    manual = (images.astype(np.float32) - weights.mean_rgb) / weights.std_rgb
    expected = feature_net.FeatureNet("vggm").apply({"params": weights.params}, manual)
    ours = _apply(weights, images)
    ours_float = _apply(weights, images.astype(np.float32))
    for a, b, c in zip(ours, expected, ours_float, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)  # same ops, float32 rounding.
        np.testing.assert_array_equal(a, c)  # uint8 and float inputs are the same pixels.


def test_bfloat16_close_to_float32():
    weights = weights_lib.random_weights("vggm", jax.random.key(8))
    images = _images(2, 107, seed=9)
    full = _apply(weights, images)
    half = _apply(weights, images, dtype=jnp.bfloat16)
    for name, a, b in zip(feature_net.FeatureMaps._fields, full, half, strict=True):
        assert b.dtype == jnp.float32
        err = float(jnp.max(jnp.abs(a - b)) / jnp.max(jnp.abs(a)))
        # bfloat16 keeps 8 mantissa bits (~4e-3 relative) per op; 3 layers + LRN: 5e-2.
        assert err < 5e-2, f"{name}: bfloat16 relative error {err:.3g}"


def test_stop_gradient_and_vmap():
    weights = weights_lib.random_weights("vggm", jax.random.key(10))
    images = _images(2, 107, seed=11).astype(np.float32)
    grad = jax.grad(lambda x: jnp.sum(feature_net.apply_frozen(weights, x).conv3))(images)
    assert not np.any(np.asarray(grad))
    batched = jax.vmap(lambda x: feature_net.apply_frozen(weights, x[None]).conv3[0])(images)
    np.testing.assert_allclose(batched, _apply(weights, images).conv3, rtol=1e-5, atol=1e-5)


def test_bad_inputs_raise():
    weights = weights_lib.random_weights("vggm", jax.random.key(0))
    with pytest.raises(ValueError, match=r"\[N, S, S, 3\]"):
        feature_net.apply_frozen(weights, np.zeros((107, 107, 3), np.uint8))
    with pytest.raises(ValueError, match="unknown Feature Net arch"):
        feature_net.output_channels("resnet")
