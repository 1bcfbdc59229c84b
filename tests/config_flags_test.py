"""Flag parsing of tracker configs (bin/config_flags.py) and the accuracy runs' flag sets."""

import pathlib

import pytest

from bin import config_flags
from tests import benchmark_scripts
from tsn_jax import config as config_lib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_otb_flagfile_is_the_default_config():
    assert config_flags.config_from_args(["--flagfile=configs/otb.flags"]) == (
        config_lib.TrackerConfig()
    )


@pytest.mark.parametrize(
    "flagfile, field, value",
    [
        ("ablation_no_temporal", "use_temporal", False),
        ("ablation_no_spatial", "use_spatial", False),
        ("ablation_l2", "temporal_loss", "l2"),
    ],
)
def test_ablation_flagfiles_change_one_field(flagfile, field, value):
    config = config_flags.config_from_args([f"--flagfile=configs/{flagfile}.flags"])
    assert getattr(config, field) == value
    changed = {
        f: getattr(config, f)
        for f in config_lib.TrackerConfig.__dataclass_fields__
        if getattr(config, f) != getattr(config_lib.TrackerConfig(), f)
    }
    assert changed == {field: value}


def test_every_accuracy_run_parses():
    module = benchmark_scripts.load("accuracy_runs")
    runs = dict(module.RUNS)
    for sweep in ("sweep.txt", "sweep_size.txt"):
        runs.update(module.read_runs_file(ROOT / "benchmarks" / sweep))
    folders = []
    for run_flags, seeds, *_ in runs.values():
        config_flags.config_from_args(run_flags)  # raises on a bad flag or value
        folders += list(seeds.values())
    assert len(folders) == len(set(folders))  # no two runs write one folder
    assert config_flags.config_from_args(["--nobox_regression"]).box_regression is False


def test_runs_file_lines(tmp_path):
    module = benchmark_scripts.load("accuracy_runs")
    path = tmp_path / "runs.txt"
    path.write_text("# comment\n\nlow  --failure_threshold=0.2 seed=2 batch=4  # why\n")
    assert module.read_runs_file(path) == {
        "low": (["--flagfile=configs/otb.flags", "--failure_threshold=0.2"], {2: "low"}, 4)
    }
    path.write_text("a --x=1\nb failure_threshold=0.2\n")
    with pytest.raises(ValueError, match="runs.txt:2"):
        module.read_runs_file(path)
    path.write_text("a --x=1 seed=one\n")
    with pytest.raises(ValueError, match="runs.txt:1"):
        module.read_runs_file(path)
