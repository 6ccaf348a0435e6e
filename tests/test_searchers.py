"""Search methods on synthetic benchmarks: statistics, determinism, blindness to test labels, and the
specific semantics of random search, regularized evolution (R-EA) and WeakNAS."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nasrepro import encodings
from nasrepro.benchmark import Benchmark
from nasrepro.errors import NasReproError
from nasrepro.runner import Budget, run_search, search_space
from nasrepro.searchers import SearchSpace, make_searcher
from nasrepro.searchers.evolution import RegularizedEvolution
from nasrepro.searchers.weaknas import WeakNAS, query_schedule, top_n_schedule

from conftest import TINY_MLP, smooth_score

WEAKNAS_TINY = {"type": "weaknas", "predictor": TINY_MLP}
TRAINED_MLP = {**TINY_MLP, "max_epochs": 100}  # small training sets are one batch: one Adam step per epoch
METHODS = {
    "random": {"type": "random"},
    "regularized_evolution": {"type": "regularized_evolution"},
    "weaknas": WEAKNAS_TINY,
}


def run(benchmark, method, seed, queries, features=None, until_optimum=False, **kwargs):
    if features is None and method["type"] == "weaknas":
        features = encodings.encode("nb201", "onehot30", benchmark.table)
    return run_search(benchmark, features, method, seed, Budget(queries, until_optimum), progress=False, **kwargs)


def hamming(a, b) -> int:
    return int((np.asarray(a) != np.asarray(b)).sum())


@pytest.fixture(scope="module")
def smooth_small(make_benchmark) -> Benchmark:
    """1,000 distinct NB201 cells labelled by the smooth synthetic landscape plus noise."""
    ops = np.array(list(itertools.product(range(5), repeat=6)))
    ops = ops[np.sort(np.random.default_rng(5).choice(len(ops), 1000, replace=False))]
    rng = np.random.default_rng(6)
    clean = 70 + 1.5 * smooth_score(ops)
    return make_benchmark(clean + rng.normal(0, 0.05, 1000), clean + rng.normal(0, 0.05, 1000), ops=ops)


# ------------------------------------------------------------------------------- random search
def test_random_search_needs_n_plus_1_over_2_queries_on_average(make_benchmark):
    n, runs = 200, 400
    benchmark = make_benchmark(np.random.default_rng(1).normal(size=n))
    found = []
    for seed in range(runs):
        result = run(benchmark, {"type": "random"}, seed, n, until_optimum=True)
        ids = result.trajectory["arch_id"].to_numpy()
        assert len(np.unique(ids)) == len(ids), "random search repeated an architecture"
        assert ids[-1] == benchmark.optimum("fit")
        found.append(result.metadata["queries_to_optimum"])
    found = np.array(found)
    assert found.min() >= 1 and found.max() <= n
    expected_mean = (n + 1) / 2  # uniform on 1..n
    standard_error = np.sqrt((n**2 - 1) / 12) / np.sqrt(runs)
    assert abs(found.mean() - expected_mean) < 4 * standard_error
    assert len(np.unique(found)) > n / 2  # spread over the range, not a constant


def test_random_search_without_until_optimum_visits_everything_once(make_benchmark):
    benchmark = make_benchmark(np.arange(50.0))
    result = run(benchmark, {"type": "random", "batch_size": 7}, 0, 50)
    assert sorted(result.trajectory["arch_id"]) == list(range(50))
    assert result.trajectory["iteration"].max() == 7  # ceil(50 / 7) = 8 batches


# ------------------------------------------------------------------------ WeakNAS vs random search
def test_weaknas_beats_random_search_at_equal_budget(nb201_synthetic, nb201_features):
    weaknas = {"type": "weaknas", "predictor": TRAINED_MLP}
    rank = (-nb201_synthetic.fit_labels).argsort().argsort()  # 0 = best
    best = {"weaknas": [], "random": []}
    best_rank = {"weaknas": [], "random": []}
    for seed in range(5):
        for name, method in (("weaknas", weaknas), ("random", {"type": "random"})):
            result = run(nb201_synthetic, method, seed, 100, features=nb201_features)
            assert result.metadata["queries_used"] == 100
            best[name].append(result.trajectory["fit_label"].max())
            best_rank[name].append(rank[result.trajectory["arch_id"]].min())
    assert np.mean(best["weaknas"]) > np.mean(best["random"])
    assert np.median(best_rank["weaknas"]) < np.median(best_rank["random"])
    assert np.median(best_rank["weaknas"]) < 25  # within the top 0.2% of 15,625


def test_weaknas_needs_fewer_queries_to_the_optimum_than_random(nb201_synthetic, nb201_features):
    weaknas = [run(nb201_synthetic, WEAKNAS_TINY, seed, 3000, features=nb201_features, until_optimum=True)
               for seed in range(2)]
    random = [run(nb201_synthetic, {"type": "random"}, seed, 15625, until_optimum=True) for seed in range(5)]
    assert all(r.metadata["queries_to_optimum"] is not None for r in weaknas + random)
    weak_mean = np.mean([r.metadata["queries_to_optimum"] for r in weaknas])
    random_mean = np.mean([r.metadata["queries_to_optimum"] for r in random])
    assert weak_mean < random_mean


# ------------------------------------------------------------------------------------ determinism
@pytest.mark.parametrize("name", sorted(METHODS))
def test_same_seed_same_trajectory_different_seed_different(nb201_synthetic, nb201_features, name):
    method = METHODS[name]
    queries = 40 if name == "weaknas" else 120
    first = run(nb201_synthetic, method, 11, queries, features=nb201_features).trajectory
    again = run(nb201_synthetic, method, 11, queries, features=nb201_features).trajectory
    other = run(nb201_synthetic, method, 12, queries, features=nb201_features).trajectory
    assert first["arch_id"].tolist() == again["arch_id"].tolist()
    assert first.equals(again)
    assert first["arch_id"].tolist() != other["arch_id"].tolist()


@pytest.mark.parametrize("name", sorted(METHODS))
def test_no_method_reads_test_labels(nb201_synthetic, nb201_features, name):
    method = METHODS[name]
    queries = 40 if name == "weaknas" else 150
    reference = run(nb201_synthetic, method, 3, queries, features=nb201_features).trajectory["arch_id"].tolist()
    for replacement in ("permuted", "nan"):
        table = nb201_synthetic.table.copy()
        if replacement == "permuted":
            table["test_label"] = np.random.default_rng(9).permutation(table["test_label"].to_numpy())
        else:
            table["test_label"] = np.nan
        altered = Benchmark(table=table, meta=nb201_synthetic.meta)
        ids = run(altered, method, 3, queries, features=nb201_features).trajectory["arch_id"].tolist()
        assert ids == reference, f"{name} changed its trajectory when the test labels were {replacement}"


def test_search_space_exposes_no_labels(nb201_synthetic, nb201_features):
    space = search_space(nb201_synthetic, nb201_features)
    assert space.operators.ops.shape == (15625, 6) and space.features.shape == (15625, 30)
    assert (space.operators.ops == nb201_synthetic.table[[f"op{e}" for e in range(6)]].to_numpy()).all()
    assert set(vars(space)) == {"space", "size", "operators", "features", "fit_label_mean", "fit_label_std"}
    assert set(vars(space.operators)) <= {"cells", "size", "ops", "index"}
    assert not {"fit_label", "test_label"} & set(space.operators.cells.columns)
    assert list(space.operators.cells.columns) == ["cell", *[f"op{e}" for e in range(6)], "iso_class"]  # no label column
    with pytest.raises(NasReproError, match="feature matrix has 3 rows"):
        search_space(nb201_synthetic, nb201_features[:3])


def test_make_searcher_rejects_unknown_types_and_options(nb201_synthetic):
    space = search_space(nb201_synthetic, None)
    with pytest.raises(NasReproError, match="unknown method type 'hyperband'"):
        make_searcher({"type": "hyperband"}, space, 0)
    with pytest.raises(NasReproError, match="method 'random'"):
        make_searcher({"type": "random", "population_size": 3}, space, 0)
    with pytest.raises(NasReproError, match="mutation 'swap' does not exist on nb201; known: autodl"):
        make_searcher({"type": "regularized_evolution", "mutation": "swap"}, space, 0)
    with pytest.raises(NasReproError, match="option pool: 'both' is not one of"):
        make_searcher({"type": "weaknas", "pool": "both"}, space, 0)


# ----------------------------------------------------------------------- regularized evolution
def test_rea_initial_population_then_one_edge_children_of_the_population(nb201_synthetic):
    result = run(nb201_synthetic, {"type": "regularized_evolution", "population_size": 10}, 0, 400)
    ids = result.trajectory["arch_id"].to_numpy()
    ops = nb201_synthetic.table[[f"op{e}" for e in range(6)]].to_numpy()
    assert len(ids) == 400
    assert (result.trajectory["iteration"].to_numpy() == np.arange(400)).all()  # one query per step
    # The first 10 are uniform samples: far from one another (a mutation would make some neighbours).
    # After that, every child is one edge away from a member of the population (the 10 last queried).
    for k in range(10, len(ids)):
        window = ids[k - 10 : k]
        assert any(hamming(ops[ids[k]], ops[parent]) == 1 for parent in window), f"query {k + 1}"
    first_ten_neighbours = sum(hamming(ops[a], ops[b]) == 1 for a, b in itertools.combinations(ids[:10], 2))
    assert first_ten_neighbours <= 2


def test_rea_parent_is_the_tournament_winner_and_the_oldest_member_dies(nb201_synthetic):
    """With a huge tournament (drawn with replacement) the winner is the best of the population, which
    holds the last `population_size` queried architectures (aging), not the best ever seen."""
    method = {"type": "regularized_evolution", "population_size": 10, "tournament_size": 300}
    result = run(nb201_synthetic, method, 1, 300)
    ids = result.trajectory["arch_id"].to_numpy()
    fit = result.trajectory["fit_label"].to_numpy()
    ops = nb201_synthetic.table[[f"op{e}" for e in range(6)]].to_numpy()
    differs_from_best_ever = 0
    for k in range(10, len(ids)):
        window = slice(k - 10, k)
        leader = ids[window][np.argmax(fit[window])]
        assert hamming(ops[ids[k]], ops[leader]) == 1, f"query {k + 1} is not a child of the population's best"
        best_ever = ids[:k][np.argmax(fit[:k])]
        differs_from_best_ever += hamming(ops[ids[k]], ops[best_ever]) != 1
    assert differs_from_best_ever > 0  # aging really removed the best-ever parent at some point


def test_rea_requeries_are_charged_or_free(nb201_synthetic):
    charged = run(nb201_synthetic, {"type": "regularized_evolution"}, 2, 600)
    trajectory = charged.trajectory
    assert trajectory["repeat"].any(), "R-EA on a smooth landscape should revisit architectures"
    assert len(trajectory) == 600
    first_visits = ~trajectory["arch_id"].duplicated()
    assert (trajectory["repeat"] == ~first_visits).all()
    free = run(nb201_synthetic, {"type": "regularized_evolution"}, 2, 600, charge_repeats=False).trajectory
    assert not free["repeat"].any() and free["arch_id"].is_unique and len(free) == 600


def _edge_frequencies(space: SearchSpace, mutation: str, draws: int) -> np.ndarray:
    searcher = RegularizedEvolution(space, seed=5, mutation=mutation)
    rng = np.random.default_rng(8)
    counts = np.zeros(6)
    for parent in rng.integers(space.size, size=draws):
        child = searcher.mutate(int(parent))
        changed = np.flatnonzero(space.operators.ops[child] != space.operators.ops[parent])
        assert len(changed) == 1, "a child must differ from its parent in exactly one edge"
        counts[changed[0]] += 1
    return counts / draws


def test_rea_autodl_mutation_picks_node_then_edge(nb201_synthetic):
    frequencies = _edge_frequencies(search_space(nb201_synthetic, None), "autodl", 30000)
    expected = np.array([1 / 3, 1 / 6, 1 / 6, 1 / 9, 1 / 9, 1 / 9])
    assert np.abs(frequencies - expected).max() < 0.012, frequencies


def test_rea_naslib_mutation_picks_edges_uniformly(nb201_synthetic):
    frequencies = _edge_frequencies(search_space(nb201_synthetic, None), "naslib", 30000)
    assert np.abs(frequencies - 1 / 6).max() < 0.012, frequencies


def test_rea_mutated_op_is_uniform_over_the_other_four(nb201_synthetic):
    space = search_space(nb201_synthetic, None)
    searcher = RegularizedEvolution(space, seed=0)
    parent = int(np.flatnonzero((space.operators.ops == 2).all(axis=1))[0])  # all nor_conv_1x1
    changed = [space.operators.ops[searcher.mutate(parent)] for _ in range(8000)]
    new_ops = np.array([row[row != 2][0] for row in changed])
    assert set(new_ops) == {0, 1, 3, 4}
    assert np.abs(np.bincount(new_ops, minlength=5)[[0, 1, 3, 4]] / 8000 - 0.25).max() < 0.03


def test_rea_refuses_unknown_spaces_and_mutations_not_defined_for_the_space(nb201_synthetic):
    space = search_space(nb201_synthetic, None)
    with pytest.raises(NasReproError, match="mutation 'colab' does not exist on nb201; known: autodl, naslib"):
        RegularizedEvolution(space, seed=0, mutation="colab")
    other = SearchSpace("nb999", space.size, space.operators, space.features, 0.0, 1.0)
    with pytest.raises(NasReproError, match="unknown space type 'nb999'; known: nb201, nb101"):
        RegularizedEvolution(other, seed=0)


# ------------------------------------------------------------------------------------- WeakNAS
@pytest.mark.parametrize(
    "init, each, budget, entries",
    [(100, 10, 1000, 91), (100, 10, 2000, 191), (100, 10, 200, 11), (100, 10, 150, 6), (10, 10, 1000, 100)],
)
def test_query_schedule_matches_the_reference(init, each, budget, entries):
    schedule = query_schedule(init, each, budget)
    assert len(schedule) == entries
    assert sum(schedule) == budget
    assert schedule[0] == init and set(schedule[1:]) == {each}


def test_top_n_schedule_decays_like_the_reference():
    schedule = top_n_schedule(1000, 100, 0.96, 91)
    assert len(schedule) == 91
    assert schedule[:5] == [1000, 959, 921, 884, 849]
    assert schedule[-1] == 100
    assert all(a >= b for a, b in zip(schedule, schedule[1:]))


def test_top_n_schedule_is_constant_when_start_equals_end():
    assert top_n_schedule(100, 100, 0.96, 1563) == [100] * 1563
    assert top_n_schedule(100, 100, 0.96, 1) == [100]


def _weaknas_with_ranking(pool: str) -> WeakNAS:
    size = 50
    space = SearchSpace("nb201", size, np.zeros((size, 6), np.int8), np.zeros((size, 1), np.float32), 0.0, 1.0)
    searcher = WeakNAS(space, seed=0, pool=pool)
    searcher.ranking = np.arange(size)[::-1].copy()  # 49 is predicted best
    searcher.queried[[49, 47, 45]] = True
    return searcher


def test_candidate_pool_code_vs_paper():
    code = _weaknas_with_ranking("code").candidate_pool(10)
    paper = _weaknas_with_ranking("paper").candidate_pool(10)
    assert code.tolist() == [48, 46, 44, 43, 42, 41, 40]  # Top-10 of all, minus the 3 queried
    assert paper.tolist() == [48, 46, 44, 43, 42, 41, 40, 39, 38, 37]  # Top-10 of the unqueried


@pytest.mark.parametrize("pool", ["code", "paper"])
def test_weaknas_pool_sizes_in_a_run(smooth_small, pool):
    method = {"type": "weaknas", "predictor": TINY_MLP, "pool": pool, "top_start": 60, "top_end": 20,
              "top_decay": 0.96, "max_sample": 150}
    result = run(smooth_small, method, 0, 150)
    iterations = result.iterations
    assert len(iterations) == 15
    top_n = iterations["top_n"].to_numpy()
    pool_size = iterations["pool_size"].to_numpy()
    assert top_n[0] == 60 and top_n[-1] == 20
    # the pool of iteration i + 1 is cut from the ranking of iteration i with that iteration's N
    if pool == "paper":
        assert (pool_size[1:] == top_n[:-1]).all()
    else:
        assert (pool_size[1:] <= top_n[:-1]).all()
        assert (pool_size[1:] < top_n[:-1]).any()
    assert not result.trajectory["arch_id"].duplicated().any()


def test_weaknas_never_requeries_even_with_greedy_fallback(make_benchmark):
    ops = np.array(list(itertools.product(range(5), repeat=6)))[::52][:300]
    benchmark = make_benchmark(smooth_score(ops) + np.random.default_rng(0).normal(0, 0.01, 300), ops=ops)
    method = {"type": "weaknas", "predictor": TINY_MLP, "top_start": 20, "top_end": 20}
    result = run(benchmark, method, 4, 300)
    ids = result.trajectory["arch_id"]
    assert ids.is_unique and sorted(ids) == list(range(300))
    assert result.iterations["greedy_fallback"].fillna(False).astype(bool).any()
    assert result.trajectory.groupby("iteration").size().tolist() == [10] * 30


def test_weaknas_asks_no_more_than_the_budget_left(smooth_small):
    result = run(smooth_small, WEAKNAS_TINY, 0, 25)
    assert result.trajectory.groupby("iteration").size().tolist() == [10, 10, 5]
    assert result.metadata["queries_used"] == 25


def test_weaknas_first_batch_is_uniform_and_later_batches_come_from_the_top_n(smooth_small):
    method = {"type": "weaknas", "predictor": TRAINED_MLP, "top_start": 30, "top_end": 30}
    result = run(smooth_small, method, 1, 100)
    rank = (-smooth_small.fit_labels).argsort().argsort()
    trajectory = result.trajectory.assign(rank=rank[result.trajectory["arch_id"]])
    by_iteration = trajectory.groupby("iteration")["rank"].median()
    assert by_iteration.iloc[0] > 200  # uniform: median rank about 500 of 1,000
    assert by_iteration.iloc[-3:].max() < 150  # sampled from the predicted Top-30
