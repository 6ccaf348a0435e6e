"""The workflow never redoes finished work: after a finished tiny run on the real NAS-Bench-201 mirror
(fetched, checksum-verified, converted, encoded, searched), edits that do not change what a search
computes plan no search job; changing one method option re-runs exactly that method's jobs."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from conftest import MIRROR, TINY_MLP
from test_workflow import job_blocks, job_counts, show

CONFIG = {
    "data": {"mirror": str(MIRROR), "allow_download": False, "retries": 3},
    "benchmarks": {"c10": {"space": "nb201", "dataset": "cifar10-valid", "fit_split": "x-valid"}},
    "methods": {
        "weaknas": {"type": "weaknas", "label": "WeakNAS", "init_sample": 10, "predictor": TINY_MLP},
        "regularized_evolution": {"type": "regularized_evolution", "label": "Reg Evolution"},
        "random": {"type": "random", "label": "Random Search"},
    },
    "experiments": {
        "short": {"description": "A short run.", "benchmarks": ["c10"],
                  "methods": ["weaknas", "regularized_evolution", "random"], "seeds": 2, "budget": {"queries": 30}},
    },
}


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
    searches = job_blocks(output, "search")
    assert len(searches) == 4 and all("experiment=more" in block for block in searches), output[-3000:]
    assert not {"fetch", "convert", "encode"} & set(job_counts(output))


def test_one_changed_option_reruns_exactly_that_methods_jobs(finished, snakemake_run):
    config = copy.deepcopy(CONFIG)
    config["methods"]["regularized_evolution"]["population_size"] = 5
    searches = job_blocks(planned(snakemake_run, finished, config), "search")
    assert len(searches) == 2 and all("method=regularized_evolution" in block for block in searches)
    config = copy.deepcopy(CONFIG)
    config["methods"]["weaknas"]["predictor"] = {**TINY_MLP, "alpha": 1e-3}  # a predictor option counts too
    searches = job_blocks(planned(snakemake_run, finished, config), "search")
    assert len(searches) == 2 and all("method=weaknas" in block for block in searches)
