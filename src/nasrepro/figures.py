"""Matplotlib figures in one style: colour-blind-safe colours, labelled axes, PNG and PDF."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .io import atomic_path  # noqa: E402

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
STYLE = {"axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO), "axes.grid": True, "grid.alpha": 0.3,
         "font.size": 9, "savefig.dpi": 200, "figure.constrained_layout.use": True}


def save(figure, png: str | Path, pdf: str | Path) -> None:
    for path in (png, pdf):
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format=Path(path).suffix.lstrip("."))
    plt.close(figure)


def convergence_figure(curves: pd.DataFrame, labels: dict[str, str], panel_titles: dict[str, str],
                       caption: str, png: str | Path, pdf: str | Path, first_query: int = 10) -> None:
    """Best test accuracy found vs queries: one panel per benchmark, one line (mean, +-SD band) per method.

    The axes start at `first_query` (the end of WeakNAS's first batch), where the methods begin to differ.
    """
    benches = list(dict.fromkeys(curves["benchmark"]))
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(1, len(benches), figsize=(4.2 * len(benches), 3.4), squeeze=False)
        for ax, bench in zip(axes[0], benches):
            for method, curve in curves[curves["benchmark"] == bench].groupby("method", sort=False):
                line, = ax.plot(curve["queries"], curve["mean"], label=f"{labels.get(method, method)} (n={curve['n'].iloc[0]})")
                ax.fill_between(curve["queries"], curve["mean"] - curve["sd"], curve["mean"] + curve["sd"],
                                color=line.get_color(), alpha=0.2, linewidth=0)
            ax.set_xscale("log")
            shown = curves[(curves["benchmark"] == bench) & (curves["queries"] >= first_query)]
            if len(shown):
                low, high = (shown["mean"] - shown["sd"]).min(), (shown["mean"] + shown["sd"]).max()
                ax.set_xlim(first_query, curves["queries"].max())
                ax.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
            ax.set_title(panel_titles.get(bench, bench))
            ax.set_xlabel("Number of queries")
            ax.set_ylabel("Best test accuracy found (%)")
            ax.legend(loc="lower right")
        figure.suptitle(caption, fontsize=8)
        save(figure, png, pdf)


DYNAMICS_COLUMNS = ["pred_top1_rank", "p_top50_pool_fit", "p_top50_pool_test", "kendall_tau_top50_fit",
                    "kendall_tau_top50_test"]


def dynamics_figure(iterations: pd.DataFrame, labels: dict[str, str], caption: str, png: str | Path,
                    pdf: str | Path, max_edf_iterations: int = 6) -> pd.DataFrame:
    """Figure 3: one row of three panels per (benchmark, method): (a) test rank of the predicted top-1,
    (b) EDF of the test errors of the predicted top-200 per iteration (pooled over seeds), (c) the
    probability that a draw from the pool is a true top-50 architecture and Kendall's tau on the true
    top-50. Returns the per-iteration means that are plotted."""
    present = [c for c in DYNAMICS_COLUMNS if c in iterations]
    summary = iterations.groupby(["benchmark", "method", "iteration"], sort=False)[present].mean().reset_index()
    groups = list(iterations.groupby(["benchmark", "method"], sort=False))
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(len(groups), 3, figsize=(12, 3.3 * len(groups)), squeeze=False)
        for row, ((bench, method), runs) in zip(axes, groups):
            means = summary[(summary["benchmark"] == bench) & (summary["method"] == method)]
            name = f"{bench}, {labels.get(method, method)}"
            row[0].plot(means["iteration"], means["pred_top1_rank"], marker="o", label="predicted top-1 (mean)")
            row[0].axhline(1, color="black", linestyle=":", label="global optimum (rank 1)")
            row[0].set_yscale("log")
            row[0].legend(loc="upper right")
            row[0].set(title=f"(a) {name}", xlabel="Iteration", ylabel="Test rank of predicted top-1 (mean)")
            shown = sorted(runs["iteration"].unique())[:max_edf_iterations]
            for iteration in shown:
                errors = np.sort(np.concatenate(runs.loc[runs["iteration"] == iteration, "top200_test_errors"].to_list()))
                row[1].step(errors, np.arange(1, len(errors) + 1) / len(errors), where="post", label=f"iteration {iteration}")
            row[1].set(title="(b) Error EDF of the predicted top-200", xlabel="Test error (%)", ylabel="Cumulative fraction")
            row[1].legend(loc="lower right")
            for column, style in [("p_top50_pool_test", "^-"), ("p_top50_pool_fit", "^--"),
                                  ("kendall_tau_top50_test", "*-"), ("kendall_tau_top50_fit", "*--")]:
                if column in means:
                    row[2].plot(means["iteration"], means[column], style, label=column.replace("_", " "))
            row[2].set(title="(c) P(top-50 in pool), Kendall tau on top-50", xlabel="Iteration", ylabel="Mean over seeds")
            row[2].legend(loc="best")
        figure.suptitle(caption, fontsize=8)
        save(figure, png, pdf)
    return summary
