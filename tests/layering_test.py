"""The wall between the tracker and the lab, checked on the source with ``ast``.

``bin/`` (absl mains) sits on the host side (``tsn_jax`` run, batch, datasets, metrics, ...),
which sits on the core (``tsn_jax`` tracker and its leaf modules). The lab, ``benchmarks/``
(speed profiling, device traces, sweeps, probes), may import any of them; nothing in
``tsn_jax/`` or ``bin/`` imports the lab, nothing in ``tsn_jax/`` imports ``bin``, and absl
flags are defined in ``bin/`` only: the library neither defines nor reads them.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LIBRARY = sorted((ROOT / "tsn_jax").rglob("*.py"))
ENTRY_POINTS = sorted((ROOT / "bin").rglob("*.py"))


def _relative(path):
    return path.relative_to(ROOT).as_posix()


def _imported_modules(tree):
    """(line, module) of every absolute import: ``import a.b`` and ``from a.b import c``
    give "a.b"; ``from a import b`` also gives "a.b" (b may be a module)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _is_within(module, package):
    return module == package or module.startswith(package + ".")


def _define_calls(tree):
    """Lines of calls of ``flags.DEFINE_*`` (any receiver) or of a bare ``DEFINE_*``."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name.startswith("DEFINE"):
            lines.append(node.lineno)
    return lines


def _tree(path):
    return ast.parse(path.read_text(), filename=str(path))


def test_the_layers_have_source():
    names = {p.name for p in LIBRARY}
    assert {"tracker.py", "run.py", "batch.py"} <= names
    assert {"track.py", "benchmark.py"} <= {p.name for p in ENTRY_POINTS}


@pytest.mark.parametrize("path", LIBRARY + ENTRY_POINTS, ids=_relative)
def test_nothing_outside_the_lab_imports_it(path):
    found = [
        f"{_relative(path)}:{line}: {module}"
        for line, module in _imported_modules(_tree(path))
        if _is_within(module, "benchmarks")
    ]
    assert not found, "the lab (benchmarks/) imports the tracker, never the reverse:\n" + (
        "\n".join(found)
    )


@pytest.mark.parametrize("path", LIBRARY, ids=_relative)
def test_the_library_imports_no_entry_point(path):
    found = [
        f"{_relative(path)}:{line}: {module}"
        for line, module in _imported_modules(_tree(path))
        if _is_within(module, "bin")
    ]
    assert not found, "tsn_jax/ never imports bin/:\n" + "\n".join(found)


@pytest.mark.parametrize("path", LIBRARY, ids=_relative)
def test_the_library_defines_and_reads_no_flags(path):
    tree = _tree(path)
    found = [f"{_relative(path)}:{line}: DEFINE call" for line in _define_calls(tree)]
    found += [
        f"{_relative(path)}:{line}: imports {module}"
        for line, module in _imported_modules(tree)
        if _is_within(module, "absl.flags")
    ]
    assert not found, "absl flags belong to bin/ (bin/config_flags.py):\n" + "\n".join(found)


def test_the_checks_see_what_they_forbid():
    source = (
        "import benchmarks.speed\n"
        "from benchmarks import device_trace\n"
        "from bin import track\n"
        "from absl import flags\n"
        "flags.DEFINE_integer('n', 1, 'n')\n"
        "DEFINE_string('s', '', 's')\n"
        "from . import boxes\n"
    )
    tree = ast.parse(source)
    modules = [m for _, m in _imported_modules(tree)]
    assert [m for m in modules if _is_within(m, "benchmarks")] == [
        "benchmarks.speed",
        "benchmarks",
        "benchmarks.device_trace",
    ]
    assert [m for m in modules if _is_within(m, "bin")] == ["bin", "bin.track"]
    assert [m for m in modules if _is_within(m, "absl.flags")] == ["absl.flags"]
    assert _define_calls(tree) == [5, 6]
    assert not _is_within("binary", "bin") and not _is_within("benchmarks_old", "benchmarks")
