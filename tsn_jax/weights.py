"""Feature Net weights: the project's .npz file, random weights, and porting from other layouts.

The project file (``save`` / ``load``) is an uncompressed ``.npz`` with

* ``params/<layer>/kernel`` [k, k, in, out] float32 HWIO and ``params/<layer>/bias`` [out]
  for every layer of :func:`tsn_jax.feature_net.layer_specs` (``conv1_1`` ... or ``conv1`` ...),
* ``mean_rgb`` [3] and ``std_rgb`` [3] float32 in 0-255 units: the Feature Net input is
  ``(rgb - mean_rgb) / std_rgb`` (std is 1 for Caffe-style weights),
* ``arch`` (a 0-d string array, "vgg16" or "vggm") and ``format_version`` (0-d int, 1).

``load`` also reads a torchvision-layout ``.npz`` as is (keys ``features.N.weight`` /
``features.N.bias`` in OIHW, optional ``input_mean_rgb_0_255`` and ``input_std_rgb_0_255``), so
the shared file ``vgg16_imagenet_conv1-3_torchvision_layout.npz`` needs no conversion step.

Porters: :func:`from_torchvision` (a VGG16 state dict), :func:`from_matconvnet` (VGG-M
``imagenet-vgg-m.mat``), :func:`from_onnx` (the VGG16 body of an ONNX model). ``torch`` and
``onnx`` are imported only inside the functions that need them.
"""

import os
import pathlib
import tempfile

import flax
import jax
import numpy as np
import numpy.typing as npt

from tsn_jax import feature_net

FORMAT_VERSION = 1

IMAGENET_MEAN_RGB = (123.675, 116.28, 103.53)  # torchvision's mean [0.485, 0.456, 0.406] * 255
IMAGENET_STD_RGB = (58.395, 57.12, 57.375)  # torchvision's std [0.229, 0.224, 0.225] * 255
CAFFE_MEAN_RGB = (123.68, 116.779, 103.939)  # Caffe / Keras VGG16 mean, RGB order

# torchvision VGG16 `features` indices of conv1_1 ... conv3_3.
TORCHVISION_VGG16_INDICES = {
    "conv1_1": 0,
    "conv1_2": 2,
    "conv2_1": 5,
    "conv2_2": 7,
    "conv3_1": 10,
    "conv3_2": 12,
    "conv3_3": 14,
}
_TV_MEAN_KEY = "input_mean_rgb_0_255"
_TV_STD_KEY = "input_std_rgb_0_255"


class WeightsError(ValueError):
    """A weight file or state dict is missing, unreadable or of the wrong layout."""


@flax.struct.dataclass
class FeatureNetWeights:
    """Frozen Feature Net weights with their input normalisation; a pytree (arch is static).

    Attributes:
      params: Flax param dict of ``FeatureNet(arch)``: {layer: {"kernel": HWIO, "bias": [out]}}.
      mean_rgb: [3] float32, 0-255 units.
      std_rgb: [3] float32, 0-255 units (ones for Caffe-style weights).
      arch: "vgg16" or "vggm".
    """

    params: dict
    mean_rgb: jax.Array
    std_rgb: jax.Array
    arch: str = flax.struct.field(pytree_node=False)


def _vector3(value, what: str, source) -> np.ndarray:
    array = np.asarray(value, dtype=np.float32).reshape(-1)
    if array.shape != (3,) or not np.all(np.isfinite(array)):
        raise WeightsError(f"{source}: {what} must be 3 finite values, got {value!r}")
    return array


def _checked(params: dict, arch: str, source) -> dict:
    """Returns params as float32 NumPy arrays after checking layer names and shapes."""
    shapes = feature_net.param_shapes(arch)
    if set(params) != set(shapes):
        raise WeightsError(
            f"{source}: {arch} layers must be {sorted(shapes)}, got {sorted(params)}"
        )
    out = {}
    for layer, leaves in shapes.items():
        out[layer] = {}
        for leaf, shape in leaves.items():
            if leaf not in params[layer]:
                raise WeightsError(f"{source}: {layer}/{leaf} is missing")
            value = np.asarray(params[layer][leaf], dtype=np.float32)
            if value.shape != shape:
                raise WeightsError(
                    f"{source}: {layer}/{leaf} has shape {value.shape}, expected {shape}"
                )
            out[layer][leaf] = value
    return out


def make_weights(
    params: dict,
    mean_rgb: npt.ArrayLike,
    std_rgb: npt.ArrayLike,
    arch: str,
    source: str | os.PathLike[str] = "weights",
) -> FeatureNetWeights:
    """Builds checked FeatureNetWeights (float32 NumPy leaves) from a Flax param dict.

    Raises:
      WeightsError: unknown arch, wrong layers or shapes, or a bad mean/std; names ``source``.
    """
    if arch not in feature_net.ARCHS:
        raise WeightsError(f"{source}: unknown arch {arch!r}; expected one of {feature_net.ARCHS}")
    std = _vector3(std_rgb, "std_rgb", source)
    if np.any(std <= 0):
        raise WeightsError(f"{source}: std_rgb must be positive, got {std.tolist()}")
    return FeatureNetWeights(
        params=_checked(params, arch, source),
        mean_rgb=_vector3(mean_rgb, "mean_rgb", source),
        std_rgb=std,
        arch=arch,
    )


def random_weights(arch: str, key: jax.Array) -> FeatureNetWeights:
    """He-normal kernels, zero biases, ImageNet (torchvision) normalisation.

    Args:
      arch: "vgg16" or "vggm".
      key: a jax.random key.

    Returns:
      FeatureNetWeights with float32 leaves, on the default device.
    """
    init = jax.nn.initializers.he_normal()
    params = {}
    shapes = feature_net.param_shapes(arch)
    for sub, (layer, leaves) in zip(
        jax.random.split(key, len(shapes)), shapes.items(), strict=True
    ):
        params[layer] = {
            "kernel": np.asarray(init(sub, leaves["kernel"], np.float32)),
            "bias": np.zeros(leaves["bias"], np.float32),
        }
    return jax.device_put(
        make_weights(params, IMAGENET_MEAN_RGB, IMAGENET_STD_RGB, arch, f"random {arch}")
    )


def save(path: str | os.PathLike[str], weights: FeatureNetWeights) -> pathlib.Path:
    """Writes ``weights`` to ``path`` in the project format (atomically; parents created).

    Returns:
      The path written.

    Raises:
      WeightsError: the weights have wrong layers or shapes.
    """
    path = pathlib.Path(path)
    checked = make_weights(
        weights.params, weights.mean_rgb, weights.std_rgb, weights.arch, f"saving {path}"
    )
    arrays = {
        f"params/{layer}/{leaf}": value
        for layer, leaves in checked.params.items()
        for leaf, value in leaves.items()
    }
    arrays["mean_rgb"] = checked.mean_rgb
    arrays["std_rgb"] = checked.std_rgb
    arrays["arch"] = np.asarray(checked.arch)
    arrays["format_version"] = np.asarray(FORMAT_VERSION, np.int32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | os.PathLike[str]) -> FeatureNetWeights:
    """Reads a project weight file, or a torchvision-layout VGG16 ``.npz``, by its keys.

    Args:
      path: the ``.npz`` file.

    Returns:
      FeatureNetWeights with float32 leaves on the default device (so a jitted step does not
      upload them again on every call).

    Raises:
      WeightsError: missing or unreadable file, unknown layout, wrong keys or shapes (the
        message names the file).
    """
    return jax.device_put(_load_arrays(path))


def _load_arrays(path) -> FeatureNetWeights:
    path = pathlib.Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weight file")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as e:  # any read failure is a bad weight file.
        raise WeightsError(f"{path}: not a readable .npz weight file ({e})") from e
    if "format_version" in arrays:
        return _from_project_arrays(arrays, path)
    if any(k.startswith("features.") for k in arrays):
        mean, std = torchvision_normalization(arrays, path)
        return from_torchvision(arrays, mean, std, source=path)
    raise WeightsError(
        f"{path}: neither a tsn_jax weight file (no 'format_version') nor a torchvision "
        f"state dict (no 'features.*' keys); keys: {sorted(arrays)[:10]}"
    )


def torchvision_normalization(
    arrays: dict, source: str | os.PathLike[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(mean_rgb, std_rgb), 0-255 units, recorded in a torchvision-layout .npz.

    ``input_mean_rgb_0_255`` with optional ``input_std_rgb_0_255`` (default 1: Caffe style);
    with neither key, torchvision's own ImageNet normalisation.

    Raises:
      WeightsError: a std without a mean.
    """
    mean, std = arrays.get(_TV_MEAN_KEY), arrays.get(_TV_STD_KEY)
    if mean is None and std is None:
        return np.asarray(IMAGENET_MEAN_RGB, np.float32), np.asarray(IMAGENET_STD_RGB, np.float32)
    if mean is None:
        raise WeightsError(f"{source}: has {_TV_STD_KEY!r} but no {_TV_MEAN_KEY!r}")
    std = np.ones(3, np.float32) if std is None else std
    return _vector3(mean, _TV_MEAN_KEY, source), _vector3(std, _TV_STD_KEY, source)


def _from_project_arrays(arrays: dict, path) -> FeatureNetWeights:
    version = int(arrays["format_version"])
    if version != FORMAT_VERSION:
        raise WeightsError(f"{path}: format_version {version}, this code reads {FORMAT_VERSION}")
    for key in ("arch", "mean_rgb", "std_rgb"):
        if key not in arrays:
            raise WeightsError(f"{path}: key {key!r} is missing")
    arch = str(arrays["arch"])
    if arch not in feature_net.ARCHS:
        raise WeightsError(f"{path}: unknown arch {arch!r}")
    params = {}
    for layer, leaves in feature_net.param_shapes(arch).items():
        params[layer] = {}
        for leaf in leaves:
            key = f"params/{layer}/{leaf}"
            if key not in arrays:
                raise WeightsError(f"{path}: key {key!r} is missing")
            params[layer][leaf] = arrays[key]
    return make_weights(params, arrays["mean_rgb"], arrays["std_rgb"], arch, path)


def from_torchvision(
    state: dict,
    mean_rgb: npt.ArrayLike,
    std_rgb: npt.ArrayLike,
    source: str | os.PathLike[str] = "torchvision state dict",
) -> FeatureNetWeights:
    """VGG16 conv1_1..conv3_3 from a torchvision state dict (other keys are ignored).

    Args:
      state: {"features.N.weight": [out, in, 3, 3] OIHW, "features.N.bias": [out]} for N in
        0, 2, 5, 7, 10, 12, 14 (NumPy arrays or CPU tensors).
      mean_rgb: [3] input mean, 0-255 units, RGB.
      std_rgb: [3] input std, 0-255 units.
      source: what ``state`` came from, for error messages.

    Returns:
      FeatureNetWeights(arch="vgg16").

    Raises:
      WeightsError: a key is missing or has the wrong shape (the message names the key).
    """
    shapes = feature_net.param_shapes("vgg16")
    params = {}
    for layer, index in TORCHVISION_VGG16_INDICES.items():
        kernel_shape = shapes[layer]["kernel"]
        oihw = (kernel_shape[3], kernel_shape[2], kernel_shape[0], kernel_shape[1])
        leaves = {}
        for suffix, shape in (("weight", oihw), ("bias", shapes[layer]["bias"])):
            key = f"features.{index}.{suffix}"
            if key not in state:
                raise WeightsError(f"{source}: key {key!r} ({layer}) is missing")
            value = np.asarray(state[key], dtype=np.float32)
            if value.shape != shape:
                raise WeightsError(
                    f"{source}: key {key!r} ({layer}) has shape {value.shape}, expected {shape}"
                )
            leaves[suffix] = value
        params[layer] = {
            "kernel": np.ascontiguousarray(leaves["weight"].transpose(2, 3, 1, 0)),
            "bias": leaves["bias"],
        }
    return make_weights(params, mean_rgb, std_rgb, "vgg16", source)


def _mat_field(obj, name):
    return getattr(obj, name, None) if not isinstance(obj, dict) else obj.get(name)


def _as_list(cell) -> list:
    if isinstance(cell, np.ndarray) and cell.dtype == object:
        return list(cell.reshape(-1))
    return [cell]


def _mat_array(value, shape, what: str, path) -> np.ndarray:
    """Reshapes a squeezed MatConvNet array to ``shape`` after checking it matches."""
    array = np.asarray(value, dtype=np.float32)
    if np.squeeze(array).shape != tuple(d for d in shape if d != 1):
        raise WeightsError(f"{path}: {what} has shape {array.shape}, expected {shape}")
    return array.reshape(shape)


def _matconvnet_mean(mat: dict, path) -> np.ndarray:
    holders = [mat, _mat_field(mat.get("net"), "meta"), mat.get("net"), mat.get("meta")]
    for holder in holders:
        norm = _mat_field(holder, "normalization") if holder is not None else None
        average = _mat_field(norm, "averageImage") if norm is not None else None
        if average is not None and np.size(average) > 0:
            average = np.asarray(average, dtype=np.float64)
            if average.size == 3:
                return average.reshape(3).astype(np.float32)
            if average.ndim == 3 and average.shape[-1] == 3:
                return average.reshape(-1, 3).mean(axis=0).astype(np.float32)
            raise WeightsError(f"{path}: averageImage has shape {average.shape}, expected [3]")
    raise WeightsError(f"{path}: no normalization.averageImage found")


def from_matconvnet(path: str | os.PathLike[str]) -> FeatureNetWeights:
    """VGG-M conv1..conv3 from MatConvNet's ``imagenet-vgg-m.mat`` (simplenn layout).

    Reads the old layout (top-level ``layers``, a cell of structs with ``name``, ``type`` and
    ``weights`` = {filters, biases} or ``filters`` / ``biases``) and ``net.layers``. Filters are
    [H, W, in, out], already HWIO; biases [out] or [1, out]. The input mean is the per-channel
    mean of ``normalization.averageImage`` ([3] or [H, W, 3]); the std is 1 (MatConvNet does
    not divide).

    Args:
      path: the ``.mat`` file (MATLAB v5; v7.3 HDF5 files are not supported by scipy).

    Returns:
      FeatureNetWeights(arch="vggm").

    Raises:
      WeightsError: unreadable file, no conv1/conv2/conv3 layer, or wrong shapes.
    """
    import scipy.io  # Deferred: only porting needs it.

    path = pathlib.Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such MatConvNet file")
    try:
        mat = scipy.io.loadmat(str(path), squeeze_me=True, struct_as_record=False)
    except Exception as e:  # any read failure is a bad file.
        raise WeightsError(f"{path}: not a readable MATLAB v5 .mat file ({e})") from e
    layers = mat.get("layers")
    if layers is None and mat.get("net") is not None:
        layers = _mat_field(mat["net"], "layers")
    if layers is None:
        raise WeightsError(f"{path}: no 'layers' or 'net.layers' in the file")
    by_name = {}
    for layer in _as_list(layers):
        name = _mat_field(layer, "name")
        if name is not None:
            by_name[str(name)] = layer
    shapes = feature_net.param_shapes("vggm")
    params = {}
    for name, leaves in shapes.items():
        layer = by_name.get(name)
        if layer is None:
            raise WeightsError(f"{path}: no layer named {name!r}; layers: {sorted(by_name)}")
        weights = _mat_field(layer, "weights")
        if weights is not None:
            parts = _as_list(weights)
            if len(parts) != 2:
                raise WeightsError(f"{path}: {name}.weights must hold filters and biases")
            filters, biases = parts
        else:
            filters, biases = _mat_field(layer, "filters"), _mat_field(layer, "biases")
            if filters is None or biases is None:
                raise WeightsError(f"{path}: {name} has neither weights nor filters/biases")
        params[name] = {
            "kernel": _mat_array(filters, leaves["kernel"], f"{name} filters", path),
            "bias": _mat_array(biases, leaves["bias"], f"{name} biases", path),
        }
    return make_weights(params, _matconvnet_mean(mat, path), np.ones(3), "vggm", path)


def from_onnx(path: str | os.PathLike[str], bgr_input: bool = True) -> FeatureNetWeights:
    """VGG16 conv1_1..conv3_3 from the first 7 Conv nodes of an ONNX graph (in graph order).

    Conv weights (OIHW) and biases are read from the graph's initializers (or Constant nodes).

    Args:
      path: the ``.onnx`` file.
      bgr_input: the model takes BGR input (Keras/Caffe): conv1_1's input channels are reversed
        so the weights take RGB.

    Returns:
      FeatureNetWeights(arch="vgg16") with the Caffe mean [123.68, 116.779, 103.939], std 1.

    Raises:
      WeightsError: unreadable file, fewer than 7 Conv nodes, missing tensors or wrong shapes.
    """
    import onnx  # Deferred: only porting needs it.
    from onnx import numpy_helper

    path = pathlib.Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such ONNX file")
    try:
        model = onnx.load(str(path))
    except Exception as e:  # any read failure is a bad file.
        raise WeightsError(f"{path}: not a readable ONNX model ({e})") from e
    graph = model.graph
    tensors = {t.name: t for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    tensors[node.output[0]] = attr.t
    convs = [node for node in graph.node if node.op_type == "Conv"]
    if len(convs) < len(TORCHVISION_VGG16_INDICES):
        raise WeightsError(f"{path}: {len(convs)} Conv nodes, VGG16 conv1_1..conv3_3 needs 7")
    state = {}
    for (layer, index), node in zip(
        TORCHVISION_VGG16_INDICES.items(), convs[: len(TORCHVISION_VGG16_INDICES)], strict=True
    ):
        if node.input[1] not in tensors:
            raise WeightsError(f"{path}: {layer} weight {node.input[1]!r} is not a constant")
        weight = numpy_helper.to_array(tensors[node.input[1]])
        if len(node.input) > 2 and node.input[2]:
            if node.input[2] not in tensors:
                raise WeightsError(f"{path}: {layer} bias {node.input[2]!r} is not a constant")
            bias = numpy_helper.to_array(tensors[node.input[2]])
        else:
            bias = np.zeros(weight.shape[0], np.float32)
        if layer == "conv1_1" and bgr_input:
            if weight.ndim != 4:
                raise WeightsError(f"{path}: conv1_1 weight has shape {weight.shape}")
            weight = weight[:, ::-1]
        state[f"features.{index}.weight"] = weight
        state[f"features.{index}.bias"] = bias
    return from_torchvision(state, CAFFE_MEAN_RGB, np.ones(3), source=path)
