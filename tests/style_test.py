"""Type hints on the library's public interface, checked on the source with ``ast``.

Every public function of ``tsn_jax/`` (and of any subpackage) and every public method of a
public class (dunder methods such as ``__init__`` and a Flax module's ``__call__`` included)
annotates each parameter but ``self`` / ``cls``, and its return value. Private names (a
leading underscore) and functions nested inside other functions are exempt.
"""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
LIBRARY = sorted((ROOT / "tsn_jax").rglob("*.py"))

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _is_public(name):
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _statements(body):
    """The statements of a module or class body, looking into ``if`` / ``try`` / ``with``
    blocks (conditional definitions) but not into functions or classes."""
    for node in body:
        yield node
        if isinstance(node, ast.If | ast.With | ast.AsyncWith):
            yield from _statements(node.body)
            yield from _statements(getattr(node, "orelse", []))
        elif isinstance(node, ast.Try | ast.TryStar):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _statements(block)
            for handler in node.handlers:
                yield from _statements(handler.body)


def _missing(function, is_method):
    """Names of ``function``'s unannotated parameters, then "return" if it has no return
    annotation."""
    args = function.args
    positional = args.posonlyargs + args.args
    if is_method and positional and positional[0].arg in ("self", "cls"):
        positional = positional[1:]
    params = positional + args.kwonlyargs
    params += [a for a in (args.vararg, args.kwarg) if a is not None]
    missing = [p.arg for p in params if p.annotation is None]
    if function.returns is None:
        missing.append("return")
    return missing


def _public_functions(body, prefix=""):
    """(qualified name, node, is_method) of the public functions and methods in ``body``."""
    for node in _statements(body):
        if isinstance(node, _FUNCTIONS) and _is_public(node.name):
            yield prefix + node.name, node, bool(prefix)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            yield from _public_functions(node.body, f"{prefix}{node.name}.")


def unannotated(source, filename="<source>"):
    """``line: name (missing ...)`` for each public function or method lacking a hint."""
    tree = ast.parse(source, filename=filename)
    return [
        f"{node.lineno}: {name} (missing: {', '.join(missing)})"
        for name, node, is_method in _public_functions(tree.body)
        if (missing := _missing(node, is_method))
    ]


def test_the_library_has_source():
    names = {p.relative_to(ROOT).as_posix() for p in LIBRARY}
    assert {"tsn_jax/boxes.py", "tsn_jax/tracker.py", "tsn_jax/evaluation/runner.py"} <= names


def test_public_functions_and_methods_have_type_hints():
    found = [
        f"{path.relative_to(ROOT).as_posix()}:{entry}"
        for path in LIBRARY
        for entry in unannotated(path.read_text(), filename=str(path))
    ]
    assert not found, (
        "public functions and methods annotate every parameter (but self / cls) and the "
        "return value:\n" + "\n".join(found)
    )


def test_the_check_sees_what_it_forbids():
    source = (
        "import typing\n"
        "def bare(x, *args, y=1, **kwargs): ...\n"
        "def no_return(x: int): ...\n"
        "def fine(x: int, /, *args: int, y: int = 1, **kwargs: int) -> None: ...\n"
        "def _private(x): ...\n"
        "def outer() -> None:\n"
        "    def nested(x): ...\n"
        "if typing.TYPE_CHECKING:\n"
        "    def conditional(x) -> None: ...\n"
        "class Public:\n"
        "    def __init__(self, a): ...\n"
        "    def __call__(self, x: int) -> int: ...\n"
        "    def method(self, x: int) -> int: ...\n"
        "    def _helper(self, x): ...\n"
        "    @classmethod\n"
        "    def build(cls, x: int): ...\n"
        "    @staticmethod\n"
        "    def static(value) -> int: ...\n"
        "    class Inner:\n"
        "        def inner(self) -> None: ...\n"
        "        def loose(self, z) -> None: ...\n"
        "class _Private:\n"
        "    def method(self, x): ...\n"
    )
    assert unannotated(source) == [
        "2: bare (missing: x, y, args, kwargs, return)",
        "3: no_return (missing: return)",
        "9: conditional (missing: x)",
        "11: Public.__init__ (missing: a, return)",
        "16: Public.build (missing: return)",
        "18: Public.static (missing: value)",
        "21: Public.Inner.loose (missing: z)",
    ]
