"""The empirical distribution of queries to the optimum (the figure form of Table 5): per method, the fraction
of its runs that have queried the optimum after q queries. A run stopped by its cap first never counts,
so its method's curve stays below 1."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .curves import panel_grid, query_axis
from .style import STYLE, line_style, save
from ..io import atomic_path
from .escape import figure_text
from ..outputs import Output

FIRST_QUERY = 10  # the axis starts here, as the other curve figures, unless a run found the optimum sooner


def fractions(summary: pd.DataFrame) -> pd.DataFrame:
    """Per benchmark and method, one row per step of the distribution: after `queries` queries, `found` of
    `n` runs have queried the optimum (`fraction`); the last row is at the largest cap, with the runs never
    finding it left out of `found`."""
    rows = []
    for (bench, method), runs in summary.groupby(["benchmark", "method"], sort=False):
        hits = np.sort(runs["queries_to_optimum"].dropna().to_numpy(float))
        cap = float(runs["budget_queries"].max())
        steps = [(0.0, 0)] + [(q, i + 1) for i, q in enumerate(hits)] + [(cap, len(hits))]
        rows += [{"benchmark": bench, "method": method, "queries": q, "found": k, "n": len(runs),
                  "fraction": k / len(runs)} for q, k in steps]
    return pd.DataFrame(rows)


def render_optimum_edf(output: Output, view: dict, runs: dict, files: dict) -> None:
    summary = pd.read_parquet(runs["summary"])
    steps = fractions(summary)
    with atomic_path(files["csv"]) as tmp:
        steps.to_csv(tmp, index=False)
    labels = {m: figure_text(entry["label"]) for m, entry in view["methods"].items()}
    benches = list(dict.fromkeys(steps["benchmark"]))
    methods = list(dict.fromkeys(steps["method"]))
    with plt.rc_context(STYLE):
        figure, axes = panel_grid(len(benches), width=4.6, height=3.4, legend_rows=1)
        for ax, bench in zip(axes, benches):
            panel = steps[steps["benchmark"] == bench]
            for method, curve in panel.groupby("method", sort=False):
                style = line_style(methods.index(method))
                n, found = int(curve["n"].iloc[0]), int(curve["found"].iloc[-1])
                missed = f", {n - found} not found by the cap" if found < n else ""
                ax.step(curve["queries"], curve["fraction"], where="post", linewidth=1.4, color=style["color"],
                        linestyle=style["linestyle"])
                ax.plot(curve["queries"].iloc[1:-1], curve["fraction"].iloc[1:-1], markersize=3.5, linestyle="",
                        marker=style["marker"], color=style["color"])
                ax.plot([], [], linewidth=1.4, markersize=3.5, label=f"{labels.get(method, method)} (n={n}{missed})",
                        **style)  # the legend's entry: line and marker
            first_hit = panel.loc[panel["found"] > 0, "queries"].min()
            query_axis(ax, 1 if first_hit < FIRST_QUERY else FIRST_QUERY, panel["queries"].max())
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(figure_text(bench))
            ax.set_xlabel("Queries (log scale)")
            ax.set_ylabel("Fraction of runs that have\nqueried the optimum")
            ax.legend(fontsize=7, loc="upper left")
        figure.suptitle(figure_text(output.title), fontsize=10)
        save(figure, files["png"], files["pdf"])
