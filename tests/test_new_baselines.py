"""The five comparison methods the paper only copied (MCTS, BONAS, NASBOWL, arch2vec, CATE) on the synthetic
NAS-Bench-201 and the small synthetic NAS-Bench-101: each runs within budget end to end, is deterministic per
seed and never reads test labels; their building blocks (the WL feature map, Bayesian linear regression,
the pretrained embeddings) are checked against their definitions."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from nasrepro import plugins
from nasrepro.benchmark import Benchmark
from nasrepro.runner import Budget, run_search
from nasrepro.searchers import searcher_class
from nasrepro.searchers.pretrained import load_cells, pretrain, pretrained_file

from test_searchers_nb101 import cells, small_nb101  # noqa: F401  (the synthetic NAS-Bench-101 fixtures)

METHODS = {
    "mcts": {"type": "mcts", "rollout_attempts": 50},
    "nasbowl": {"type": "nasbowl", "pool_size": 40},
    "bonas": {"type": "bonas", "epochs": 3, "hidden": 8, "num_candidates": 30},
    "arch2vec": {"type": "arch2vec", "pretrain_epochs": 1, "pretrain_batch": 256, "hidden": 8, "dngo_epochs": 5},
    "cate": {"type": "cate", "pretrain_epochs": 1, "d_model": 16, "graph_layers": 1, "pair_layers": 1,
             "dngo_epochs": 5, "rounds": 2},
}
_EMBEDDINGS: dict = {}


@pytest.fixture(scope="module")
def benchmarks(nb201_synthetic, small_nb101) -> dict[str, Benchmark]:  # noqa: F811
    return {"nb201": nb201_synthetic, "nb101": small_nb101}


def features_for(method: dict, benchmark: Benchmark) -> np.ndarray | None:
    """The pretrained embedding a method reads (computed once per space and settings), else None."""
    cls = searcher_class(method["type"])
    if not hasattr(cls, "pretraining"):
        return None
    spec = cls.pretraining(cls.resolve({k: v for k, v in method.items() if k != "type"}, benchmark.space))
    key = (benchmark.space, len(benchmark.table), json.dumps(spec, sort_keys=True))
    if key not in _EMBEDDINGS:
        _EMBEDDINGS[key] = pretrain(benchmark.space, benchmark.cells, spec)
    return _EMBEDDINGS[key]


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


# ----------------------------------------------------------------------------------------- NASBOWL
def wl_kernel_by_definition(graph_a, graph_b, h: int) -> float:
    """The WL subtree kernel, computed the textbook way: relabel both graphs together with one compressed
    label map per iteration, then sum over iterations the dot products of the label histograms."""
    (adj_a, lab_a), (adj_b, lab_b) = graph_a, graph_b
    total = 0.0
    for iteration in range(h + 1):
        hist_a, hist_b = Counter(lab_a), Counter(lab_b)
        total += sum(hist_a[k] * hist_b[k] for k in hist_a)
        signatures = sorted({(lab[v], tuple(sorted(lab[u] for u in range(len(lab)) if adj[v, u])))
                             for adj, lab in ((adj_a, lab_a), (adj_b, lab_b)) for v in range(len(lab))})
        compressed = {s: k for k, s in enumerate(signatures)}
        lab_a = [compressed[(lab_a[v], tuple(sorted(lab_a[u] for u in range(len(lab_a)) if adj_a[v, u])))]
                 for v in range(len(lab_a))]
        lab_b = [compressed[(lab_b[v], tuple(sorted(lab_b[u] for u in range(len(lab_b)) if adj_b[v, u])))]
                 for v in range(len(lab_b))]
    return total


def test_wl_feature_map_is_the_wl_subtree_kernel():
    from nasrepro.searchers.nasbowl import wl_features

    rng = np.random.default_rng(0)
    for _ in range(20):
        graphs = []
        for _ in range(2):
            n = int(rng.integers(3, 8))
            adjacency = np.triu(rng.integers(0, 2, (n, n)), k=1)
            graphs.append((adjacency, [int(x) for x in rng.integers(0, 3, n)]))
        for h in (0, 1, 2, 3):
            fa, fb = (wl_features(adj, labels, h) for adj, labels in graphs)
            assert sum(fa[k] * fb[k] for k in fa) == wl_kernel_by_definition(*graphs, h)


def test_nasbowl_chooses_h_and_finds_better_than_its_random_start(nb201_synthetic):
    result = run(nb201_synthetic, {"type": "nasbowl"}, 0, 60)
    iterations = result.iterations.dropna(subset=["wl_h"])
    assert set(iterations["wl_h"]) <= {1, 2, 3} and (iterations["pool"] == 200).all()
    assert (iterations["noise"] <= 0.01 + 1e-12).all()
    found = result.trajectory["fit_label"].to_numpy()
    assert found[10:].max() > found[:10].max()


# ------------------------------------------------------------------------------------------- BONAS
def test_bayesian_linear_regression_is_the_posterior_at_its_evidence_maximum():
    from nasrepro.searchers.bayes import BayesianLinearRegression

    rng = np.random.default_rng(0)
    Phi = rng.normal(size=(40, 5))
    y = Phi @ rng.normal(size=5) + rng.normal(0, 0.1, 40)
    blr = BayesianLinearRegression().fit(Phi, y)
    A = blr.beta * Phi.T @ Phi + blr.alpha * np.eye(5)
    assert np.allclose(blr.m, blr.beta * np.linalg.solve(A, Phi.T @ y))
    theta = np.array([np.log(blr.alpha), np.log(1 / blr.beta)])
    best = blr.log_evidence(theta)
    for step in np.eye(2) * 0.05:
        assert best >= blr.log_evidence(theta + step) - 1e-6 and best >= blr.log_evidence(theta - step) - 1e-6
    mean, variance = blr.predict(Phi[:3])
    assert np.allclose(variance, 1 / blr.beta + np.einsum("ij,jk,ik->i", Phi[:3], np.linalg.inv(A), Phi[:3]))
    assert 1 / blr.beta == pytest.approx(0.01, rel=0.6)  # the noise variance it was drawn with


def test_bonas_with_mutation_candidates_and_a_better_than_random_start(nb201_synthetic):
    method = {"type": "bonas", "epochs": 20, "candidates": "mutation"}
    found = run(nb201_synthetic, method, 0, 50).trajectory["fit_label"].to_numpy()
    assert found[10:].max() > found[:10].max()


# -------------------------------------------------------------------------------- arch2vec and CATE
@pytest.mark.parametrize("name", ["arch2vec", "cate"])
def test_pretraining_reads_no_label_and_is_seeded(tmp_path, nb201_synthetic, name):
    import pyarrow as pa
    import pyarrow.parquet as pq

    method = METHODS[name]
    cls = searcher_class(name)
    spec = cls.pretraining(cls.resolve({k: v for k, v in method.items() if k != "type"}, "nb201"))
    table = nb201_synthetic.table.copy()
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    path = tmp_path / "table.parquet"
    pq.write_table(arrow.replace_schema_metadata({**(arrow.schema.metadata or {}),
                                                  b"nasrepro": json.dumps(nb201_synthetic.meta).encode()}), path)
    space, cell_table = load_cells(path)
    assert space == "nb201" and not {"fit_label", "test_label"} & set(cell_table.columns)
    embedding = features_for(method, nb201_synthetic)
    assert embedding.shape == (len(table), spec.get("latent", spec.get("d_model"))) and embedding.dtype == np.float32
    assert np.array_equal(pretrain("nb201", cell_table, spec), embedding)  # the same seed, the same embedding
    assert not np.array_equal(pretrain("nb201", cell_table, {**spec, "pretrain_seed": spec["pretrain_seed"] + 1}),
                              embedding)
    assert pretrained_file("nb201", spec).startswith(f"resources/pretrained/nb201-{name}-")


def test_embedding_methods_refuse_an_encoding(nb201_synthetic):
    from nasrepro import encodings

    features = encodings.encode("nb201", "onehot30", nb201_synthetic.table)
    with pytest.raises(Exception, match="pretrained embedding"):
        run_search(nb201_synthetic, features, {"type": "arch2vec"}, 0, Budget(20), progress=False)


def test_cate_alternates_ei_and_local_search_steps(nb201_synthetic):
    result = run(nb201_synthetic, METHODS["cate"], 0, 46)
    sizes = result.trajectory.groupby("iteration").size().tolist()
    # 16 initial, 5 by EI, then the nearest unqueried neighbour of each of the 5 best not just proposed
    assert sizes[:2] == [16, 5] and 1 <= sizes[2] <= 5
