"""The package's imports point down the data flow: no import circles, and the core never imports a backend.

Read from the source with ``ast`` (imports inside functions count; those under
``if TYPE_CHECKING:`` do not), so a circle fails here even where a lazy import
would hide it at run time.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = {"npl_nengo": ROOT / "npl_nengo", "npl_nengo.backends": ROOT / "backends",
            "npl_nengo.networks": ROOT / "networks", "npl_nengo.experiments": ROOT / "npl_nengo" / "experiments"}
#: Modules above the core: the package facade and the applications.
APPS = {"npl_nengo", "npl_nengo.cli", "npl_nengo.gui", "npl_nengo.pong_app"}


def _modules() -> dict[str, pathlib.Path]:
    mods = {}
    for package, folder in PACKAGES.items():
        for path in folder.glob("*.py"):
            mods[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return mods


MODULES = _modules()


def _target(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str):
        self.module, self.found = module, set()
        self.package = module if MODULES[module].stem == "__init__" else module.rpartition(".")[0]

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found |= {_target(a.name) for a in node.names if a.name.startswith("npl_nengo")}

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self.package
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        full = (f"{base}.{node.module}" if node.module else base) if node.level else (node.module or "")
        if not full.startswith("npl_nengo"):
            return
        for alias in node.names:  # "from . import networks" imports a module
            self.found.add(_target(f"{full}.{alias.name}") if f"{full}.{alias.name}" in MODULES else _target(full))


def _graph() -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        visitor = _Imports(module)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        graph[module] = {m for m in visitor.found if m and m != module}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_graph_sees_imports():
    graph = _graph()
    assert "npl_nengo.compiler" in graph["npl_nengo.comparison"] or "npl_nengo.cells" in graph["npl_nengo.comparison"]
    assert "npl_nengo.nef" in graph["npl_nengo.backends.nengo"]
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]


def test_no_import_circles():
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m not in APPS and not m.startswith("npl_nengo.backends")))
def test_the_core_never_imports_a_backend(module):
    """Backends sit below the applications only; the core reaches them through npl_nengo.registry."""
    upward = sorted(m for m in _graph()[module] if m.startswith("npl_nengo.backends"))
    assert not upward, f"{module} imports {upward}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m not in APPS and not m.startswith("npl_nengo.experiments")))
def test_the_library_never_imports_an_experiment(module):
    """Experiments (npl_nengo.experiments) use the library; the library, networks/ included, holds no experiment."""
    upward = sorted(m for m in _graph()[module] if m.startswith("npl_nengo.experiments"))
    assert not upward, f"{module} imports {upward}"
