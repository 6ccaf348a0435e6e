"""Every statistic a table prints, in one place: the spread of a cell (mean, SD, bootstrap interval), and
the comparison of two methods (an effect size with its interval and direction, the Mann-Whitney test,
Holm's correction over a table's tests, and what the number of seeds can detect).

A comparison is stated as P(A better): the probability that one run of method A does better than one run
of method B (fewer queries, higher accuracy, lower regret or rank), ties counting half. It is the
Vargha-Delaney A, (1 + r) / 2 for the rank-biserial correlation r, and U_A / (n_A n_B) for the
Mann-Whitney U of A. 0.5 is no difference; 1 means every run of A beat every run of B.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.05
BOOTSTRAP_RESAMPLES = 10_000
MIN_SEEDS = 5  # below this many values no interval is given (and no verdict): it would be the values' range
LARGE_EFFECT = 0.71  # Vargha and Delaney's threshold of a large P(A better)
POWER = 0.8
LOWER_IS_BETTER = {"queries_to_optimum", "queries_to_optimum_authors", "hidden_queries", "regret", "avg_rank"}

INTERVAL = (f"95% CI: a bootstrap percentile interval of the mean ({BOOTSTRAP_RESAMPLES:,} resamples, seed 0) for every "
            "quantity; it stays within the seeds' values, so within what the benchmark allows (an accuracy never "
            f"above its optimum, a regret, rank or query count never below its floor); below {MIN_SEEDS} seeds no "
            "interval ('too few seeds')")
P_VALUES = "p-values: two significant digits, '< 0.001' below 0.001"
SPREAD = f"SD over seeds with ddof=1. {INTERVAL}. {P_VALUES}."


def tests_statement(reference: str) -> str:
    """What a comparison table's test columns mean, stated once in its protocol lines."""
    return (f"Each method against {reference}: P({reference} better) is the probability that a run of {reference} "
            "does better than a run of the row's method (fewer queries to the optimum, higher test accuracy), ties "
            "counting half (the Vargha-Delaney A = (1 + rank-biserial r) / 2; 0.5: no difference), with a 95% "
            f"bootstrap percentile interval ({BOOTSTRAP_RESAMPLES:,} resamples of each method's seeds, seed 0; none "
            f"below {MIN_SEEDS} seeds). p: two-sided Mann-Whitney U test over seeds (scipy.stats.mannwhitneyu); "
            "p (Holm): Holm's step-down correction over every test of this table. 'Better' names the method that "
            f"does better when p (Holm) < {ALPHA}, otherwise 'not shown' and the way the effect leans. Runs that "
            "never queried the optimum count as worse than every run that did (ties among themselves). " + SPREAD)


def describe(values: np.ndarray) -> dict:
    """Mean, sample SD (ddof=1) and the two-sided 95% interval of the mean (`INTERVAL`); the interval is
    NaN below MIN_SEEDS values."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    mean = float(values.mean()) if n else np.nan
    sd = float(values.std(ddof=1)) if n > 1 else np.nan
    low = high = np.nan
    if n >= MIN_SEEDS:
        resampled = np.random.default_rng(0).choice(values, size=(BOOTSTRAP_RESAMPLES, n)).mean(axis=1)
        low, high = (float(q) for q in np.quantile(resampled, [0.025, 0.975]))
    return {"n": n, "mean": mean, "sd": sd, "ci_low": low, "ci_high": high}


def _wins(a: np.ndarray, b: np.ndarray, lower_is_better: bool) -> np.ndarray:
    """Pairwise outcome of every run of `a` against every run of `b`: 1 a better, 0.5 tie, 0 b better."""
    a, b = (-a, -b) if not lower_is_better else (a, b)
    return (a[:, None] < b[None, :]) + 0.5 * (a[:, None] == b[None, :])


def superiority(a, b, lower_is_better: bool) -> dict:
    """P(a better) with its bootstrap interval (NaN below MIN_SEEDS runs of either), the Mann-Whitney U of
    `a` and the two-sided p-value. Values may be ±inf (a censored run: the worst)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    wins = _wins(a, b, lower_is_better)
    low = high = np.nan
    if min(len(a), len(b)) >= MIN_SEEDS:
        rng = np.random.default_rng(0)
        rows = rng.integers(len(a), size=(BOOTSTRAP_RESAMPLES, len(a)))
        columns = rng.integers(len(b), size=(BOOTSTRAP_RESAMPLES, len(b)))
        resampled = wins[rows[:, :, None], columns[:, None, :]].mean(axis=(1, 2))
        low, high = (float(q) for q in np.quantile(resampled, [0.025, 0.975]))
    if np.unique(np.r_[a, b]).size == 1:  # every run alike: scipy would return NaN
        u, p = len(a) * len(b) / 2, 1.0
    else:
        test = stats.mannwhitneyu(-a if lower_is_better else a, -b if lower_is_better else b, alternative="two-sided")
        u, p = float(test.statistic), float(test.pvalue)
    return {"p_better": float(wins.mean()), "p_better_low": low, "p_better_high": high, "u_statistic": u, "p_value": p}


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN kept as NaN, and not counted as a test)."""
    p = np.asarray(p_values, float)
    adjusted = np.full(p.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    scaled = np.maximum.accumulate((len(order) - np.arange(len(order))) * p[order])
    adjusted[order] = np.minimum(scaled, 1.0)
    return adjusted


def better(p_better: float, p_holm: float, reference: str, other: str) -> str:
    """Which of two methods does better, in words."""
    if not np.isfinite(p_holm):
        return "–"
    leader = reference if p_better > 0.5 else other
    if p_holm < ALPHA:
        return f"{leader} better"
    return "not shown" + ("" if p_better == 0.5 else f" (leans {leader})")


def comparisons(values: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Per benchmark, budget and metric: each method's cell (`describe`), and against `reference` P(reference
    better) with its interval, U of the reference, p and Holm's p over every test of the frame. A missing
    value (optimum never queried) counts as worse than every present one."""
    rows = []
    for (bench, queries, metric), cell in values.groupby(["benchmark", "queries", "metric"], sort=False, dropna=False):
        lower = metric in LOWER_IS_BETTER
        worst = np.inf if lower else -np.inf
        runs = {m: part["value"].fillna(worst).to_numpy(float) for m, part in cell.groupby("method", sort=False)}
        for method, ours in runs.items():
            row = {"benchmark": bench, "queries": queries, "metric": metric, "method": method,
                   **describe(ours[np.isfinite(ours)]), "missing": int((~np.isfinite(ours)).sum()), "runs": len(ours)}
            if method != reference and reference in runs:
                row.update(superiority(runs[reference], ours, lower))
            rows.append(row)
    frame = pd.DataFrame(rows)
    if "p_value" in frame:
        frame["p_holm"] = holm(frame["p_value"])
    return frame


def min_p_value(n_a: int, n_b: int) -> float:
    """The smallest two-sided p-value an exact Mann-Whitney test of n_a against n_b runs can give."""
    return min(1.0, 2 / math.comb(n_a + n_b, n_a))


def seeds_needed(effect: float, alpha: float, power: float = POWER) -> int:
    """Seeds per method for a two-sided Mann-Whitney test at `alpha` to detect P(A better) = `effect` with
    `power` (Noether's formula, equal groups)."""
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return math.ceil(z**2 / (3 * (effect - 0.5) ** 2) / 2)


def power_lines(tests: pd.DataFrame) -> list[str]:
    """What the table's numbers of seeds can show: the smallest p-value they allow, whether Holm's correction
    over the table's tests leaves any difference detectable, and the seeds a large effect would need."""
    if "p_value" not in tests or not tests["p_value"].notna().any():
        return []
    m = int(tests["p_value"].notna().sum())
    n = int(tests["runs"].min())
    smallest = min_p_value(n, n)
    corrected = seeds_needed(LARGE_EFFECT, ALPHA / m)
    lines = [f"Power: with {n} seeds per method the smallest p a Mann-Whitney test can give is {smallest:.2g}; "
             f"Holm over this table's {m} tests multiplies the smallest by {m} ({min(1.0, smallest * m):.2g})."]
    if smallest * m >= ALPHA:
        lines.append(f"Too few seeds: no difference can be shown at {ALPHA} "
                     + ("even by a single test" if smallest >= ALPHA else "after the correction")
                     + ", whatever its size; 'not shown' is no evidence that two methods are alike.")
    if n < corrected:
        lines.append(f"Too few seeds to detect a large effect (P(A better) = {LARGE_EFFECT}, Vargha and Delaney) "
                     f"with {POWER:.0%} power: about {seeds_needed(LARGE_EFFECT, ALPHA)} seeds per method for one test "
                     f"at {ALPHA}, {corrected} for the smallest p of {m} under Holm (Noether's formula).")
    return lines
