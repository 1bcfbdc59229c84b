"""Flag parsing of tracker configs (bin/config_flags.py).

The lab's runs files are checked against it in benchmarks/tests/accuracy_runs_test.py.
"""

import re

import pytest
from absl import flags

from bin import config_flags, track  # noqa: F401 (track: the flags configs/*.flags also set)
from tsn_jax import config as config_lib


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


def test_boolean_config_flags_take_the_no_prefix():
    assert config_flags.config_from_args(["--nobox_regression"]).box_regression is False


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


def test_config_flags_on_the_command_line_are_reported():
    flag_values = flags.FlagValues()
    config_flags.define_config_flags(flag_values)
    flag_values(["prog", "--tuple_size=2", "--nouse_spatial"])
    given = config_flags.present_config_flags(flag_values)
    assert sorted(given) == ["--tuple_size", "--use_spatial"]
