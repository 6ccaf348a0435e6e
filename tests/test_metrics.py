"""The paper's metrics (reference protocol §2) on hand-made labels, and the runner's per-fit diagnostics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import TINY_MLP
from nasrepro import metrics
from nasrepro.errors import NasReproError
from nasrepro.runner import Budget, run_fit_labels, run_search
from nasrepro.searchers.base import PredictorState


def test_competition_ranks_best_is_one_and_ties_share_the_better_rank():
    ranks = metrics.competition_ranks(np.array([91.0, 94.3, 93.0, 94.3, 90.0]))
    assert ranks.tolist() == [4, 1, 3, 1, 5]
    assert metrics.competition_ranks(np.array([7.0])).tolist() == [1]


def test_kendall_tau_uses_the_true_top_k_only():
    labels = np.arange(100.0)
    scores = labels.copy()
    scores[:50] = -scores[:50]  # wrong order outside the top-50 does not matter
    assert metrics.kendall_tau_top_k(scores, labels, k=50) == pytest.approx(1.0)
    reversed_top = labels.copy()
    reversed_top[50:] = -reversed_top[50:]
    assert metrics.kendall_tau_top_k(reversed_top, labels, k=50) == pytest.approx(-1.0)
    rng = np.random.default_rng(0)
    noisy = labels + rng.normal(0, 20, 100)
    best = np.argsort(-labels)[:50]
    assert metrics.kendall_tau_top_k(noisy, labels) == pytest.approx(stats.kendalltau(noisy[best], labels[best]).statistic)


def test_pool_top_k_probability():
    labels = np.arange(200.0)  # the top-50 are ids 150..199
    assert metrics.pool_top_k_probability(np.array([199, 150, 10, 0]), labels) == pytest.approx(0.5)
    assert metrics.pool_top_k_probability(np.arange(150, 200), labels) == 1.0
    assert np.isnan(metrics.pool_top_k_probability(np.array([], dtype=int), labels))


def test_predicted_top_errors_are_the_errors_of_the_predicted_best():
    test = np.linspace(50, 95, 1000)
    scores = -np.arange(1000.0)  # the predictor prefers low ids, i.e. the worst architectures
    errors = metrics.predicted_top_errors(scores, test, k=200)
    assert len(errors) == 200 and np.all(np.diff(errors) >= 0)
    np.testing.assert_allclose(errors, np.sort(100 - test[:200]))


def test_predictor_diagnostics_of_a_perfect_predictor():
    fit = np.arange(300.0)
    test = fit + 0.5
    state = PredictorState(scores=fit.copy(), top1=299, pool=np.arange(250, 300))
    row = metrics.predictor_diagnostics(state, metrics.Truth(fit, test, metrics.competition_ranks(test)))
    assert row["pred_top1_rank"] == 1 and row["pred_top1_test"] == 299.5
    assert row["kendall_tau_top50_fit"] == pytest.approx(1.0) and row["kendall_tau_top50_test"] == pytest.approx(1.0)
    assert row["p_top50_pool_fit"] == 1.0 and row["next_pool_size"] == 50
    assert len(row["top200_test_errors"]) == 200


def test_weaknas_run_writes_the_diagnostics_of_every_fit(nb201_synthetic, nb201_features):
    method = {"type": "weaknas", "init_sample": 20, "sample_each_iter": 20, "predictor": TINY_MLP}
    result = run_search(nb201_synthetic, nb201_features, method, 0, Budget(100), progress=False)
    iterations = result.iterations
    assert iterations["iteration"].tolist() == [0, 1, 2, 3, 4]
    assert iterations["queries"].tolist() == [20, 40, 60, 80, 100]
    for column in ["pred_top1_rank", "kendall_tau_top50_fit", "p_top50_pool_test", "top200_test_errors", "n_train"]:
        assert iterations[column].notna().all(), column
    # the pool narrows onto good architectures: the last pool holds more true top-50 than a uniform draw would
    assert iterations["p_top50_pool_test"].iloc[-1] > 3 * 50 / nb201_synthetic.size
    assert result.metadata["queries_to_fit_optimum"] is None or result.metadata["queries_to_fit_optimum"] <= 100


def test_random_search_has_no_predictor_diagnostics(make_benchmark):
    result = run_search(make_benchmark(np.arange(50.0)), None, {"type": "random"}, 0, Budget(50), progress=False)
    assert result.iterations.empty
    assert result.metadata["queries_to_fit_optimum"] == result.metadata["queries_to_test_optimum"] <= 50


def test_label_mode_draws_one_repeat_per_architecture(make_benchmark):
    benchmark = make_benchmark(np.zeros(400))
    for k in range(3):
        benchmark.table[f"valid_acc_{k}"] = float(k)
    benchmark.meta["fit_repeat_columns"] = ["valid_acc_0", "valid_acc_1", "valid_acc_2"]
    drawn = run_fit_labels(benchmark, "random_seed_per_arch", seed=3)
    assert set(np.unique(drawn)) == {0.0, 1.0, 2.0}
    assert abs((drawn == 0).mean() - 1 / 3) < 0.08
    np.testing.assert_array_equal(drawn, run_fit_labels(benchmark, "random_seed_per_arch", seed=3))
    assert not np.array_equal(drawn, run_fit_labels(benchmark, "random_seed_per_arch", seed=4))
    np.testing.assert_array_equal(run_fit_labels(benchmark, "avg", seed=3), benchmark.fit_labels)


def test_label_mode_needs_per_seed_data(make_benchmark):
    with pytest.raises(NasReproError, match="no per-seed fitting labels"):
        run_fit_labels(make_benchmark(np.zeros(10)), "random_seed_per_arch", seed=0)
    with pytest.raises(NasReproError, match="unknown label_mode"):
        run_fit_labels(make_benchmark(np.zeros(10)), "median", seed=0)


def test_iterations_table_keeps_the_searchers_pool_size(nb201_synthetic, nb201_features):
    method = {"type": "weaknas", "init_sample": 20, "sample_each_iter": 20, "predictor": TINY_MLP}
    iterations = run_search(nb201_synthetic, nb201_features, method, 1, Budget(60), progress=False).iterations
    assert isinstance(iterations, pd.DataFrame)
    # row z: the pool batch z was drawn from (the searcher's) and the pool for batch z+1 (the runner's)
    assert iterations["pool_size"].iloc[1:].tolist() == iterations["next_pool_size"].iloc[:-1].tolist()


def test_kendall_tau_b_matches_scipy_with_ties_and_constant_sides():
    rng = np.random.default_rng(0)
    for trial in range(100):
        n = int(rng.integers(2, 60))
        x = rng.integers(0, 5, n).astype(float)
        y = rng.normal(size=n) if trial % 2 else rng.integers(0, 3, n).astype(float)
        ours, theirs = metrics.kendall_tau_b(x, y), stats.kendalltau(x, y).statistic
        assert (np.isnan(ours) and np.isnan(theirs)) or ours == pytest.approx(theirs, abs=1e-12)
