"""The package's shape, checked: imports flow one way, with no circles; modules and
functions stay small; ``import minigrad`` needs numpy and nothing else.

Imports are read from the source with ``ast``, never by importing, so an
import inside a function counts as much as one at the top of a file. See
ARCHITECTURE.md for the picture these tests hold the code to.
"""

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40

# Each module's layer, by the longest matching prefix: a module may import from
# its own layer and the layers below, never from a layer above.
LAYERS = {
    "minigrad.errors": 0,
    "minigrad.backend": 0,
    "minigrad.dtypes": 0,
    "minigrad.autograd": 1,
    "minigrad.ops": 2,
    "minigrad.operands": 3,
    "minigrad.tensor": 4,
    "minigrad.functional": 5,
    "minigrad.nn": 6,
    "minigrad.optim": 7,
    "minigrad.serialization": 7,
    "minigrad.viz": 7,
    "minigrad": 8,  # the package's __init__: the framework's public names
    "minigrad.lesson": 8,
    "minigrad.gradcheck": 9,
    "minigrad.data": 10,
    "minigrad.models": 11,
    "minigrad.tool": 12,
    "minigrad.__main__": 12,  # python -m minigrad: the command line
}
TOOL_LAYER = LAYERS["minigrad.tool"]

# What the framework (every layer below the tool) may import besides the standard library.
FRAMEWORK_THIRD_PARTY = {"numpy", "cupy", "cupyx"}  # CuPy only where a GPU is asked for
TOOL_ONLY = ("typer", "rich", "pydantic", "yaml")


def layer(module):
    """The layer of a dotted module name, from its longest prefix in LAYERS."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in LAYERS:
            return LAYERS[prefix]
    raise KeyError(f"{module} has no layer: add it to LAYERS in {Path(__file__).name}")


def modules(src=SRC):
    """{dotted name: file} for every module of the minigrad package under ``src``."""
    found = {}
    for file in sorted((src / "minigrad").rglob("*.py")):
        parts = list(file.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = file
    return found


def _resolve(importer, is_package, node, known):
    """The minigrad modules an ImportFrom or Import node names (the most specific known module each)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == "minigrad"]
    if node.level:
        base = importer.split(".")
        base = base[:len(base) - node.level + (1 if is_package else 0)]
        base = ".".join(base + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    if base.split(".")[0] != "minigrad":
        return []
    targets = []
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        targets.append(submodule if submodule in known else base)
    return targets


def imports(src=SRC):
    """(importer, imported, file, line) for every import of one minigrad module by another."""
    known = modules(src)
    found = []
    for name, file in known.items():
        tree = ast.parse(file.read_text(encoding="utf-8"), str(file))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _resolve(name, file.name == "__init__.py", node, known):
                    if target != name:
                        found.append((name, target, file, node.lineno))
    return found


def _where(file, line):
    """``src/minigrad/autograd.py:3`` (a fake package's file keeps its whole path)."""
    return f"{file.relative_to(SRC.parent) if SRC in file.parents else file}:{line}"


def upward_imports(src=SRC):
    """One message per import from a lower layer into a higher one."""
    return [f"{_where(file, line)}: {importer} (layer {layer(importer)}) imports {imported} "
            f"(layer {layer(imported)}), which is above it"
            for importer, imported, file, line in imports(src) if layer(imported) > layer(importer)]


def _reach(edges, start):
    """{module: the module it was first reached from} for every module ``start`` reaches, breadth first."""
    came_from, todo = {}, [start]
    while todo:
        node, todo = todo[0], todo[1:]
        for child in sorted(edges.get(node, {})):
            if child not in came_from:
                came_from[child] = node
                todo.append(child)
    return came_from


def circles(src=SRC):
    """One message per group of modules that import each other (around a circle):
    its shortest circle, each step named with the file and line of the import."""
    edges = {}
    for importer, imported, file, line in imports(src):
        edges.setdefault(importer, {}).setdefault(imported, (file, line))
    reach = {node: _reach(edges, node) for node in edges}
    found, seen = [], set()
    for start in sorted(edges):
        if start in seen or start not in reach[start]:
            continue
        group = {node for node in reach[start] if start in reach.get(node, {})}
        seen |= group
        shortest = min((_circle(reach[node], node) for node in sorted(group)), key=len)
        steps = [f"{a} imports {b} at {_where(*edges[a][b])}" for a, b in zip(shortest, shortest[1:])]
        found.append(f"circle of {len(group)} modules: " + "; ".join(steps))
    return found


def _circle(came_from, start):
    """The path from ``start`` back to itself that the breadth-first search found: a shortest circle."""
    path = [start]
    while path[-1] != start or len(path) == 1:
        path.append(came_from[path[-1]])
    return path[::-1]


# ---- import direction -------------------------------------------------------------------------


def test_every_module_has_a_layer():
    for name in modules():
        layer(name)


def test_imports_flow_from_the_tool_down_to_the_backend():
    wrong = upward_imports()
    assert not wrong, "imports against the direction tool > models > data > ... > autograd > backend:\n" + \
        "\n".join(wrong)


def test_no_module_imports_itself_back():
    found = circles()
    assert not found, "\n".join(found)


def test_the_framework_imports_nothing_but_numpy_and_the_standard_library():
    wrong = []
    for name, file in modules().items():
        if layer(name) >= TOOL_LAYER:
            continue
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and not node.level else []
            for top in {n.split(".")[0] for n in names}:
                if top not in sys.stdlib_module_names and top not in FRAMEWORK_THIRD_PARTY | {"minigrad"}:
                    wrong.append(f"{_where(file, node.lineno)}: {name} imports {top}")
    assert not wrong, "\n".join(wrong)


def test_import_minigrad_loads_no_tool_dependency():
    code = "import sys, minigrad; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert "minigrad" in loaded and "numpy" in loaded
    assert not loaded & set(TOOL_ONLY), sorted(loaded & set(TOOL_ONLY))


# ---- the checks catch what they are for -------------------------------------------------------


def _package(tmp_path, files):
    """A fake minigrad package under ``tmp_path``: {relative path: source}."""
    for relative, text in files.items():
        path = tmp_path / "minigrad" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_an_upward_import_is_named_with_both_modules_and_its_line(tmp_path):
    src = _package(tmp_path, {"__init__.py": "", "tensor.py": "",
                              "autograd.py": "import heapq\n\nfrom .tensor import Tensor\n"})
    [message] = upward_imports(src)
    assert "minigrad.autograd (layer 1) imports minigrad.tensor (layer 4)" in message
    assert "autograd.py:3" in message


def test_an_import_inside_a_function_counts_too(tmp_path):
    src = _package(tmp_path, {"__init__.py": "", "tool/__init__.py": "",
                              "nn/__init__.py": "def f():\n    from ..tool import cli\n", "tool/cli.py": ""})
    [message] = upward_imports(src)
    assert "minigrad.nn (layer 6) imports minigrad.tool.cli (layer 12)" in message


def test_a_circle_is_named_with_every_module_on_it(tmp_path):
    src = _package(tmp_path, {"__init__.py": "", "data/__init__.py": "",
                              "data/lm.py": "from .qa import x\n", "data/qa.py": "from . import lm\n"})
    [message] = circles(src)
    assert "minigrad.data.lm imports minigrad.data.qa at" in message
    assert "minigrad.data.qa imports minigrad.data.lm at" in message


# ---- size -------------------------------------------------------------------------------------


def test_no_module_is_longer_than_the_limit():
    long = [f"{_where(file, 1)}: {len(file.read_text().splitlines())} lines" for file in modules().values()
            if len(file.read_text().splitlines()) > MAX_MODULE_LINES]
    assert not long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(long)


def _functions(file):
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.lineno, node.end_lineno - node.lineno + 1


def test_no_function_is_longer_than_the_limit():
    long = [f"{_where(file, line)}: {name} has {size} lines" for file in modules().values()
            for name, line, size in _functions(file) if size > MAX_FUNCTION_LINES]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (from def to their last line):\n" + "\n".join(long)
