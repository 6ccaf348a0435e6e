"""The five comparison methods the paper only copied (MCTS, BONAS, NASBOWL, arch2vec, CATE) on the synthetic
NAS-Bench-201 and the small synthetic NAS-Bench-101: each runs within budget end to end, is deterministic per
seed and never reads test labels; their building blocks (the WL feature map, Bayesian linear regression,
the pretrained embeddings) are checked against their definitions."""

from __future__ import annotations

import numpy as np
import pytest

from nasrepro import plugins
from nasrepro.benchmark import Benchmark
from nasrepro.runner import Budget, run_search
from nasrepro.searchers import searcher_class

from test_searchers_nb101 import cells, small_nb101  # noqa: F401  (the synthetic NAS-Bench-101 fixtures)

METHODS = {
    "mcts": {"type": "mcts", "rollout_attempts": 50},
}


@pytest.fixture(scope="module")
def benchmarks(nb201_synthetic, small_nb101) -> dict[str, Benchmark]:  # noqa: F811
    return {"nb201": nb201_synthetic, "nb101": small_nb101}


def features_for(method: dict, benchmark: Benchmark) -> np.ndarray | None:
    return None


def run(benchmark: Benchmark, method: dict, seed: int, queries: int):
    return run_search(benchmark, features_for(method, benchmark), method, seed, Budget(queries), progress=False)


def assert_contract(benchmark: Benchmark, method: dict, queries: int, distinct: bool = True) -> None:
    """conftest's `assert_search_contract`, for methods that may query an architecture again (charged)."""
    first = run(benchmark, method, 5, queries).trajectory
    ids = first["arch_id"].tolist()
    assert len(ids) == queries and (not distinct or len(set(ids)) == queries)
    assert run(benchmark, method, 5, queries).trajectory.equals(first)
    assert run(benchmark, method, 6, queries).trajectory["arch_id"].tolist() != ids
    table = benchmark.table.copy()
    table["test_label"] = np.random.default_rng(9).permutation(table["test_label"].to_numpy())
    altered = Benchmark(table=table, meta=benchmark.meta)
    assert run(altered, method, 5, queries).trajectory["arch_id"].tolist() == ids


@pytest.mark.parametrize("space", ["nb201", "nb101"])
@pytest.mark.parametrize("name", sorted(METHODS))
def test_runs_within_budget_deterministic_and_blind_to_test_labels(benchmarks, name, space):
    assert_contract(benchmarks[space], METHODS[name], 40, distinct=name != "mcts")


def test_registered():
    for name in METHODS:
        assert name in plugins.METHODS and searcher_class(name).prefix_stable


# ------------------------------------------------------------------------------------------- MCTS
def test_mcts_tree_statistics_are_running_means_of_the_rollouts(nb201_synthetic):
    from nasrepro.runner import search_space
    from nasrepro.searchers import make_searcher

    searcher = make_searcher({"type": "mcts"}, search_space(nb201_synthetic, None), seed=0)
    labels = nb201_synthetic.fit_labels
    queried = []
    for _ in range(60):
        ids = searcher.ask(1)
        queried.append(float(labels[ids[0]]) / 100)
        searcher.tell(ids, labels[ids])
    n, x_bar = searcher.tree[()]
    assert n == 60 and x_bar == pytest.approx(np.mean(queried))
    first_level = [searcher.tree[(c,)] for c in range(5)]
    assert sum(stats[0] for stats in first_level) == 59  # every child of the root was created, then visited


def test_mcts_finds_better_than_its_first_rollouts(nb201_synthetic):
    result = run(nb201_synthetic, {"type": "mcts"}, 0, 300)
    found = result.trajectory["fit_label"].to_numpy()
    assert found[150:].max() > found[:20].max()
