"""The workflow never redoes or loses finished work: after a finished tiny run on the real NAS-Bench-201
mirror (fetched, checksum-verified, converted, encoded, searched), edits that do not change what a search
computes plan no search job (nor does a table or encoding touched or re-created with the same bytes);
changing one method option, or its code, re-runs exactly that method's jobs; a truncated table stops the
workflow in one line before anything is planned or deleted; a run shared by two experiments runs once."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from conftest import MIRROR, TINY_MLP
from test_workflow import job_blocks, job_counts, show

pytestmark = pytest.mark.slow  # every test here runs the workflow: make test runs them, make test-fast does not

CONFIG = {
    "data": {"mirror": str(MIRROR), "allow_download": False, "retries": 3},
    "benchmarks": {"c10": {"space": "nb201", "dataset": "cifar10-valid", "fit_split": "x-valid"}},
    "methods": {
        "weaknas": {"type": "weaknas", "label": "WeakNAS", "init_sample": 10, "predictor": TINY_MLP},
        "regularized_evolution": {"type": "regularized_evolution", "label": "Reg Evolution"},
        "random": {"type": "random", "label": "Random Search"},
        "mine": {"type": "my_search:MySearch", "label": "Mine"},
    },
    "experiments": {
        "short": {"description": "A short run.", "benchmarks": ["c10"],
                  "methods": ["weaknas", "regularized_evolution", "random", "mine"], "seeds": 2,
                  "budget": {"queries": 30}},
    },
}


MY_SEARCH = """from nasrepro.searchers.random_search import RandomSearch


class MySearch(RandomSearch):
    \"\"\"Random search under another name: a method of one's own, in one's own module.\"\"\"
"""


def searches_of(output: str) -> list[str]:
    return job_blocks(output, "search")


def planned(snakemake_run, workdir: Path, config: dict) -> str:
    path = workdir / "edited.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake_run(workdir, "-n", "--configfile", str(path))
    assert result.returncode == 0, show(result)
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def finished(tmp_path_factory, snakemake_run):
    if not (MIRROR / "nb201" / "cifar10_avg.csv").is_file():
        pytest.skip(f"benchmark mirror not found at {MIRROR} (set NASREPRO_MIRROR)")
    workdir = tmp_path_factory.mktemp("incremental")
    (workdir / "my_search.py").write_text(MY_SEARCH)
    (workdir / "base.yaml").write_text(yaml.safe_dump(CONFIG))
    result = snakemake_run(workdir, "--cores", "2", "--configfile", str(workdir / "base.yaml"), timeout=900)
    assert result.returncode == 0, show(result)
    assert job_counts(result.stdout + result.stderr)["fetch"] == 2
    return workdir


EDITS = {
    "description": lambda c: c["experiments"]["short"].update(description="Edited."),
    "label": lambda c: c["methods"]["regularized_evolution"].update(label="R-EA (AutoDL)", paper_row="Reg Evolution"),
    "retries": lambda c: c["data"].update(retries=7),
    "mirror": lambda c: c["data"].update(mirror=str(MIRROR) + "/"),
    "downloads": lambda c: c["data"].update(allow_download=True),
}


@pytest.mark.parametrize("edit", EDITS)
def test_edits_that_change_no_result_plan_no_job(edit, finished, snakemake_run):
    config = copy.deepcopy(CONFIG)
    EDITS[edit](config)
    counts = job_counts(planned(snakemake_run, finished, config))
    assert not {"fetch", "convert", "encode", "search"} & set(counts), counts


def test_a_new_method_and_experiment_plan_only_their_own_jobs(finished, snakemake_run):
    config = copy.deepcopy(CONFIG)
    config["methods"]["local_search"] = {"type": "local_search", "label": "Local Search"}
    config["experiments"]["more"] = {"benchmarks": ["c10"], "methods": ["local_search", "random"], "seeds": 2,
                                     "budget": {"queries": 20}}
    output = planned(snakemake_run, finished, config)
    # random search at 20 queries is the prefix of the finished 30-query run: only local search runs
    searches = searches_of(output)
    assert len(searches) == 2 and all("run=local_search-" in block for block in searches), output[-3000:]
    assert not {"fetch", "convert", "encode"} & set(job_counts(output))


def test_a_longer_budget_extends_only_the_runs_that_need_it(finished, snakemake_run):
    config = copy.deepcopy(CONFIG)
    config["experiments"]["longer"] = {"benchmarks": ["c10"], "methods": ["regularized_evolution"], "seeds": 2,
                                       "budget": {"queries": 40}}
    searches = searches_of(planned(snakemake_run, finished, config))
    assert len(searches) == 2 and all("run=regularized_evolution-" in block for block in searches)


def test_one_changed_option_reruns_exactly_that_methods_jobs(finished, snakemake_run):
    config = copy.deepcopy(CONFIG)
    config["methods"]["regularized_evolution"]["population_size"] = 5
    searches = searches_of(planned(snakemake_run, finished, config))
    assert len(searches) == 2 and all("run=regularized_evolution-" in block for block in searches)
    config = copy.deepcopy(CONFIG)
    config["methods"]["weaknas"]["predictor"] = {**TINY_MLP, "alpha": 1e-3}  # a predictor option counts too
    searches = searches_of(planned(snakemake_run, finished, config))
    assert len(searches) == 2 and all("run=weaknas-" in block for block in searches)


def test_editing_a_methods_module_reruns_exactly_its_jobs(finished, snakemake_run):
    module = finished / "my_search.py"
    try:
        module.write_text(MY_SEARCH + "# a comment: the same code\n")
        assert not searches_of(planned(snakemake_run, finished, CONFIG))
        module.write_text(MY_SEARCH + "    batch_size_default = 1  # a change of the class\n")
        searches = searches_of(planned(snakemake_run, finished, CONFIG))
        assert len(searches) == 2 and all("run=my_search_mysearch-" in block for block in searches)
    finally:
        module.write_text(MY_SEARCH)


@pytest.mark.parametrize("how", ["touch", "re-create"])
def test_inputs_touched_or_recreated_with_the_same_bytes_rerun_nothing(finished, snakemake_run, how):
    for path in [finished / "resources/tables/c10.parquet", finished / "resources/encodings/c10-onehot30.npy"]:
        if how == "touch":
            path.touch()
        else:
            data = path.read_bytes()
            path.unlink()
            path.write_bytes(data)
    counts = job_counts(planned(snakemake_run, finished, CONFIG))
    assert not {"search", "collect"} & set(counts), counts


def test_a_truncated_table_stops_in_one_line_and_deletes_no_run(finished, snakemake_run):
    table = finished / "resources/tables/c10.parquet"
    runs = sorted((finished / "results/runs").rglob("*"))
    data = table.read_bytes()
    try:
        table.write_bytes(data[: len(data) // 2])
        result = snakemake_run(finished, "--cores", "1", "--configfile", str(finished / "base.yaml"))
        assert result.returncode != 0
        error = [line for line in (result.stdout + result.stderr).splitlines() if "truncated or corrupt" in line]
        assert len(error) == 1 and "resources/tables/c10.parquet" in error[0] and "delete it" in error[0], show(result)
        assert sorted((finished / "results/runs").rglob("*")) == runs
    finally:
        table.write_bytes(data)


def test_render_only_with_a_run_missing_fails_naming_it(finished, snakemake_run):
    run = sorted((finished / "results/runs").glob("*/0.parquet"))[0]
    data = run.read_bytes()
    try:
        run.unlink()
        result = snakemake_run(finished, "-n", "render", "--configfile", str(finished / "base.yaml"),
                               env={"NASREPRO_RENDER_ONLY": "1"})
        assert result.returncode != 0
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Render error")]
        assert len(lines) == 1 and str(run.relative_to(finished)) in lines[0], show(result)
    finally:
        run.write_bytes(data)
