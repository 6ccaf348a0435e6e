"""Regret curves (log scale), per benchmark two panels: the validation regret of the best architecture found
(the fitting optimum less the best fitting label queried: monotone), and the test regret of the
best-by-validation architecture (the test optimum less its test accuracy: not monotone, as a better
validation value can test worse), with the validation optimum's own test regret as a floor line."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import analysis
from .curves import panel_grid, query_axis
from .style import STYLE, line_style, save
from ..io import atomic_path
from .escape import figure_text
from .optima import optima
from ..outputs import Output

LINEAR_BELOW = 0.01  # percentage points: the symlog axis is linear below, so a regret of 0 is drawn
FIRST_QUERY = 10  # as the convergence figure: where the methods begin to differ


def regret_curves(trajectories: pd.DataFrame, best: pd.DataFrame, grid: np.ndarray) -> pd.DataFrame:
    """Mean and SD over seeds, at each query count of `grid`, of the validation regret of the best found
    (`validation`) and the test regret of the best-by-validation architecture (`test`). A run that
    stopped keeps its last values."""
    curves: dict[tuple, list[np.ndarray]] = {}
    for bench, method, _, run, _ in analysis._runs(trajectories, None):
        position = np.clip(np.searchsorted(run["query"].to_numpy(), grid, side="right") - 1, 0, None)
        validation = best.loc[bench, "fit_optimum"] - np.maximum.accumulate(run["fit_label"].to_numpy())
        test = best.loc[bench, "test_optimum"] - analysis.best_so_far(run, "test_of_best_valid")
        for kind, regret in (("validation", validation), ("test", test)):
            curves.setdefault((bench, method, kind), []).append(np.clip(regret[position], 0, None))
    rows = []
    for (bench, method, kind), runs in curves.items():
        runs = np.vstack(runs)
        rows += [{"benchmark": bench, "method": method, "regret": kind, "queries": int(q), "mean": column.mean(),
                  "sd": column.std(ddof=1) if len(column) > 1 else 0.0, "n": len(column)}
                 for q, column in zip(grid, runs.T)]
    return pd.DataFrame(rows)


PANELS = {"validation": "Validation regret of the best found\n(fitting optimum − best fitting label queried)",
          "test": "Test regret of the best-by-validation architecture\n(test optimum − its test accuracy)"}


def render_regret(output: Output, view: dict, runs: dict, files: dict) -> None:
    trajectories = pd.read_parquet(runs["trajectories"])
    best = optima(pd.read_parquet(runs["summary"]), trajectories)
    grid = np.unique(np.geomspace(1, trajectories["query"].max(), 200).round().astype(int))
    curves = regret_curves(trajectories, best, grid)
    with atomic_path(files["csv"]) as tmp:
        curves.to_csv(tmp, index=False)
    labels = {m: figure_text(entry["label"]) for m, entry in view["methods"].items()}
    methods = list(dict.fromkeys(curves["method"]))
    benches = list(dict.fromkeys(curves["benchmark"]))
    with plt.rc_context(STYLE):
        figure, axes = panel_grid(2 * len(benches), width=4.6, height=3.4, legend_rows=1, columns=2)
        for index, (bench, kind) in enumerate((b, k) for b in benches for k in PANELS):
            ax, panel = axes[index], curves[(curves["benchmark"] == bench) & (curves["regret"] == kind)]
            for method, curve in panel.groupby("method", sort=False):
                ax.plot(curve["queries"], curve["mean"], linewidth=1.3, markersize=3.5, markevery=(0.02 * (index % 5), 0.1),
                        label=f"{labels.get(method, method)} (n={int(curve['n'].max())})",
                        **line_style(methods.index(method)))
            _floor_lines(ax, best.loc[bench], kind)
            query_axis(ax, FIRST_QUERY, panel["queries"].max())
            ax.set_yscale("symlog", linthresh=LINEAR_BELOW)
            ax.set_ylim(0, 1.5 * max(panel.loc[panel["queries"] >= FIRST_QUERY, "mean"].max(), LINEAR_BELOW))
            fit_on_test = " (fit on test: both panels alike)" if best.loc[bench, "fit_is_test"] else ""
            ax.set_title(f"{figure_text(bench)}{fit_on_test}: {PANELS[kind]}", fontsize=8)
            ax.set_xlabel("Queries (log scale)")
            ax.set_ylabel("Regret, mean over seeds (% points;\nlog scale, linear below 0.01)")
            ax.legend(fontsize=7, loc="lower left")  # the curves fall from the top left: that corner is free
        figure.suptitle(figure_text(output.title), fontsize=10)
        save(figure, files["png"], files["pdf"])


def _floor_lines(ax, best: pd.Series, kind: str) -> None:
    """The test panel's floor: what selecting by validation leaves at best (the validation optimum's own
    test regret); the validation panel says where its optimum is only a lower bound."""
    if kind == "test" and np.isfinite(best["fit_optimum_test"]):
        floor = best["test_optimum"] - best["fit_optimum_test"]
        ax.axhline(floor, color="0.3", linestyle=":", linewidth=1.2,
                   label=f"floor: test regret of the validation optimum ({floor:.2f})")
    if kind == "validation" and not best["fit_known"]:
        ax.text(0.02, 0.02, "no run queried the fitting optimum: regret from the best queried", fontsize=7,
                transform=ax.transAxes)
