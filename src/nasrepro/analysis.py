"""From finished runs to the paper's numbers: queries to the optimum (Table 5) and convergence curves."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .errors import NasReproError

REPORT_MODES = ("max_queried", "test_of_best_valid")


def paper_values() -> pd.DataFrame:
    with resources.files("nasrepro").joinpath("resources", "paper_values.csv").open() as handle:
        return pd.read_csv(handle)


def load_run(trajectory_path: str | Path) -> tuple[pd.DataFrame, dict]:
    """A run's trajectory and its metadata (the .json beside the .parquet)."""
    trajectory_path = Path(trajectory_path)
    meta_path = trajectory_path.with_suffix(".json")
    try:
        return pd.read_parquet(trajectory_path), json.loads(meta_path.read_text())
    except (OSError, ValueError) as error:
        raise NasReproError(f"{trajectory_path}: cannot read run ({error})") from None


def collect(run_paths: list[str | Path], keys: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per run (summary) and one row per query (trajectories), tagged with each run's keys."""
    summaries, trajectories = [], []
    for path, key in zip(run_paths, keys):
        trajectory, meta = load_run(path)
        summaries.append({
            **key,
            "queries_to_optimum": meta["queries_to_optimum"],
            "queries_used": meta["queries_used"],
            "budget_queries": meta["budget"]["queries"],
            "optimum_target": meta["budget"]["optimum"],
            "fit_split": meta["benchmark"]["fit_split"],
            "test_split": meta["benchmark"]["test_split"],
            "fit_is_test": meta["benchmark"]["fit_is_test"],
            "label_note": meta["benchmark"]["label_note"],
            "wall_seconds": meta["wall_seconds"],
            "device": meta["environment"]["device"],
        })
        trajectories.append(trajectory.assign(**key))
    return pd.DataFrame(summaries), pd.concat(trajectories, ignore_index=True)


def describe(values: np.ndarray) -> dict:
    """Mean, sample SD (ddof=1) and the two-sided 95% t confidence interval of the mean."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    mean = float(values.mean()) if n else np.nan
    sd = float(values.std(ddof=1)) if n > 1 else np.nan
    half = float(stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)) if n > 1 else np.nan
    return {"n": n, "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half}


def table5(summary: pd.DataFrame, labels: dict[str, str], paper_rows: dict[str, str],
           paper_columns: dict[str, str]) -> pd.DataFrame:
    """Mean, SD and 95% CI of the queries needed to query the global optimum, beside the paper's value.

    A run that hit its query cap first is counted as not found; the cell then reports how many.
    """
    paper = paper_values().query("table == 'table5'").set_index(["row", "column"])["value"]
    rows = []
    for (bench, method), runs in summary.groupby(["benchmark", "method"], sort=False):
        found = runs["queries_to_optimum"].dropna().to_numpy()
        key = (paper_rows.get(method), paper_columns.get(bench, bench))
        rows.append({
            "benchmark": bench,
            "method": labels.get(method, method),
            **describe(found),
            # Runs that hit the cap count as infinitely late, so the median stays exact while they are few.
            "median": float(np.median(runs["queries_to_optimum"].fillna(np.inf))),
            "not_found": int(runs["queries_to_optimum"].isna().sum()),
            "paper": float(paper[key]) if key in paper.index else np.nan,
            "optimum": runs["optimum_target"].iloc[0],
            "fit_split": runs["fit_split"].iloc[0],
            "test_split": runs["test_split"].iloc[0],
            "label_note": runs["label_note"].iloc[0],
        })
    return pd.DataFrame(rows)


def table5_markdown(table: pd.DataFrame, title: str, protocol: list[str] = ()) -> str:
    lines = [f"# {title}", ""]
    lines.append("Mean number of queries until the global optimum is queried (Table 5 of the paper); "
                 "SD over seeds (ddof=1); 95% CI: t interval of the mean. Mean, SD and CI are over the runs "
                 "that found the optimum; runs stopped by the query cap are counted under 'Not found' and "
                 "enter the median as later than every found run.")
    lines.append("")
    lines += [f"- {line}" for line in protocol]
    for bench, part in table.groupby("benchmark", sort=False):
        first = part.iloc[0]
        target = "fitting label" if first["optimum"] == "fit" else "test label"
        lines.append(
            f"- **{bench}**: fit on `{first['fit_split']}`, report `{first['test_split']}`; "
            f"the optimum is the argmax of the {target}. {first['label_note']}."
        )
    lines += ["", "| Benchmark | Method | Seeds | Mean | SD | 95% CI | Median | Not found | Paper |",
              "|---|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        ci = f"[{r['ci_low']:.1f}, {r['ci_high']:.1f}]" if np.isfinite(r["ci_low"]) else "–"
        paper = f"{r['paper']:.1f}" if np.isfinite(r["paper"]) else "–"
        sd = f"{r['sd']:.1f}" if np.isfinite(r["sd"]) else "–"
        median = f"{r['median']:.1f}" if np.isfinite(r["median"]) else "not found"
        lines.append(
            f"| {r['benchmark']} | {r['method']} | {r['n'] + r['not_found']} | {r['mean']:.1f} | {sd} | {ci} | "
            f"{median} | {r['not_found']} | {paper} |"
        )
    return "\n".join(lines) + "\n"


def best_so_far(trajectory: pd.DataFrame, mode: str) -> np.ndarray:
    """Test accuracy of the architecture counted as found after each query of one run."""
    if mode == "max_queried":
        return np.maximum.accumulate(trajectory["test_label"].to_numpy())
    if mode == "test_of_best_valid":
        fit = trajectory["fit_label"].to_numpy()
        running_best = np.maximum.accumulate(fit)
        improves = np.r_[True, fit[1:] > running_best[:-1]]  # ties keep the earlier leader
        leader = np.maximum.accumulate(np.where(improves, np.arange(len(fit)), 0))
        return trajectory["test_label"].to_numpy()[leader]
    raise NasReproError(f"unknown report mode {mode!r}; known: {', '.join(REPORT_MODES)}")


def convergence(trajectories: pd.DataFrame, mode: str, grid: np.ndarray) -> pd.DataFrame:
    """Mean and SD over seeds of the found test accuracy at each query count of `grid`.

    A run that stopped early (optimum queried, or budget spent) keeps its last value.
    """
    rows = []
    for (bench, method), runs in trajectories.groupby(["benchmark", "method"], sort=False):
        curves = []
        for _, run in runs.groupby("seed", sort=False):
            run = run.sort_values("query")
            found = best_so_far(run, mode)
            position = np.clip(np.searchsorted(run["query"].to_numpy(), grid, side="right") - 1, 0, None)
            curves.append(found[position])
        curves = np.vstack(curves)
        for q, column in zip(grid, curves.T):
            rows.append({"benchmark": bench, "method": method, "queries": int(q), "mean": column.mean(),
                         "sd": column.std(ddof=1) if len(column) > 1 else 0.0, "n": len(column)})
    return pd.DataFrame(rows)
