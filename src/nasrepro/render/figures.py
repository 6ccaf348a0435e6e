"""The figures (convergence curves, Figures 1, 3, 4 and 5) from an experiment's collected runs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import analysis
from ..benchmark import Benchmark
from ..errors import NasReproError
from ..io import atomic_path
from ..metrics import competition_ranks
from .escape import figure_text
from .optima import optima
from ..outputs import Output
from .protocol import recorded_specs


def render_convergence(output: Output, view: dict, runs: dict, files: dict) -> None:
    """Best test accuracy found vs queries: one panel per benchmark, one line per method."""
    _curves_figure(output, view, runs, files, panels="benchmark")


def render_figure1(output: Output, view: dict, runs: dict, files: dict) -> None:
    """Per method, the best queried architecture (monotone) and, dashed, its latest predictor's top-1."""
    _curves_figure(output, view, runs, files, panels="figure1")


def render_figure5(output: Output, view: dict, runs: dict, files: dict) -> None:
    """One panel per predictor type, one line per encoding."""
    _curves_figure(output, view, runs, files, panels="predictor")


def _curves_figure(output: Output, view: dict, runs: dict, files: dict, panels: str) -> None:
    from . import curves as curve_plots

    trajectories = pd.read_parquet(runs["trajectories"])
    iterations = pd.read_parquet(runs["iterations"])
    summary = pd.read_parquet(runs["summary"])
    grid = np.unique(np.geomspace(1, trajectories["query"].max(), 200).round().astype(int))
    labels = {m: figure_text(entry["label"]) for m, entry in view["methods"].items()}
    fit_is_test = summary.groupby("benchmark")["fit_is_test"].first()
    titles = {b: f"{entry['dataset']} ({b})" + ("\nfit and reported on one split" if fit_is_test.get(b) else "")
              for b, entry in view["benchmarks"].items()}
    styles = {}
    if panels == "figure1":
        curves, labels, styles = _best_and_top1(trajectories, iterations, labels, grid)
    else:
        curves = analysis.convergence(trajectories, iterations, view["report_modes"], grid)
    floors, y_label = {}, "Test accuracy of the best found (%)"
    if panels == "predictor":
        curves, labels, titles = _by_predictor(curves, recorded_specs(summary), labels)
    elif panels == "benchmark":
        floors = _optimum_lines(optima(summary, trajectories))
        y_label = _found_label(set(view["report_modes"].values()))
        curves, titles, floors = _small_multiples(curves, view["reference"], titles, floors)
    with atomic_path(files["csv"]) as tmp:
        curves.to_csv(tmp, index=False)
    # one y range for panels of one scale: a predictor's, or one benchmark's small multiples (benchmarks differ)
    share_y = panels == "predictor" or (len(view["benchmarks"]) == 1 and curves["benchmark"].nunique() > 1)
    curve_plots.convergence_figure(curves, labels, titles, title(output, view), files["png"], files["pdf"], styles=styles,
                                   share_y=share_y, floors=floors, y_label=y_label)


def title(output: Output, view: dict) -> str:
    """A figure's plain title: what it shows (the experiment and its protocol are in its caption)."""
    return output.title


FOUND = {"test_of_best_valid": "Test accuracy of the best-by-validation\narchitecture queried (%)",
         "max_queried": "Best test accuracy among the queried (%)",
         "pred1_only": "Test accuracy of the predicted top-1 (%)"}


def _found_label(modes: set[str]) -> str:
    """The y axis of a convergence figure: what counts as found, where every method counts it the same way."""
    return FOUND.get(next(iter(modes)), "Test accuracy found (%)") if len(modes) == 1 else \
        "Test accuracy found (%; report mode per method: caption)"


def _optimum_lines(best: pd.DataFrame) -> dict[str, list[tuple[float, str]]]:
    """Per benchmark the test optimum and, where a run queried it, the validation optimum's test accuracy."""
    lines = {}
    for bench, row in best.iterrows():
        if np.isclose(row["fit_optimum_test"], row["test_optimum"]):  # fit on test: one line, both names
            lines[bench] = [(row["test_optimum"], f"test optimum\n(= validation\noptimum's)\n{row['test_optimum']:.2f}")]
            continue
        lines[bench] = [(row["test_optimum"], f"test optimum\n{row['test_optimum']:.2f}")]
        if np.isfinite(row["fit_optimum_test"]):
            lines[bench].append((row["fit_optimum_test"], f"validation\noptimum's\ntest acc.\n{row['fit_optimum_test']:.2f}"))
    return lines


def _small_multiples(curves: pd.DataFrame, reference: str, titles: dict, floors: dict):
    """Panels of at most MAX_LINES methods: where a benchmark has more, one panel per group of others,
    each with the reference method, so every panel compares with the same line."""
    from .curves import MAX_LINES

    keyed, new_titles, new_floors = [], {}, {}
    for bench, panel in curves.groupby("benchmark", sort=False):
        methods = list(dict.fromkeys(panel["method"]))
        if len(methods) <= MAX_LINES:
            keyed.append(panel)
            new_titles[bench], new_floors[bench] = titles.get(bench, bench), floors.get(bench, [])
            continue
        others = [m for m in methods if m != reference]
        groups = np.array_split(others, -(-len(others) // (MAX_LINES - 1)))
        for index, group in enumerate(groups):
            key = f"{bench} ({index + 1}/{len(groups)})"
            keyed.append(panel[panel["method"].isin([reference, *group])].assign(benchmark=key))
            new_titles[key] = f"{titles.get(bench, bench)} ({index + 1} of {len(groups)})"
            new_floors[key] = floors.get(bench, [])
    return pd.concat(keyed, ignore_index=True), new_titles, new_floors


def _best_and_top1(trajectories: pd.DataFrame, iterations: pd.DataFrame, labels: dict, grid: np.ndarray):
    """Figure 1's lines: per method the best queried architecture and, where the method fits a predictor,
    the latest predictor's top-1 (one colour per method, dashed for the top-1)."""
    best = analysis.convergence(trajectories, iterations, "max_queried", grid)
    top1 = analysis.convergence(trajectories, iterations, "pred1_only", grid).dropna(subset=["mean"])
    methods = list(dict.fromkeys(best["method"]))
    keyed = pd.concat([best.assign(line=best["method"] + ":best", kind="best queried"),
                       top1.assign(line=top1["method"] + ":top1", kind="predicted top-1")])
    curves = keyed.assign(run_method=keyed["method"], method=keyed["line"]).drop(columns="line")
    names, styles = {}, {}
    for line, method, kind in curves[["method", "run_method", "kind"]].drop_duplicates().itertuples(index=False):
        names[line] = f"{labels.get(method, method)}: {kind}"
        styles[line] = {"color": f"C{methods.index(method)}", "linestyle": "--" if kind == "predicted top-1" else "-"}
    return curves, names, styles


def _by_predictor(curves: pd.DataFrame, specs: dict[str, dict], labels: dict) -> tuple[pd.DataFrame, dict, dict]:
    """Curves re-keyed for Figure 5: panel = one predictor type on one benchmark, line = encoding (the
    method's label where two methods of a panel share an encoding; methods without a predictor get their
    own panel), from each method's recorded specification. Returns the curves, line labels and titles."""
    from ..predictors import predictor_class

    keys, titles = {}, {}
    for bench, method in curves[["benchmark", "method"]].drop_duplicates().itertuples(index=False):
        spec = specs[method]
        if spec["encoding"]:
            predictor = spec["method"]["predictor"]["type"]
            panel = f"{bench}, {predictor}"
            titles[panel] = f"{predictor_class(predictor).title or predictor} predictor\n({bench})"
            keys[bench, method] = (panel, spec["encoding"])
        else:
            panel = f"{bench}, no predictor"
            titles[panel] = f"No predictor\n({bench})"
            keys[bench, method] = (panel, labels[method])
    shared = pd.Series(list(keys.values())).duplicated(keep=False).to_numpy()
    for (bench, method), clash in zip(list(keys), shared):
        if clash:
            keys[bench, method] = (keys[bench, method][0], labels[method])
    rows = [keys[bench, method] for bench, method in zip(curves["benchmark"], curves["method"])]
    keyed = curves.assign(run_benchmark=curves["benchmark"], run_method=curves["method"],
                          benchmark=[r[0] for r in rows], method=[r[1] for r in rows])
    return keyed, {}, titles


def render_dynamics(output: Output, view: dict, runs: dict, files: dict) -> None:
    """Figure 3: search dynamics per iteration (predicted top-1 rank, error EDF of the predicted top-200,
    P(top-50 in the pool), Kendall tau on the true top-50)."""
    from . import dynamics as dynamics_plots

    iterations = pd.read_parquet(runs["iterations"])
    labels = {m: figure_text(entry["label"]) for m, entry in view["methods"].items()}
    summary = dynamics_plots.dynamics_figure(iterations, labels, title(output, view), files["png"], files["pdf"])
    with atomic_path(files["csv"]) as tmp:
        summary.to_csv(tmp, index=False)


def render_embedding(output: Output, view: dict, runs: dict, files: dict, embedding: str, table: str) -> None:
    """Figure 4 from the experiment's first benchmark and method, smallest seed."""
    from .embedding import figure4

    iterations = pd.read_parquet(runs["iterations"])
    if "pool_ids" not in iterations:
        raise NasReproError(f"{runs['iterations']}: no sampling pools recorded; "
                            f"set experiments.{view['experiment']}.record_pools: true")
    bench, method = next(iter(view["benchmarks"])), next(iter(view["methods"]))
    trajectories = pd.read_parquet(runs["trajectories"])
    seed = trajectories.loc[(trajectories["benchmark"] == bench) & (trajectories["method"] == method), "seed"].min()

    def one_run(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[(frame["benchmark"] == bench) & (frame["method"] == method) & (frame["seed"] == seed)]

    trajectory = one_run(trajectories)
    if trajectory.empty:
        raise NasReproError(f"{runs['trajectories']}: no run of {bench}, {method}")
    coordinates = np.load(embedding)
    test_ranks = competition_ranks(Benchmark.load(table).test_labels)
    if len(coordinates) != len(test_ranks):
        raise NasReproError(f"{embedding}: {len(coordinates)} rows, the benchmark has {len(test_ranks)}")
    figure4(coordinates, test_ranks, trajectory, one_run(iterations),
            figure_text(f"{view['experiment']}, {bench}, {view['methods'][method]['label']}, seed {seed}"),
            files["png"], files["pdf"], files["csv"])
