"""benchmarks/device_check.sh: valid bash, and every program it runs exists."""

import importlib.util
import pathlib
import re
import subprocess

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "device_check.sh"


def test_device_check_is_valid_bash():
    done = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_device_check_runs_existing_modules():
    modules = re.findall(r"\$PY -m ([\w.]+)", SCRIPT.read_text())
    assert {"benchmarks.speed", "benchmarks.accuracy_runs"} <= set(modules)
    for module in modules:
        assert importlib.util.find_spec(module) is not None, module
