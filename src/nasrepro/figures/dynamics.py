"""Figure 3: search dynamics per iteration."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .style import STYLE, save

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
