"""The lab: measurement apparatus around the tracker (speed, device traces, sweeps, probes).

Each script is a main run from the repository root as ``python -m benchmarks.<name>``. The lab
may import ``tsn_jax`` and ``bin``; neither imports the lab (``tests/layering_test.py``), and
the package is not installed (``pyproject.toml`` installs ``tsn_jax`` and ``bin``). Its tests
are ``benchmarks/tests`` (``make lab-test``).
"""
