"""bin/compilation_cache.py: the commands' persistent JAX compilation cache, on by default in a
user cache folder, respecting $JAX_COMPILATION_CACHE_DIR, off with --nocompilation_cache; and
bin/make_goldens.py's strict-JSON metadata."""

import dataclasses
import json
import math
import os
import pathlib
import subprocess
import sys

import pytest

from bin import compilation_cache, make_goldens
from tests import cli

# A main that compiles one small function, run the way the commands run theirs.
_COMPILING_MAIN = """
import jax, jax.numpy as jnp
from bin import compilation_cache, errors
def main(argv):
    print(jax.jit(lambda x: jnp.sin(x) * 3)(1.0))
errors.run(compilation_cache.with_compilation_cache(main))
"""


def _run(args, environ):
    return subprocess.run(
        [sys.executable, "-c", _COMPILING_MAIN, *args],
        cwd=cli.ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"},
            "JAX_PLATFORMS": "cpu",
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",  # cache even a tiny program
            **environ,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def _entries(folder):
    return sorted(p.name for p in pathlib.Path(folder).rglob("*") if p.is_file())


def test_default_folder():
    home = pathlib.Path.home()
    assert compilation_cache.default_dir({}) == home / ".cache" / "tsn_jax" / "jax"
    assert compilation_cache.default_dir({"XDG_CACHE_HOME": "/x/c"}) == pathlib.Path(
        "/x/c/tsn_jax/jax"
    )
    # A relative XDG_CACHE_HOME is invalid (XDG specification): ignored.
    assert compilation_cache.default_dir(
        {"XDG_CACHE_HOME": "rel"}
    ) == compilation_cache.default_dir({})
    environ = {"XDG_CACHE_HOME": "/x/c", "JAX_COMPILATION_CACHE_DIR": "/j"}
    assert compilation_cache.default_dir(environ) == pathlib.Path("/j")
    assert compilation_cache.chosen_dir(True, None, environ) == pathlib.Path("/j")
    assert compilation_cache.chosen_dir(True, "/f", environ) == pathlib.Path("/f")
    assert compilation_cache.chosen_dir(True, "", environ) is None
    assert compilation_cache.chosen_dir(False, "/f", environ) is None


def test_a_command_caches_in_the_user_folder_by_default(tmp_path):
    done = _run([], {"XDG_CACHE_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    entries = _entries(tmp_path / "tsn_jax" / "jax")
    assert any("jit" in name for name in entries), entries


def test_nocompilation_cache_turns_off_even_the_environments_folder(tmp_path):
    done = _run(["--nocompilation_cache"], {"JAX_COMPILATION_CACHE_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "Compilation cache: off" in done.stderr
    assert _entries(tmp_path) == []


def test_golden_metadata_is_strict_json():
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    metadata = json.loads(
        make_goldens.golden_metadata(make_goldens.GOLDEN_CONFIG), parse_constant=refuse
    )
    assert metadata["config"] == json.loads(
        json.dumps(dataclasses.asdict(make_goldens.GOLDEN_CONFIG))
    )
    infinite = dataclasses.replace(make_goldens.GOLDEN_CONFIG, max_search_growth=math.inf)
    with pytest.raises(ValueError, match="JSON compliant"):
        make_goldens.golden_metadata(infinite)
