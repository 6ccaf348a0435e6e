"""From runs to numbers: best-so-far curves, found-at-budget and convergence, on hand-made data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nasrepro import analysis
from nasrepro.errors import NasReproError


# ------------------------------------------------------------------------------------ best so far
@pytest.fixture
def trajectory() -> pd.DataFrame:
    return pd.DataFrame({
        "query": [1, 2, 3, 4, 5, 6],
        "fit_label": [1.0, 3.0, 2.0, 3.0, 5.0, 4.0],
        "test_label": [10.0, 20.0, 30.0, 40.0, 15.0, 50.0],
        "test_rank": [6, 4, 3, 2, 5, 1],
    })


def test_best_so_far_max_queried(trajectory):
    assert analysis.best_so_far(trajectory, "max_queried").tolist() == [10, 20, 30, 40, 40, 50]


def test_best_so_far_test_of_best_valid(trajectory):
    # leader by fit: 0, 1, 1, 1 (tie at query 4 keeps the earlier), 4, 4
    assert analysis.best_so_far(trajectory, "test_of_best_valid").tolist() == [10, 20, 20, 20, 15, 15]


def test_best_so_far_unknown_mode(trajectory):
    with pytest.raises(NasReproError, match="unknown report mode"):
        analysis.best_so_far(trajectory, "median")


# ------------------------------------------------------------------------------------ convergence
def test_convergence_on_two_tiny_runs():
    run0 = pd.DataFrame({"query": [1, 2, 3, 4], "fit_label": [1.0, 2.0, 0.0, 3.0],
                         "test_label": [10.0, 12.0, 30.0, 11.0], "test_rank": 1, "seed": 0})
    run1 = pd.DataFrame({"query": [1, 2], "fit_label": [5.0, 1.0], "test_label": [20.0, 40.0], "test_rank": 1, "seed": 1})
    trajectories = pd.concat([run0, run1]).assign(benchmark="b", method="m")
    grid = np.array([1, 2, 3, 4, 8])

    curves = analysis.convergence(trajectories, None, "max_queried", grid)
    assert curves["queries"].tolist() == [1, 2, 3, 4, 8]
    # run0: 10 12 30 30 30; run1 stopped after 2 queries and keeps 40
    expected0, expected1 = np.array([10, 12, 30, 30, 30]), np.array([20, 40, 40, 40, 40])
    np.testing.assert_allclose(curves["mean"], (expected0 + expected1) / 2)
    np.testing.assert_allclose(curves["sd"], np.abs(expected0 - expected1) / math.sqrt(2))
    assert (curves["n"] == 2).all()
    # the band is mean ± SD cut to the seeds' range: with two seeds, exactly that range
    np.testing.assert_allclose(curves["band_low"], np.minimum(expected0, expected1))
    np.testing.assert_allclose(curves["band_high"], np.maximum(expected0, expected1))

    curves = analysis.convergence(trajectories, None, "test_of_best_valid", grid)
    # run0 leaders: 0, 1, 1, 3 -> 10 12 12 11 11; run1 leader stays 0 -> 20 20 20 20 20
    np.testing.assert_allclose(curves["mean"], (np.array([10, 12, 12, 11, 11]) + 20) / 2)


def test_convergence_keeps_methods_and_benchmarks_apart():
    a = pd.DataFrame({"query": [1, 2], "fit_label": [1.0, 2.0], "test_label": [1.0, 2.0], "test_rank": 1, "seed": 0,
                      "benchmark": "b1", "method": "m1"})
    b = a.assign(method="m2", test_label=[5.0, 6.0])
    c = a.assign(benchmark="b2", test_label=[7.0, 3.0])
    curves = analysis.convergence(pd.concat([a, b, c]), None, "max_queried", np.array([1, 2]))
    assert curves[["benchmark", "method"]].drop_duplicates().values.tolist() == [["b1", "m1"], ["b1", "m2"], ["b2", "m1"]]
    assert curves["mean"].tolist() == [1, 2, 5, 6, 7, 7]
    assert (curves["sd"] == 0).all() and (curves["n"] == 1).all()


# -------------------------------------------------------------------------------- budget table (Table 4)
@pytest.fixture
def budget_runs() -> pd.DataFrame:
    run0 = pd.DataFrame({"query": [1, 2, 3, 4], "fit_label": [1.0, 4.0, 2.0, 3.0],
                         "test_label": [90.0, 92.0, 94.0, 93.0], "test_rank": [40, 10, 1, 5], "seed": 0})
    run1 = pd.DataFrame({"query": [1, 2, 3], "fit_label": [2.0, 1.0, 5.0],
                         "test_label": [91.0, 93.0, 92.5], "test_rank": [30, 5, 8], "seed": 1})
    return pd.concat([run0, run1]).assign(benchmark="nb101-cifar10", method="weaknas")


def test_found_at_budgets_by_report_mode(budget_runs):
    oracle_max = analysis.found_at_budgets(budget_runs, None, "max_queried", [2, 4])
    assert oracle_max["test_label"].tolist() == [92.0, 94.0, 93.0, 93.0]  # run1 stopped at 3 and keeps 93
    assert oracle_max["test_rank"].tolist() == [10, 1, 5, 5]
    assert oracle_max["queries_run"].tolist() == [2, 4, 2, 3]
    by_valid = analysis.found_at_budgets(budget_runs, None, "test_of_best_valid", [2, 4])
    assert by_valid["test_label"].tolist() == [92.0, 92.0, 91.0, 92.5]
    assert by_valid["test_rank"].tolist() == [10, 10, 30, 8]


# --------------------------------------------------------------------- predictor top-1 report modes
@pytest.fixture
def fits() -> pd.DataFrame:
    """Two predictor fits of the `trajectory` run: after 2 and after 4 queries."""
    return pd.DataFrame({"iteration": [0, 1], "queries": [2, 4], "pred_top1_test": [35.0, 45.0], "pred_top1_rank": [3, 2]})


def test_max_queried_or_pred1_takes_the_free_peek(trajectory, fits):
    test, rank = analysis.found_per_query(trajectory, fits, "max_queried_or_pred1")
    # queried max: 10 20 30 40 40 50; top-1 of the latest fit: -, 35, 35, 45, 45, 45
    assert test.tolist() == [10, 35, 35, 45, 45, 50]
    assert rank.tolist() == [6, 3, 3, 2, 2, 1]


def test_pred1_only_is_undefined_before_the_first_fit(trajectory, fits):
    test, rank = analysis.found_per_query(trajectory, fits, "pred1_only")
    assert math.isnan(test[0]) and test[1:].tolist() == [35, 35, 45, 45, 45]
    assert rank[1:].tolist() == [3, 3, 2, 2, 2]


def test_pred1_modes_without_a_predictor(trajectory):
    assert analysis.best_so_far(trajectory, "max_queried_or_pred1").tolist() == [10, 20, 30, 40, 40, 50]
    assert np.isnan(analysis.best_so_far(trajectory, "pred1_only")).all()


def test_modes_per_method(budget_runs):
    both = pd.concat([budget_runs, budget_runs.assign(method="random")])
    found = analysis.found_at_budgets(both, None, {"weaknas": "max_queried", "random": "test_of_best_valid"}, [4])
    by_method = found.groupby("method")["test_label"].apply(list).to_dict()
    assert by_method == {"weaknas": [94.0, 93.0], "random": [92.0, 92.5]}
