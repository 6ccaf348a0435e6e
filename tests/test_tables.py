"""The rendering module of Tables 1-5: exact mean, SD, CI, verdicts, paper-only rows and the formats."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nasrepro import analysis
from nasrepro.render import table_cells as tables
from nasrepro.render import statistics

@pytest.fixture
def summary() -> pd.DataFrame:
    """Queries to the optimum of 3 seeds per (benchmark, method); random seed 1 hit its cap."""
    rows = [("nb201-cifar10", "weaknas", s, q) for s, q in enumerate([100, 200, 300])]
    rows += [("nb201-cifar10", "random", s, q) for s, q in enumerate([1000, np.nan, 3000])]
    rows += [("nb201-cifar100", "weaknas", s, q) for s, q in enumerate([50, 70, 90])]
    return pd.DataFrame(rows, columns=["benchmark", "method", "seed", "queries_to_optimum"])


LABELS = {"weaknas": "WeakNAS", "random": "Random Search"}
ROWS = {"weaknas": "WeakNAS", "random": "Random Search"}


def table5(summary: pd.DataFrame, columns=None) -> pd.DataFrame:
    cells = tables.summarize(tables.optimum_values(summary))
    return tables.compare(cells, "table5", ROWS, columns or {b: b for b in summary["benchmark"]}, LABELS)


def test_table5_cells_exact_values(summary):
    cells = table5(summary).set_index(["benchmark", "method"])
    weak = cells.loc[("nb201-cifar10", "WeakNAS")]
    assert weak["n"] == 3 and weak["mean"] == pytest.approx(200) and weak["sd"] == pytest.approx(100)
    assert math.isnan(weak["ci_low"]) and math.isnan(weak["ci_high"])  # 3 seeds: no interval (it would be the range)
    assert weak["paper"] == pytest.approx(182.1) and weak["difference"] == pytest.approx(200 - 182.1)
    assert weak["verdict"] == "too few seeds to judge (n=3)"
    rand = cells.loc[("nb201-cifar10", "Random Search")]
    assert rand["n"] == 2 and rand["missing"] == 1 and rand["mean"] == pytest.approx(2000)
    assert rand["sd"] == pytest.approx(math.sqrt(2) * 1000)
    assert rand["paper"] == pytest.approx(7782.1) and rand["verdict"] == "too few seeds to judge (n=2)"
    c100 = cells.loc[("nb201-cifar100", "WeakNAS")]
    assert c100["mean"] == pytest.approx(70) and c100["sd"] == pytest.approx(20)
    assert c100["paper"] == pytest.approx(78.4) and c100["verdict"] == "too few seeds to judge (n=3)"


def test_table5_keeps_every_paper_row_we_did_not_run(summary):
    cells = table5(summary)
    only = cells[cells["status"] == tables.NOT_RUN]
    c10 = only[only["benchmark"] == "nb201-cifar10"].set_index("method")["paper"]
    assert c10.to_dict() == {"Reg Evolution": 563.2, "MCTS": 528.3, "LaNAS": 247.1}
    assert (only["verdict"] == tables.NOT_RUN).all() and only["mean"].isna().all()
    # NAS-Bench-101's column is not one of these benchmarks: its rows (Semi-NAS, BONAS...) stay out
    assert "nb101-cifar10" not in set(cells["benchmark"])
    assert set(only.loc[only["method"] == "LaNAS", "paper_note"]) == {"† reproduced by the WeakNAS authors with adapted code"}


def test_tables_without_runs_show_the_paper_alone():
    cells = tables.compare(None, "table4", ROWS, {"nb101-cifar10": "nb101-cifar10"}, LABELS)
    assert (cells["status"] == tables.NOT_RUN).all()
    methods = set(cells["method"])
    assert {"NAO", "Semi-NAS", "Neural Predictor", "Semi-Assessor", "LaNAS", "BONAS", "Arch2vec", "NASBOWLr",
            "CATE (DNGO-LS)", "WeakNAS", "Random Search", "Reg Evolution", "NPENAS-BO", "NPENAS-NP"} == methods
    # the methods' own papers beside the WeakNAS paper: SemiNAS in both, NPENAS in its authors' paper only
    cell = cells.set_index(["method", "queries", "metric"])
    assert cell.loc[("Semi-NAS", 2000, "test_acc"), ["paper", "authors"]].tolist() == [94.02, 94.02]
    npenas = cell.loc[("NPENAS-BO", 150, "test_acc")]
    assert np.isnan(npenas["paper"]) and npenas["authors"] == pytest.approx(100 - 5.9)
    assert "Paper (authors)" in tables.display(cells).columns
    assert any(line.startswith("Paper (authors), NPENAS-BO: Wei et al.") for line in tables.citation_lines(cells))
    lanas200 = cells[(cells["method"] == "LaNAS") & (cells["queries"] == 200) & (cells["metric"] == "test_acc")]
    assert lanas200["paper"].tolist() == [93.90] and lanas200["paper_sd"].isna().all()  # the paper prints "-"
    # ascending budgets, as the paper's columns
    assert cells["queries"].tolist() == sorted(cells["queries"].tolist())


@pytest.fixture
def found() -> pd.DataFrame:
    """Test accuracy and rank found by 3 WeakNAS seeds and 2 random seeds at 150 and 1000 queries."""
    rows = [("nb101-cifar10", "weaknas", s, q, acc, rank) for s, (q, acc, rank) in enumerate(
        [(150, 94.10, 12), (150, 94.20, 4), (150, 94.00, 30)])]
    rows += [("nb101-cifar10", "weaknas", s, 1000, acc, rank) for s, (acc, rank) in enumerate(
        [(94.30, 2), (94.20, 4), (94.25, 3)])]
    rows += [("nb101-cifar10", "random", s, 1000, acc, rank) for s, (acc, rank) in enumerate([(93.0, 900), (93.4, 500)])]
    return pd.DataFrame(rows, columns=["benchmark", "method", "seed", "queries", "test_label", "test_rank"])


def test_budget_cells_exact_values_and_verdicts(found):
    values = tables.budget_values(found, {"nb101-cifar10": 94.32})
    cells = tables.compare(tables.summarize(values), "table4", ROWS, {"nb101-cifar10": "nb101-cifar10"}, LABELS)
    ran = cells[cells["status"] == "ran here"].set_index(["method", "queries", "metric"])
    acc150 = ran.loc[("WeakNAS", 150, "test_acc")]
    assert acc150["n"] == 3 and acc150["mean"] == pytest.approx(94.10) and acc150["sd"] == pytest.approx(0.10)
    assert math.isnan(acc150["ci_low"])  # 3 seeds: no interval
    assert acc150["paper"] == pytest.approx(94.10) and acc150["paper_sd"] == pytest.approx(0.19)
    assert acc150["difference"] == pytest.approx(0.0, abs=1e-9)
    assert acc150["verdict"] == "too few seeds to judge (n=3)"  # 3 seeds: the verdict says it cannot judge
    regret150 = ran.loc[("WeakNAS", 150, "regret")]
    assert regret150["mean"] == pytest.approx(0.22) and regret150["paper"] == pytest.approx(0.22)
    rank150 = ran.loc[("WeakNAS", 150, "avg_rank")]
    assert rank150["mean"] == pytest.approx(46 / 3) and rank150["paper"] == pytest.approx(12.3)
    assert math.isnan(rank150["paper_sd"])
    acc1000 = ran.loc[("WeakNAS", 1000, "test_acc")]  # mean 94.25, SD 0.05: paper 94.25 +- 0.04
    assert acc1000["mean"] == pytest.approx(94.25)
    random1000 = ran.loc[("Random Search", 1000, "test_acc")]
    assert random1000["mean"] == pytest.approx(93.2) and math.isnan(random1000["paper"])  # paper: 2000 only
    assert random1000["verdict"] == ""
    # the paper's random-search cell at 2000 queries is kept, marked
    paper_only = cells[(cells["method"] == "Random Search") & (cells["status"] == tables.NOT_RUN)]
    assert set(paper_only["queries"]) == {2000}


def test_verdict_rules():
    assert tables.verdict(10.0, 9.0, 11.0, 10.5, 1.0, 20) == "within paper SD and our CI"
    assert tables.verdict(10.0, 9.9, 10.1, 10.5, 1.0, 20) == "within paper SD"
    assert tables.verdict(10.0, 8.0, 12.0, 11.5, 1.0, 20) == "within our CI"
    assert tables.verdict(10.0, 9.9, 10.1, 12.0, 1.0, 20) == "outside both"
    assert tables.verdict(10.0, 9.9, 10.1, 12.0, np.nan, 20) == "outside both"
    assert tables.verdict(10.0, 9.9, 10.1, np.nan, np.nan, 20) == ""
    assert tables.verdict(10.0, 9.0, 11.0, 10.5, 1.0, 4) == "too few seeds to judge (n=4)"


def test_mann_whitney_against_the_reference(found):
    values = tables.budget_values(found, {"nb101-cifar10": 94.32})
    tests = statistics.comparisons(values[(values["metric"] == "test_acc") & (values["queries"] == 1000)], "weaknas")
    row = tests.set_index("method").loc["random"]
    expected = stats.mannwhitneyu([94.30, 94.20, 94.25], [93.0, 93.4], alternative="two-sided")
    assert row["u_statistic"] == pytest.approx(6.0) and row["p_value"] == pytest.approx(expected.pvalue)
    assert row["p_better"] == 1.0  # every WeakNAS run found a more accurate architecture
    assert row["mean"] == pytest.approx(93.2) and row["n"] == 2
    assert math.isnan(tests.set_index("method").loc["weaknas"].get("p_value", np.nan))


def test_mann_whitney_counts_runs_without_the_optimum_as_worst(summary):
    tests = statistics.comparisons(tables.optimum_values(summary[summary["benchmark"] == "nb201-cifar10"]), "weaknas")
    row = tests.set_index("method").loc["random"]
    expected = stats.mannwhitneyu([100, 200, 300], [1000, np.inf, 3000], alternative="two-sided")
    # U of the reference, counting the pairs it wins (fewer queries): all 9
    assert row["p_value"] == pytest.approx(expected.pvalue) and row["u_statistic"] == 9.0 and row["p_better"] == 1.0
    assert row["n"] == 2 and row["missing"] == 1


def test_written_formats(summary, tmp_path):
    cells = table5(summary)
    tables.write(cells, tables.display(cells), "Table 5 (test)", ["Protocol: 3 seeds", "50% of runs"],
                 tmp_path / "t.csv", tmp_path / "t.md", tmp_path / "t.tex")
    back = pd.read_csv(tmp_path / "t.csv")
    assert len(back) == len(cells) and {"mean", "sd", "ci_low", "ci_high", "n", "paper", "verdict"} <= set(back.columns)
    markdown = (tmp_path / "t.md").read_text()
    assert markdown.startswith("# Table 5 (test)\n\n- Protocol: 3 seeds\n")
    assert "## nb201-cifar10" in markdown and "## nb201-cifar100" in markdown
    weak = cells[(cells["method"] == "WeakNAS") & (cells["benchmark"] == "nb201-cifar10")].iloc[0]
    weak_line = next(line for line in markdown.splitlines() if line.startswith("| WeakNAS"))
    cells_of = [c.strip() for c in weak_line.strip("|").split("|")]
    assert cells_of == ["WeakNAS", "Queries to optimum", "3", "200.0", "100.0",
                        f"too few seeds (n < {statistics.MIN_SEEDS})", "182.1", "–", "+17.9",
                        "too few seeds to judge (n=3)"]  # '–': no authors' value (Table 5 has one: local search)
    random_line = next(line for line in markdown.splitlines() if line.startswith("| Random Search"))
    assert "2 (+1 not found)" in random_line
    assert "| MCTS " in markdown and tables.NOT_RUN in markdown
    latex = (tmp_path / "t.tex").read_text()
    assert latex.startswith("\\begin{table*}") and "\\toprule" in latex and "50\\% of runs" in latex
    assert "\\end{tabular}" in latex


def test_describe_is_the_one_used():
    assert tables.describe is statistics.describe


def test_accuracy_intervals_stay_under_the_optimum_and_verdicts_follow_them():
    """Five seeds near CIFAR-10's optimum (91.52): the interval never passes it (a t interval would reach
    92.1), and the verdict reads the same interval the table shows."""
    runs = pd.DataFrame({"benchmark": "nb201-cifar10", "method": "weaknas", "seed": range(5), "queries": 200,
                         "test_label": [91.52, 91.52, 91.52, 91.52, 89.0], "test_rank": [1, 1, 1, 1, 300]})
    cells = tables.compare(tables.summarize(tables.budget_values(runs, {"nb201-cifar10": 91.52})), "table1", ROWS,
                           {"nb201-cifar10": "nb201-cifar10"}, LABELS)
    ran = cells[cells["status"] == "ran here"].set_index("metric")
    acc, regret = ran.loc["test_acc"], ran.loc["regret"]
    assert 89.0 <= acc["ci_low"] <= acc["ci_high"] <= 91.52 and 0 <= regret["ci_low"] <= regret["ci_high"]
    assert tables.verdict(*acc[["mean", "ci_low", "ci_high"]], acc["ci_high"], np.nan, 5) == "within our CI"
    shown = tables.display(cells[cells["status"] == "ran here"])
    assert shown["95% CI"].iloc[0] == f"[{acc['ci_low']:.2f}, {acc['ci_high']:.2f}]"


def test_p_values_have_one_form():
    assert [tables.p_value_text(p) for p in (0.1, 1.0, 0.0636, 0.0123, 0.001, 0.00099, 1e-9, np.nan)] == [
        "0.10", "1.0", "0.064", "0.012", "0.0010", "< 0.001", "< 0.001", "–"]


def test_fair_table_shows_formatted_p_values_and_no_interval_below_the_threshold(found):
    values = tables.budget_values(found, {"nb101-cifar10": 94.32})
    tests = statistics.comparisons(values[(values["metric"] == "test_acc") & (values["queries"] == 1000)], "weaknas")
    shown = tables.display_tests(tests, LABELS, "weaknas").set_index("Method")
    assert shown.loc["Random Search", "p"] == tables.p_value_text(tests["p_value"].iloc[1]) == "0.20"
    assert shown.loc["Random Search", "p (Holm)"] == "0.20"  # one test: Holm changes nothing
    assert shown.loc["Random Search", "Better"] == "not shown (leans WeakNAS)"
    assert shown.loc["WeakNAS", "p"] == "–"
    assert (shown["95% CI"] == f"too few seeds (n < {statistics.MIN_SEEDS})").all()


def test_paper_layout_has_methods_as_rows_and_budgets_as_columns(found, tmp_path):
    values = tables.budget_values(found, {"nb101-cifar10": 94.32})
    cells = tables.compare(tables.summarize(values), "table4", ROWS, {"nb101-cifar10": "nb101-cifar10"}, LABELS)
    wide = tables.paper_layout(tables.display(cells))
    assert wide.index.tolist() == ["WeakNAS", "Random Search"]  # ours only; the paper-only rows stay in the long table
    assert wide.columns.names == ["Queries", "Metric"]  # one benchmark: no benchmark level
    assert wide.loc["WeakNAS", (150, "Test Acc (%)")] == "94.10 ± 0.10"
    assert wide.loc["Random Search", (150, "Test Acc (%)")] == "–"  # not run at 150
    tables.write(cells, tables.display(cells), "Table 4 (test)", ["Protocol"], tmp_path / "t.csv", tmp_path / "t.md",
                 tmp_path / "t.tex")
    latex = (tmp_path / "t.paper.tex").read_text()
    assert tables.paper_tex_path(tmp_path / "t.tex") == tmp_path / "t.paper.tex"
    assert "\\multicolumn{3}{c}{150}" in latex and "WeakNAS & 94.10 $\\pm$ 0.10 &" in latex and "t.tex" in latex


def test_a_table_where_nothing_ran_writes_an_empty_paper_layout_that_says_so(tmp_path):
    cells = tables.compare(None, "table4", ROWS, {"nb101-cifar10": "nb101-cifar10"}, LABELS)
    tables.write(cells, tables.display(cells), "Table 4", ["Not run here"], tmp_path / "t.csv", tmp_path / "t.md",
                 tmp_path / "t.tex")
    assert "Nothing ran here; the paper's values are in t.tex." in (tmp_path / "t.paper.tex").read_text()
