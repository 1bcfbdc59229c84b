"""The project's flagfiles wherever the commands run: a checkout or an installed package.

``pip install .`` ships ``configs/*.flags`` inside the package, so ``tsn-track
--flagfile=configs/otb.flags`` (or ``--flagfile=otb``) works outside a checkout. absl reads a
``--flagfile`` path relative to the working directory, flagfiles included by other flagfiles
too, so :func:`expand` inlines every flagfile of the command line before absl sees it, finding
each one on disk first and among the shipped configs otherwise.
"""

import pathlib
import sys
from collections.abc import Sequence

_HERE = pathlib.Path(__file__).resolve().parent
# Installed: tsn_jax_cli/configs (package data). Checkout: bin/../configs.
CONFIG_DIRS = (_HERE / "configs", _HERE.parent / "configs")
_PREFIXES = ("--flagfile=", "-flagfile=")


class FlagfileError(ValueError):
    """A ``--flagfile`` that names neither a file nor a shipped config."""


def shipped_configs() -> dict[str, pathlib.Path]:
    """{name without .flags: path} of the flagfiles shipped with the commands."""
    found = {}
    for folder in CONFIG_DIRS:
        for path in sorted(folder.glob("*.flags")) if folder.is_dir() else ():
            found.setdefault(path.stem, path)
    return found


def resolve(name: str) -> pathlib.Path:
    """The flagfile ``name`` names: a file on disk, else a shipped config.

    ``configs/otb.flags``, ``otb.flags`` and ``otb`` all name the shipped ``otb.flags``.

    Raises:
      FlagfileError: neither exists; the message lists the shipped configs.
    """
    path = pathlib.Path(name).expanduser()
    if path.is_file():
        return path
    shipped = shipped_configs()
    stem = path.name.removesuffix(".flags")
    if stem in shipped:
        return shipped[stem]
    raise FlagfileError(
        f"--flagfile={name}: no such file, and no shipped config of that name "
        f"(shipped: {', '.join(sorted(shipped)) or 'none'})"
    )


def _lines(path: pathlib.Path, open_files: tuple[pathlib.Path, ...]) -> list[str]:
    """The flags of one flagfile, its included flagfiles inlined in place."""
    if path.resolve() in open_files:
        chain = " -> ".join(str(p) for p in (*open_files, path.resolve()))
        raise FlagfileError(f"flagfiles include each other in a cycle: {chain}")
    flags = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "//")):
            continue
        flags.extend(_expand_arg(line, (*open_files, path.resolve())))
    return flags


def _expand_arg(arg: str, open_files: tuple[pathlib.Path, ...]) -> list[str]:
    for prefix in _PREFIXES:
        if arg.startswith(prefix):
            return _lines(resolve(arg[len(prefix) :].strip()), open_files)
    return [arg]


def expand(argv: Sequence[str]) -> list[str]:
    """``argv`` with every ``--flagfile=NAME`` replaced by that file's flags, recursively.

    Flags keep their order, so a later flag still overrides an earlier one as with absl's own
    flagfiles. ``argv[0]`` (the program) is kept; arguments after a bare ``--`` are left alone.

    Raises:
      FlagfileError: a flagfile that cannot be found, or flagfiles that include each other.
    """
    expanded = list(argv[:1])
    args = list(argv[1:])
    while args:
        arg = args.pop(0)
        if arg == "--":
            expanded.extend([arg, *args])
            break
        if arg in ("--flagfile", "-flagfile") and args:
            arg = f"--flagfile={args.pop(0)}"
        expanded.extend(_expand_arg(arg, ()))
    return expanded


def parse_flags(argv: Sequence[str]) -> list[str]:
    """absl's flag parser (``app.run(main, flags_parser=parse_flags)``) over :func:`expand`.

    A flagfile that cannot be found ends the program like any other flag error: the message
    on stderr, and exit status 2 (``errors.FLAG_ERROR``) for a main run by ``errors.run``,
    whose parser turns absl's status 1 for a flag error into 2.
    """
    from absl import app  # absl is imported here so expand() stays usable without it

    try:
        argv = expand(argv)
    except FlagfileError as error:
        sys.stderr.write(f"FATAL Flags parsing error: {error}\n")
        sys.exit(1)
    return app.parse_flags_with_usage(argv)
