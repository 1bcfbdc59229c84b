"""The persistent JAX compilation cache of the commands that track: on by default, per user.

The tracker compiles ``init`` and its steps for every frame size: on a CPU that is tens of
seconds before the first box (docs/results.md, "Speed on the CPU"). JAX keeps compiled
programs across processes only when a cache folder is set, so every command that tracks
(``bin.track``, ``bin.benchmark``, ``bin.vot_trax``) sets one before its first compilation:
``--compilation_cache_dir``, else ``$JAX_COMPILATION_CACHE_DIR``, else
``$XDG_CACHE_HOME/tsn_jax/jax`` (``~/.cache/tsn_jax/jax``). ``--nocompilation_cache`` (or an
empty ``--compilation_cache_dir=``) turns it off. Entries are keyed by the program, the
backend and the JAX version, so one folder serves every config and machine type; deleting it
is always safe.
"""

import functools
import os
import pathlib
from collections.abc import Callable, Mapping

import jax
from absl import flags, logging

_ENABLED = flags.DEFINE_bool(
    "compilation_cache",
    True,
    "Keep compiled programs in a persistent cache folder, so that later runs skip compiling "
    "(--nocompilation_cache: compile every run).",
)
_DIR = flags.DEFINE_string(
    "compilation_cache_dir",
    None,
    "The compilation cache folder. Default: $JAX_COMPILATION_CACHE_DIR, else "
    "$XDG_CACHE_HOME/tsn_jax/jax (~/.cache/tsn_jax/jax). Empty: no cache.",
)


def default_dir(environ: Mapping[str, str]) -> pathlib.Path:
    """The cache folder when no flag names one.

    Args:
      environ: the environment (``os.environ``).

    Returns:
      ``$JAX_COMPILATION_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/tsn_jax/jax`` (an absolute
      ``XDG_CACHE_HOME`` only, as the XDG specification says), else ``~/.cache/tsn_jax/jax``.
    """
    if environ.get("JAX_COMPILATION_CACHE_DIR"):
        return pathlib.Path(environ["JAX_COMPILATION_CACHE_DIR"]).expanduser()
    xdg = environ.get("XDG_CACHE_HOME", "")
    base = pathlib.Path(xdg) if os.path.isabs(xdg) else pathlib.Path.home() / ".cache"
    return base / "tsn_jax" / "jax"


def chosen_dir(
    enabled: bool, flag_dir: str | None, environ: Mapping[str, str]
) -> pathlib.Path | None:
    """The cache folder the flags and the environment ask for, or None for no cache.

    Args:
      enabled: ``--compilation_cache``.
      flag_dir: ``--compilation_cache_dir`` (None: not given; ``""``: no cache).
      environ: the environment (``os.environ``).
    """
    if not enabled or flag_dir == "":
        return None
    if flag_dir is not None:
        return pathlib.Path(flag_dir).expanduser()
    return default_dir(environ)


def configure(directory: pathlib.Path | None) -> None:
    """Points JAX's persistent compilation cache at ``directory`` (created), or turns it off.

    Must run before the process's first compilation: JAX opens the cache then. A folder that
    cannot be created is warned about and the run goes on without a cache.
    """
    if directory is not None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            logging.warning("Compilation cache %s cannot be used (%s): off", directory, error)
            directory = None
    if directory is None:
        jax.config.update("jax_enable_compilation_cache", False)
        logging.info("Compilation cache: off")
        return
    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    logging.info("Compilation cache: %s", directory)


def configure_from_flags() -> pathlib.Path | None:
    """:func:`configure` with the folder the flags choose (:func:`chosen_dir`); returns it."""
    directory = chosen_dir(_ENABLED.value, _DIR.value, os.environ)
    configure(directory)
    return directory


def with_compilation_cache(main: Callable[[list[str]], int | None]) -> Callable[..., int | None]:
    """``main`` that first sets the compilation cache from the flags (parsed by then)."""

    @functools.wraps(main)
    def main_with_cache(argv: list[str]) -> int | None:
        configure_from_flags()
        return main(argv)

    return main_with_cache
