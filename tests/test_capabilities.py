"""Methods ask for capabilities, not spaces: each built-in space offers what its operators implement, each method
needs what it calls, no searcher names a space, and every built-in method type either runs a few queries on the
external toy space and on TransNAS-Bench-101 micro or is refused at validation in one line."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from nasrepro import plugins
from nasrepro.searchers import searcher_class
from nasrepro.spaces import CAPABILITIES, get_space
from nasrepro.spaces.transnas.encodings import path84

from conftest import benchmark_script
from test_transnas import write_zip

REPO = Path(__file__).resolve().parents[1]
PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture(scope="module")
def matrix():
    return benchmark_script("capability_matrix")


@pytest.fixture
def on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))


@pytest.fixture(scope="module")
def benchmarks(matrix, tmp_path_factory):
    import sys

    sys.path.insert(0, str(PLUGINS))
    try:
        toy = matrix.toy_benchmark()
    finally:
        sys.path.remove(str(PLUGINS))
    transnas = matrix.transnas_benchmark(write_zip(tmp_path_factory.mktemp("transnas") / "zen.zip", ("class_scene",)))
    return {"toy": (matrix.TOY_BENCH, toy), "transnas_micro": (matrix.TRANSNAS_BENCH, transnas)}


def test_declarations_name_known_capabilities():
    for name in plugins.SPACES:
        assert get_space(name).offers <= set(CAPABILITIES), name
    for kind in plugins.METHODS:
        assert set(searcher_class(kind).needs) <= set(CAPABILITIES), kind


def test_every_offered_capability_is_implemented(benchmarks, on_path):
    """What a space offers, its operators answer (and the toy's, which offers two, refuse the rest)."""
    calls = {"neighbours": lambda o: o.neighbours(3), "graphs": lambda o: o.graphs(),
             "mutation": lambda o: o.mutate(3, o.genotype(3, np.random.default_rng(0)), np.random.default_rng(0),
                                            get_space(space).mutations[0]),
             "sequences": lambda o: o.id_of_sequence(o.sequences()[3]), "paths": lambda o: o.paths([3, 4]),
             "decisions": lambda o: o.decisions(), "computation": lambda o: o.computation()}
    assert set(calls) == set(CAPABILITIES)
    for space, (_, benchmark) in benchmarks.items():
        space = benchmark.space
        operators = get_space(space).operators(benchmark.cells)
        for capability, call in calls.items():
            if capability in get_space(space).offers:
                assert call(operators) is not None, (space, capability)
            else:
                with pytest.raises(NotImplementedError):
                    call(operators)


def test_transnas_offers_what_npenas_mcts_and_cate_read(benchmarks):
    operators = get_space("transnas_micro").operators(benchmarks["transnas_micro"][1].cells)
    ops = operators.ops
    paths = operators.paths(np.arange(operators.size))
    full = path84(benchmarks["transnas_micro"][1].table)
    assert paths.shape == full.shape == (4096, 84) and (paths <= full).all()
    assert (paths[ops.min(axis=1) > 0] == full[ops.min(axis=1) > 0]).all()  # no 'none' edge: every path lives
    assert not paths[(ops == 0).all(axis=1)].any() and (paths.sum(axis=1) < full.sum(axis=1)).sum() > 1000
    choices, to_id = operators.decisions()
    assert choices == [4] * 6 and all(to_id(list(ops[i])) == i for i in range(0, 4096, 111))
    cost = operators.computation()
    assert cost[(ops == 3).all(axis=1)].tolist() == [54.0] and cost[(ops == 2).all(axis=1)].tolist() == [6.0]
    assert cost[(ops <= 1).all(axis=1)].max() == 0.0


def _space_literals(path: Path) -> list[str]:
    """The built-in space names a module writes outside the keys of a `by_space={...}` (per-space data)."""
    tree = ast.parse(path.read_text())
    data = {id(key) for node in ast.walk(tree) if isinstance(node, ast.keyword) and node.arg == "by_space"
            and isinstance(node.value, ast.Dict) for key in node.value.keys}
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and node.value in plugins.SPACES
            and id(node) not in data]


def test_no_module_outside_the_spaces_names_a_space():
    """No searcher, predictor, cost rule, renderer or config check names a space (plugins.py registers them)."""
    package = REPO / "src" / "nasrepro"
    named = {str(p.relative_to(package)): found for p in sorted(package.rglob("*.py"))
             if "spaces" not in p.relative_to(package).parts and p.name != "plugins.py" and (found := _space_literals(p))}
    assert named == {}
    assert _space_literals(REPO / "src" / "nasrepro" / "spaces" / "nb201" / "__init__.py") == ["nb201"]  # it finds one


@pytest.mark.parametrize("space", ["toy", "transnas_micro"])
@pytest.mark.parametrize("kind", sorted(plugins.METHODS))
def test_every_builtin_method_runs_or_is_refused_in_one_line(matrix, benchmarks, on_path, kind, space):
    bench, benchmark = benchmarks[space]
    needs = searcher_class(kind).needs_for(searcher_class(kind).resolve({}, bench["space"]))
    line = matrix.outcome(kind, matrix.fast({"type": kind}), bench, benchmark, queries=8)
    if needs <= get_space(bench["space"]).offers:
        assert line == "ran: 8 queries"
        return
    assert "\n" not in line
    missing = sorted(needs - get_space(bench["space"]).offers)  # refused for what the space lacks: the method's key
    space_name = get_space(bench["space"]).name                  # and type, the space, the capability
    assert re.match(rf"config.yaml: key 'methods.{kind}' \(type {kind}\) needs {missing[0]} \(", line), line
    assert f"which space {space_name} (benchmark 'toy') does not offer; it offers mutation, neighbours" in line
