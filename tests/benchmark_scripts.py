"""Imports a script of benchmarks/ (not a package) for the tests."""

import functools
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


@functools.cache  # loaded once: the scripts define absl flags
def load(name):
    """The module of ``benchmarks/<name>.py``."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
