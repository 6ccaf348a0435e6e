"""The protocol lines that head every table, from the runs' recorded specifications (the summary's `spec`
column) and the experiment's view: seeds, stopping rule, labels, report modes, splits, the optimum, every
method's options and own notes, precision, hidden queries and cost."""

from __future__ import annotations

import json

import pandas as pd

from .. import analysis
from ..predictors import predictor_class
from ..searchers import searcher_class


def recorded_specs(summary: pd.DataFrame) -> dict[str, dict]:
    """Per method, the run specification its runs recorded (the first benchmark's)."""
    return {method: json.loads(spec) for method, spec in summary.groupby("method", sort=False)["spec"].first().items()}


def lines(view: dict, summary: pd.DataFrame, table: str, own_report_modes: bool = True) -> list[str]:
    seeds = sorted(int(s) for s in summary["seed"].unique())
    label = lambda method: view["methods"][method]["label"]  # noqa: E731
    specs = recorded_specs(summary)
    if table == "table5":
        charged = all(spec.get("charge_repeats", True) for spec in specs.values())
        stop = (f"runs stop once the optimum is queried, capped at {_caps(summary)}; a method that asks for an "
                f"architecture again is {'charged again' if charged else 'not charged'}; "
                "queries are counted at the end of the batch that holds the optimum")
        optimum = [f"{b}: the optimum is the argmax of the {'fitting' if target == 'fit' else 'test'} label."
                   for b, target in summary.groupby("benchmark", sort=False)["optimum_target"].first().items()]
        optimum += censored_lines(summary)
        modes = []
    else:
        length = (f"to the optimum (capped at {_caps(summary)}; a run that stopped there keeps it)"
                  if view["budget"].get("until_optimum") else f"of {view['budget']['queries']} queries")
        stop = f"one run {length} per seed gives every budget's row"
        optimum = [f"Regret is measured from the best mean test accuracy of {b}: {value:.4f}%"
                   + _paper_optimum(view, b) + "." for b, value in test_optima(summary).items()]
        modes = [modes_line(view) + "."] if own_report_modes else []
    label_modes = ", ".join(summary["label_mode"].unique())
    return [
        f"Protocol: {len(seeds)} seeds per cell ({_seed_range(seeds)}); {stop}; labels: {label_modes}.",
        *modes, *_split_lines(summary), *optimum,
        *[f"{label(m)}: {_options(spec['method'])}" for m, spec in specs.items()],
        *_precision_line(specs, label),
        *dict.fromkeys(note for spec in specs.values()
                       for note in searcher_class(spec["method"]["type"]).protocol_notes(spec["method"])),
        *_hidden_lines(summary, label),
        _wall_time_line(summary, label),
    ]


def modes_line(view: dict) -> str:
    grouped: dict[str, list[str]] = {}
    for method, mode in view["report_modes"].items():
        grouped.setdefault(mode, []).append(view["methods"][method]["label"])
    return "; ".join(f"found = {mode} for {', '.join(methods)} ({analysis.REPORT_MODES[mode]})"
                     for mode, methods in grouped.items())


def test_optima(summary: pd.DataFrame) -> dict[str, float]:
    return summary.groupby("benchmark")["test_optimum"].first().to_dict()


def censored_lines(summary: pd.DataFrame) -> list[str]:
    """Table 5's censoring, stated for the quantity the table shows: a run stopped by its cap before it
    queried its optimum has no value (the "not found" count beside Seeds), only "more than the cap"."""
    column = summary["queries_to_optimum"]
    censored = int(column.isna().sum())
    if not censored:
        return []
    return [f"Censored: {censored} of {len(summary)} runs stopped at their cap before querying the optimum; each is "
            "counted as 'not found' beside Seeds, never as a value (its queries to the optimum are only known to "
            "exceed the cap), and the tests count it as worse than every run that found the optimum."]


def _hidden_lines(summary: pd.DataFrame, label) -> list[str]:
    """The charged queries a method's authors leave uncounted (SemiNAS's pre-filter), per method."""
    hidden = analysis.hidden_queries(summary)
    return [f"{label(m)}: {runs.mean():.1f} queries per run on average ({runs.min():.0f}-{runs.max():.0f}) were "
            "discarded by the authors' filter; they are charged here and left out of the count its authors print."
            for m, runs in hidden[hidden > 0].groupby(summary["method"], sort=False)]


def _wall_time_line(summary: pd.DataFrame, label) -> str:
    """What one run of each method cost: wall seconds per run (mean, min-max) and the device it ran on."""
    cost = summary.groupby("method", sort=False).agg(mean=("wall_seconds", "mean"), low=("wall_seconds", "min"),
                                                     high=("wall_seconds", "max"), device=("device", "first"))
    return "Wall time per run, seconds, mean (min-max), device: " + "; ".join(
        f"{label(m)} {row['mean']:.1f} ({row['low']:.1f}-{row['high']:.1f}), {row['device']}"
        for m, row in cost.iterrows()) + "."


def _precision_line(specs: dict[str, dict], label) -> list[str]:
    """The arithmetic precision each torch-trained predictor ran in."""
    ran = {label(m): searcher_class(spec["method"]["type"]).precision(spec["method"]) for m, spec in specs.items()}
    ran = {name: precision for name, precision in ran.items() if precision}
    if not ran:
        return []
    return ["Precision of the trained predictors (matrix products): "
            + "; ".join(f"{name} {precision}" for name, precision in ran.items()) + "."]


def _paper_optimum(view: dict, bench: str) -> str:
    from . import table_cells as tables

    paper = tables.paper_values()
    column = view["benchmarks"][bench]["paper_column"]
    optimal = paper.loc[(paper["row"] == "Optimal") & (paper["benchmark"] == column), "value"]
    return f" (paper: {optimal.iloc[0]:.2f}%)" if len(optimal) else ""


def _split_lines(summary: pd.DataFrame) -> list[str]:
    """Each benchmark's fitting and reported splits, once: the label note alone where it names both."""
    return [f"{b}: {row['label_note']}." if row["fit_split"] in row["label_note"] and row["test_split"] in row["label_note"]
            else f"{b}: fit on `{row['fit_split']}`, report `{row['test_split']}`. {row['label_note']}."
            for b, row in summary.groupby("benchmark", sort=False).first().iterrows()]


def _caps(summary: pd.DataFrame) -> str:
    """The query caps the runs ran under, most common first."""
    counts = summary["budget_queries"].value_counts()
    if len(counts) == 1:
        return f"{counts.index[0]} queries"
    return ", ".join(f"{cap} queries for {n} runs" for cap, n in counts.items())


def _seed_range(seeds: list[int]) -> str:
    return f"seeds {seeds[0]}..{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else f"seeds {seeds}"


def _options(method: dict) -> str:
    """A method's options in their declared order (a run's metadata stores them sorted)."""
    return ", ".join(f"{k}={v}" for k, v in declared_order(searcher_class(method["type"]), method).items())


def declared_order(cls, options: dict) -> dict:
    ordered = {"type": options["type"], **{k: options[k] for k in cls.options if k in options}}
    predictor = ordered.get("predictor")
    if isinstance(predictor, dict) and "type" in predictor:
        ordered["predictor"] = declared_order(predictor_class(predictor["type"]), predictor)
    return {**ordered, **{k: v for k, v in options.items() if k not in ordered}}
