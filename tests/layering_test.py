"""The walls between the layers and the lab, checked on the source with ``ast``.

``bin/`` (absl mains) sits on the host side (``tsn_jax/evaluation/``: runner, batch, datasets,
boxfiles, metrics, report, ...), which sits on the core (``tsn_jax/``: the tracker and its leaf
modules). The lab, ``benchmarks/`` (speed profiling, device traces, sweeps, probes), may import
any of them; nothing in ``tsn_jax/`` or ``bin/`` imports the lab, nothing in ``tsn_jax/`` (the
host side included) imports ``bin``, the core imports nothing of the host side, and absl flags
are defined in ``bin/`` only: the library neither defines nor reads them.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LIBRARY = sorted((ROOT / "tsn_jax").rglob("*.py"))
CORE = sorted((ROOT / "tsn_jax").glob("*.py"))
HOST_SIDE = sorted((ROOT / "tsn_jax" / "evaluation").rglob("*.py"))
ENTRY_POINTS = sorted((ROOT / "bin").rglob("*.py"))


def _relative(path):
    return path.relative_to(ROOT).as_posix()


def _imported_modules(tree, package=None):
    """(line, module) of every absolute import: ``import a.b`` and ``from a.b import c``
    give "a.b"; ``from a import b`` also gives "a.b" (b may be a module). With ``package``
    (the importing module's package, e.g. "tsn_jax"), relative imports are resolved against
    it (``from .evaluation import x`` in tsn_jax gives "tsn_jax.evaluation" and
    "tsn_jax.evaluation.x"); without it they are skipped."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module
            elif package is not None:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                continue
            if not base:
                continue
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
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
    assert {"tracker.py", "online.py", "boxes.py", "config.py"} <= {p.name for p in CORE}
    assert {"runner.py", "batch.py", "boxfiles.py", "report.py", "datasets.py"} <= {
        p.name for p in HOST_SIDE
    }
    assert {"track.py", "benchmark.py", "evaluate.py"} <= {p.name for p in ENTRY_POINTS}


@pytest.mark.parametrize("path", CORE, ids=_relative)
def test_the_core_imports_no_host_side(path):
    found = [
        f"{_relative(path)}:{line}: {module}"
        for line, module in _imported_modules(_tree(path), package="tsn_jax")
        if _is_within(module, "tsn_jax.evaluation")
    ]
    assert not found, (
        "the core (tsn_jax/*.py) never imports the host side (tsn_jax/evaluation/):\n"
        + "\n".join(found)
    )


@pytest.mark.parametrize("path", HOST_SIDE, ids=_relative)
def test_the_host_side_imports_no_entry_point_and_no_lab(path):
    found = [
        f"{_relative(path)}:{line}: {module}"
        for line, module in _imported_modules(_tree(path), package="tsn_jax.evaluation")
        if _is_within(module, "bin") or _is_within(module, "benchmarks")
    ]
    assert not found, "tsn_jax/evaluation/ imports neither bin/ nor benchmarks/:\n" + (
        "\n".join(found)
    )


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
    core = ast.parse(
        "from tsn_jax.evaluation import runner\n"
        "from .evaluation import report\n"
        "from . import evaluation\n"
        "import tsn_jax.evaluation.batch\n"
        "from tsn_jax import boxes\n"
        "from . import tracker\n"
    )
    host_side = [
        module
        for _, module in _imported_modules(core, package="tsn_jax")
        if _is_within(module, "tsn_jax.evaluation")
    ]
    assert host_side == [
        "tsn_jax.evaluation",
        "tsn_jax.evaluation.runner",
        "tsn_jax.evaluation",
        "tsn_jax.evaluation.report",
        "tsn_jax.evaluation",
        "tsn_jax.evaluation.batch",
    ]
    assert not _is_within("tsn_jax.evaluations", "tsn_jax.evaluation")
