"""The package's import graph has no cycle and no upward import (benchmarks/import_graph.py measures it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import benchmark_script


@pytest.fixture(scope="module")
def graphs():
    return benchmark_script("import_graph")


@pytest.mark.parametrize("module_level", [True, False], ids=["module-level", "function-level-too"])
def test_src_has_no_import_cycle(graphs, module_level):
    graph = graphs.import_graph(module_level=module_level)
    assert "nasrepro.spaces" in graph["nasrepro.searchers.base"]  # the graph is read, not empty
    assert graphs.cycles(graph) == []
    assert graphs.upward_imports(graph) == []


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_finds_cycles_and_upward_imports(graphs, tmp_path):
    """What the test above refuses: a lazy cycle, and a package whose __init__ imports a module that imports
    a sibling package back, through the parent package the import of a submodule runs first."""
    src = _write(tmp_path, {
        "nasrepro/__init__.py": "",
        "nasrepro/a.py": "from . import b\n",
        "nasrepro/b.py": "def f():\n    from .a import x\n",
        "nasrepro/sources.py": "def g():\n    from .spaces import all_spaces\n",
        "nasrepro/spaces/__init__.py": "from ..sources import Source\n",
        "nasrepro/spaces/nb.py": "from .. import Graphs\n",
        "nasrepro/config/__init__.py": "from .check import validate\n",
        "nasrepro/config/check.py": "def v():\n    from ..render.outputs import OUTPUTS\n",
        "nasrepro/render/__init__.py": "from .. import config\n",
        "nasrepro/render/outputs.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a import z\n",
    })
    graph = graphs.import_graph(src)
    assert graph["nasrepro.config.check"] == {"nasrepro.render", "nasrepro.render.outputs"}
    assert graph["nasrepro.render.outputs"] == set()  # a TYPE_CHECKING import is no dependency
    assert graphs.cycles(graph) == [["nasrepro.config", "nasrepro.config.check", "nasrepro.render"],
                                    ["nasrepro.a", "nasrepro.b"], ["nasrepro.sources", "nasrepro.spaces"]]
    assert graphs.upward_imports(graph, src) == [("nasrepro.config.check", "nasrepro.render"),
                                                 ("nasrepro.render", "nasrepro.config"),
                                                 ("nasrepro.sources", "nasrepro.spaces")]
    assert graphs.cycles(graphs.import_graph(src, module_level=True)) == []
