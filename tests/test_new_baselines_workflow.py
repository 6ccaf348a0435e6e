"""The five new comparison methods through the whole Snakemake workflow on a small synthetic NAS-Bench-101:
tfrecord -> table -> the label-free pretraining step (arch2vec, CATE: one file per space and settings) -> search
jobs that read it -> Table 4; a second run does nothing."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from nasrepro import config as cfg, runs as runs_plan

from test_new_baselines import METHODS
from test_workflow import show

LABELS = {"mcts": "MCTS", "nasbowl": "NASBOWL", "bonas": "BONAS", "arch2vec": "arch2vec", "cate": "CATE"}
CONFIG = {
    "data": {"allow_download": False, "verify_raw": False},
    "benchmarks": {"nb101-cifar10": {"space": "nb101", "dataset": "cifar10", "fit_split": "valid",
                                     "expected_size": 300}},
    "methods": {name: {**method, "label": LABELS[name]} for name, method in METHODS.items()},
    "experiments": {"new": {"benchmarks": ["nb101-cifar10"], "methods": list(METHODS), "seeds": 1,
                            "budget": {"queries": 40}, "budgets": [20, 40], "outputs": ["table4"],
                            "report_mode": "test_of_best_valid"}},
}


@pytest.mark.slow  # runs the workflow: make test runs it, make test-fast does not
def test_new_methods_and_their_pretraining_end_to_end(tmp_path, snakemake_run, nb101_tfrecord):
    raw = tmp_path / "resources" / "raw"
    raw.mkdir(parents=True)
    shutil.copyfile(nb101_tfrecord, raw / "nb101-only108.tfrecord")
    config_file = tmp_path / "new.yaml"
    config_file.write_text(yaml.safe_dump(CONFIG))
    result = snakemake_run(tmp_path, "--cores", "2", "--configfile", str(config_file), timeout=900)
    assert result.returncode == 0, show(result)

    config = cfg.load(config_file)
    plan = runs_plan.plan(config)
    pretrained = runs_plan.pretrainings(plan)
    assert sorted(settings["model"] for _, settings in pretrained.values()) == ["arch2vec", "cate"]
    for path in pretrained:
        embedding = np.load(tmp_path / path, allow_pickle=False)
        assert embedding.shape[0] == 300 and embedding.dtype == np.float32
        assert "CPU seconds" in (tmp_path / "logs" / "pretrain" / (path.split("/")[-1][:-4] + ".log")).read_text()
    for run in plan.runs.values():
        reads_pretrained = runs_plan.inputs(run).get("features") in pretrained
        assert reads_pretrained == (run.spec["method"]["type"] in ("arch2vec", "cate"))
    table = pd.read_csv(tmp_path / "results" / "new" / "tables" / "table4.csv")
    ran = table[(table["status"] == "ran here") & (table["metric"] == "test_acc")]
    assert set(ran["method"]) == set(LABELS.values()) and ran["mean"].notna().all()

    again = snakemake_run(tmp_path, "--cores", "2", "--configfile", str(config_file), "-n")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr, show(again)
