"""Figure 3: search dynamics per iteration."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import numpy as np
import pandas as pd

from .style import STYLE, save

DYNAMICS_COLUMNS = ["pred_top1_rank", "p_top50_pool_fit", "p_top50_pool_test", "kendall_tau_top50_fit",
                    "kendall_tau_top50_test"]
# Panel (c)'s lines: column -> (marker and line style, legend name).
PANEL_C = {
    "p_top50_pool_test": ("^-", "P(a pool draw is a true top-50), by test accuracy"),
    "p_top50_pool_fit": ("^--", "P(a pool draw is a true top-50), by fitting label"),
    "kendall_tau_top50_test": ("*-", "Kendall tau on the true top-50, by test accuracy"),
    "kendall_tau_top50_fit": ("*--", "Kendall tau on the true top-50, by fitting label"),
}
EDF_QUANTILE = 0.99  # panel (b) shows errors up to this quantile: where the iterations' curves differ


def dynamics_figure(iterations: pd.DataFrame, labels: dict[str, str], title: str, png: str | Path,
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
            row[0].legend(loc="lower left")
            row[0].set(title=f"(a) {name}", xlabel="Iteration", ylabel="Test rank of predicted top-1 (mean)")
            shown = sorted(runs["iteration"].unique())[:max_edf_iterations]
            pooled = []
            for iteration in shown:
                errors = np.sort(np.concatenate(runs.loc[runs["iteration"] == iteration, "top200_test_errors"].to_list()))
                row[1].step(errors, np.arange(1, len(errors) + 1) / len(errors), where="post", label=f"iteration {iteration}")
                pooled.append(errors)
            if pooled:
                pooled = np.concatenate(pooled)
                low, high = pooled.min(), np.quantile(pooled, EDF_QUANTILE)
                row[1].set_xlim(low - 0.05 * (high - low), high + 0.05 * (high - low))
            row[1].set(title="(b) Error EDF of the predicted top-200", xlabel="Test error (%)", ylabel="Cumulative fraction")
            row[1].legend(loc="lower right")
            for column, (style, legend) in PANEL_C.items():
                if column in means:
                    row[2].plot(means["iteration"], means[column], style, label=legend)
            row[2].set(title="(c) Pool quality and ranking of the true top-50", xlabel="Iteration", ylabel="Mean over seeds")
            row[2].legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), fontsize=7)  # below: off the data
            for ax in (row[0], row[2]):
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        figure.suptitle(title, fontsize=10)
        save(figure, png, pdf)
    return summary
