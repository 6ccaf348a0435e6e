"""The one statistics module: a cell's spread (describe), and a comparison of two methods (effect size with
its interval and direction, Mann-Whitney, Holm, what the seeds can detect), on hand-made data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nasrepro.render import statistics
from nasrepro.render import table_cells as tables


def test_describe_exact_values():
    values = np.array([1, 2, 3, 4, 10])
    result = statistics.describe(values)
    # mean 4; deviations -3 -2 -1 0 6 -> sum of squares 50 -> variance 50 / 4 = 12.5
    assert result["n"] == 5 and result["mean"] == pytest.approx(4.0) and result["sd"] == pytest.approx(math.sqrt(12.5))
    # the bootstrap percentile interval of the mean: seeded, so exact; inside the values' range
    means = np.random.default_rng(0).choice(values, size=(statistics.BOOTSTRAP_RESAMPLES, 5)).mean(axis=1)
    assert [result["ci_low"], result["ci_high"]] == pytest.approx(np.quantile(means, [0.025, 0.975]).tolist())
    assert 1 <= result["ci_low"] < 4 < result["ci_high"] <= 10
    assert statistics.describe(values) == result  # the same interval every time


def test_describe_never_leaves_the_attainable_range():
    """Accuracies just under a benchmark's optimum (91.52): the interval stays at or below it (a t interval
    of these five runs would reach 92.1)."""
    result = statistics.describe(np.array([91.52, 91.52, 91.52, 91.52, 89.0]))
    assert 89.0 <= result["ci_low"] <= result["ci_high"] <= 91.52


def test_describe_gives_no_interval_below_the_seed_threshold():
    few = statistics.describe(np.arange(statistics.MIN_SEEDS - 1, dtype=float))
    assert few["n"] == statistics.MIN_SEEDS - 1 and np.isfinite(few["sd"])
    assert math.isnan(few["ci_low"]) and math.isnan(few["ci_high"])
    assert np.isfinite(statistics.describe(np.arange(statistics.MIN_SEEDS, dtype=float))["ci_low"])


def test_describe_single_and_empty():
    one = statistics.describe(np.array([7.0]))
    assert one["n"] == 1 and one["mean"] == 7.0
    assert math.isnan(one["sd"]) and math.isnan(one["ci_low"]) and math.isnan(one["ci_high"])
    none = statistics.describe(np.array([]))
    assert none["n"] == 0 and math.isnan(none["mean"])



def test_superiority_is_the_share_of_pairs_won_with_ties_half():
    # queries: lower is better; a beats b in 5 of 6 pairs, one tie (100 vs 100)
    result = statistics.superiority([100, 200], [100, 300, 400], lower_is_better=True)
    assert result["p_better"] == pytest.approx((0.5 + 1 + 1 + 0 + 1 + 1) / 6)
    test = stats.mannwhitneyu([-100, -200], [-100, -300, -400], alternative="two-sided")
    assert result["u_statistic"] == pytest.approx(result["p_better"] * 6) == pytest.approx(test.statistic)
    assert result["p_value"] == pytest.approx(test.pvalue)
    assert math.isnan(result["p_better_low"])  # fewer than MIN_SEEDS runs: no interval
    # higher is better: the same runs as accuracies read the other way
    assert statistics.superiority([100, 200], [100, 300, 400], lower_is_better=False)["p_better"] == pytest.approx(0.25)


def test_superiority_interval_brackets_the_estimate_and_censored_runs_are_the_worst():
    mine = np.array([50, 60, 70, 80, np.inf])  # one run never found the optimum
    theirs = np.array([100, 200, 300, np.inf, np.inf])
    result = statistics.superiority(mine, theirs, lower_is_better=True)
    assert result["p_better"] == pytest.approx(21 / 25)  # 20 pairs won, the two censored pairs tie
    assert result["p_better_low"] <= result["p_better"] <= result["p_better_high"] <= 1
    assert statistics.superiority(mine, theirs, True) == result  # seeded


def test_holm_step_down():
    adjusted = statistics.holm([0.01, 0.04, 0.03, np.nan])
    assert adjusted[:3] == pytest.approx([0.03, 0.06, 0.06]) and math.isnan(adjusted[3])
    assert statistics.holm([0.5, 0.9]).tolist() == [1.0, 1.0]


def test_better_in_words():
    assert statistics.better(0.9, 0.01, "Mine", "Random") == "Mine better"
    assert statistics.better(0.1, 0.01, "Mine", "Random") == "Random better"
    assert statistics.better(0.7, 0.2, "Mine", "Random") == "not shown (leans Mine)"
    assert statistics.better(0.5, 1.0, "Mine", "Random") == "not shown"


def test_power_lines_say_when_no_difference_can_be_shown():
    assert statistics.min_p_value(5, 5) == pytest.approx(2 / 252)
    tests = pd.DataFrame({"p_value": [0.01] * 15 + [np.nan], "runs": [5] * 16})
    lines = statistics.power_lines(tests)
    assert "smallest p a Mann-Whitney test can give is 0.0079" in lines[0] and "15 tests" in lines[0]
    assert lines[1].startswith("Too few seeds: no difference can be shown")
    assert "seeds per method" in lines[2]
    assert statistics.seeds_needed(0.71, 0.05) == 30  # Noether: (1.96 + 0.84)^2 / (3 * 0.21^2) = 59.3 in all


def test_comparison_table_states_effect_direction_and_corrected_p():
    values = pd.DataFrame({"benchmark": "b", "queries": np.nan, "metric": "queries_to_optimum",
                           "method": ["mine"] * 5 + ["random"] * 5 + ["rea"] * 5,
                           "value": [10, 20, 30, 40, 50] + [100, 200, 300, 400, np.nan] + [15, 25, 35, 45, 55]})
    tests = statistics.comparisons(values, "mine").set_index("method")
    assert tests.loc["random", "p_better"] == 1.0 and tests.loc["rea", "p_better"] == pytest.approx(15 / 25)
    assert tests.loc["random", "p_holm"] == pytest.approx(min(1, 2 * min(tests["p_value"].dropna())))
    shown = tables.display_tests(tests.reset_index(), {"mine": "Mine", "random": "Random"}, "mine").set_index("Method")
    assert shown.loc["Random", "P(Mine better) [95% CI]"].startswith("1.00 [")
    assert shown.loc["Mine", "P(Mine better) [95% CI]"] == "(reference)"
    assert shown.loc["Random", "Better"] == "Mine better"
    assert shown.loc["rea", "Better"].startswith("not shown")
    assert shown.loc["Random", "Seeds"] == "4 (+1 not found)"
