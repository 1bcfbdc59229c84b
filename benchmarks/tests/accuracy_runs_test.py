"""benchmarks/accuracy_runs.py: its runs, the runs files and their flag checks."""

import pathlib

import pytest
from absl import app

from benchmarks import accuracy_runs
from bin import config_flags

LAB = pathlib.Path(__file__).resolve().parents[1]
MISSPELLED = "--failure_treshold=0.5"


def test_every_accuracy_run_parses():
    runs = dict(accuracy_runs.RUNS)
    for sweep in ("sweep.txt", "sweep_size.txt"):
        runs.update(accuracy_runs.read_runs_file(LAB / sweep))
    folders = []
    for run_flags, seeds, *_ in runs.values():
        config_flags.config_from_args(run_flags)  # raises on a bad flag name or value
        folders += list(seeds.values())
    assert len(folders) == len(set(folders))  # no two runs write one folder


def test_runs_file_lines(tmp_path):
    path = tmp_path / "runs.txt"
    path.write_text("# comment\n\nlow  --failure_threshold=0.2 seed=2 batch=4  # why\n")
    assert accuracy_runs.read_runs_file(path) == {
        "low": (["--flagfile=configs/otb.flags", "--failure_threshold=0.2"], {2: "low"}, 4)
    }
    path.write_text("a --tuple_size=1\nb failure_threshold=0.2\n")
    with pytest.raises(ValueError, match="runs.txt:2"):
        accuracy_runs.read_runs_file(path)
    path.write_text("a --tuple_size=1 seed=one\n")
    with pytest.raises(ValueError, match="runs.txt:1"):
        accuracy_runs.read_runs_file(path)


def test_misspelled_flag_name_in_extra_flags_is_an_error_naming_them():
    runs = accuracy_runs.RUNS
    configs = accuracy_runs.run_configs(runs, ["tsn", "l2"], ["--tuple_size=2"])
    assert configs["l2"].tuple_size == 2 and configs["l2"].temporal_loss == "l2"
    with pytest.raises(app.UsageError, match="--extra_flags: unknown flag --failure_treshold"):
        accuracy_runs.run_configs(runs, ["tsn"], [MISSPELLED])
    typo = {**runs, "typo": (["--flagfile=configs/otb.flags", MISSPELLED], {0: "typo"})}
    with pytest.raises(app.UsageError, match="run 'typo': unknown flag --failure_treshold"):
        accuracy_runs.run_configs(typo, ["tsn", "typo"], [])


def test_misspelled_flag_name_in_a_runs_file_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "runs.txt"
    path.write_text(f"# comment\nok --tuple_size=2\nbad {MISSPELLED} seed=1\n")
    with pytest.raises(ValueError, match="runs.txt:3: unknown flag --failure_treshold"):
        accuracy_runs.read_runs_file(path)
    path.write_text("bad --tuple_size=two\n")  # a bad value too
    with pytest.raises(ValueError, match="runs.txt:1: .*tuple_size"):
        accuracy_runs.read_runs_file(path)
