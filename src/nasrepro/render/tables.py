"""The paper's Tables 1-5 and their fair-protocol companion, from an experiment's collected runs."""

from __future__ import annotations

import pandas as pd

from .. import analysis
from . import protocol, statistics
from . import table_cells as tables
from ..outputs import Output



def render_paper_table(output: Output, view: dict, runs: dict | None, files: dict, unavailable: str | None = None) -> None:
    """One of the paper's Tables 1-5 beside the paper's values. `unavailable`: why nothing could run (e.g.
    no NAS-Bench-101 data); the table then holds the paper's values and says so in one line."""
    table = output.name
    rows = {m: entry["paper_row"] for m, entry in view["methods"].items()}
    columns = {b: entry["paper_column"] for b, entry in view["benchmarks"].items()}
    labels = {m: entry["label"] for m, entry in view["methods"].items()}
    number = output.title.split(":")[0]
    if unavailable:
        cells = tables.compare(None, table, rows, columns, labels)
        lines = [f"Not run here: {unavailable}; only the paper's values are shown."]
        if cells.empty:
            lines.append(f"The paper prints {number} for other benchmarks only: there is no cell to show.")
    else:
        summary = pd.read_parquet(runs["summary"])
        values = cell_values(view, table, summary, runs, view["report_modes"])
        cells = tables.compare(tables.summarize(values), table, rows, columns, labels)
        lines = protocol.lines(view, summary, table) + [tables.STATISTICS_LINE]
        if cells["paper"].isna().all():
            lines.append(f"The paper prints {number} for other benchmarks only: no cell here has a paper value.")
    lines += tables.citation_lines(cells)
    tables.write(cells, tables.display(cells), f"{output.title} ({view['experiment']})", lines,
                 files["csv"], files["md"], files["tex"])


def cell_values(view: dict, table: str, summary: pd.DataFrame, runs: dict, modes) -> pd.DataFrame:
    """Per run, the values of the table's cells: queries to the optimum (Table 5), or test accuracy,
    regret and rank of the architecture found at each budget (Tables 1-4)."""
    if table == "table5":
        return tables.optimum_values(summary)
    found = analysis.found_at_budgets(pd.read_parquet(runs["trajectories"]), pd.read_parquet(runs["iterations"]),
                                      modes, view["budgets"])
    return tables.budget_values(found, protocol.test_optima(summary))


def render_fair(output: Output, view: dict, runs: dict, files: dict) -> None:
    """The fair-protocol companion of the paper's Table 4 or 5 (`fair_tests`)."""
    from . import OUTPUTS

    table = "table5" if view["budget"].get("until_optimum") else "table4"
    fair_tests(view, runs, files, f"{output.title} of {OUTPUTS[table].title.split(':')[0]} ({view['experiment']})")


def render_comparison(output: Output, view: dict, runs: dict, files: dict) -> None:
    """A neutral comparison of one's own method (the experiment's reference) with others (`fair_tests`)."""
    fair_tests(view, runs, files, f"{output.title} ({view['experiment']})")


def fair_tests(view: dict, runs: dict, files: dict, title: str) -> None:
    """Every method reports the test accuracy of its best queried architecture by fitting label
    (`test_of_best_valid`), and is compared with the reference method over seeds (`statistics`)."""
    summary = pd.read_parquet(runs["summary"])
    table = "table5" if view["budget"].get("until_optimum") else "table4"
    # a run to the optimum also gives the accuracy found within each budget of `budgets`, if any
    shown_tables = [table, "table4"] if table == "table5" and view.get("budgets") else [table]
    values = pd.concat([cell_values(view, shown, summary, runs, "test_of_best_valid") for shown in shown_tables],
                       ignore_index=True)
    values = values[values["metric"].isin(["test_acc", "queries_to_optimum"])]
    reference = view["reference"]
    labels = {m: entry["label"] for m, entry in view["methods"].items()}
    tests = statistics.comparisons(values, reference)
    found = {"table5": "every method: queries are counted until the optimum is first queried (no predictor peek)",
             "table4": f"found = test_of_best_valid for every method ({analysis.REPORT_MODES['test_of_best_valid']}"
                       "; a run that stopped at the optimum keeps it)"}
    lines = [f"Fair protocol: {'; '.join(found[shown] for shown in shown_tables)}.",
             statistics.tests_statement(labels[reference]), *statistics.power_lines(tests),
             *protocol.lines(view, summary, table, own_report_modes=False)]
    tables.write(tests, tables.display_tests(tests, labels, reference), title, lines,
                 files["csv"], files["md"], files["tex"])
