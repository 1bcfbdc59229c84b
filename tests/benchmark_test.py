"""bin/benchmark.py: the accuracy table of TSN and the peers; speed is the lab's."""

from tests import cli


def test_benchmark_is_accuracy_only():
    # The speed benchmark lives in the lab (python -m benchmarks.speed); bin has no speed mode.
    done = cli.run_module("bin.benchmark", "--mode=speed", "--speed_frames=3")
    assert done.returncode == 2  # a flag error (bin/errors.py), its message alone
    assert "Unknown command line flag 'mode'" in done.stderr
    assert "Traceback" not in done.stderr
    assert "speed_frames" not in cli.run_module("bin.benchmark", "--helpfull").stdout
