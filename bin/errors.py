"""Exit codes of the commands, and the one place where a user's error becomes its message.

Every main of ``bin/`` runs through :func:`run`. An error in what the user gave (a flag, a
dataset, a box, a weight or result file) prints its message alone, which names the file, line,
frame or value, and exits with its code; any other exception is a bug and keeps Python's
traceback. The codes (README.md, "Exit codes"):

  0    done
  1    a bug: an unexpected exception, shown with its traceback
  2    a flag error: an unknown or misspelled flag, a bad value, a missing flag, a flagfile
       that cannot be found, or flags that do not fit together
  3    an input error: a dataset, sequence, box, weight or other file that cannot be used, or
       nothing to score; nothing was written for it
  4    a run that finished without some sequences: every other sequence was tracked (or
       scored) and written, and the failed ones are listed at the end with their errors
  130  interrupted (Ctrl-C): the result files already written are complete and kept, nothing
       partial is left behind, and a rerun resumes
"""

import functools
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from absl import app, flags

from tsn_jax import weights as weights_lib
from tsn_jax.evaluation import report, runner, tracked

DONE = 0
BUG = 1
FLAG_ERROR = 2
INPUT_ERROR = 3
INCOMPLETE = 4
INTERRUPTED = 130

# The user's errors: every message names what is wrong (file, line, frame or value).
INPUT_ERRORS = (*tracked.SEQUENCE_ERRORS, report.ReportError, weights_lib.WeightsError)

_HELP_FLAGS = frozenset({"help", "helpshort", "helpfull", "helpxml", "?"})


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _asks_for_help(argv: Sequence[str]) -> bool:
    """Whether the command line holds one of absl's help flags (``--help``, ``-?``, ...)."""
    return any(a.startswith("-") and a.lstrip("-").split("=")[0] in _HELP_FLAGS for a in argv)


def exit_code_flags_parser(
    parse: Callable[[Sequence[str]], Any] = app.parse_flags_with_usage,
) -> Callable[[Sequence[str]], Any]:
    """``parse`` (an ``app.run`` flags parser) with this module's exit codes.

    absl ends both a flag error (its message on stderr) and ``--help`` with status 1, the status
    of a bug here: a flag error exits :data:`FLAG_ERROR` instead, and help :data:`DONE`.
    """

    @functools.wraps(parse)
    def parse_flags(argv: Sequence[str]) -> Any:
        try:
            return parse(argv)
        except SystemExit as done:
            if done.code == 1:
                sys.exit(DONE if _asks_for_help(argv) else FLAG_ERROR)
            raise

    return parse_flags


def with_exit_codes(
    main: Callable[[list[str]], int | None], input_errors: tuple[type[BaseException], ...] = ()
) -> Callable[[list[str]], int | None]:
    """``main`` turning a user's error into its message and exit code.

    Args:
      main: an absl main, ``argv -> exit status or None``.
      input_errors: more exception types that are the user's errors (e.g. a command's own).

    Returns:
      A main that returns :data:`INTERRUPTED` on Ctrl-C, :data:`FLAG_ERROR` on
      ``app.UsageError`` or ``flags.Error``, :data:`INPUT_ERROR` on one of
      :data:`INPUT_ERRORS` or ``input_errors``, :data:`INCOMPLETE` on a
      ``runner.SequencesFailed`` that ``main`` left to it (each with its message alone on
      stderr), and lets any other exception through (its traceback).
    """
    errors = (*INPUT_ERRORS, *input_errors)

    @functools.wraps(main)
    def main_with_exit_codes(argv: list[str]) -> int | None:
        try:
            return main(argv)
        except KeyboardInterrupt:
            _say(
                "Interrupted (Ctrl-C): the files written so far are complete and kept; "
                "a rerun resumes."
            )
            return INTERRUPTED
        except runner.SequencesFailed as failed:
            _say(str(failed))
            return INCOMPLETE
        except (app.UsageError, flags.Error) as error:
            _say(f"Flag error: {error}\nPass --helpshort or --helpfull to see help on flags.")
            return FLAG_ERROR
        except errors as error:
            _say(f"Error: {error}")
            return INPUT_ERROR

    return main_with_exit_codes


def report_failures(failures: Mapping[str, str], undone: str) -> int:
    """Lists the sequences that failed (on stderr) and returns the exit code.

    Args:
      failures: {sequence name: why}.
      undone: what could not be done to them ("tracked", "scored").

    Returns:
      :data:`INCOMPLETE` when some failed, :data:`DONE` otherwise.
    """
    if not failures:
        return DONE
    _say(tracked.describe_failures(failures, undone))
    return INCOMPLETE


def run(
    main: Callable[[list[str]], int | None],
    parse: Callable[[Sequence[str]], Any] = app.parse_flags_with_usage,
    input_errors: tuple[type[BaseException], ...] = (),
) -> None:
    """``app.run(main)`` with this module's exit codes (:func:`with_exit_codes`,
    :func:`exit_code_flags_parser` over ``parse``)."""
    app.run(with_exit_codes(main, input_errors), flags_parser=exit_code_flags_parser(parse))
