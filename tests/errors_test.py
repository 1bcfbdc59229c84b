"""bin/errors.py: a user's error prints its message alone with its exit code, a bug keeps its
traceback (in-process, and a bug on the command line)."""

import os
import subprocess
import sys

import pytest
from absl import app, flags

from bin import errors
from tests import cli
from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import boxfiles, datasets, report, runner, tracked


def _raising(error):
    def main(argv):
        del argv
        raise error

    return main


@pytest.mark.parametrize(
    "error, code, said",
    [
        (
            datasets.DatasetError("/d/s/img/0004.jpg (frame 3): frame file is empty (0 bytes)"),
            errors.INPUT_ERROR,
            "Error: /d/s/img/0004.jpg (frame 3): frame file is empty (0 bytes)",
        ),
        (
            boxfiles.BoxFileError("/r/s.txt:2: not a number in '1,x'"),
            errors.INPUT_ERROR,
            "Error: /r/s.txt:2: not a number in '1,x'",
        ),
        (
            tracked.TrackingError("s: frame 3 is 4x4"),
            errors.INPUT_ERROR,
            "Error: s: frame 3 is 4x4",
        ),
        (
            report.ReportError("no result file in /r"),
            errors.INPUT_ERROR,
            "Error: no result file in /r",
        ),
        (weights_lib.WeightsError("/w.npz: no such"), errors.INPUT_ERROR, "Error: /w.npz: no such"),
        (FileNotFoundError("No Feature Net weights"), errors.INPUT_ERROR, "Error: No Feature Net"),
        (app.UsageError("Give exactly one of"), errors.FLAG_ERROR, "Flag error: Give exactly one"),
        (flags.Error("unknown flag --x"), errors.FLAG_ERROR, "Flag error: unknown flag --x"),
        (KeyboardInterrupt(), errors.INTERRUPTED, "Interrupted (Ctrl-C): the files written"),
        (
            runner.SequencesFailed({"b": "b: frame 3 is 4x4"}, {}),
            errors.INCOMPLETE,
            "1 sequence(s) could not be tracked:\n  b: b: frame 3 is 4x4",
        ),
    ],
)
def test_a_users_error_is_its_message_and_code(capsys, error, code, said):
    assert errors.with_exit_codes(_raising(error))(["prog"]) == code
    printed = capsys.readouterr()
    assert printed.err.startswith(said) and not printed.out
    assert "Traceback" not in printed.err


def test_a_bug_is_not_caught_and_a_commands_own_errors_can_be_added(capsys):
    with pytest.raises(ZeroDivisionError):
        errors.with_exit_codes(_raising(ZeroDivisionError("a bug")))(["prog"])
    with pytest.raises(ValueError, match="a bug"):  # a plain ValueError is no user's error
        errors.with_exit_codes(_raising(ValueError("a bug")))(["prog"])

    class PortError(ValueError):
        pass

    main = errors.with_exit_codes(_raising(PortError("bad checksum")), (PortError,))
    assert main(["prog"]) == errors.INPUT_ERROR
    assert capsys.readouterr().err == "Error: bad checksum\n"
    assert errors.with_exit_codes(lambda argv: errors.INCOMPLETE)(["prog"]) == 4
    assert errors.with_exit_codes(lambda argv: None)(["prog"]) is None


def test_report_failures(capsys):
    assert errors.report_failures({}, "tracked") == errors.DONE
    assert capsys.readouterr().err == ""
    failures = {"b": "/d/b/groundtruth_rect.txt: ground-truth file not found", "c": "why"}
    assert errors.report_failures(failures, "tracked") == errors.INCOMPLETE
    assert capsys.readouterr().err.splitlines() == [
        "2 sequence(s) could not be tracked:",
        "  b: /d/b/groundtruth_rect.txt: ground-truth file not found",
        "  c: why",
    ]


def test_flags_parser_exit_codes():
    def absl_exits(status):
        def parse(argv):
            sys.exit(status)  # what absl does after printing a flag error or the help

        return parse

    with pytest.raises(SystemExit) as done:
        errors.exit_code_flags_parser(absl_exits(1))(["prog", "--nonsense=1"])
    assert done.value.code == errors.FLAG_ERROR
    for asking in ("--help", "--helpfull", "-?", "--helpshort=true"):
        with pytest.raises(SystemExit) as done:
            errors.exit_code_flags_parser(absl_exits(1))(["prog", asking])
        assert done.value.code == errors.DONE
    with pytest.raises(SystemExit) as done:
        errors.exit_code_flags_parser(absl_exits(0))(["prog", "--only_check_args"])
    assert done.value.code == 0
    assert errors.exit_code_flags_parser(lambda argv: argv[:1])(["prog", "--x=1"]) == ["prog"]


def test_a_bug_keeps_its_traceback_on_the_command_line():
    # (A misspelled flag on the command line: tests/benchmark_test.py.)
    bug = subprocess.run(
        [sys.executable, "-c", "from bin import errors; errors.run(lambda argv: 1 / 0)"],
        cwd=cli.ROOT,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bug.returncode == errors.BUG
    assert "Traceback" in bug.stderr and "ZeroDivisionError" in bug.stderr
