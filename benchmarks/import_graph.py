"""The import graph of src/nasrepro: every module's imports of the package's own modules, read with `ast`
(module level, and inside functions: a lazy import is still a dependency), its cycles and its upward imports.

    .venv/bin/python benchmarks/import_graph.py [--module-level]

A cycle: a strongly connected component of more than one module. An upward import: a module importing a
package (its `__init__`) that imports the module back, directly or not. `--module-level`: only the imports
that run when the module is imported (not those inside functions or under `if TYPE_CHECKING`).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

PACKAGE = "nasrepro"
SRC = Path(__file__).resolve().parent.parent / "src"


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _type_checking_only(node: ast.AST, parents: dict) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_of(path: Path, module: str, known: set[str], module_level: bool) -> set[str]:
    """The package modules `module` (the file `path`) imports: `from a import b` counts as a.b when a.b is a
    module, else as a; and the packages above each (their `__init__` runs first)."""
    tree = ast.parse(path.read_text(), str(path))
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or _type_checking_only(node, parents):
            continue
        if module_level and any(isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef))
                                for p in _ancestors(node, parents)):
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = _resolve(module, path.name == "__init__.py", node)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for target in targets:
            while target and target not in known:  # `import a.b.c` of a non-module attribute: its module
                target = target.rpartition(".")[0]
            if not target:  # not a module of the package
                continue
            if target != module:
                found.add(target)
            # importing a.b.c first runs a.b's __init__ (a module's own packages are already running)
            found.update(p for p in _packages_of(target) if p != module and p not in _packages_of(module))
    return found


def _packages_of(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]


def _ancestors(node: ast.AST, parents: dict):
    while node in parents:
        node = parents[node]
        yield node


def import_graph(src: Path = SRC, module_level: bool = False) -> dict[str, set[str]]:
    files = {module_name(p, src): p for p in sorted((src / PACKAGE).rglob("*.py"))}
    return {m: imports_of(p, m, set(files), module_level) for m, p in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted, largest first."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found, key=lambda c: (-len(c), c))


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in graph.get(todo.pop(), ()):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def upward_imports(graph: dict[str, set[str]], src: Path = SRC) -> list[tuple[str, str]]:
    """(module, package): the module imports a package whose `__init__` reaches the module back."""
    packages = {module_name(p, src) for p in (src / PACKAGE).rglob("__init__.py")}
    return sorted((m, p) for m, targets in graph.items() for p in targets
                  if p in packages and m != p and m in reachable(graph, p))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module-level", action="store_true", help="only imports run at import time")
    args = parser.parse_args()
    graph = import_graph(module_level=args.module_level)
    found = cycles(graph)
    upward = upward_imports(graph)
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} imports "
          f"({'module level' if args.module_level else 'module and function level'})")
    print(f"cycles (strongly connected components of more than one module): {len(found)}")
    for component in found:
        print(f"  {len(component)} modules: {' '.join(component)}")
    print(f"upward imports (a module importing a package that imports it back): {len(upward)}")
    for module, package in upward:
        print(f"  {module} -> {package}")


if __name__ == "__main__":
    main()
