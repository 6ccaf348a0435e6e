"""From finished runs to per-run numbers: what counts as found after each query, at each budget, and curves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import NasReproError

# Which architecture counts as found after q queries (reference protocol §1.12):
REPORT_MODES = {
    "max_queried_or_pred1": "the best test accuracy among the queried architectures or of the latest predictor's "
                            "top-1 (the paper's notebooks; the top-1 is a free peek, no query is charged)",
    "max_queried": "the best test accuracy among the queried architectures (an oracle selection)",
    "pred1_only": "the latest predictor's top-1 (Eq. 4 of the paper); undefined for methods without a predictor",
    "test_of_best_valid": "the test accuracy of the queried architecture with the best fitting label (the "
                          "convention of the baselines' papers)",
    "test_of_best_single_repeat_valid": "SemiNAS's report: the mean test accuracy of the queried architecture "
                                        "ranked best by ONE drawn training repeat's validation accuracy (the run's "
                                        "fitting label under label_mode random_seed_per_arch)",
}
RANKED_BY_FIT = ("test_of_best_valid", "test_of_best_single_repeat_valid")  # modes that never look at test labels


def hidden_queries(summary: pd.DataFrame) -> pd.Series:
    """Per run, the charged queries its method's authors leave uncounted (0 in summaries written before
    the column existed)."""
    return summary.get("hidden_queries", pd.Series(0, index=summary.index)).astype(float)


# What collecting a run reads of its files (`collect`, `view`): a file without one of them is named.
RUN_KEYS = ("method", "budget.queries", "budget.until_optimum", "budget.optima", "charge_repeats", "label_mode",
            "benchmark.fit_split", "benchmark.test_split", "benchmark.fit_is_test", "benchmark.label_note",
            "optimum_arch_ids.fit", "optimum_arch_ids.test", "test_optimum", "queries_used", "wall_seconds",
            "environment.device")
TRAJECTORY_COLUMNS = ("query", "arch_id", "fit_label", "test_label", "test_rank", "iteration")


def load_run(trajectory_path: str | Path) -> tuple[pd.DataFrame, dict]:
    """A run's trajectory and its metadata (the .json beside the .parquet), each with what collecting reads."""
    trajectory_path = Path(trajectory_path)
    meta_path = trajectory_path.with_suffix(".json")
    try:
        trajectory, meta = pd.read_parquet(trajectory_path), json.loads(meta_path.read_text())
    except (OSError, ValueError) as error:
        raise NasReproError(f"{trajectory_path}: cannot read run ({error})") from None
    redo = f"delete {trajectory_path.parent / trajectory_path.stem}.* and rerun its search"
    missing = next((key for key in RUN_KEYS if not _has(meta, key.split("."))), None)
    if missing:
        raise NasReproError(f"{meta_path}: key '{missing}' is missing: not a finished run's metadata; {redo}")
    columns = [column for column in TRAJECTORY_COLUMNS if column not in trajectory]
    if columns:
        raise NasReproError(f"{trajectory_path}: column '{columns[0]}' is missing: not a run's trajectory; {redo}")
    return trajectory, meta


def _has(record, keys: list[str]) -> bool:
    """Whether nested dicts hold the key path `keys`."""
    for key in keys:
        if not isinstance(record, dict) or key not in record:
            return False
        record = record[key]
    return True


def iterations_path(trajectory_path: str | Path) -> Path:
    return Path(trajectory_path).with_suffix(".iterations.parquet")


def view(trajectory: pd.DataFrame, iterations: pd.DataFrame, meta: dict, budget: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """One experiment's view of a (possibly shared, longer) run: its trajectory and predictor fits cut
    where a run under the experiment's own `budget` would have stopped, and that run's stopping numbers.
    A run stops after the batch (iteration) that reaches the query budget or queries the optimum."""
    ends = trajectory.groupby("iteration")["query"].max()  # queries used after each batch
    found = {target: _queries_at(trajectory, ends, arch_id) for target, arch_id in meta["optimum_arch_ids"].items()}
    cap = budget.get("queries") or (meta["budget"]["queries"] if budget.get("until_optimum") else None)
    target = budget.get("optimum", "fit")
    cutoff, stopped_by = meta["queries_used"], meta.get("stopped_by")
    if budget.get("until_optimum") and found[target] is not None and found[target] <= cap:
        cutoff, stopped_by = found[target], "optimum"
    elif cap is not None and cap <= cutoff:
        cutoff, stopped_by = cap, "budget"
    last = int(ends.index[ends >= cutoff][0]) if len(ends) and (ends >= cutoff).any() else None
    kept_fits = iterations
    if "iteration" in iterations and last is not None:
        # a run stopped by the optimum is never told its last batch: no fit after it
        kept_fits = iterations[iterations["iteration"] < last + (stopped_by != "optimum")]
    within = {t: q if q is not None and q <= cutoff else None for t, q in found.items()}
    numbers = {
        "queries_used": cutoff,
        "queries_to_optimum": within[target],
        "queries_to_fit_optimum": within["fit"],
        "queries_to_test_optimum": within["test"],
        "queries_to_fit_optimum_censored": within["fit"] is None,
        "queries_to_test_optimum_censored": within["test"] is None,
        "stopped_by": stopped_by,
        "budget_queries": cap,
        "optimum_target": target,
    }
    return trajectory[trajectory["query"] <= cutoff], kept_fits, numbers


def own_budget(meta: dict) -> dict:
    """The budget a run was made with, as an experiment's budget (the view of the whole run)."""
    made = meta["budget"]
    return {"queries": made["queries"], "until_optimum": made["until_optimum"], "optimum": made["optima"][0]}


def _queries_at(trajectory: pd.DataFrame, ends: pd.Series, arch_id: int) -> int | None:
    """Queries used after the batch that first queried `arch_id` (None: never queried)."""
    hits = trajectory.loc[trajectory["arch_id"] == arch_id, "iteration"]
    return None if hits.empty else int(ends[hits.iloc[0]])


def collect(run_paths: list[str | Path], keys: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One row per run (summary), per query (trajectories) and per predictor fit (iterations), each
    tagged with its run's keys; each run seen through its experiment's budget (`view`, the key `view`)."""
    summaries, trajectories, iterations = [], [], []
    for path, key in zip(run_paths, keys):
        key = dict(key)
        trajectory, meta = load_run(path)
        budget = key.pop("view", None) or own_budget(meta)
        trajectory, fits, numbers = view(trajectory, pd.read_parquet(iterations_path(path)), meta, budget)
        summaries.append({
            **key,
            **numbers,
            "label_mode": meta["label_mode"],
            "test_optimum": meta["test_optimum"],
            "fit_split": meta["benchmark"]["fit_split"],
            "test_split": meta["benchmark"]["test_split"],
            "fit_is_test": meta["benchmark"]["fit_is_test"],
            "label_note": meta["benchmark"]["label_note"],
            "wall_seconds": meta["wall_seconds"],  # of the whole (possibly shared) run
            # what ran, for the renderers' protocol lines
            "spec": json.dumps({"method": meta["method"], "encoding": meta.get("encoding"),
                                "charge_repeats": meta["charge_repeats"]}),
            "device": meta["environment"]["device"],
            # charged queries the method's authors leave uncounted (SemiNAS's discarded initial ones)
            "hidden_queries": int(fits["hidden_queries"].max()) if "hidden_queries" in fits and len(fits) else 0,
        })
        trajectories.append(trajectory.assign(**key))
        iterations.append(fits.assign(**key))
    iterations = [frame for frame in iterations if not frame.empty]
    columns = [k for k in keys[0] if k != "view"] if keys else []
    return (pd.DataFrame(summaries), pd.concat(trajectories, ignore_index=True),
            pd.concat(iterations, ignore_index=True) if iterations else pd.DataFrame(columns=[*columns, "iteration"]))


def _leaders(signal: np.ndarray) -> np.ndarray:
    """Row of the running maximum of `signal` after each row (ties keep the earlier leader)."""
    running_best = np.maximum.accumulate(signal)
    improves = np.r_[True, signal[1:] > running_best[:-1]]
    return np.maximum.accumulate(np.where(improves, np.arange(len(signal)), 0))


def found_per_query(trajectory: pd.DataFrame, iterations: pd.DataFrame | None, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Test accuracy and test rank of the architecture counted as found after each query of one run
    (trajectory rows in query order; `iterations` the run's predictor fits, with `queries`,
    `pred_top1_test` and `pred_top1_rank`). NaN where nothing counts as found yet."""
    if mode not in REPORT_MODES:
        raise NasReproError(f"unknown report mode {mode!r}; known: {', '.join(REPORT_MODES)}")
    test, rank = trajectory["test_label"].to_numpy(), trajectory["test_rank"].to_numpy(dtype=float)
    signal = trajectory["fit_label" if mode in RANKED_BY_FIT else "test_label"].to_numpy()
    leader = _leaders(signal)
    found_test, found_rank = test[leader], rank[leader]
    if mode == "max_queried" or mode in RANKED_BY_FIT:
        return found_test, found_rank
    pred_test, pred_rank = _latest_predictor(trajectory["query"].to_numpy(), iterations)
    if mode == "pred1_only":
        return pred_test, pred_rank
    peek = pred_test > found_test  # NaN (no predictor yet) compares False
    return np.where(peek, pred_test, found_test), np.where(peek, pred_rank, found_rank)


def _latest_predictor(queries: np.ndarray, iterations: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Test accuracy and rank of the top-1 of the latest predictor fitted on at most q queries, per query q."""
    nan = np.full(len(queries), np.nan)
    if iterations is None or iterations.empty or "pred_top1_test" not in iterations:
        return nan, nan.copy()
    fits = iterations.dropna(subset=["pred_top1_test"]).sort_values("queries")
    latest = np.searchsorted(fits["queries"].to_numpy(), queries, side="right") - 1
    known = latest >= 0
    test, rank = nan, nan.copy()
    test[known] = fits["pred_top1_test"].to_numpy()[latest[known]]
    rank[known] = fits["pred_top1_rank"].to_numpy(dtype=float)[latest[known]]
    return test, rank


def best_so_far(trajectory: pd.DataFrame, mode: str, iterations: pd.DataFrame | None = None) -> np.ndarray:
    """Test accuracy of the architecture counted as found after each query of one run."""
    return found_per_query(trajectory, iterations, mode)[0]


def _runs(trajectories: pd.DataFrame, iterations: pd.DataFrame | None):
    """(benchmark, method, seed, trajectory in query order, that run's iterations) for every run."""
    fits = {} if iterations is None or iterations.empty else dict(
        iter(iterations.groupby(["benchmark", "method", "seed"], sort=False)))
    for key, run in trajectories.groupby(["benchmark", "method", "seed"], sort=False):
        yield (*key, run.sort_values("query"), fits.get(key))


def _mode_of(modes: str | dict[str, str], method: str) -> str:
    return modes if isinstance(modes, str) else modes[method]


def found_at_budgets(trajectories: pd.DataFrame, iterations: pd.DataFrame | None, modes: str | dict[str, str],
                     budgets: list[int]) -> pd.DataFrame:
    """Per run and budget b: test accuracy and test rank of the architecture found within b queries
    (`modes`: one report mode, or one per method).

    A run that stopped before b keeps what it had found when it stopped.
    """
    rows = []
    for bench, method, seed, run, fits in _runs(trajectories, iterations):
        test, rank = found_per_query(run, fits, _mode_of(modes, method))
        for budget in budgets:
            last = min(budget, len(run)) - 1
            rows.append({"benchmark": bench, "method": method, "seed": seed, "queries": budget,
                         "queries_run": last + 1, "test_label": test[last], "test_rank": rank[last]})
    return pd.DataFrame(rows)


def convergence(trajectories: pd.DataFrame, iterations: pd.DataFrame | None, modes: str | dict[str, str],
                grid: np.ndarray) -> pd.DataFrame:
    """Mean and SD over seeds of the found test accuracy at each query count of `grid` (`modes`: one
    report mode, or one per method), and the band a figure draws: mean ± SD clipped to the seeds' own
    range (`band_low`, `band_high`), so never above the benchmark's optimum.

    A run that stopped early (optimum queried, or budget spent) keeps its last value.
    """
    curves: dict[tuple, list[np.ndarray]] = {}
    for bench, method, _, run, fits in _runs(trajectories, iterations):
        found = found_per_query(run, fits, _mode_of(modes, method))[0]
        position = np.clip(np.searchsorted(run["query"].to_numpy(), grid, side="right") - 1, 0, None)
        curves.setdefault((bench, method), []).append(found[position])
    rows = []
    for (bench, method), runs in curves.items():
        runs = np.vstack(runs)
        for q, column in zip(grid, runs.T):
            column = column[np.isfinite(column)]
            mean, sd = (column.mean(), column.std(ddof=1) if len(column) > 1 else 0.0) if len(column) else (np.nan, 0.0)
            low, high = (column.min(), column.max()) if len(column) else (np.nan, np.nan)
            rows.append({"benchmark": bench, "method": method, "queries": int(q), "mean": mean, "sd": sd,
                         "n": len(column), "band_low": max(mean - sd, low), "band_high": min(mean + sd, high)})
    return pd.DataFrame(rows)
