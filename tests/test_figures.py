"""The look of the curve figures: a plain title, one style per method, a labelled log axis, bands that
never pass the seeds' values (so never the optimum)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import pytest
from matplotlib.collections import PolyCollection

from nasrepro import analysis
from nasrepro.render import curves, style


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


# ------------------------------------------------------------------ the field's standard views (issue 30)
def toy_runs():
    """Two methods x 2 seeds on a benchmark whose fitting optimum (fit 10) tests at 90 while the test
    optimum is 91; method b's seed 1 is stopped by its cap (20 queries) before finding the optimum."""
    rows, summary = [], []
    for method, hits in (("a", [3, 5]), ("b", [8, None])):
        for seed, hit in enumerate(hits):
            fit = np.linspace(1, 9, 20)
            test = 85 + fit / 2
            if hit:
                fit, test = fit[:hit], test[:hit]
                fit[-1], test[-1] = 10.0, 90.0
            rows.append(pd.DataFrame({"query": np.arange(1, len(fit) + 1), "fit_label": fit, "test_label": test,
                                      "test_rank": 1, "benchmark": "bench", "method": method, "seed": seed}))
            summary.append({"benchmark": "bench", "method": method, "seed": seed, "queries_to_optimum": hit,
                            "queries_to_fit_optimum": hit, "budget_queries": 20, "test_optimum": 91.0})
    return pd.DataFrame(summary).astype({"queries_to_optimum": float, "queries_to_fit_optimum": float}), pd.concat(rows)


def test_optimum_distribution_stays_below_one_with_a_censored_run():
    from nasrepro.render.optimum_edf import fractions

    steps = fractions(toy_runs()[0]).groupby("method")
    assert steps.get_group("a")["fraction"].tolist() == [0, 0.5, 1, 1]
    b = steps.get_group("b")
    assert b["fraction"].tolist() == [0, 0.5, 0.5] and b["queries"].tolist() == [0, 8, 20]  # ends at the cap


def test_regret_curves_validation_monotone_test_floor():
    from nasrepro.render.optima import optima
    from nasrepro.render.regret import regret_curves

    summary, trajectories = toy_runs()
    best = optima(summary, trajectories)
    assert best.loc["bench", "fit_optimum"] == 10.0 and best.loc["bench", "fit_optimum_test"] == 90.0
    curves_ = regret_curves(trajectories, best, np.arange(1, 21)).set_index(["method", "regret", "queries"]).sort_index()
    validation = curves_.loc[("a", "validation"), "mean"]
    assert (np.diff(validation) <= 0).all() and validation.iloc[-1] == 0
    assert curves_.loc[("a", "test"), "mean"].iloc[-1] == pytest.approx(1.0)  # the floor: 91 - 90, not 0
    assert curves_.loc[("b", "validation"), "mean"].iloc[-1] == pytest.approx(0.5)  # the censored seed: 10 - 9


def test_standard_views_write_their_files(tmp_path):
    from nasrepro import render

    summary, trajectories = toy_runs()
    runs = {"summary": tmp_path / "summary.parquet", "trajectories": tmp_path / "trajectories.parquet"}
    summary.to_parquet(runs["summary"])
    trajectories.to_parquet(runs["trajectories"])
    view = {"methods": {"a": {"label": "A"}, "b": {"label": "B"}}}
    for name in ("optimum_edf", "regret"):
        files = {ext: tmp_path / f"{name}.{ext}" for ext in ("png", "pdf", "csv")}
        render.render(name, view, runs, files)
        assert all(path.stat().st_size > 0 for path in files.values())


def test_convergence_splits_many_methods_into_small_multiples_with_the_reference_in_each():
    from nasrepro.render.figures import _small_multiples

    many = toy_curves(14)
    split, titles, floors = _small_multiples(many, "m0", {"nb201-cifar10": "CIFAR-10"}, {"nb201-cifar10": [(91.5, "opt")]})
    panels = split.groupby("benchmark")["method"].unique()
    assert len(panels) == 5 and all(len(p) <= curves.MAX_LINES and "m0" in p for p in panels)
    assert set(split["method"]) == set(many["method"])
    assert titles["nb201-cifar10 (1/5)"] == "CIFAR-10 (1 of 5)" and floors["nb201-cifar10 (5/5)"] == [(91.5, "opt")]
    same, _, _ = _small_multiples(toy_curves(3), "m0", {}, {})
    assert set(same["benchmark"]) == {"nb201-cifar10"}
