"""From runs to numbers: describe(), Table 5, best-so-far curves and convergence, on hand-made data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nasrepro import analysis
from nasrepro.errors import NasReproError


# ------------------------------------------------------------------------------------- describe
def test_describe_exact_values():
    result = analysis.describe(np.array([1, 2, 3, 4, 10]))
    # mean 4; deviations -3 -2 -1 0 6 -> sum of squares 50 -> variance 50 / 4 = 12.5
    sd = math.sqrt(12.5)
    half = stats.t.ppf(0.975, 4) * sd / math.sqrt(5)
    assert stats.t.ppf(0.975, 4) == pytest.approx(2.776445, abs=1e-6)
    assert result["n"] == 5
    assert result["mean"] == pytest.approx(4.0)
    assert result["sd"] == pytest.approx(sd)
    assert result["ci_low"] == pytest.approx(4.0 - half)
    assert result["ci_high"] == pytest.approx(4.0 + half)
    assert result["ci_high"] - result["ci_low"] == pytest.approx(2 * 4.3898, abs=1e-3)


def test_describe_single_and_empty():
    one = analysis.describe(np.array([7.0]))
    assert one["n"] == 1 and one["mean"] == 7.0
    assert math.isnan(one["sd"]) and math.isnan(one["ci_low"]) and math.isnan(one["ci_high"])
    none = analysis.describe(np.array([]))
    assert none["n"] == 0 and math.isnan(none["mean"])


# --------------------------------------------------------------------------------------- table 5
@pytest.fixture
def summary() -> pd.DataFrame:
    rows = []
    for seed, q in enumerate([100, 200, 300]):
        rows.append(("nb201-cifar10", "weaknas", seed, q))
    for seed, q in enumerate([1000, np.nan, 3000]):  # seed 1 hit its cap: not found
        rows.append(("nb201-cifar10", "random", seed, q))
    for seed, q in enumerate([50, 70, 90]):
        rows.append(("nb201-cifar100", "weaknas", seed, q))
    frame = pd.DataFrame(rows, columns=["benchmark", "method", "seed", "queries_to_optimum"])
    frame["optimum_target"] = "fit"
    frame["fit_split"] = np.where(frame["benchmark"] == "nb201-cifar10", "x-valid", "x-test")
    frame["test_split"] = np.where(frame["benchmark"] == "nb201-cifar10", "ori-test", "x-test")
    frame["label_note"] = np.where(frame["benchmark"] == "nb201-cifar10", "fit on x-valid",
                                   "NO VALIDATION SPLIT AVAILABLE: fits on x-test")
    return frame


def test_table5_values(summary):
    table = analysis.table5(
        summary,
        labels={"weaknas": "WeakNAS", "random": "Random Search"},
        paper_rows={"weaknas": "WeakNAS", "random": "Random Search"},
        paper_columns={"nb201-cifar10": "nb201-cifar10"},  # cifar100 falls back to its own name
    )
    assert len(table) == 3
    assert table[["benchmark", "method"]].values.tolist() == [
        ["nb201-cifar10", "WeakNAS"], ["nb201-cifar10", "Random Search"], ["nb201-cifar100", "WeakNAS"]]
    weak, rand, c100 = (table.iloc[i] for i in range(3))
    assert weak["n"] == 3 and weak["mean"] == pytest.approx(200) and weak["sd"] == pytest.approx(100)
    half = stats.t.ppf(0.975, 2) * 100 / math.sqrt(3)
    assert weak["ci_low"] == pytest.approx(200 - half) and weak["ci_high"] == pytest.approx(200 + half)
    assert weak["not_found"] == 0 and weak["paper"] == pytest.approx(182.1)
    # the not-found run is left out of the statistics and counted
    assert rand["n"] == 2 and rand["mean"] == pytest.approx(2000) and rand["not_found"] == 1
    assert rand["sd"] == pytest.approx(math.sqrt(2) * 1000)
    assert rand["paper"] == pytest.approx(7782.1)
    assert c100["mean"] == pytest.approx(70) and c100["paper"] == pytest.approx(78.4)
    assert c100["fit_split"] == "x-test" and "NO VALIDATION" in c100["label_note"]
    assert (table["optimum"] == "fit").all()


def test_table5_markdown(summary):
    table = analysis.table5(summary, {"weaknas": "WeakNAS"}, {"weaknas": "WeakNAS"}, {})
    text = analysis.table5_markdown(table, "Table 5 (test)")
    assert text.startswith("# Table 5 (test)\n")
    rows = [line for line in text.splitlines() if line.startswith("| nb201")]
    assert rows[0] == "| nb201-cifar10 | WeakNAS | 3 | 200.0 | 100.0 | " \
                      f"[{200 - stats.t.ppf(0.975, 2) * 100 / math.sqrt(3):.1f}, " \
                      f"{200 + stats.t.ppf(0.975, 2) * 100 / math.sqrt(3):.1f}] | 200.0 | 0 | 182.1 |"
    assert rows[1].startswith("| nb201-cifar10 | random | 3 | 2000.0 |") and rows[1].endswith("| 3000.0 | 1 | – |")
    assert "NO VALIDATION SPLIT" in text and "`x-test`" in text
    assert math.isnan(table.iloc[1]["paper"])  # no paper row given for 'random'


def test_table5_median_counts_capped_runs_as_latest(summary):
    summary.loc[summary["method"] == "random", "queries_to_optimum"] = [1000, np.nan, np.nan]
    table = analysis.table5(summary, {}, {}, {})
    random = table[table["method"] == "random"].iloc[0]
    assert random["median"] == np.inf and random["not_found"] == 2 and random["mean"] == 1000.0
    assert "| not found | 2 |" in analysis.table5_markdown(table, "t")


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


def test_paper_values_table5():
    paper = analysis.paper_values()
    table5 = paper[paper["table"] == "table5"].set_index(["row", "column"])["value"]
    assert table5[("WeakNAS", "nb201-cifar10")] == pytest.approx(182.1)
    assert table5[("Random Search", "nb201-cifar100")] == pytest.approx(7621.2)
    assert table5[("Reg Evolution", "nb201-imagenet16")] == pytest.approx(715.1)


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


def test_budget_table_values_and_paper_columns(budget_runs):
    found = analysis.found_at_budgets(budget_runs, None, "max_queried", [2, 150])
    table = analysis.budget_table(found, {"nb101-cifar10": 95.0}, {"weaknas": "WeakNAS"}, {"weaknas": "WeakNAS"},
                                  {"nb101-cifar10": "nb101-cifar10"})
    at2 = table[table["queries"] == 2].iloc[0]
    assert at2["method"] == "WeakNAS" and at2["n"] == 2
    assert at2["test_acc"] == pytest.approx(92.5)
    assert at2["sd"] == pytest.approx(np.std([92.0, 93.0], ddof=1))
    assert at2["regret"] == pytest.approx(2.5)
    assert at2["avg_rank"] == pytest.approx(7.5)
    assert math.isnan(at2["paper_test_acc"])  # the paper has no 2-query row
    at150 = table[table["queries"] == 150].iloc[0]
    assert at150["paper_test_acc"] == pytest.approx(94.10) and at150["paper_avg_rank"] == pytest.approx(12.3)
    text = analysis.budget_table_markdown(table, "Table 4", ["Protocol: test"])
    assert "| nb101-cifar10 | WeakNAS | 150 | 2 | 93.50 [94.10] | 0.71 [0.19] | 1.50 [0.22] | 3.0 [12.3] |" in text
    assert "- Protocol: test" in text


def test_budget_table_takes_paper_values_of_its_own_benchmark_only(budget_runs):
    found = analysis.found_at_budgets(budget_runs.assign(benchmark="nb201-cifar10"), None, "max_queried", [150])
    table = analysis.budget_table(found, {"nb201-cifar10": 95.0}, {}, {"weaknas": "WeakNAS"}, {})
    assert math.isnan(table["paper_test_acc"].iloc[0])  # the paper's Table 4 is on NAS-Bench-101


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
