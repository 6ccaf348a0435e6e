"""Issue 31: a bad input cannot harm. One class of hostile or broken input per test, each refused where it
enters in ONE line that names the file, flag or key, with nothing written; no workflow runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from nasrepro import analysis, cli, config as cfg, plugins
from nasrepro.render import table_cells as tables
from nasrepro.render import escape
from nasrepro.benchmark import write_table
from nasrepro.errors import NasReproError

REPO = Path(__file__).resolve().parents[1]
CONFIG = {
    "data": {"allow_download": False},
    "benchmarks": {"c10": {"space": "nb201", "dataset": "cifar10-valid", "fit_split": "x-valid"}},
    "methods": {"random": {"type": "random"}, "rea": {"type": "regularized_evolution"},
                "weaknas": {"type": "weaknas", "predictor": {"type": "mlp", "hidden_layer_sizes": [8], "max_epochs": 2}}},
    "experiments": {"short": {"benchmarks": ["c10"], "methods": ["random", "rea", "weaknas"], "seeds": 2,
                              "budget": {"queries": 20}}},
}
USERS_METHOD = """
import numpy as np
from nasrepro.searchers import Searcher

class Uniform(Searcher):
    def ask(self, max_queries):
        return np.array([self.space.operators.sample(np.random.default_rng(self.seed))])

    def tell(self, ids, labels):
        pass
"""
YTE_CONFIG = """__use_yte__: true
data:
  ?if True:
    mirror: ?__import__("pathlib").Path("{marker}").write_text("ran")
"""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A working directory with cfg.yaml, and this process's module path restored afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv(plugins.MODULE_PATH, raising=False)
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(CONFIG))
    return tmp_path


def error_line(capsys, argv: list[str], *fragments: str) -> str:
    """Run the CLI in this process: exit 2 and one line on stderr holding every fragment."""
    code = cli.main(argv)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    assert all(fragment in lines[0] for fragment in fragments), lines[0]
    return lines[0]


def refused(call, *fragments: str) -> str:
    with pytest.raises(NasReproError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message and all(fragment in message for fragment in fragments), message
    return message


# ------------------------------------------------------------------------------- --table and --features
@pytest.fixture
def table(workdir, nb201_synthetic) -> Path:
    path = workdir / "table.parquet"
    write_table(nb201_synthetic.table, nb201_synthetic.meta, path)
    return path


def altered(path: Path, name: str, edit) -> Path:
    """A copy of a canonical table with its rows edited, its metadata (provenance, rows written) kept."""
    arrow = pq.read_table(path)
    frame = edit(arrow.to_pandas())
    out = path.with_name(name)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(arrow.schema.metadata), out)
    return out


def with_value(column: str, row: int, value):
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(str if isinstance(value, str) else float)
        frame.loc[row, column] = value
        return frame
    return edit


SEARCH = ["search", "--config", "cfg.yaml", "--experiment", "short", "--bench", "c10", "--seed", "0", "--out", "out"]


@pytest.mark.parametrize("name, edit, fragments", [
    ("nan.parquet", with_value("fit_label", 3, np.nan), ["column 'fit_label', row 3 (architecture 3): nan is not a finite "
                                                          "label in [0, 100] %"]),
    ("inf.parquet", with_value("test_label", 7, np.inf), ["column 'test_label', row 7", "inf is not a finite"]),
    ("huge.parquet", with_value("fit_label", 5, 1e9), ["column 'fit_label', row 5", "1e+09 is not a finite"]),
    ("cut.parquet", lambda frame: frame.iloc[:-1], ["15624 rows, but the table was written with 15625"]),
    ("text.parquet", with_value("fit_label", 0, "abc"), ["column 'fit_label' is of type", "not numbers"]),
])
def test_a_bad_table_is_refused_naming_the_file(capsys, table, name, edit, fragments):
    bad = altered(table, name, edit)
    error_line(capsys, [*SEARCH, "--method", "random", "--table", bad.name], f"error: {bad.name}: ", *fragments)
    assert not Path("out").exists()


@pytest.mark.parametrize("matrix, fragments", [
    (np.full((15625, 30), "a"), ["a 2-D array of <U1, not an encoding"]),
    (np.zeros((10, 30)), ["10 rows, but the benchmark has 15625 architectures"]),
    (np.full((15625, 30), np.nan), ["row 0 (architecture 0) holds a value that is not finite"]),
])
def test_bad_features_are_refused_naming_the_file(capsys, table, matrix, fragments):
    np.save("features.npy", matrix)
    error_line(capsys, [*SEARCH, "--method", "weaknas", "--table", table.name, "--features", "features.npy"],
               "error: features.npy: ", *fragments)
    assert not Path("out").exists()


# --------------------------------------------------------------------------- seeds, budgets, cores: limits
def test_cli_seeds_share_the_configs_limits(capsys, table):
    error_line(capsys, [*SEARCH[:-4], "--seed", str(2**64), "--out", "out", "--method", "random", "--table", table.name],
               f"error: --seed {2**64}: seed {2**64} is more than {2**32 - 1}, the largest seed")
    config = {**CONFIG, "experiments": {"short": {**CONFIG["experiments"]["short"], "seeds": [2**64]}}}
    refused(lambda: cfg.validate(config, "cfg.yaml"), f"seed {2**64} (item 0) is more than {2**32 - 1}, the largest seed")


@pytest.mark.parametrize("experiment, fragments", [
    ({"budget": {"queries": 200000}, "budgets": list(range(1, 100001))},
     ["key 'experiments.short.budgets': 100000 entries, more than the 100 allowed"]),
    ({"methods": ["random"], "budget": {"queries": 1000000}},
     ["key 'experiments.short.budget.queries': 1000000 is more than the 15625 architectures of benchmark 'c10'",
      "method 'random' (random) does not declare that it asks for an architecture again"]),
    ({"methods": ["random"], "budget": {"until_optimum": True}, "budgets": [100, 20000]},
     ["key 'experiments.short.budgets': [20000] exceed the 15625 architectures of benchmark 'c10'"]),
    ({"charge_repeats": False, "budget": {"queries": 20000}}, ["repeats are not charged (charge_repeats: false)"]),
])
def test_budgets_and_queries_are_capped_at_validation(experiment, fragments):
    config = {**CONFIG, "experiments": {"short": {**CONFIG["experiments"]["short"], **experiment}}}
    refused(lambda: cfg.validate(config, "cfg.yaml"), "cfg.yaml: ", *fragments)


COMPARE = ["compare", "mine.py:Uniform", "--config", "cfg.yaml", "--against", "random", "--bench", "c10"]


@pytest.mark.parametrize("flags, fragments", [
    (["--budgets", "abc"], ["--budgets abc: 'abc' is not a number of queries from 1 to 1000000"]),
    (["--budgets", "100,2000000"], ["'2000000' is not a number of queries"]),
    (["--budgets", ",".join(map(str, range(1, 102)))], ["--budgets: 101 budgets; give at most 100 distinct ones"]),
    (["--seeds", "0"], ["--seeds 0: give a number of seeds from 1 to 10000"]),
    (["--cores", "0"], ["--cores 0: give at least 1 core, or all"]),
    (["--cores", "two"], ["--cores two: not a number of cores"]),
    (["--against", "random,nope"], ["--against: 'nope' is not defined under 'methods' in cfg.yaml"]),
    (["--bench", "c100"], ["--bench: 'c100' is not defined under 'benchmarks' in cfg.yaml"]),
])
def test_compare_names_the_flag_and_writes_nothing(capsys, workdir, flags, fragments):
    (workdir / "mine.py").write_text(USERS_METHOD)
    error_line(capsys, [*COMPARE, *flags], *fragments)
    assert not (workdir / "results").exists()


@pytest.mark.parametrize("target, fragment", [
    ("mine.py:../../../victim", "'../../../victim' is not the name of a Python class"),
    ("mine:Uniform/../../x", "'Uniform/../../x' is not the name of a Python class"),
    ("../mine:Uniform", "'../mine' is not a Python module name"),
    ("mine.py:Random", "--against: 'random' is also the name your method Random gets"),
    ("mine.py:Missing", "cfg.yaml + nasrepro compare mine.py:Missing: key 'methods.missing.type'"),
])
def test_compare_checks_names_before_writing_anything(capsys, workdir, target, fragment):
    (workdir / "mine.py").write_text(USERS_METHOD)
    victim = workdir.parent / "victim.yaml"
    error_line(capsys, ["compare", target, *COMPARE[2:]], fragment)
    assert not (workdir / "results").exists() and not victim.exists()


@pytest.mark.parametrize("args", [["--cores", "all", "--cores", "0"], ["-c0"], ["--cores=0"], ["--jobs", "0"]])
def test_preflight_refuses_zero_cores(capsys, workdir, args):
    error_line(capsys, ["preflight", *args, "--configfile", "cfg.yaml"], "give at least 1 core, or all")


def test_the_make_targets_run_the_preflight_before_snakemake():
    dry = subprocess.run(["make", "-n", "smoke", "render", "report", 'ARGS=--cores 0'], cwd=REPO, capture_output=True,
                         text=True, timeout=60)
    commands = [line for line in dry.stdout.splitlines() if "snakemake" in line]
    assert len(commands) == 3 and all("nasrepro preflight --cores all" in line for line in dry.stdout.splitlines()
                                      if "preflight" in line), dry.stdout
    assert "nasrepro preflight --cores all --cores 0 --configfile config/smoke.yaml && " in dry.stdout, dry.stdout


# ---------------------------------------------------------------------------------------- YTE configs
@pytest.mark.parametrize("argv", [
    ["validate", "yte.yaml"],
    ["preflight", "--cores", "all", "--configfile", "cfg.yaml", "yte.yaml"],
    [*COMPARE, "--config", "yte.yaml"],
])
def test_a_config_with_yte_templating_is_refused_without_running_it(capsys, workdir, argv):
    marker = workdir / "ran.txt"
    (workdir / "yte.yaml").write_text(YTE_CONFIG.format(marker=marker))
    (workdir / "mine.py").write_text(USERS_METHOD)
    error_line(capsys, argv, "error: yte.yaml: key '__use_yte__' turns on Snakemake's YTE templating")
    assert not marker.exists() and not (workdir / "results").exists()


# ------------------------------------------------------------------------------------------ run files
@pytest.mark.parametrize("meta, trajectory, fragment", [
    ({}, None, "0.json: key 'method' is missing: not a finished run's metadata; delete "),
    ({"method": {}}, None, "0.json: key 'budget.queries' is missing"),
    ([], None, "0.json: key 'method' is missing"),
    (None, pd.DataFrame({"query": [1]}), "0.parquet: column 'arch_id' is missing: not a run's trajectory"),
])
def test_a_run_file_without_what_collecting_reads_is_named(tmp_path, meta, trajectory, fragment):
    complete = {key: 0 for key in ("method", "charge_repeats", "label_mode", "test_optimum", "queries_used", "wall_seconds")}
    complete.update(budget={"queries": 20, "until_optimum": False, "optima": ["fit"]}, optimum_arch_ids={"fit": 1, "test": 2},
                    benchmark={key: "" for key in ("fit_split", "test_split", "fit_is_test", "label_note")},
                    environment={"device": "cpu"})
    run = tmp_path / "runs" / "random-0"
    run.mkdir(parents=True)
    (run / "0.json").write_text(json.dumps(complete if meta is None else meta))
    full = pd.DataFrame({column: [1] for column in analysis.TRAJECTORY_COLUMNS})
    (full if trajectory is None else trajectory).to_parquet(run / "0.parquet")
    refused(lambda: analysis.load_run(run / "0.parquet"), fragment)


# ----------------------------------------------------------------------------- labels in the tables
def test_labels_and_captions_are_text_in_markdown_latex_and_html(tmp_path):
    label = "Evil\n# Injected heading | x <script>alert(1)</script>\n\n\\end{table} 100% $x$"
    shown = pd.DataFrame({"Benchmark": ["c10"], "Method": [label], "Mean": ["91.00"], "SD": ["0.10"], "Metric": ["Acc"],
                          "Difference": ["-0.12"]})
    files = {ext: tmp_path / f"t.{ext}" for ext in ("csv", "md", "tex")}
    tables.write(shown, shown, f"Title {label}", [f"{label}: options", "# not a heading"], *files.values())
    markdown = files["md"].read_text().splitlines()
    assert [line for line in markdown if line.startswith("#")] == [f"# Title {escape.markdown_text(label)}", "## c10"]
    rows = [line for line in markdown if line.startswith("|")]
    assert len(rows) == 3 and all(len(re.split(r"(?<!\\)\|", line)) == 7 for line in rows), rows  # 5 columns, 1 line
    assert "&lt;script>" in rows[2] and "\\|" in rows[2] and "| -0.12 " in rows[2] + " "
    assert "- \\# not a heading" in markdown
    page = (tmp_path / "t.html").read_text()
    assert "<script>" not in page and page.count("&lt;script&gt;") == 3  # title, protocol line, cell
    assert escape.rst_text(label).count("\n") == 0 and "\\|" in escape.rst_text(label)  # one caption line, no markup
    for tex in (files["tex"], tables.paper_tex_path(files["tex"])):
        latex = tex.read_text()
        assert "\\end{table}" not in latex.replace("\\end{table*}", "") and "\n\n" not in latex.strip()
        assert "100\\% \\$x\\$" in latex and "\\textbackslash{}end\\{table\\}" in latex


# ------------------------------------------------------------------------------- module path of jobs
def test_a_configs_folder_comes_after_the_standard_library_in_jobs(workdir):
    folder = workdir / "configs"
    folder.mkdir()
    (folder / "cfg.yaml").write_text(yaml.safe_dump({**CONFIG, "methods": {**CONFIG["methods"],
                                                                             "mine": {"type": "mine:Uniform"}}}))
    (folder / "mine.py").write_text(USERS_METHOD)
    (folder / "json.py").write_text("raise RuntimeError('a stray json.py shadowed the standard library')\n")
    cfg.load(folder / "cfg.yaml")  # validation loads the user's module beside the config
    assert str(folder) not in os.environ.get("PYTHONPATH", "")
    job = subprocess.run([sys.executable, "-c", "import json; from nasrepro import plugins; "
                          "print(json.__file__, plugins.load('method', 'mine:Uniform').__module__)"],
                         capture_output=True, text=True, timeout=120)  # a job: inherits this environment
    assert job.returncode == 0 and "mine" in job.stdout and str(folder) not in job.stdout.split()[0], job.stderr


def test_a_label_is_plain_text_in_figures(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nasrepro.render.escape import figure_text

    figure, axes = plt.subplots()
    axes.plot([1, 2], label=figure_text("cost $\\undefinedcommand$ 2"))  # mathtext would stop the figure
    axes.legend()
    figure.savefig(tmp_path / "figure.png")
    plt.close(figure)
