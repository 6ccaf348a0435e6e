"""Modules imported on first use: a heavy library (torch) that a module names at its top is loaded only
when its code runs, so validating a config, planning a workflow or running a method that trains no torch
model never loads it."""

from __future__ import annotations

import functools
import importlib.util
import sys
from types import ModuleType


def module(name: str) -> ModuleType:
    """`name` as a module object that runs its import on the first attribute access (importlib's
    LazyLoader); the module itself if it is imported already."""
    if name in sys.modules:
        return sys.modules[name]
    if "." in name:
        raise ValueError(f"{name}: a top-level module only (finding a submodule imports its package)")
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def loaded(name: str) -> ModuleType | None:
    """The module if it is really imported (a module named by `module` but not touched yet is not: touching it
    would load it), else None."""
    found = sys.modules.get(name)
    return found if type(found) is ModuleType else None  # LazyLoader's placeholder is a subclass until loaded


def no_grad(function):
    """`torch.no_grad()` as a decorator that loads torch only when the function is called."""

    @functools.wraps(function)
    def call(*args, **kwargs):
        import torch

        with torch.no_grad():
            return function(*args, **kwargs)

    return call
