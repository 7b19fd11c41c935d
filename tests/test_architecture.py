"""The package's shape, checked from its source with ``ast`` (nothing is imported):

- facescan's modules import one another without a cycle. Every import counts, at module level
  or inside a function (a lazy import only hides a cycle until the day it is hoisted); imports
  under ``if TYPE_CHECKING:`` do not, as they never run. Importing ``a.b`` also runs ``a``'s
  ``__init__``, which is not counted: a package re-exporting its submodules is the usual layout.
  A submodule importing from its own package's ``__init__`` that imports it back is counted.
- no module uses another module's private names: neither ``from .x import _name`` nor
  ``obj._name`` where ``_name`` is defined in another facescan module and not in this one
  (``self._name`` and ``cls._name`` are the class's own business).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "facescan"

Graph = dict[str, dict[str, int]]  # module -> {imported module: line of the first such import}


def modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's ``__init__``) of every module under ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in ``nodes``, at any depth, except the bodies of ``if TYPE_CHECKING:``."""
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _import_nodes(node.orelse)
        else:
            yield from _import_nodes(ast.iter_child_nodes(node))


def _owner(name: str, known: dict) -> str | None:
    """The module ``name`` is, or the nearest package above it that is one of ``known``."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imported(module: str, is_package: bool, node: ast.Import | ast.ImportFrom,
             known: dict) -> Iterator[tuple[str, str | None]]:
    """(module imported, name taken from it or None) for each name of one import statement;
    modules outside ``known`` (the standard library, third parties) are left out."""
    top = module.split(".")[0]
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] == top and (target := _owner(alias.name, known)):
                yield target, None
        return
    if node.level:
        base = (module if is_package else module.rpartition(".")[0]).split(".")
        base = base[:len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    if source.split(".")[0] != top:
        return
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        if submodule in known:
            yield submodule, None
        elif target := _owner(source, known):
            yield target, alias.name


def import_graph(root: Path = SRC) -> Graph:
    known = modules(root)
    graph: Graph = {m: {} for m in known}
    for module, (path, is_package) in known.items():
        for node in _import_nodes([ast.parse(path.read_text(encoding="utf-8"))]):
            for target, _ in imported(module, is_package, node, known):
                if target != module:
                    graph[module].setdefault(target, node.lineno)
    return graph


def tangles(graph: Graph) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan): the modules of each
    reach one another through imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while (w := stack.pop()) != v:
                component.add(w)
            if component:
                found.append(component | {v})

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle through the first module of each tangle: ``[a, b, ..., a]``."""
    return [_cycle_through(graph, component) for component in tangles(graph)]


def _cycle_through(graph: Graph, component: set[str]) -> list[str]:
    """A shortest cycle from the component's first module back to itself (breadth first)."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    for v in queue:
        for w in sorted(graph[v]):
            if w == start:
                return paths[v] + [start]
            if w in component and w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    raise AssertionError(f"no cycle through {start}")  # a strongly connected component has one


def describe(graph: Graph, cycle: list[str]) -> str:
    return " -> ".join(f"{a} (line {graph[a][b]})" for a, b in itertools.pairwise(cycle)) + f" -> {cycle[-1]}"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _defined(tree: ast.AST, aliases: bool) -> set[str]:
    """The private names a module defines: functions, classes, assigned names, arguments and
    attributes set on ``self`` / ``cls``; with ``aliases``, the names its imports bind too."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.alias) and aliases:
            out.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _on_self(node):
            out.add(node.attr)
    return {n for n in out if _private(n)}


def _on_self(node: ast.Attribute) -> bool:
    v = node.value
    return (isinstance(v, ast.Name) and v.id in ("self", "cls")) or \
        (isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "super")


def private_imports(root: Path = SRC) -> list[str]:
    """``file:line: from x import _name`` for every private name imported from another module."""
    known = modules(root)
    out = []
    for module, (path, is_package) in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target, name in imported(module, is_package, node, known):
                    if target != module and name is not None and _private(name):
                        out.append(f"{path.relative_to(root.parent)}:{node.lineno}: imports {name} from {target}")
    return out


def private_attributes(root: Path = SRC) -> list[str]:
    """``file:line: obj._name`` for every private attribute used on something other than
    ``self`` / ``cls`` whose name another facescan module defines and this one does not."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path, _ in modules(root).values()}
    local = {path: _defined(tree, aliases=True) for path, tree in trees.items()}
    own = {path: _defined(tree, aliases=False) for path, tree in trees.items()}
    out = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr) and not _on_self(node) \
                    and node.attr not in local[path]:
                owners = sorted(str(p.relative_to(root.parent)) for p, names in own.items() if node.attr in names)
                if owners:
                    out.append(f"{path.relative_to(root.parent)}:{node.lineno}: {ast.unparse(node)} "
                               f"(defined in {', '.join(owners)})")
    return out


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    found = [(_cycle_through(graph, t), t) for t in tangles(graph)]
    assert not found, "import cycles:\n" + "\n".join(
        describe(graph, c) + (f"\n  (all tangled: {', '.join(sorted(t))})" if len(t) > len(c) - 1 else "")
        for c, t in found)


def test_no_module_imports_a_private_name_of_another():
    found = private_imports()
    assert not found, "\n".join(found)


def test_no_module_uses_a_private_attribute_of_another():
    found = private_attributes()
    assert not found, "\n".join(found)


def test_the_checks_see_lazy_relative_and_package_imports(tmp_path):
    """The checks themselves, on a small package with every kind of import they must see."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "from .a import A\n",
        "a.py": "import os\n\nA = 1\n\n\ndef f():\n    from .b import _hidden\n    return _hidden\n",
        "b.py": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from . import c\n"
                "else:\n    import pkg.a\n_hidden = 2\n",
        "c.py": "from .b import _hidden\n",
        "sub/__init__.py": "from .d import D\n",
        "sub/d.py": "from . import E\nfrom .. import c\n\nD = c._hidden\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.b": 7}  # lazy, relative; os is not ours
    assert graph["pkg.b"] == {"pkg.a": 6}  # TYPE_CHECKING left out, its else branch kept
    assert graph["pkg.sub.d"] == {"pkg.sub": 1, "pkg.c": 2}
    found = sorted(describe(graph, c) for c in cycles(graph))
    assert found == ["pkg.a (line 7) -> pkg.b (line 6) -> pkg.a",
                     "pkg.sub (line 1) -> pkg.sub.d (line 1) -> pkg.sub"]
    assert private_imports(pkg) == ["pkg/a.py:7: imports _hidden from pkg.b", "pkg/c.py:1: imports _hidden from pkg.b"]
    assert private_attributes(pkg) == ["pkg/sub/d.py:4: c._hidden (defined in pkg/b.py)"]
