"""The paper's Tables 1-5 beside ours, and their fair-protocol companions: one long frame per table
(one line per cell), written as CSV, Markdown and LaTeX.

Every cell we ran carries our mean, SD, 95% CI and number of seeds, the paper's value, the difference
and a verdict; every cell the paper reports that we did not run is kept, marked NOT_RUN.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis import hidden_queries
from ..io import atomic_path, write_text
from .escape import html_text, latex_text, markdown_text
from .statistics import MIN_SEEDS, SPREAD, better, describe

NOT_RUN = "reported by the paper, not run here"
METRICS = {  # metric -> (name in the tables, digits)
    "test_acc": ("Test Acc (%)", 2),
    "regret": ("Test Regret (%)", 2),
    "avg_rank": ("Avg. Rank", 1),
    "queries_to_optimum": ("Queries to optimum", 1),
    "queries_to_optimum_authors": ("Queries to optimum, as its authors count", 1),
    "hidden_queries": ("Queries its authors leave uncounted", 1),
}
MIN_SEEDS_TO_JUDGE = MIN_SEEDS  # below this many seeds no interval, and a verdict says it cannot judge
# The statistics a paper table states once (its protocol lines): verdicts, SD, the interval.
STATISTICS_LINE = (f"Verdict against the WeakNAS paper's value: 'within paper SD' when |ours - paper| <= the paper's SD, "
                   f"'within our CI' when the paper's value lies in our 95% CI, 'too few seeds to judge' below "
                   f"{MIN_SEEDS} seeds. {SPREAD}")
PAPER_SD_OF = {"test_acc": "sd", "regret": "sd"}  # the paper's SD column is the spread of both
VERDICTS = ("within paper SD and our CI", "within paper SD", "within our CI", "outside both")
KEYS = ["benchmark", "method", "queries", "metric"]


def paper_values(table: str | None = None, source: str = "paper_values.csv") -> pd.DataFrame:
    """Printed values (resources/): `paper_values.csv`, the WeakNAS paper's (table, row, benchmark, queries,
    metric, value, note); `authors_values.csv`, each method's own paper's, in the WeakNAS paper's table
    layout (citation instead of note). `queries` is NaN where the table has no budget column (Table 5)."""
    with resources.files("nasrepro").joinpath("resources", source).open() as handle:
        values = pd.read_csv(handle, dtype=str, keep_default_na=False).astype({"value": float})
    values["queries"] = pd.to_numeric(values["queries"].replace("", np.nan))
    return values if table is None else values[values["table"] == table].reset_index(drop=True)


def budget_values(found: pd.DataFrame, test_optimum: dict[str, float]) -> pd.DataFrame:
    """Per run and budget, the values of the budget tables' cells (Tables 1-4): test accuracy, regret
    against the benchmark's best test accuracy, and test rank of the found architecture."""
    found = found.assign(regret=found["benchmark"].map(test_optimum) - found["test_label"])
    found = found.rename(columns={"test_label": "test_acc", "test_rank": "avg_rank"})
    return found.melt(id_vars=["benchmark", "method", "seed", "queries"], value_vars=["test_acc", "regret", "avg_rank"],
                      var_name="metric")


def optimum_values(summary: pd.DataFrame) -> pd.DataFrame:
    """Per run, the queries it needed to query the global optimum (Table 5); NaN: stopped by the cap first.
    A method that charged queries its authors leave uncounted (`hidden_queries`) also gets the count its
    authors would print and the hidden count."""
    columns = ["benchmark", "method", "seed", "queries", "metric", "value"]
    cells = [summary.assign(metric="queries_to_optimum", value=summary["queries_to_optimum"])]
    hidden = hidden_queries(summary)
    hiding = summary["method"].isin(summary.loc[hidden > 0, "method"])
    if hiding.any():
        runs, hidden = summary[hiding], hidden[hiding]
        cells += [runs.assign(metric="queries_to_optimum_authors", value=pd.to_numeric(runs["queries_to_optimum"]) - hidden),
                  runs.assign(metric="hidden_queries", value=hidden)]
    return pd.concat(cells, ignore_index=True).assign(queries=np.nan)[columns]


def summarize(values: pd.DataFrame) -> pd.DataFrame:
    """Mean, SD, 95% CI and seeds per cell; `missing` counts runs without a value (e.g. optimum not found)."""
    rows = []
    for key, runs in values.groupby(KEYS, sort=False, dropna=False):
        present = runs["value"].dropna().to_numpy()
        rows.append({**dict(zip(KEYS, key)), **describe(present), "missing": len(runs) - len(present)})
    return pd.DataFrame(rows, columns=[*KEYS, "n", "mean", "sd", "ci_low", "ci_high", "missing"])


def verdict(mean: float, ci_low: float, ci_high: float, paper: float, paper_sd: float, n: float) -> str:
    """Whether the paper's value is within its own SD of our mean, within our 95% CI, both or neither;
    with fewer than MIN_SEEDS_TO_JUDGE seeds, that there are too few to judge."""
    if not np.isfinite(paper) or not np.isfinite(mean):
        return ""
    if n < MIN_SEEDS_TO_JUDGE:
        return f"too few seeds to judge (n={int(n)})"
    within_sd = bool(np.isfinite(paper_sd) and abs(mean - paper) <= paper_sd + 1e-9)
    within_ci = bool(np.isfinite(ci_low) and ci_low - 1e-9 <= paper <= ci_high + 1e-9)
    return VERDICTS[0 if within_sd and within_ci else 1 if within_sd else 2 if within_ci else 3]


def compare(summary: pd.DataFrame | None, table: str, rows: dict[str, str | None], columns: dict[str, str],
            labels: dict[str, str]) -> pd.DataFrame:
    """One line per cell of `table`: ours beside the paper's where the paper has that row (`rows`:
    method -> paper row) on that benchmark (`columns`: benchmark -> paper column), then every paper
    cell of the same columns that we did not run. `summary=None`: nothing ran, the paper's cells only."""
    paper = _reference_cells(table)
    ours = pd.DataFrame(columns=[*KEYS, "n", "mean", "sd", "ci_low", "ci_high", "missing"]) if summary is None else summary
    ours = ours.assign(row=ours["method"].map(rows), paper_column=ours["benchmark"].map(lambda b: columns.get(b, b)),
                       method=ours["method"].map(lambda m: labels.get(m, m)), status="ran here")
    matched = ours.merge(paper.rename(columns={"benchmark": "paper_column", "value": "paper"}),
                         on=["row", "paper_column", "queries", "metric"], how="left")
    ran = set(_keys(matched.dropna(subset=["paper", "authors"], how="all"), "paper_column"))
    only = paper[paper["benchmark"].isin(set(columns.values()) if summary is None else set(ours["paper_column"]))]
    only = only.loc[np.array([key not in ran for key in _keys(only, "benchmark")], bool)]
    only = only.rename(columns={"value": "paper"}).assign(paper_column=only["benchmark"], method=only["row"], status=NOT_RUN)
    cells = pd.concat([matched, only], ignore_index=True)
    cells["difference"] = cells["mean"] - cells["paper"]
    cells["verdict"] = [verdict(*v) for v in cells[["mean", "ci_low", "ci_high", "paper", "paper_sd", "n"]].to_numpy(float)]
    cells.loc[cells["status"] == NOT_RUN, "verdict"] = NOT_RUN
    cells.insert(0, "table", table)
    return _ordered(cells)


def _reference_cells(table: str) -> pd.DataFrame:
    """Every printed cell of `table` (the optimum row aside): the WeakNAS paper's `value` with the SD it
    prints beside it, and the method's own paper's value (`authors`, with its `citation`), either missing."""
    paper = paper_values(table).drop(columns="table").rename(columns={"note": "paper_note"})
    paper = paper[paper["row"] != "Optimal"]
    sd = paper[paper["metric"] == "sd"][["row", "benchmark", "queries", "value"]].rename(columns={"value": "paper_sd"})
    paper = paper[paper["metric"] != "sd"].merge(sd, on=["row", "benchmark", "queries"], how="left")
    paper.loc[~paper["metric"].isin(PAPER_SD_OF), "paper_sd"] = np.nan
    authors = paper_values(table, "authors_values.csv").drop(columns="table").rename(columns={"value": "authors"})
    return paper.merge(authors, on=["row", "benchmark", "queries", "metric"], how="outer")


def _keys(frame: pd.DataFrame, column: str) -> list[tuple]:
    """(row, paper column, budget, metric) per line; no budget is -1, as NaN never equals itself."""
    return list(zip(frame["row"], frame[column], frame["queries"].fillna(-1), frame["metric"]))


def _ordered(cells: pd.DataFrame) -> pd.DataFrame:
    """The paper's order: benchmark, then budget (ascending), then method, then metric."""
    metric_order = {m: i for i, m in enumerate(METRICS)}
    first_seen = {name: i for i, name in enumerate(dict.fromkeys(cells["method"]))}
    return (cells.assign(_q=cells["queries"].fillna(np.inf), _m=cells["metric"].map(metric_order),
                         _r=cells["method"].map(first_seen),
                         _b=pd.Categorical(cells["benchmark"], list(dict.fromkeys(cells["benchmark"]))))
            .sort_values(["_b", "_q", "_r", "_m"], kind="stable").drop(columns=["_q", "_m", "_r", "_b"])
            .reset_index(drop=True))


def _number(value: float, digits: int) -> str:
    return f"{value:.{digits}f}" if np.isfinite(value) else "–"


def interval_text(row, digits: int) -> str:
    """A cell's 95% CI, or why there is none (fewer than MIN_SEEDS seeds)."""
    if np.isfinite(row["ci_low"]):
        return f"[{_number(row['ci_low'], digits)}, {_number(row['ci_high'], digits)}]"
    return f"too few seeds (n < {MIN_SEEDS})" if row["n"] > 0 else "–"


def p_value_text(p: float) -> str:
    """Every p-value in one form: two significant digits, '< 0.001' below 0.001."""
    if not np.isfinite(p):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:#.2g}"


def display(cells: pd.DataFrame) -> pd.DataFrame:
    """The human-readable form of compare()'s cells: one formatted row per cell."""
    def fmt(row) -> dict:
        digits = METRICS[row["metric"]][1]
        paper = _number(row["paper"], digits) + (f" ± {row['paper_sd']:.2f}" if np.isfinite(row["paper_sd"]) else "")
        ran = row["status"] != NOT_RUN
        seeds = int(row["n"]) if ran else np.nan
        return {
            "Benchmark": row["benchmark"],
            "Method": row["method"],
            "Queries": "" if not np.isfinite(row["queries"]) else int(row["queries"]),
            "Metric": METRICS[row["metric"]][0],
            "Seeds": "–" if not ran else f"{seeds}" + (f" (+{int(row['missing'])} not found)" if row["missing"] else ""),
            "Mean": _number(row["mean"], digits) if ran else "–",
            "SD": _number(row["sd"], digits) if ran else "–",
            "95% CI": interval_text(row, digits) if ran else "–",
            "Paper (WeakNAS)": paper if np.isfinite(row["paper"]) else "–",
            "Paper (authors)": _number(row["authors"], digits),
            "Difference": (f"{row['difference']:+.{digits}f}" if np.isfinite(row["difference"]) else "–"),
            "Verdict": row["verdict"] or "no paper value",
        }
    columns = ["Benchmark", "Method", "Queries", "Metric", "Seeds", "Mean", "SD", "95% CI", "Paper (WeakNAS)", "Paper (authors)",
               "Difference", "Verdict"]
    shown = pd.DataFrame([fmt(row) for _, row in cells.astype({"queries": float}).iterrows()], columns=columns)
    if cells["authors"].isna().all():
        shown = shown.drop(columns=["Paper (authors)"])
    if cells["paper"].isna().all():  # nothing to compare with: no empty comparison columns
        shown = shown.drop(columns=["Paper (WeakNAS)", "Difference", "Verdict"])
    return shown if cells["queries"].notna().any() else shown.drop(columns=["Queries"])  # no rows: no budget column


def citation_lines(cells: pd.DataFrame) -> list[str]:
    """One line per method's own paper whose value a table shows (the 'Paper (authors)' column)."""
    cited = cells.dropna(subset=["authors"]).drop_duplicates(["row", "citation"])
    return [f"Paper (authors), {row}: {citation}." for row, citation in zip(cited["row"], cited["citation"])]


def display_tests(tests: pd.DataFrame, labels: dict[str, str], reference: str) -> pd.DataFrame:
    """The human-readable form of statistics.comparisons()'s rows: each method's cell, and against the
    reference the effect size with its interval, the method that does better in words, p and Holm's p."""
    name = labels.get(reference, reference)
    effect = f"P({name} better) [95% CI]"
    rows = []
    for _, row in tests.iterrows():
        digits = METRICS[row["metric"]][1]
        method = labels.get(row["method"], row["method"])
        tested = np.isfinite(row.get("p_value", np.nan))
        interval = (f" [{row['p_better_low']:.2f}, {row['p_better_high']:.2f}]" if tested and np.isfinite(row["p_better_low"])
                    else "")
        rows.append({
            "Benchmark": row["benchmark"],
            "Queries": "" if not np.isfinite(row["queries"]) else int(row["queries"]),
            "Metric": METRICS[row["metric"]][0],
            "Method": method,
            "Seeds": f"{row['n']}" + (f" (+{row['missing']} not found)" if row["missing"] else ""),
            "Mean": _number(row["mean"], digits),
            "SD": _number(row["sd"], digits),
            "95% CI": interval_text(row, digits),
            effect: f"{row['p_better']:.2f}{interval}" if tested else "(reference)" if row["method"] == reference else "–",
            "Better": better(row["p_better"], row["p_holm"], name, method) if tested else "–",
            "p": p_value_text(row.get("p_value", np.nan)),
            "p (Holm)": p_value_text(row.get("p_holm", np.nan)),
        })
    shown = pd.DataFrame(rows)
    if shown.empty:
        return pd.DataFrame(columns=["Benchmark", "Metric", "Method", "Seeds", "Mean", "SD", "95% CI"])
    return shown if tests["queries"].notna().any() else shown.drop(columns=["Queries"])


def paper_layout(shown: pd.DataFrame) -> pd.DataFrame:
    """The paper's own layout of a display frame: one row per method, one column per benchmark, budget
    and metric (a level with a single value is left out), each cell our mean ± SD over seeds."""
    ran = shown[shown["Mean"] != "–"]
    cells = ran["Mean"].where(ran["SD"] == "–", ran["Mean"] + " ± " + ran["SD"])
    levels = [c for c in ("Benchmark", "Queries", "Metric") if c in ran and ran[c].nunique() > 1] or ["Metric"]
    wide = ran.assign(cell=cells).pivot_table(index="Method", columns=levels, values="cell", aggfunc="first",
                                              sort=False)
    return wide.reindex(list(dict.fromkeys(ran["Method"]))).fillna("–")


def paper_tex_path(tex) -> Path:
    """Where write() puts the paper-layout LaTeX: `table1.tex` -> `table1.paper.tex`."""
    return Path(tex).with_suffix(".paper.tex")


def write(frame: pd.DataFrame, shown: pd.DataFrame, title: str, lines: list[str], csv, md, tex) -> None:
    """The long frame as CSV; its display form as Markdown (one section per benchmark) and LaTeX,
    each headed by the title and the protocol lines; and the paper's layout (`paper_layout`) as LaTeX
    beside it (`paper_tex_path`)."""
    with atomic_path(csv) as tmp:
        frame.to_csv(tmp, index=False)
    parts = [f"# {markdown_text(title, line=True)}", "", *[f"- {markdown_text(text, line=True)}" for text in lines], ""]
    for bench, part in shown.groupby("Benchmark", sort=False):
        cells = _escaped(part.drop(columns=["Benchmark"]), markdown_text)
        parts += [f"## {markdown_text(bench, line=True)}", "", cells.to_markdown(index=False, disable_numparse=True), ""]
    write_text("\n".join(parts), md)
    write_text(_html(shown, title, lines), html_path(md))
    write_text(_latex(shown, title + ". " + " ".join(lines), hide_index=True), tex)
    wide = paper_layout(shown)
    caption = f"{title}. " + (f"Mean ± SD over seeds; the seeds, 95% CIs, the paper's values and verdicts of every cell "
                              f"are in {Path(tex).name}." if len(wide) else f"Nothing ran here; the paper's values are "
                              f"in {Path(tex).name}.")
    write_text(_latex(wide, caption, hide_index=False), paper_tex_path(tex))


def html_path(md) -> Path:
    """Where write() puts the table as a web page (the report shows it on the page): `table1.md` -> `table1.html`."""
    return Path(md).with_suffix(".html")


def _html(shown: pd.DataFrame, title: str, lines: list[str]) -> str:
    """A standalone page: the title, the protocol lines, one table per benchmark."""
    parts = [f"<h1>{html_text(title)}</h1>", "<ul>", *[f"<li>{html_text(line)}</li>" for line in lines], "</ul>"]
    for bench, part in shown.groupby("Benchmark", sort=False):
        cells = _escaped(part.drop(columns=["Benchmark"]), html_text)
        parts += [f"<h2>{html_text(bench)}</h2>", cells.to_html(index=False, border=0, escape=False)]
    style = ("body{font-family:sans-serif;font-size:14px} table{border-collapse:collapse} "
             "th,td{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}")
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{style}</style></head><body>{''.join(parts)}</body></html>\n"


def _latex(table: pd.DataFrame, caption: str, hide_index: bool) -> str:
    styled = table.style.format(latex_text).format_index(latex_text, axis=0).format_index(latex_text, axis=1)
    styled = styled.hide(axis="index") if hide_index else styled.hide(axis="index", names=True)
    latex = styled.to_latex(hrules=True, caption=latex_text(caption), environment="table*", multicol_align="c",
                            column_format=None if hide_index else "l" + "c" * table.shape[1])
    return latex.replace("±", r"$\pm$")


def _escaped(frame: pd.DataFrame, escape) -> pd.DataFrame:
    """A display frame with every cell and column name escaped for one format."""
    return frame.map(escape).rename(columns=escape)
