"""Best test accuracy found vs queries (convergence curves, Figures 1 and 5)."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from .style import STYLE, save


def convergence_figure(curves: pd.DataFrame, labels: dict[str, str], panel_titles: dict[str, str],
                       caption: str, png: str | Path, pdf: str | Path, first_query: int = 10,
                       styles: dict[str, dict] | None = None, share_y: bool = False) -> None:
    """Best test accuracy found vs queries: one panel per benchmark, one line (mean, +-SD band) per method
    (`styles`: plot keywords per method, e.g. colour and dash), one legend below the panels that grows
    the figure with the number of methods (each with its seeds, n).

    The axes start at `first_query` (the end of WeakNAS's first batch), where the methods begin to differ.
    """
    benches = list(dict.fromkeys(curves["benchmark"]))
    styles = styles or {}
    methods = list(dict.fromkeys(curves["method"]))
    legend_rows = math.ceil(len(methods) / len(benches))
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(1, len(benches), figsize=(4.2 * len(benches), 3.6 + 0.16 * legend_rows),
                                    squeeze=False, sharey=share_y)
        lines, seeds = {}, {}
        for ax, bench in zip(axes[0], benches):
            for method, curve in curves[curves["benchmark"] == bench].groupby("method", sort=False):
                line, = ax.plot(curve["queries"], curve["mean"], **styles.get(method, {}))
                lines.setdefault(method, line)
                seeds.setdefault(method, set()).add(int(curve["n"].max()))
                ax.fill_between(curve["queries"], curve["mean"] - curve["sd"], curve["mean"] + curve["sd"],
                                color=line.get_color(), alpha=0.2, linewidth=0)
            ax.set_xscale("log")
            shown = curves[(curves["benchmark"] == bench) & (curves["queries"] >= first_query)]
            if len(shown):
                low, high = (shown["mean"] - shown["sd"]).min(), (shown["mean"] + shown["sd"]).max()
                ax.set_xlim(first_query, curves["queries"].max())
                if not share_y:
                    ax.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
            ax.set_title(panel_titles.get(bench, bench))
            ax.set_xlabel("Number of queries")
            if ax is axes[0][0] or not share_y:
                ax.set_ylabel("Test accuracy of the found architecture (%)")
        if share_y:
            shown = curves[curves["queries"] >= first_query]
            low, high = (shown["mean"] - shown["sd"]).min(), (shown["mean"] + shown["sd"]).max()
            axes[0][0].set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
        names = [f"{labels.get(m, m)} (n={_span(seeds[m])})" for m in lines]
        figure.legend(list(lines.values()), names, loc="outside lower center", ncol=len(benches), fontsize=7)
        figure.suptitle(textwrap.fill(caption, width=75 * len(benches)), fontsize=8)
        save(figure, png, pdf)


def _span(counts: set[int]) -> str:
    """Seeds per panel as one number, or low-high where the panels differ."""
    return str(min(counts)) if len(counts) == 1 else f"{min(counts)}-{max(counts)}"
