"""The look of the curve figures: a plain title, one style per method, a labelled log axis, bands that
never pass the seeds' values (so never the optimum)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import pytest
from matplotlib.collections import PolyCollection

from nasrepro import analysis
from nasrepro.figures import curves, style


@pytest.fixture
def drawn(monkeypatch):
    """The figures convergence_figure would save, kept open for inspection."""
    kept = []
    monkeypatch.setattr(curves, "save", lambda figure, png, pdf: kept.append(figure))
    yield kept
    for figure in kept:
        plt.close(figure)


def toy_curves(methods: int, optimum: float = 91.52) -> pd.DataFrame:
    """Two seeds per method, one at the optimum from query 20 on: mean + SD passes the optimum."""
    queries = np.arange(1, 201)
    rows = []
    for m in range(methods):
        for seed in range(2):
            test = np.where(queries >= 20 - m, optimum - seed * (1 + m / 10), 88.0)
            rows.append(pd.DataFrame({"query": queries, "fit_label": test, "test_label": test, "test_rank": 1,
                                      "seed": seed, "benchmark": "nb201-cifar10", "method": f"m{m}"}))
    return analysis.convergence(pd.concat(rows), None, "max_queried", queries)


def test_fifteen_methods_have_fifteen_colours_and_markers():
    styles = [style.line_style(i) for i in range(15)]
    assert len({s["color"] for s in styles}) == len({s["marker"] for s in styles}) == 15
    assert style.line_style(15) == style.line_style(0)


def test_convergence_figure_title_axis_and_bands_within_the_optimum(drawn):
    data = toy_curves(2)
    assert (data["mean"] + data["sd"]).max() > 91.52 >= data["band_high"].max()
    curves.convergence_figure(data, {"m0": "Method A"}, {"nb201-cifar10": "CIFAR-10"}, "Best accuracy found",
                              "x.png", "x.pdf")
    figure = drawn[0]
    ax = figure.axes[0]
    assert figure._suptitle.get_text() == "Best accuracy found"
    figure.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["10", "20", "50", "100", "200"]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2 and max(b.get_paths()[0].vertices[:, 1].max() for b in bands) <= 91.52
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["Method A (n=2)", "m1 (n=2)"]
    markers = {line.get_marker() for line in ax.get_lines()}
    assert len(markers) == 2


def test_many_methods_draw_distinct_lines_without_bands(drawn):
    curves.convergence_figure(toy_curves(curves.MAX_BANDS + 1), {}, {}, "t", "x.png", "x.pdf")
    ax = drawn[0].axes[0]
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]
    lines = ax.get_lines()
    assert len({(line.get_color(), line.get_marker(), line.get_linestyle()) for line in lines}) == len(lines)
    assert "no SD bands" in drawn[0].legends[0].get_title().get_text()
