"""The run store never lets a stale table exit 0: after any order of edits, touches and deletions one
invocation brings every output up to date; a table is identified by its content; a run is never shortened;
collect refuses a run the plan does not hold; the start line and `nasrepro cost` count what will run; two
workflows never write one store at once. Each test works on its own copy of one finished tiny workflow."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import MIRROR, TINY_MLP
from test_workflow import job_counts, show

pytestmark = pytest.mark.slow  # every test here runs the workflow

CONFIG = {
    "data": {"mirror": str(MIRROR), "allow_download": False},
    "benchmarks": {"c10": {"space": "nb201", "dataset": "cifar10-valid", "fit_split": "x-valid"}},
    "methods": {
        "weaknas": {"type": "weaknas", "label": "WeakNAS", "init_sample": 10, "predictor": TINY_MLP},
        "random": {"type": "random", "label": "Random Search"},
        "regularized_evolution": {"type": "regularized_evolution", "label": "R-EA"},
    },
    "experiments": {
        "short": {"description": "A short run.", "benchmarks": ["c10"], "seeds": [0, 1],
                  "methods": ["weaknas", "random", "regularized_evolution"],
                  "budget": {"queries": 30}, "budgets": [10, 30], "outputs": ["table4"]},
    },
}


def with_changes(**changes) -> dict:
    config = json.loads(json.dumps(CONFIG))
    config["experiments"]["short"].update(changes)
    return config


@pytest.fixture(scope="module")
def template(tmp_path_factory, snakemake_run):
    if not (MIRROR / "nb201" / "cifar10_avg.csv").is_file():
        pytest.skip(f"benchmark mirror not found at {MIRROR} (set NASREPRO_MIRROR)")
    workdir = tmp_path_factory.mktemp("store")
    result = run(snakemake_run, workdir, CONFIG)
    assert result.returncode == 0, show(result)
    return workdir


@pytest.fixture
def finished(template, tmp_path):
    """A copy of the finished workflow (its runs, tables and Snakemake's records) for one test to change."""
    copy = tmp_path / "work"
    shutil.copytree(template, copy, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    return copy


def run(snakemake_run, workdir: Path, config: dict, *args: str) -> subprocess.CompletedProcess:
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return snakemake_run(workdir, "--cores", "2", "--configfile", str(path), *args, timeout=600)


def searches_run(result) -> int:
    return len(re.findall(r"^(?:local)?rule search:", result.stdout + result.stderr, flags=re.M))


def start_line(result) -> str:
    return next(line for line in (result.stdout + result.stderr).splitlines() if "search jobs to run" in line)


def seeds_in_table(workdir: Path) -> set[int]:
    return set(pd.read_parquet(workdir / "results/short/summary.parquet")["seed"])


def planned_searches(snakemake_run, workdir: Path, config: dict) -> int:
    result = run(snakemake_run, workdir, config, "-n")
    assert result.returncode == 0, show(result)
    output = result.stdout + result.stderr
    return job_counts(output).get("search", 0) if "Job stats:" in output else 0


def test_new_seeds_after_an_upstream_job_reran_are_run_in_one_invocation(finished, snakemake_run):
    result = run(snakemake_run, finished, with_changes(seeds=[0, 1, 2]), "--forcerun", "encode")
    assert result.returncode == 0, show(result)
    assert searches_run(result) == 3 and seeds_in_table(finished) == {0, 1, 2}, show(result)
    assert "seeds 0..2" in (finished / "results/short/tables/table4.md").read_text()
    assert planned_searches(snakemake_run, finished, with_changes(seeds=[0, 1, 2])) == 0


def test_a_deleted_run_is_made_again_in_one_invocation(finished, snakemake_run):
    run_dir = next((finished / "results/runs").glob("random-*"))
    for path in run_dir.glob("1.*"):
        path.unlink()
    result = run(snakemake_run, finished, CONFIG)
    assert result.returncode == 0 and searches_run(result) == 1, show(result)
    assert (run_dir / "1.json").is_file() and len(pd.read_parquet(finished / "results/short/summary.parquet")) == 6


def test_a_table_is_identified_by_its_content(finished, snakemake_run):
    result = run(snakemake_run, finished, CONFIG, "--forcerun", "convert")  # re-converted: the same data
    assert result.returncode == 0 and searches_run(result) == 0, show(result)
    table_path = finished / "resources/tables/c10.parquet"
    table = pd.read_parquet(table_path)
    table.loc[0, "fit_label"] += 0.5  # as a conversion that changes the table would
    from nasrepro.benchmark import Benchmark, write_table

    write_table(table, Benchmark.read_meta(table_path), table_path)
    assert planned_searches(snakemake_run, finished, CONFIG) == 6  # every run of that benchmark, and no other


def test_a_run_is_never_replaced_by_a_shorter_one(finished, snakemake_run):
    longer = with_changes(budget={"queries": 40}, budgets=[10, 40])
    result = run(snakemake_run, finished, longer)
    assert result.returncode == 0, show(result)
    assert planned_searches(snakemake_run, finished, CONFIG) == 0  # the 40-query runs serve 30 queries
    shorter = with_changes(budget={"queries": 20}, budgets=[10, 20])
    assert planned_searches(snakemake_run, finished, shorter) == 0
    assert planned_searches(snakemake_run, finished, longer) == 0
    random_run = next((finished / "results/runs").glob("random-*")) / "0.json"
    assert json.loads(random_run.read_text())["queries_used"] == 40
    to_optimum = with_changes(budget={"until_optimum": True, "queries": 60}, budgets=[10, 60])
    assert run(snakemake_run, finished, to_optimum).returncode == 0  # extends the runs once, to cover both
    for config in (CONFIG, to_optimum, longer, to_optimum):  # then no alternation re-runs anything
        assert planned_searches(snakemake_run, finished, config) == 0


def test_collect_refuses_a_run_the_plan_does_not_hold(finished, snakemake_run):
    record = next((finished / "results/runs").glob("random-*")) / "0.json"
    metadata = json.loads(record.read_text())
    metadata["config"]["code"] = "0" * 16  # as a run made by other code than this plan's
    record.write_text(json.dumps(metadata))
    result = run(snakemake_run, finished, CONFIG, "--forcerun", "collect")
    assert result.returncode != 0, show(result)
    lines = [line for line in result.stderr.splitlines() if "nasrepro error in rule collect" in line]
    assert len(lines) == 1 and f"{record.relative_to(finished)}: it was made by other code" in lines[0], show(result)
    assert not (finished / "results/short/tables/table4.md").exists()


def test_the_start_line_and_cost_count_the_searches_that_will_run(finished, snakemake_run):
    config = with_changes(seeds=[0, 1, 2, 3])
    path = finished / "more.yaml"
    path.write_text(yaml.safe_dump(config))
    cost = subprocess.run([str(Path(sys.executable).with_name("nasrepro")), "cost", str(path)], cwd=finished,
                          capture_output=True, text=True, timeout=300)
    assert cost.returncode == 0, cost.stderr
    total = next(line for line in cost.stdout.splitlines() if line.startswith("total all")).split()
    result = run(snakemake_run, finished, config, "-n")
    assert start_line(result).startswith("nasrepro: 6 of 12 search jobs to run")
    assert int(total[7]) == job_counts(result.stdout + result.stderr)["search"] == 6, cost.stdout


def test_an_experiment_the_mirror_cannot_serve_counts_no_search(finished, snakemake_run):
    config = json.loads(json.dumps(CONFIG))
    config["data"]["mirror"] = str(finished / "empty-mirror")
    config["benchmarks"]["c100"] = {"space": "nb201", "dataset": "cifar100", "fit_split": "x-valid"}
    config["experiments"]["short"]["benchmarks"] = ["c100"]
    (finished / "empty-mirror").mkdir()
    result = run(snakemake_run, finished, config)
    assert result.returncode == 0, show(result)
    assert start_line(result).startswith("nasrepro: 0 of 0 search jobs to run") and searches_run(result) == 0


def test_a_second_workflow_on_the_same_store_stops_in_one_line(finished, snakemake_run, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "results").symlink_to(finished / "results")
    holder = subprocess.Popen([sys.executable, "-c", "import time; from nasrepro.runs import lock_store; "
                               "h = lock_store(); print('held', flush=True); time.sleep(60)"],
                              cwd=finished, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = run(snakemake_run, other, CONFIG)
        assert result.returncode != 0
        lines = [line for line in result.stderr.splitlines() if line.startswith("Lock error")]
        assert len(lines) == 1 and "another workflow is writing this run store" in lines[0], show(result)
    finally:
        holder.kill()
        holder.wait()


def test_runs_why_names_a_runs_modules_and_what_changed(finished):
    run_dir = next((finished / "results/runs").glob("regularized_evolution-*"))
    record = run_dir / "0.json"
    metadata = json.loads(record.read_text())
    metadata["code_modules"]["nasrepro.searchers.evolution"] = "0" * 16  # as if the module changed since
    record.write_text(json.dumps(metadata))
    result = subprocess.run([str(Path(sys.executable).with_name("nasrepro")), "runs", "--why", run_dir.name],
                            cwd=finished, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split()[0] == "nasrepro.searchers.evolution" and line.endswith("changed") for line in lines)
    assert any(line.split()[0] == "nasrepro.oracle" and line.endswith("unchanged") for line in lines)
    assert "input table (resources/tables/c10.parquet): unchanged" in result.stdout
