"""Modules imported on first use: a heavy library (torch) that a module names at its top is loaded only
when its code runs, so validating a config, planning a workflow or running a method that trains no torch
model never loads it."""

from __future__ import annotations

import functools
import importlib.util
import sys
from types import ModuleType


def module(name: str) -> ModuleType:
    """`name` as a stand-in module object that imports the real module on the first attribute access; the module
    itself if it is imported already. The stand-in stays out of `sys.modules`: libraries that look there for
    torch (scipy's array-API checks do, on every call) must not load it by looking."""
    if name in sys.modules:
        return sys.modules[name]
    if "." in name:
        raise ValueError(f"{name}: a top-level module only (finding a submodule imports its package)")
    if importlib.util.find_spec(name) is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    return _Deferred(name)


class _Deferred(ModuleType):
    def __getattr__(self, attribute: str):
        real = importlib.import_module(self.__name__)
        self.__dict__.update(vars(real))  # later look-ups are plain attribute hits
        return getattr(real, attribute)


def loaded(name: str) -> ModuleType | None:
    """The module if it is really imported, else None (a stand-in of `module` is not in `sys.modules`)."""
    return sys.modules.get(name)


def no_grad(function):
    """`torch.no_grad()` as a decorator that loads torch only when the function is called."""

    @functools.wraps(function)
    def call(*args, **kwargs):
        import torch

        with torch.no_grad():
            return function(*args, **kwargs)

    return call
