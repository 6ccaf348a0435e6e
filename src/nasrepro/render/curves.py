"""Best test accuracy found vs queries (convergence curves, Figures 1 and 5)."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

from .style import STYLE, line_style, save

MAX_BANDS = 2  # a panel with more lines draws no SD bands: overlapping bands blur into one pastel area
MAX_LINES = 4  # methods a reader tells apart in one panel; more are split into small multiples (render/figures.py)
PANEL_COLUMNS = 3


def panel_grid(count: int, width: float, height: float, legend_rows: int = 0, columns: int = PANEL_COLUMNS,
               share_y: bool = False):
    """A figure of `count` panels, at most `columns` a row; (figure, the panels in reading order)."""
    columns = min(count, columns)
    rows = math.ceil(count / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows + 0.17 * legend_rows + 0.4),
                                squeeze=False, sharey=share_y)
    panels = list(axes.flat)
    for ax in panels[count:]:
        ax.remove()
    return figure, panels[:count]


def convergence_figure(curves: pd.DataFrame, labels: dict[str, str], panel_titles: dict[str, str],
                       title: str, png: str | Path, pdf: str | Path, first_query: int = 10,
                       styles: dict[str, dict] | None = None, share_y: bool = False,
                       floors: dict[str, list[tuple[float, str]]] | None = None,
                       y_label: str = "Test accuracy of the best found (%)") -> None:
    """Best test accuracy found vs queries: one panel per benchmark, one line (mean over seeds) per method
    (`styles`: plot keywords per line, e.g. colour and dash; otherwise each line its own colour, marker
    and dash), a band of ±1 SD clipped to the seeds' range (`band_low`/`band_high` of
    analysis.convergence, so never above the optimum) where a panel has at most MAX_BANDS lines, one
    legend below the panels (each method with its seeds, n), and `title`, in plain words, above.

    The log query axis starts at `first_query` (the end of WeakNAS's first batch), where the methods
    begin to differ, and is labelled at 1, 2, 5 x 10^k. `floors`: per panel, horizontal reference lines
    (value, label), e.g. the test optimum.
    """
    benches = list(dict.fromkeys(curves["benchmark"]))
    methods = list(dict.fromkeys(curves["method"]))
    styles = {m: (styles or {}).get(m) or line_style(i) for i, m in enumerate(methods)}
    curves = curves.assign(band_low=curves.get("band_low", curves["mean"] - curves["sd"]),
                           band_high=curves.get("band_high", curves["mean"] + curves["sd"]))
    columns = min(len(methods), max(min(len(benches), PANEL_COLUMNS), 2 if len(methods) > 4 else 1))
    legend_rows = math.ceil(len(methods) / columns)
    with plt.rc_context(STYLE):
        figure, axes = panel_grid(len(benches), 4.2, 3.6, legend_rows, share_y=share_y)
        lines, seeds, banded = {}, {}, True
        for ax, bench in zip(axes, benches):
            panel = curves[curves["benchmark"] == bench]
            bands = panel["method"].nunique() <= MAX_BANDS
            banded &= bands
            for method, curve in panel.groupby("method", sort=False):
                line, = ax.plot(curve["queries"], curve["mean"], linewidth=1.3, markersize=4,
                                markevery=(0.02 * (methods.index(method) % 5), 0.1), **styles[method])
                lines.setdefault(method, line)
                seeds.setdefault(method, set()).add(int(curve["n"].max()))
                if bands:
                    ax.fill_between(curve["queries"], curve["band_low"], curve["band_high"], color=line.get_color(),
                                    alpha=0.15, linewidth=0)
            _reference_lines(ax, (floors or {}).get(bench, []))
            query_axis(ax, first_query, curves["queries"].max())
            if not share_y:
                _fit_y(ax, panel, first_query, bands, [value for value, _ in (floors or {}).get(bench, [])])
            ax.set_title(panel_titles.get(bench, bench))
            ax.set_xlabel("Queries (log scale)")
            if ax is axes[0] or not share_y:
                ax.set_ylabel(y_label)
        if share_y:
            _fit_y(axes[0], curves, first_query, banded, [value for lines in (floors or {}).values() for value, _ in lines])
        names = [f"{labels.get(m, m)} (n={_span(seeds[m])})" for m in lines]
        spread = ("shaded: ±1 SD, cut to the seeds' range" if banded
                  else f"no SD bands with more than {MAX_BANDS} lines (the .csv has them)")
        figure.legend(list(lines.values()), names, loc="outside lower center", ncol=columns, fontsize=7,
                      title=f"Lines: mean over n seeds; {spread}", title_fontsize=7)
        figure.suptitle(textwrap.fill(title, width=int(11 * figure.get_figwidth())), fontsize=10)
        save(figure, png, pdf)


def _reference_lines(ax, lines: list[tuple[float, str]]) -> None:
    """Dotted horizontal lines, each named on a right-hand axis (clear of the curves)."""
    for value, _ in lines:
        ax.axhline(value, color="0.35", linestyle=":", linewidth=1.1)
    if lines:
        names = ax.secondary_yaxis("right")
        names.set_yticks([value for value, _ in lines], [text for _, text in lines], fontsize=6.5, color="0.3")
        names.tick_params(length=0)


def query_axis(ax, first: int, last: int) -> None:
    """A log axis from `first` to `last` queries with plain labels at 1, 2, 5 x 10^k, or at 1 x 10^k alone
    where the axis spans more than two decades (the labels would run into each other)."""
    ax.set_xscale("log")
    ax.set_xlim(first, last)
    steps = (1, 2, 5) if last / max(first, 1) <= 100 else (1,)
    ticks = [m * 10**k for k in range(int(math.log10(max(first, 1))), int(math.log10(last)) + 1) for m in steps]
    ax.xaxis.set_major_locator(FixedLocator([t for t in ticks if first <= t <= last]))
    ax.xaxis.set_major_formatter(lambda value, _: f"{value:,.0f}")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _fit_y(ax, curves: pd.DataFrame, first_query: int, bands: bool, lines: list[float] = ()) -> None:
    """y limits around what is drawn from `first_query` on (the bands where drawn, and reference `lines`)."""
    shown = curves[curves["queries"] >= first_query]
    if shown.empty:
        return
    low, high = ((shown["band_low"].min(), shown["band_high"].max()) if bands
                 else (shown["mean"].min(), shown["mean"].max()))
    low, high = min([low, *lines]), max([high, *lines])
    pad = 0.05 * (high - low) if np.isfinite(high - low) and high > low else 0.5
    ax.set_ylim(low - pad, high + pad)


def _span(counts: set[int]) -> str:
    """Seeds per panel as one number, or low-high where the panels differ."""
    return str(min(counts)) if len(counts) == 1 else f"{min(counts)}-{max(counts)}"
