"""Print the import graph of the skw2v package from its import statements; fail on a cycle.

    python tools/import_graph.py [--package skw2v]

Reads every ``.py``, ``.pyx`` and ``.pxd`` file of the package (nothing is
imported): each ``import``/``from ... import``/``cimport`` of a module of the
package is an edge, those inside functions (imported lazily, on first use)
included and marked ``(lazy)``. Modules are printed by layer: layer 0 imports
no module of the package, and every module imports only modules of lower
layers, so the order is the dependency order. Exits with status 1 and prints
the cycle when the graph has one.
"""

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_CYTHON_IMPORT = re.compile(
    r"^(?P<indent>[ \t]*)(?:from\s+(?P<src>[.\w]+)\s+c?import\s+(?P<names>[^#\n]+)"
    r"|c?import\s+(?P<mods>[^#\n]+))", re.M)


def module_name(path, package_dir):
    rel = path.relative_to(package_dir.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(current, is_package, level, target):
    """Absolute module name of ``from <level dots><target> import`` inside ``current``."""
    if level == 0:
        return target
    base = current.split(".") if is_package else current.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _imports_py(source):
    """(level, module, names, lazy) for each import statement of Python source."""
    tree = ast.parse(source)
    lazy_nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lazy_nodes.update(id(n) for n in ast.walk(node) if n is not node)
    for node in ast.walk(tree):
        lazy = id(node) in lazy_nodes
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield 0, alias.name, [], lazy
        elif isinstance(node, ast.ImportFrom):
            yield node.level, node.module or "", [a.name for a in node.names], lazy


def _imports_cython(source):
    for m in _CYTHON_IMPORT.finditer(source):
        lazy = bool(m.group("indent"))
        if m.group("src"):
            src = m.group("src")
            level = len(src) - len(src.lstrip("."))
            names = [n.strip().split(" as ")[0] for n in m.group("names").strip("() ").split(",")]
            yield level, src.lstrip("."), [n for n in names if n], lazy
        else:
            for mod in m.group("mods").split(","):
                yield 0, mod.strip().split(" as ")[0], [], lazy


def import_graph(package_dir):
    """{module: {imported module: lazy}} over the modules of the package."""
    files = sorted(p for ext in ("*.py", "*.pyx", "*.pxd") for p in package_dir.rglob(ext))
    modules = {module_name(p, package_dir): p for p in files}
    graph = {name: {} for name in modules}
    for name, path in modules.items():
        source = path.read_text(encoding="utf-8")
        is_package = path.stem == "__init__"
        found = (_imports_py(source) if path.suffix == ".py" else _imports_cython(source))
        for level, target, names, lazy in found:
            base = _resolve(name, is_package, level, target)
            # "from . import _core" imports the module _core; "from ._cuda import x" the package
            targets = [f"{base}.{n}" for n in names if f"{base}.{n}" in modules] or [base]
            for t in targets:
                if t in modules and t != name:
                    graph[name][t] = graph[name].get(t, True) and lazy
    return graph


def find_cycle(graph):
    """A list of modules forming a cycle (first repeated at the end), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def layers(graph):
    """Layer of each module: 0 without imports, else 1 + the highest layer it imports."""
    layer = {}

    def of(node):
        if node not in layer:
            layer[node] = 1 + max((of(t) for t in graph[node]), default=-1)
        return layer[node]

    for node in graph:
        of(node)
    return layer


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", default=str(ROOT / "skw2v"), help="package folder")
    args = ap.parse_args(argv)
    package_dir = Path(args.package).resolve()
    graph = import_graph(package_dir)
    cycle = find_cycle(graph)
    if cycle:
        print("import cycle: " + " -> ".join(cycle))
        return 1
    prefix = package_dir.name + "."
    short = lambda m: m[len(prefix):] if m.startswith(prefix) else m  # noqa: E731
    layer = layers(graph)
    for node in sorted(graph, key=lambda m: (layer[m], m)):
        deps = ", ".join(short(t) + (" (lazy)" if lazy else "")
                         for t, lazy in sorted(graph[node].items()))
        print(f"[{layer[node]}] {short(node) or node}" + (f" -> {deps}" if deps else ""))
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} imports, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
