"""The house's arrows, read from the source: each layer imports only the layers below it,
no module-level import cycle, no import after a module's code starts.

    web  ->  service_layer  ->  domain  ->  engine
                  handlers  ->  domain  ->  adapters

The handlers are plugged into the engine by the composition root, `tokenflow/`, the one
package that imports them; nothing else reaches a rule through a handler. Adapters import
nothing of ours. Only entry points import `tokenflow/` (`web/wsgi.py`, and the tests and
benches, which are not checked here)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "adapters", "domain", "service_layer", "handlers", "web", "tokenflow")
# What each package must not import (anywhere in its modules, at any depth).
FORBIDDEN = {
    "engine": {"adapters", "domain", "service_layer", "handlers", "web", "tokenflow"},
    "adapters": {"engine", "domain", "service_layer", "handlers", "web", "tokenflow"},
    "domain": {"service_layer", "handlers", "web", "tokenflow"},
    "handlers": {"service_layer", "web", "tokenflow"},
    "service_layer": {"handlers", "web", "tokenflow"},
    "web": {"handlers", "tokenflow"},
}
ENTRY_POINTS = {"web.wsgi"}


def modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic's revisions are scripts, not modules of the house
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path


MODULES = dict(modules())
MODULE_NAMES = frozenset(MODULES)


def imported(name: str, path: Path, node: ast.AST) -> list[str]:
    """The modules an import statement names, relative imports resolved."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    assert isinstance(node, ast.ImportFrom)
    if node.level == 0:
        base = node.module or ""
    else:
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        anchor = package[: len(package) - (node.level - 1)]
        base = ".".join([*anchor, *([node.module] if node.module else [])])
    # `from pkg import mod` imports the module pkg.mod (pkg's __init__ runs first, as it
    # does for any submodule); `from mod import name` imports mod.
    submodules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULE_NAMES]
    return submodules or [base]


@cache
def parsed(path: Path) -> ast.Module:
    """A module's tree, read once for all the checks."""
    return ast.parse(path.read_text(encoding="utf-8"))


def imports_of(name: str, path: Path, *, top_level_only: bool) -> list[tuple[int, str]]:
    tree = parsed(path)
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    return [
        (node.lineno, target)
        for node in nodes
        if isinstance(node, ast.Import | ast.ImportFrom)
        for target in imported(name, path, node)
    ]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_only_the_layers_below_it(package):
    against = [
        f"{name}:{line} imports {target}"
        for name, path in MODULES.items()
        if name.split(".")[0] == package and name not in ENTRY_POINTS
        for line, target in imports_of(name, path, top_level_only=False)
        if target.split(".")[0] in FORBIDDEN[package]
    ]
    assert not against, "\n".join(against)


def test_no_import_cycle():
    """No cycle of imports, counting those made only for the type checker (`if
    TYPE_CHECKING:`): a cycle there is two modules that cannot be read apart."""
    graph = {
        name: {t for _, t in imports_of(name, path, top_level_only=False) if t in MODULES}
        for name, path in MODULES.items()
    }
    cycles = [c for c in _strongly_connected(graph) if len(c) > 1]
    assert not cycles, cycles


def late_imports(name: str, source: str) -> list[str]:
    """Import statements after the module's first statement that is not an import, its
    docstring or an `if TYPE_CHECKING:` / `try: import` block."""
    late, started = [], False
    for n, node in enumerate(ast.parse(source).body):
        if isinstance(node, ast.Import | ast.ImportFrom):
            if started:
                late.append(f"{name}:{node.lineno}")
        elif n == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        elif isinstance(node, ast.If | ast.Try) and all(
            isinstance(b, ast.Import | ast.ImportFrom) for b in node.body
        ):
            continue
        else:
            started = True
    return late


def test_no_import_after_a_module_s_code_starts():
    late = [
        found
        for name, path in MODULES.items()
        for found in late_imports(name, path.read_text(encoding="utf-8"))
    ]
    assert not late, late


def test_the_checks_see_a_forbidden_import(tmp_path):
    """The checker itself: a module of engine/ importing web is caught."""
    bad = tmp_path / "engine" / "bad.py"
    bad.parent.mkdir()
    bad.write_text("def f():\n    from web import app\n", encoding="utf-8")
    found = [t for _, t in imports_of("engine.bad", bad, top_level_only=False)]
    assert found == ["web.app"]
    relative = tmp_path / "web" / "ui" / "x.py"
    relative.parent.mkdir(parents=True)
    relative.write_text("from ..api_support import bp\n", encoding="utf-8")
    assert imports_of("web.ui.x", relative, top_level_only=True)[0][1] == "web.api_support"
    assert late_imports("m", '"""doc"""\nimport a\nX = 1\nimport b\n') == ["m:4"]
    assert late_imports("m", "import a\nif TYPE_CHECKING:\n    import b\nimport c\n") == []
    assert {frozenset({"a", "b"})} == {
        frozenset(c)
        for c in _strongly_connected({"a": {"b"}, "b": {"a"}, "c": set()})
        if len(c) > 1
    }


# -- no transaction in web/ ----------------------------------------------------------------
# The pages, the API and their helpers call the service layer; they neither open a
# transaction nor build or run a query (issue 15). What gives one away, read from the
# source: these names (variables, attributes, annotations) and these calls.
TRANSACTION_NAMES = frozenset({"unit_of_work", "session_factory", "Session", "sessionmaker"})
# `session()`: the name the web once gave its helper that opened a unit of work.
QUERY_CALLS = frozenset({"select", "execute", "scalars", "scalar", "connect", "text", "session"})


def transaction_sites(module: str, source: str) -> list[tuple[str, int, str]]:
    """(function, line, what) for each sign of a transaction or a query in `source`;
    function is the dotted path of the enclosing defs ("" at module level)."""
    found: list[tuple[str, int, str]] = []

    def visit(node: ast.AST, where: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            where = f"{where}.{node.name}" if where else node.name
        if isinstance(node, ast.Name) and node.id in TRANSACTION_NAMES:
            found.append((where, node.lineno, node.id))
        elif isinstance(node, ast.Attribute) and node.attr in TRANSACTION_NAMES:
            found.append((where, node.lineno, f".{node.attr}"))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in QUERY_CALLS:
                found.append((where, node.lineno, f"{func.id}("))
            elif isinstance(func, ast.Attribute) and func.attr in QUERY_CALLS:
                found.append((where, node.lineno, f".{func.attr}("))
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(ast.parse(source), "")
    return found


def test_web_opens_no_transaction_and_builds_no_query():
    """web/ calls the service layer for anything that reads or writes the database."""
    against = [
        f"{name}:{line} {function or '<module>'} uses {what}"
        for name, path in MODULES.items()
        if name.split(".")[0] == "web"
        for function, line, what in transaction_sites(name, path.read_text(encoding="utf-8"))
    ]
    assert not against, "\n".join(against)


def test_the_check_sees_a_transaction_in_web():
    """The checker itself: each way of opening a transaction or querying is caught, at
    module level as in a nested route."""
    source = (
        "from engine.db import unit_of_work\n"
        "X = select(Model)\n"
        "def register(app, system):\n"
        "    @app.get('/x')\n"
        "    def route():\n"
        "        with unit_of_work(system.session_factory) as s:\n"
        "            return s.scalars(q), s.execute(q), s.scalar(q)\n"
        "def typed(s: Session):\n"
        "    with system.db.connect() as conn:\n"
        "        conn.execute(text('SELECT 1'))\n"
    )
    assert transaction_sites("web.bad", source) == [
        ("", 2, "select("),
        ("register.route", 6, "unit_of_work"),
        ("register.route", 6, ".session_factory"),
        ("register.route", 7, ".scalars("),
        ("register.route", 7, ".execute("),
        ("register.route", 7, ".scalar("),
        ("typed", 8, "Session"),
        ("typed", 9, ".connect("),
        ("typed", 10, ".execute("),
        ("typed", 10, "text("),
    ]
    assert transaction_sites(
        "web.helper", "def f():\n    with session() as s:\n        pass\n"
    ) == [("f", 2, "session(")]
    assert transaction_sites("web.good", "def f(system):\n    return cases.f(system)\n") == []


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the graph's strongly connected components."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    found.append(component)
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found
