"""Flag parsing of tracker configs (bin/config_flags.py) and the accuracy runs' flag sets."""

import pathlib
import re

import pytest
from absl import app, flags

from bin import config_flags, track  # noqa: F401 (track: the flags configs/*.flags also set)
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
        config_flags.config_from_args(run_flags)  # raises on a bad flag name or value
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
    path.write_text("a --tuple_size=1\nb failure_threshold=0.2\n")
    with pytest.raises(ValueError, match="runs.txt:2"):
        module.read_runs_file(path)
    path.write_text("a --tuple_size=1 seed=one\n")
    with pytest.raises(ValueError, match="runs.txt:1"):
        module.read_runs_file(path)


MISSPELLED = "--failure_treshold=0.5"


def test_misspelled_flag_name_is_an_error_naming_it():
    with pytest.raises(flags.Error, match=r"--failure_treshold: .* --failure_threshold\?"):
        config_flags.config_from_args(["--flagfile=configs/otb.flags", MISSPELLED])
    with pytest.raises(flags.Error, match="--nobox_regresion"):
        config_flags.config_from_args(["--nobox_regresion"])
    with pytest.raises(flags.Error, match="not a --name=value flag"):
        config_flags.config_from_args(["--output_dir", "results/x", "--tuple_size=2"])


def test_misspelled_flag_name_in_a_flagfile_is_an_error_naming_the_file(tmp_path):
    bad = tmp_path / "bad.flags"
    bad.write_text(f"--flagfile=configs/otb.flags\n{MISSPELLED}\n")
    with pytest.raises(flags.Error, match=re.escape(f"--failure_treshold in --flagfile={bad}:")):
        config_flags.config_from_args([f"--flagfile={bad}"])
    outer = tmp_path / "outer.flags"  # a nested flagfile: the top-level one is named
    outer.write_text(f"--flagfile={bad}\n")
    with pytest.raises(flags.Error, match=re.escape(f"--failure_treshold in --flagfile={outer}:")):
        config_flags.config_from_args([f"--flagfile={outer}"])


def test_only_the_program_s_own_flags_are_skipped():
    demo = ["--flagfile=configs/demo.flags"]  # --demo, --output_dir, --visualize, ...
    assert config_flags.config_from_args(demo).num_init_samples == 1000
    assert config_flags.config_from_args(["--nooverwrite", "--output_dir=x"]) == (
        config_lib.TrackerConfig()
    )
    with pytest.raises(flags.Error, match="--output_dir in --flagfile=configs/demo.flags"):
        config_flags.config_from_args(demo, program_flags=["demo", "demo_frames", "visualize"])


def test_misspelled_flag_name_in_extra_flags_is_an_error_naming_them():
    module = benchmark_scripts.load("accuracy_runs")
    configs = module.run_configs(module.RUNS, ["tsn", "l2"], ["--tuple_size=2"])
    assert configs["l2"].tuple_size == 2 and configs["l2"].temporal_loss == "l2"
    with pytest.raises(app.UsageError, match="--extra_flags: unknown flag --failure_treshold"):
        module.run_configs(module.RUNS, ["tsn"], [MISSPELLED])
    runs = {**module.RUNS, "typo": (["--flagfile=configs/otb.flags", MISSPELLED], {0: "typo"})}
    with pytest.raises(app.UsageError, match="run 'typo': unknown flag --failure_treshold"):
        module.run_configs(runs, ["tsn", "typo"], [])


def test_misspelled_flag_name_in_a_runs_file_is_an_error_naming_the_line(tmp_path):
    module = benchmark_scripts.load("accuracy_runs")
    path = tmp_path / "runs.txt"
    path.write_text(f"# comment\nok --tuple_size=2\nbad {MISSPELLED} seed=1\n")
    with pytest.raises(ValueError, match="runs.txt:3: unknown flag --failure_treshold"):
        module.read_runs_file(path)
    path.write_text("bad --tuple_size=two\n")  # a bad value too
    with pytest.raises(ValueError, match="runs.txt:1: .*tuple_size"):
        module.read_runs_file(path)


def test_config_flags_on_the_command_line_are_reported():
    flag_values = flags.FlagValues()
    config_flags.define_config_flags(flag_values)
    flag_values(["prog", "--tuple_size=2", "--nouse_spatial"])
    given = config_flags.present_config_flags(flag_values)
    assert sorted(given) == ["--tuple_size", "--use_spatial"]
