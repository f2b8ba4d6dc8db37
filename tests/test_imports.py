"""nlpkit's modules import each other one way, as a text goes: text and its segmentation ->
features -> model -> topic.

The imports are read from the source (ast), without importing anything: every ``import`` and
``from ... import`` of an nlpkit module, at module level and inside functions and methods
alike (a deferred import still ties the two modules together, and a cycle through one breaks
as soon as someone moves it to the top). Two kinds are left out, as they never run an import
cycle: imports under ``if TYPE_CHECKING:`` (for annotations only), and the implicit import
of a package by its own submodules. ``from . import name`` counts as an import of the
submodule ``name`` where there is one, of the package where its ``__init__.py`` defines
``name`` (``from . import load``), and of nothing else (the compiled core, ``_core``, is no
Python module and imports none).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

import nlpkit

PACKAGE = Path(nlpkit.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _defined(path: Path) -> set[str]:
    """The names a module binds at its top level (what `from package import name` may mean
    when ``name`` is no submodule)."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).partition(".")[0] for a in node.names)
    return names


DEFINED = {name: _defined(path) for name, path in MODULES.items()}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST):
    """Every Import and ImportFrom of a tree, but those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from (i for n in node.orelse for i in _imports_in(n))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _imports(node)


def imports_of(name: str) -> set[str]:
    """The nlpkit modules module ``name`` imports."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module
            targets = []
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    targets.append(f"{base}.{alias.name}")
                elif base not in MODULES or alias.name in DEFINED[base]:
                    targets.append(base)
        for target in targets:
            # `import nlpkit.a.b` imports nlpkit.a.b; a name inside a module counts as it
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_reader_sees_the_imports_it_must():
    # module level, inside a function, relative and absolute, a package's own name
    assert {"nlpkit.compiled", "nlpkit.vocabulary"} <= GRAPH["nlpkit.predictor"]
    assert "nlpkit.modelfile" in GRAPH["nlpkit"]  # inside `load`
    assert "nlpkit" in GRAPH["nlpkit.batch.streaming"]  # `from .. import load`
    assert "nlpkit.batch.reading" in GRAPH["nlpkit.batch"]  # `from .reading import ...`
    assert "nlpkit.explanation" not in GRAPH["nlpkit"]  # under TYPE_CHECKING only
    assert "nlpkit" not in GRAPH["nlpkit.compiled"]  # `from . import _core`: no Python


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycle_among_nlpkit_modules():
    found = cycles(GRAPH)
    assert not found, "import cycles: " + "; ".join(" <-> ".join(component) for component in found)


# The modules of nlpkit.batch, in the order an archive's lines go through them: reading (the
# input's lines, their records), answering (here or in worker processes), writing (the output
# file, the run that ties them together).
BATCH_STEPS = ["naming", "reading", "records", "answering", "workers", "output", "streaming"]

# The steps a text goes through, in order; a module imports nothing of a later step (the other
# modules, training's and the corpora's, stand outside the flow and only must not loop).
STEPS = [
    ("text", ["text", "segmenter", "pyvi_model", "compiled", "installed"]),
    ("features", ["vocabulary", "counting", "names", "features"]),
    ("model", ["predictor", "modelfile", "explanation"]),
    ("topic", ["", "batch", *(f"batch.{m}" for m in BATCH_STEPS), "dask", "cli"]),
]


def _reach(name: str) -> set[str]:
    seen, todo = set(), [name]
    while todo:
        for target in GRAPH[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


@pytest.mark.parametrize("step", range(len(STEPS) - 1), ids=[s for s, _ in STEPS[:-1]])
def test_data_flows_one_way(step):
    later = {f"nlpkit.{m}".rstrip(".") for _, modules in STEPS[step + 1 :] for m in modules}
    for module in STEPS[step][1]:
        name = f"nlpkit.{module}"
        assert not _reach(name) & later, f"{name} imports {sorted(_reach(name) & later)}"


def test_batch_modules_are_all_in_their_steps():
    listed = {f"nlpkit.batch.{m}" for m in BATCH_STEPS}
    assert listed == {name for name in MODULES if name.startswith("nlpkit.batch.")}


@pytest.mark.parametrize("i", range(len(BATCH_STEPS)), ids=BATCH_STEPS)
def test_batch_data_flows_one_way(i):
    name = f"nlpkit.batch.{BATCH_STEPS[i]}"
    later = {f"nlpkit.batch.{m}" for m in BATCH_STEPS[i + 1 :]} | {"nlpkit.batch"}
    assert not _reach(name) & later, f"{name} imports {sorted(_reach(name) & later)}"


# (the checkout's: the package the tests import may be an installed copy, with no experiments
# beside it)
EXPERIMENTS = sorted((ROOT / "experiments").rglob("*.py"))


def test_the_experiment_scripts_are_found():
    assert len(EXPERIMENTS) >= 10


@pytest.mark.parametrize("script", EXPERIMENTS, ids=lambda p: p.name)
def test_experiment_scripts_import_what_nlpkit_has(script):
    # The scripts are run by hand, seldom; a name that moved inside nlpkit breaks them silently.
    import importlib

    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "nlpkit":
            module = importlib.import_module(node.module)
            for alias in node.names:
                submodule = hasattr(module, "__path__") and importlib.util.find_spec(
                    f"{node.module}.{alias.name}"
                )
                assert hasattr(module, alias.name) or submodule, (
                    f"{script.name}: {node.module} has no {alias.name}"
                )
