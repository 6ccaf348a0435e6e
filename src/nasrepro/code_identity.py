"""What a result's code is: the modules reachable by import from its roots, each hashed by its syntax tree.

The closure is followed statically (every `import` and `from ... import` in a module's syntax tree, those
inside functions included) over the modules of the nasrepro package and, for a user's module outside it,
over the modules beside it. A package whose `__init__` runs only because a module inside it is imported
counts with its own code, not with what it imports (a space's conversion is not its operators' code). A module is hashed without its docstrings and comments, so an edit of a
comment, a docstring or the formatting changes no digest, and any change of behaviour changes exactly the
digests of the closures that hold the module.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.machinery
import json
import sys
from functools import cache
from pathlib import Path

PACKAGE = "nasrepro"
PACKAGE_DIR = Path(__file__).resolve().parent
DIGEST_DIGITS = 16


def closure(roots: list[str]) -> dict[str, str]:
    """module name -> digest of each module reachable by import from the `roots` (module names). A plan asks
    for the same roots once per use: the walk is redone only when one of its files changed."""
    key = (PACKAGE_DIR, *sorted(roots))  # the package's folder too: a test may point it at a copy
    cached = _closures.get(key)
    if cached and all(_current_version(path) == version for path, version in cached[1].items()):
        return dict(cached[0])
    found, versions = _walk(roots)
    _closures[key] = (found, versions)
    return dict(found)


_closures: dict[tuple, tuple[dict[str, str], dict[Path, tuple[int, int] | None]]] = {}


def _current_version(path: Path) -> tuple[int, int] | None:
    try:
        return _version(path)
    except OSError:
        return None


def _walk(roots: list[str]) -> tuple[dict[str, str], dict[Path, tuple[int, int] | None]]:
    found: dict[str, str] = {}
    versions: dict[Path, tuple[int, int] | None] = {}
    followed: set[str] = set()
    pending = [(name, True) for name in roots]
    while pending:
        name, follow = pending.pop()
        if name in followed or (name in found and not follow):
            continue
        path = module_file(name)
        if path is None:
            continue
        versions[path] = _version(path)
        digest, imported = _parsed(str(path), *versions[path])
        found[name] = digest
        if follow:  # a package's __init__ met only as a parent counts, but not what it imports for other uses
            followed.add(name)
            pending += [(module, True) for module in imported if module not in followed]
            pending += [(parent, False) for parent in _parents(name)]
    return dict(sorted(found.items())), versions


def digest_of(modules: dict[str, str]) -> str:
    """One digest of a closure (`closure`'s result)."""
    return hashlib.sha256(json.dumps(modules, sort_keys=True).encode()).hexdigest()[:DIGEST_DIGITS]


def changed(recorded: dict[str, str], current: dict[str, str]) -> dict[str, str]:
    """What differs between two closures: module -> 'changed', 'added' or 'removed'."""
    return {name: ("removed" if name not in current else "added" if name not in recorded else "changed")
            for name in sorted(set(recorded) | set(current)) if recorded.get(name) != current.get(name)}


def module_file(name: str) -> Path | None:
    """The source file of a module of the package or of a user's module (None: the standard library, an
    installed package, or a module that does not exist)."""
    parts = name.split(".")
    if parts[0] == PACKAGE:
        base = PACKAGE_DIR.joinpath(*parts[1:])
        for path in (base.with_suffix(".py"), base / "__init__.py"):
            if path.is_file():
                return path
        return None
    return _users_module(parts[0]) if len(parts) == 1 else None


@cache
def _users_module(name: str) -> Path | None:
    """A top-level module's file where it is a user's own (not the standard library's or an installed one)."""
    try:  # on sys.path, never through sys.modules (which may hold a lazily loaded module: `nasrepro.lazy`)
        spec = importlib.machinery.PathFinder.find_spec(name, sys.path)
    except (ImportError, ValueError):
        return None
    origin = Path(spec.origin).resolve() if spec and spec.origin and spec.origin.endswith(".py") else None
    return origin if origin and not any(root in origin.parents for root in _installed()) else None


@cache
def _installed() -> frozenset[Path]:
    import sysconfig

    return frozenset(Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "platstdlib", "purelib", "platlib"))


def _parents(name: str) -> list[str]:
    """Importing `a.b.c` runs `a/__init__` and `a/b/__init__` first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _version(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


@cache
def _parsed(path: str, mtime_ns: int, size: int) -> tuple[str, tuple[str, ...]]:
    """(digest, imported module names) of one source file, once per version of the file."""
    source = Path(path).read_text(encoding="utf-8")
    tree = ast.parse(source, filename=path)
    name = _module_name(Path(path))
    imported = tuple(sorted(_imports(tree, name, Path(path).name == "__init__.py")))
    _strip_docstrings(tree)
    digest = hashlib.sha256(ast.dump(tree, annotate_fields=False, include_attributes=False).encode()).hexdigest()
    return digest[:DIGEST_DIGITS], imported


def _module_name(path: Path) -> str:
    resolved = path.resolve()
    if PACKAGE_DIR in resolved.parents or resolved.parent == PACKAGE_DIR:
        parts = resolved.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    return path.stem


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module an `import` statement of the tree may load: `from x import y` counts `x` and, where it
    is a module, `x.y`."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            if base:
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _absolute(node: ast.ImportFrom, package: str) -> str | None:
    if not node.level:
        return node.module
    parts = package.split(".") if package else []
    if node.level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else [])) or None


def _strip_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
