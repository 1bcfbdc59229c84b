"""Shared pytest setup: CPU-only JAX, a persistent compilation cache, absl flags parsed.

Fixtures ``data_dir`` and ``weights_path`` give the real sequences (``TSN_DATA_DIR``) and the
real Feature Net weights (``TSN_WEIGHTS``) and skip the test cleanly when they are not set.
"""

import os
import pathlib

# Must be set before jax is imported anywhere.
if not os.environ.get("TSN_TEST_GPU"):
    os.environ["JAX_PLATFORMS"] = "cpu"
os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR",
    str(pathlib.Path(__file__).resolve().parents[1] / ".cache" / "jax"),
)
# Subprocesses and Ray workers started by tests inherit both settings below.
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
# The suite's time is mostly XLA compiling small programs; two XLA:CPU options cut that by
# more than half each: LLVM at -O0 (the tiny config's init and two steps: 59 s -> 33 s of
# CPU) and the older fusion emitters (`--xla_cpu_use_fusion_emitters=false`: 24.7 s -> 10.1 s
# of compilation for the same three programs). The tests check values, never speed, and the
# generated code differs from the default build's only by float reassociation (1e-5 px on the
# boxes), inside every tolerance; the one exact comparison it changes is batch_test's padding
# test. TSN_TEST_XLA_OPT=1 keeps the default build (what the commands run).
_TEST_XLA_FLAGS = ("--xla_backend_optimization_level=0", "--xla_cpu_use_fusion_emitters=false")
if not os.environ.get("TSN_TEST_XLA_OPT"):
    _given = os.environ.get("XLA_FLAGS", "")
    os.environ["XLA_FLAGS"] = " ".join(
        [_given] + [f for f in _TEST_XLA_FLAGS if f.split("=")[0] not in _given]
    ).strip()

import jax  # noqa: E402
import pytest  # noqa: E402
from absl import flags  # noqa: E402

from tsn_jax.evaluation import runner  # noqa: E402

jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)

# absl flags defined by bin/ modules must not demand a command line under pytest.
if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()


@pytest.fixture(autouse=True)
def _release_compiled_executables():
    """A whole suite in one process compiles past the kernel's memory-map limit (XLA:CPU maps
    every executable's kernels; ``tracker_test`` alone adds 50,000 maps): drop the compiled
    executables after a test when needed."""
    yield
    runner.release_compiled_if_maps_run_low()


@pytest.fixture(scope="session")
def data_dir() -> pathlib.Path:
    """The folder of real OTB-layout sequences from TSN_DATA_DIR; skips when unset."""
    path = os.environ.get("TSN_DATA_DIR")
    if not path:
        pytest.skip("TSN_DATA_DIR is not set: real sequences unavailable")
    if not pathlib.Path(path).is_dir():
        pytest.skip(f"TSN_DATA_DIR={path} is not a folder")
    return pathlib.Path(path)


@pytest.fixture(scope="session")
def weights_path() -> pathlib.Path:
    """The real Feature Net weight file from TSN_WEIGHTS; skips when unset."""
    path = os.environ.get("TSN_WEIGHTS")
    if not path:
        pytest.skip("TSN_WEIGHTS is not set: real Feature Net weights unavailable")
    if not pathlib.Path(path).is_file():
        pytest.skip(f"TSN_WEIGHTS={path} is not a file")
    return pathlib.Path(path)
