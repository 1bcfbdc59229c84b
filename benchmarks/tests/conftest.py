"""The lab's tests share the suite's setup: CPU-only JAX, the compilation cache, absl flags
marked parsed, and the data / weights fixtures that skip without them (``tests/conftest.py``,
imported first so that it configures JAX before anything imports it)."""

from tests.conftest import _release_compiled_executables, data_dir, weights_path  # noqa: F401
