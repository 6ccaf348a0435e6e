"""The output registry: every table and figure an experiment can render, declared once.

An output's name is what an experiment's `outputs:` lists (the config schema's enum is read from here);
its kind says which files it writes (`FILES`); its title heads it; its caption describes it in the report;
its renderer draws it from the experiment's collected runs; `code` lists the modules whose edit re-renders
it; `needs` says what it requires of the experiment (checked when the config is validated). The workflow's
rendering rules are generated from this registry (rules/report.smk). It imports nothing of the package: config
validation and rendering (`nasrepro.render`) both read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

# Each kind's files: name -> suffix (the paper-layout LaTeX beside the long one: tables.write writes both)
FILES = {"table": {"csv": "csv", "md": "md", "html": "html", "tex": "tex", "paper_tex": "paper.tex"},
         "figure": {"png": "png", "pdf": "pdf", "csv": "csv"}}
FOLDERS = {"table": "tables", "figure": "figures"}
SHARED_CODE = ("src/nasrepro/render/__init__.py", "src/nasrepro/outputs.py", "src/nasrepro/render/protocol.py",
               "src/nasrepro/render/escape.py", "src/nasrepro/render/statistics.py", "src/nasrepro/analysis.py", "src/nasrepro/metrics.py", "scripts/render.py")
TABLE_CODE = ("src/nasrepro/render/tables.py", "src/nasrepro/render/table_cells.py")
CURVE_CODE = ("src/nasrepro/render/figures.py", "src/nasrepro/render/curves.py", "src/nasrepro/render/style.py")


def _budgets(experiment: dict) -> str | None:
    return None if experiment.get("budgets") else "budgets"


def _budgets_unless_optimum(experiment: dict) -> str | None:
    return None if experiment["budget"].get("until_optimum") else _budgets(experiment)


def _until_optimum(experiment: dict) -> str | None:
    return None if experiment["budget"].get("until_optimum") else "budget.until_optimum"


def _record_pools(experiment: dict) -> str | None:
    return None if experiment.get("record_pools") else "record_pools"


@dataclass(frozen=True)
class Output:
    name: str
    kind: str  # "table" or "figure"
    title: str
    caption: str
    renderer: str  # "module:function" of nasrepro.render, called as renderer(view, runs, files)
    code: tuple[str, ...]
    needs: Callable[[dict], str | None] = lambda experiment: None  # the experiment key it lacks, or None
    inputs: str | None = None  # extra inputs beyond the collected runs (rules/report.smk knows each kind)
    paper_only: bool = False  # rendered from the paper's values alone where the experiment cannot run here

    def files(self, experiment: str) -> dict[str, str]:
        return {key: f"results/{experiment}/{FOLDERS[self.kind]}/{self.name}.{suffix}"
                for key, suffix in FILES[self.kind].items()}


PAPER_TABLE_CAPTION = (
    "One line per cell: our mean, SD (ddof=1), confidence interval and number of seeds, the paper's value (± its "
    "SD where it prints one), the difference, and a verdict (within the paper's SD, within our CI, both, or "
    "outside both). Cells the paper reports for methods or budgets this suite does not run are kept and marked "
    "\"reported by the paper, not run here\"; their values are transcribed in nasrepro/resources/paper_values.csv.")


def _paper_table(number: int, subject: str, needs) -> Output:
    return Output(f"table{number}", "table", f"Table {number}: {subject}", f"The paper's Table {number}. "
                  + PAPER_TABLE_CAPTION, "tables:render_paper_table", TABLE_CODE, needs, paper_only=True)


OUTPUTS: dict[str, Output] = {output.name: output for output in [
    _paper_table(1, "one strong predictor vs iterated weak predictors", _budgets),
    _paper_table(2, "exploration vs exploitation inside the Top-N", _budgets),
    _paper_table(3, "WeakNAS vs its BO variant (EI)", _budgets),
    _paper_table(4, "test accuracy found within fixed query budgets", _budgets),
    _paper_table(5, "queries until the global optimum is queried", _until_optimum),
    Output("fair", "table", "Fair-protocol companion",
           "Every method scored the same way (the test accuracy of its queried architecture with the best fitting "
           "label, test_of_best_valid; for a run to the optimum, queries until the optimum is first queried), and "
           "the experiment's reference method compared with each other method by a two-sided Mann-Whitney U test "
           "over seeds, with its p-value.", "tables:render_fair", TABLE_CODE, _budgets_unless_optimum),
    Output("comparison", "table", "Comparison: queries to the optimum, and the test accuracy of the best-by-validation "
           "architecture at fixed budgets",
           "A neutral comparison of the experiment's reference method (`nasrepro compare`: one's own) with each other "
           "method: every method scored the same way (queries until the optimum is first queried; the test accuracy "
           "of its queried architecture with the best fitting label, no predictor peek), a two-sided Mann-Whitney U "
           "test over seeds of the reference against each method.", "tables:render_comparison", TABLE_CODE,
           _budgets_unless_optimum),
    Output("convergence", "figure", "Test accuracy found vs queries",
           "The test accuracy of the architecture counted as found (the experiment's report mode per method, named on "
           "the y axis where all methods share it) versus the number of queries (log scale): one panel per benchmark, "
           "one line per method, mean over seeds. A panel shows at most 4 methods; with more, small multiples each "
           "hold the reference method and up to 3 others, on one y axis. The band is ±1 SD cut to the seeds' range, "
           "drawn where a panel has at most 2 lines (the .csv has every SD). Dotted lines: the test optimum and, where "
           "a run queried it, the validation optimum's test accuracy (where a method that selects by validation ends, "
           "so the best-by-validation curve can fall as better validation values are found). Runs that stopped early "
           "(optimum queried) keep their last value.",
           "figures:render_convergence", CURVE_CODE + ("src/nasrepro/render/optima.py",)),
    Output("optimum_edf", "figure", "Runs that have queried the optimum vs queries",
           "The empirical distribution of the queries to the optimum (the figure form of Table 5): per method, the "
           "fraction of its runs that have queried the optimum after q queries (log scale), one step per run. A run "
           "stopped by its cap before finding the optimum never counts, so its method's curve stays below 1; the "
           "legend says how many did not find it.", "optimum_edf:render_optimum_edf",
           ("src/nasrepro/render/optimum_edf.py", "src/nasrepro/render/curves.py", "src/nasrepro/render/style.py")),
    Output("regret", "figure", "Regret vs queries",
           "Regret curves (log scale, linear below 0.01 so that 0 is drawn), mean over seeds, per benchmark two "
           "panels: the validation regret of the best architecture found (the fitting optimum less the best fitting "
           "label queried so far; monotone), and the test regret of the best-by-validation architecture (the test "
           "optimum less the test accuracy of the queried architecture with the best fitting label; it can rise "
           "when a better validation value tests worse). The dotted floor is the validation optimum's own test "
           "regret: a method that selects by validation ends there, not at 0. Runs that stopped keep their last "
           "value.", "regret:render_regret",
           ("src/nasrepro/render/regret.py", "src/nasrepro/render/optima.py", "src/nasrepro/render/curves.py",
            "src/nasrepro/render/style.py")),
    Output("figure1", "figure", "Figure 1: iterated weak predictors vs one strong predictor",
           "Figure 1 of the paper: a set of iterated weak predictors (WeakNAS) against one strong predictor fitted "
           "on uniformly sampled architectures, versus the number of queries; per method the best queried "
           "architecture (solid) and the latest predictor's top-1 (dashed); mean over seeds, band ±1 SD cut to the seeds' "
           "range.",
           "figures:render_figure1", CURVE_CODE),
    Output("figure3", "figure", "Figure 3: search dynamics per iteration",
           "Figure 3 of the paper: (a) the true test rank of the predictor's top-1; (b) the empirical distribution "
           "of the test errors of the predicted top-200, one curve per iteration; (c) the probability that one "
           "draw from the sampling pool is a true top-50 architecture, and Kendall's tau of the predictor on the "
           "true top-50 (by fitting and by test label).", "figures:render_dynamics",
           ("src/nasrepro/render/figures.py", "src/nasrepro/render/dynamics.py", "src/nasrepro/render/style.py")),
    Output("figure4", "figure", "Figure 4: t-SNE of the sampling pools",
           "Figure 4 of the paper: t-SNE of the encoded space. Top row: the Top-N sampling pool after each of the "
           "first iterations; bottom row: the architectures drawn from it at the next iteration. Colour is the true "
           "test rank (1 = best); grey points are not in the pool or not drawn. One run (the experiment's smallest "
           "seed) is shown.", "figures:render_embedding",
           ("src/nasrepro/render/figures.py", "src/nasrepro/render/embedding.py", "src/nasrepro/render/style.py"),
           _record_pools, inputs="embedding"),
    Output("figure5", "figure", "Figure 5: WeakNAS across predictors and encodings",
           "Figure 5 of the paper: robustness of WeakNAS across predictors. One panel per predictor type, one line "
           "per architecture encoding; best test accuracy found against queries, mean over seeds (band: ±1 SD cut to the "
           "seeds' range, at most 4 lines a panel).",
           "figures:render_figure5", CURVE_CODE),
]}
