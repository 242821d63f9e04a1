"""The package's shape, held by its parsed imports: rooms whose imports point one way, no import
circles (lazy imports inside functions count too), no function over 60 lines.

``LAYERS`` is the map of ``docs/guide/concepts.md``: top to bottom, each row a layer of rooms (a
room is a module, or a package with everything in it). A module may import from its own layer
and from the layers below it, never from one above.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "evokit"

LAYERS = [
    ["evokit", "evokit.__main__", "evokit.cli", "evokit.service", "evokit.testing"],              # faces: command line, job service
    ["evokit.config", "evokit.presets", "evokit.comparison", "evokit.export"],    # what the command line runs
    ["evokit.search"],                                                            # the user's search
    ["evokit.report", "evokit.deap_toolbox"],                                     # reports; a bare DEAP toolbox
    ["evokit.algorithms", "evokit.callbacks"],                                    # loops over a DEAP toolbox
    ["evokit.runtime", "evokit.runtime.run"],                                     # run records (and the face)
    ["evokit.runtime.candidates"],                                                # genotype -> fitness
    ["evokit.runtime.executors"],                                                 # where training runs
    ["evokit.runtime.training"],                                                  # one network's training
    ["evokit.fitness"],                                                           # objectives, constraints, CO2
    ["evokit.evaluation"],                                                        # what a training produced
    ["evokit.builder", "evokit.layers"],                                          # NetSpec -> keras.Model
    ["evokit.datasets", "evokit.datafiles", "evokit.tokens", "evokit.corpora", "evokit.cells",
     "evokit.imagefiles", "evokit.diskarray", "evokit.classfolders"],                                  # data in
    ["evokit.encodings"],                                                         # genotype -> NetSpec
    ["evokit.operators"],                                                         # variation operators
    ["evokit.tasks", "evokit.netspec"],                                           # task kinds; the IR
    ["evokit.pareto", "evokit.params", "evokit.unpickle", "evokit.errors", "evokit.logs", "evokit.individual"],
]
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _imports(module: str) -> set[str]:
    """The evokit modules ``module`` imports anywhere in its code (top level, functions, TYPE_CHECKING)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "evokit"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "evokit":
            for alias in node.names:  # `from evokit.x import y` imports module evokit.x.y if there is one
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return found - {module}


GRAPH = {module: _imports(module) for module in MODULES}


def _layer(module: str) -> int:
    """The layer of the longest room name that ``module`` is or lies in."""
    best = None
    for index, rooms in enumerate(LAYERS):
        for room in rooms:
            if (module == room or module.startswith(room + ".")) and (best is None or len(room) > len(best[1])):
                best = (index, room)
    if best is None:
        raise AssertionError(f"{module} is in no layer of LAYERS: add its room to the map (and to concepts.md)")
    return best[0]


def test_every_module_has_a_place_in_the_map():
    for module in MODULES:
        _layer(module)


def test_no_import_runs_up_a_layer():
    upward = [f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})"
              for module, targets in GRAPH.items() for target in targets if _layer(target) < _layer(module)]
    assert upward == []


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in GRAPH.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return found


def test_no_import_circles():
    assert _cycles() == []


def test_the_circle_check_finds_a_circle():
    GRAPH["evokit.pareto"].add("evokit.errors")
    GRAPH["evokit.errors"].add("evokit.pareto")
    try:
        assert _cycles() == [["evokit.errors", "evokit.pareto"]]
    finally:
        GRAPH["evokit.errors"].discard("evokit.pareto")
        GRAPH["evokit.pareto"].discard("evokit.errors")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_function_is_over_60_lines(module):
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines, line {node.lineno})"
            for node in ast.walk(ast.parse(MODULES[module].read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == []


def test_no_name_in_a_package_face_shadows_a_module_of_that_package():
    """``import evokit`` must not turn ``evokit.<module>`` into a function or class of the same name."""
    import importlib
    import types

    shadowed = []
    for module in sorted(MODULES):
        if module.endswith("__main__"):
            continue
        package = module.rpartition(".")[0]
        if not package:
            continue
        value = getattr(importlib.import_module(package), module.rpartition(".")[2], None)
        importlib.import_module(module)
        value = getattr(importlib.import_module(package), module.rpartition(".")[2], value)
        if not isinstance(value, types.ModuleType):
            shadowed.append(f"{package}.{module.rpartition('.')[2]} is {type(value).__name__} {value!r}")
    assert shadowed == []
