"""NPENAS (Wei et al.; auroua/NPENASv1) and its GIN predictors on the synthetic NAS-Bench-201 and a small
synthetic NAS-Bench-101: both variants run within budget, are deterministic per seed and never read test
labels; the GIN learns the synthetic benchmark better than chance."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from nasrepro import plugins
from nasrepro.benchmark import Benchmark
from nasrepro.errors import NasReproError
from nasrepro.predictors.gin import GINRegressor
from nasrepro.runner import Budget, run_search, search_space
from nasrepro.searchers import make_searcher, searcher_class

from test_searchers_nb101 import cells, small_nb101  # noqa: F401  (the synthetic NAS-Bench-101 fixtures)

TINY_GIN = {"type": "gin", "epochs": 3, "hidden": 8, "head_hidden": 8}
METHODS = {
    "npenas_bo": {"type": "npenas_bo", "num_candidates": 30, "predictor": {**TINY_GIN, "head": "gaussian",
                                                                            "activation": "celu"}},
    "npenas_np": {"type": "npenas_np", "num_candidates": 30, "predictor": TINY_GIN},
}


@pytest.fixture(scope="module")
def benchmarks(nb201_synthetic, small_nb101) -> dict[str, Benchmark]:  # noqa: F811
    return {"nb201": nb201_synthetic, "nb101": small_nb101}


def run(benchmark: Benchmark, method: dict, seed: int, queries: int):
    return run_search(benchmark, None, method, seed, Budget(queries), progress=False)


def test_registered_with_the_authors_defaults():
    assert plugins.load("predictor", "gin") is GINRegressor
    assert GINRegressor.input == "graph" and GINRegressor.wants_gpu
    gin = GINRegressor.resolve({})
    assert {k: gin[k] for k in ("head", "activation", "hidden", "layers", "head_hidden", "epochs", "batch_size",
                                "learning_rate", "weight_decay", "rate")} == {
        "head": "mean", "activation": "relu", "hidden": 32, "layers": 3, "head_hidden": 16, "epochs": 300,
        "batch_size": 10, "learning_rate": 0.005, "weight_decay": 1e-4, "rate": 100.0}
    assert GINRegressor.resolve({}, "nb101")["rate"] == 10.0
    for name in ("npenas_bo", "npenas_np"):
        cls = searcher_class(name)
        options = cls.resolve({})
        assert (options["num_init"], options["k"], options["num_candidates"], options["num_best"],
                options["patience_factor"]) == (10, 10, 100, 10, 5)
        assert cls.input_needed({}) == "graph" and cls.wants_gpu({})
    assert searcher_class("npenas_bo").resolve({})["predictor"] == {"type": "gin", "head": "gaussian",
                                                                    "activation": "celu", "epochs": 1000}


def test_gin_learns_the_synthetic_nb201_better_than_chance(nb201_synthetic):
    graphs = search_space(nb201_synthetic, None).graphs
    rows = np.random.default_rng(0).permutation(len(graphs))
    train, held_out = rows[:200], rows[200:3200]
    y = nb201_synthetic.fit_labels
    for head, activation in (("mean", "relu"), ("gaussian", "celu")):
        model = GINRegressor(head=head, activation=activation, epochs=30, device="cpu", random_state=0)
        prediction = model.fit(graphs[train], y[train]).predict(graphs[held_out])
        assert prediction.shape == (len(held_out),)
        assert stats.spearmanr(prediction, y[held_out])[0] > 0.3, head
        assert model.loss_curve_[-1] < model.loss_curve_[0]
    mean, sd = model.predict_distribution(graphs[held_out[:50]])
    assert mean.shape == sd.shape == (50,) and (sd > 0).all()


def test_gin_seeded_by_random_state_only_and_scale_checks(nb201_synthetic):
    graphs = search_space(nb201_synthetic, None).graphs[:100]
    y = nb201_synthetic.fit_labels[:100]
    options = {k: v for k, v in TINY_GIN.items() if k != "type"}
    first = GINRegressor(random_state=3, device="cpu", **options).fit(graphs, y).predict(graphs)
    again = GINRegressor(random_state=3, device="cpu", **options).fit(graphs, y).predict(graphs)
    other = GINRegressor(random_state=4, device="cpu", **options).fit(graphs, y).predict(graphs)
    assert np.array_equal(first, again) and not np.allclose(first, other)
    z = (y - y.mean()) / y.std()
    with pytest.raises(NasReproError, match="standardized"):
        GINRegressor(device="cpu", **options).fit(graphs, z)
    assert np.isfinite(GINRegressor(target="standardized", device="cpu", **options).fit(graphs, z).predict(graphs)).all()


@pytest.mark.parametrize("space", ["nb201", "nb101"])
@pytest.mark.parametrize("name", sorted(METHODS))
def test_runs_within_budget_deterministic_and_blind_to_test_labels(benchmarks, name, space):
    benchmark, method = benchmarks[space], METHODS[name]
    queries = 45
    first = run(benchmark, method, 5, queries)
    ids = first.trajectory["arch_id"].tolist()
    assert len(ids) == queries and len(set(ids)) == queries
    assert (first.iterations["n_candidates"].dropna() > 0).all()
    assert run(benchmark, method, 5, queries).trajectory.equals(first.trajectory)
    assert run(benchmark, method, 6, queries).trajectory["arch_id"].tolist() != ids
    table = benchmark.table.copy()
    table["test_label"] = np.random.default_rng(9).permutation(table["test_label"].to_numpy())
    altered = Benchmark(table=table, meta=benchmark.meta)
    assert run(altered, method, 5, queries).trajectory["arch_id"].tolist() == ids


def test_candidates_are_children_of_the_best_and_the_batch_is_their_predicted_best(nb201_synthetic):
    space = search_space(nb201_synthetic, None)
    searcher = make_searcher(METHODS["npenas_np"], space, 0)
    first = searcher.ask(100)
    assert len(first) == 10
    searcher.tell(first, nb201_synthetic.fit_labels[first])
    candidates = searcher.candidates(np.random.default_rng([0, 1]))
    assert len(candidates) == 30 and not np.isin(candidates, first).any()
    best = first[np.argmax(nb201_synthetic.fit_labels[first])]
    ops = nb201_synthetic.table[[c for c in nb201_synthetic.table.columns if c.startswith("op")]].to_numpy()
    distance = (ops[candidates] != ops[best]).sum(1)
    assert distance[0] == 1  # the best parent's one-edit children come first
    batch = searcher.ask(100)
    assert len(batch) == 10 and not np.isin(batch, first).any()


def test_npenas_bo_needs_a_predicted_sd(nb201_synthetic):
    with pytest.raises(NasReproError, match="predicted SD"):
        make_searcher({"type": "npenas_bo", "predictor": TINY_GIN}, search_space(nb201_synthetic, None), 0)
