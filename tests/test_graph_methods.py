"""The Neural Predictor's GCN, the Neural Predictor method (Wen et al. 2020) and BANANAS (White et al.
2021) on the synthetic NAS-Bench-201 and a small synthetic NAS-Bench-101: the GCN learns, WeakNAS takes
it as a predictor, both methods run within budget, are deterministic per seed and never read test labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from nasrepro import encodings, plugins
from nasrepro.benchmark import Benchmark
from nasrepro.errors import NasReproError
from nasrepro.predictors import make_predictor
from nasrepro.predictors.gcn import GCNRegressor, normalized_adjacencies
from nasrepro.runner import Budget, run_search, search_space
from nasrepro.searchers import make_searcher, searcher_class
from nasrepro.spaces import get_space

from conftest import assert_search_contract
from test_searchers_nb101 import cells, small_nb101  # noqa: F401  (the synthetic NAS-Bench-101 fixtures)

TINY_GCN = {"type": "gcn", "hidden": 16, "linear_hidden": 16, "epochs": 4, "batch_size": 16, "learning_rate": 1e-3}
METHODS = {
    "neural_predictor": {"type": "neural_predictor", "num_train": 30, "top_k": 10, "predictor": TINY_GCN},
    "bananas": {"type": "bananas", "num_ensemble": 2, "num_layers": 3, "layer_width": 8, "epochs": 5,
                "num_candidates": 30},
}
ENCODING = {"nb201": "path155", "nb101": "path364"}


@pytest.fixture(scope="module")
def benchmarks(nb201_synthetic, small_nb101) -> dict[str, Benchmark]:
    return {"nb201": nb201_synthetic, "nb101": small_nb101}


def features_for(method: dict, benchmark: Benchmark) -> np.ndarray | None:
    if searcher_class(method["type"]).input_needed(method) != "features":
        return None
    return encodings.encode(benchmark.space, ENCODING[benchmark.space], benchmark.table)


def run(benchmark: Benchmark, method: dict, seed: int, queries: int):
    return run_search(benchmark, features_for(method, benchmark), method, seed, Budget(queries), progress=False)


# ----------------------------------------------------------------------------------------- GCN
def test_registered_and_declared():
    assert plugins.load("predictor", "gcn") is GCNRegressor
    assert GCNRegressor.input == "graph" and GCNRegressor.wants_gpu
    defaults = GCNRegressor.resolve({})
    assert {k: defaults[k] for k in ("hidden", "layers", "epochs", "batch_size", "learning_rate", "weight_decay")} == {
        "hidden": 144, "layers": 4, "epochs": 300, "batch_size": 7, "learning_rate": 1e-4, "weight_decay": 3e-4}
    for name in ("neural_predictor", "bananas"):
        assert name in plugins.METHODS
    assert searcher_class("neural_predictor").input_needed({}) == "graph"
    assert searcher_class("neural_predictor").wants_gpu({})
    assert searcher_class("bananas").input_needed({}) == "features"


def test_normalized_adjacencies_are_row_stochastic_both_ways():
    adjacency = torch.tensor([[[0, 1, 1], [0, 0, 1], [0, 0, 0]]], dtype=torch.float32)
    forward, backward = normalized_adjacencies(adjacency)
    assert torch.allclose(forward.sum(-1), torch.ones(1, 3)) and torch.allclose(backward.sum(-1), torch.ones(1, 3))
    assert torch.allclose(forward[0, 0], torch.tensor([1 / 3, 1 / 3, 1 / 3]))  # self-loop + two successors
    assert backward[0, 0, 1] == 0 and backward[0, 2, 0] > 0  # the transpose gathers from predecessors


def test_gcn_learns_the_synthetic_nb201_on_held_out_rows(nb201_synthetic):
    graphs = search_space(nb201_synthetic, None).graphs
    rng = np.random.default_rng(0)
    rows = rng.permutation(len(graphs))
    train, held_out = rows[:200], rows[200:3200]
    y = nb201_synthetic.fit_labels
    model = GCNRegressor(epochs=15, hidden=64, linear_hidden=64, batch_size=10, learning_rate=1e-3, device="cpu",
                         random_state=0).fit(graphs[train], y[train])
    prediction = model.predict(graphs[held_out])
    assert prediction.shape == (len(held_out),) and prediction.dtype == np.float32
    assert stats.spearmanr(prediction, y[held_out])[0] > 0.3
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_gcn_seeded_by_random_state_only(nb201_synthetic):
    graphs = search_space(nb201_synthetic, None).graphs[:300]
    y = nb201_synthetic.fit_labels[:300]
    options = {k: v for k, v in TINY_GCN.items() if k != "type"}
    torch.manual_seed(1)
    first = GCNRegressor(random_state=3, device="cpu", **options).fit(graphs, y).predict(graphs)
    torch.manual_seed(2)
    again = GCNRegressor(random_state=3, device="cpu", **options).fit(graphs, y).predict(graphs)
    other = GCNRegressor(random_state=4, device="cpu", **options).fit(graphs, y).predict(graphs)
    assert np.array_equal(first, again) and not np.allclose(first, other)


def test_gcn_on_nb101_graphs_and_without_zero_grad(small_nb101):
    graphs = search_space(small_nb101, None).graphs
    assert graphs.ops.shape[-1] == 5  # input, conv1x1, conv3x3, maxpool, output: naszilla's initial_hidden 5
    y = small_nb101.fit_labels
    for zero_grad in (True, False):
        model = make_predictor({**TINY_GCN, "zero_grad": zero_grad, "device": "cpu"}, random_state=0)
        prediction = model.fit(graphs[:100], y[:100]).predict(graphs)
        assert prediction.shape == (len(graphs),) and np.isfinite(prediction).all()


def test_weaknas_runs_with_the_gcn(nb201_synthetic):
    method = {"type": "weaknas", "predictor": {**TINY_GCN, "epochs": 5}}
    assert searcher_class("weaknas").input_needed(method) == "graph"
    result = run_search(nb201_synthetic, None, method, 0, Budget(30), progress=False)
    assert len(result.trajectory) == 30
    assert result.iterations["kendall_tau_top50_fit"].notna().any()


# ------------------------------------------------------------------------------------ methods
@pytest.mark.parametrize("space", ["nb201", "nb101"])
@pytest.mark.parametrize("name", sorted(METHODS))
def test_runs_within_budget_deterministic_and_blind_to_test_labels(benchmarks, name, space):
    assert_search_contract(run, benchmarks[space], METHODS[name], 55)


def test_neural_predictor_queries_the_predicted_ranking_after_n_samples(nb201_synthetic):
    method = METHODS["neural_predictor"]
    result = run(nb201_synthetic, method, 0, 60)
    iterations = result.iterations
    assert iterations["batch"].tolist() == [30, 10, 10, 10]
    fitted = iterations.dropna(subset=["n_train"])
    assert fitted["n_train"].tolist() == [30] and fitted["pool_size"].tolist() == [15625 - 30]
    # the queries after the N samples follow the predictor's ranking: compare with a refit of it
    space = search_space(nb201_synthetic, None)
    searcher = make_searcher(method, space, 0)
    first = searcher.ask(100)
    searcher.tell(first, nb201_synthetic.fit_labels[first])
    assert np.array_equal(searcher.ask(100), result.trajectory["arch_id"].to_numpy()[30:40])
    scores = searcher.predictor_state.scores
    later = result.trajectory["arch_id"].to_numpy()[30:]
    assert np.all(np.diff(scores[later]) <= 0)  # best predicted first
    unqueried = np.setdiff1d(np.arange(15625), first)
    assert scores[later].min() >= np.sort(scores[unqueried])[-30]  # exactly the predicted top 30


def test_neural_predictor_pool_size(nb201_synthetic):
    result = run(nb201_synthetic, {**METHODS["neural_predictor"], "pool_size": 500}, 0, 40)
    assert result.iterations["pool_size"].dropna().tolist() == [500]


@pytest.mark.parametrize("acquisition", ["ucb", "ei"])
def test_bananas_acquisitions_and_naslib_settings(nb201_synthetic, acquisition):
    naslib = {**METHODS["bananas"], "num_best": 5, "patience_factor": 1, "num_candidates": 40, "target": "accuracy",
              "l1_output": 0.2, "mutation": "naslib", "acquisition": acquisition}
    result = run(nb201_synthetic, naslib, 1, 40)
    assert result.trajectory["arch_id"].nunique() == 40
    assert (result.iterations["n_candidates"].dropna() > 0).all()


def test_bananas_finds_better_architectures_than_its_random_start(nb201_synthetic):
    result = run(nb201_synthetic, {**METHODS["bananas"], "epochs": 30}, 0, 60)
    labels = nb201_synthetic.fit_labels[result.trajectory["arch_id"].to_numpy()]
    assert labels[10:].max() > labels[:10].max()


def test_bananas_needs_features_and_a_mutation_of_the_space(nb201_synthetic):
    with pytest.raises(NasReproError, match="path encoding"):
        make_searcher({"type": "bananas"}, search_space(nb201_synthetic, None), 0)
    with pytest.raises(NasReproError, match="mutation 'colab' does not exist on nb201"):
        searcher_class("bananas").check_options({"mutation": "colab"}, get_space("nb201"))
