"""A user's method in their own file, outside the package, named `module:Class` in the config: it is
validated against its own declaration and runs through the workflow like a built-in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from nasrepro import config as cfg
from nasrepro.errors import NasReproError
from conftest import experiment_run_files
from test_workflow import show

PLUGINS = Path(__file__).parent / "plugins"
CONFIG = {
    "data": {"allow_download": False, "verify_raw": False},  # synthetic raw files placed by hand
    "benchmarks": {"syn": {"space": "nb201", "dataset": "cifar10-valid", "fit_split": "x-valid"}},
    "methods": {"hill": {"type": "my_methods:HillClimber", "label": "Hill climbing", "patience": 4},
                "random": {"type": "random", "label": "Random Search"}},
    "experiments": {"t5": {"benchmarks": ["syn"], "methods": ["hill", "random"], "seeds": 2,
                           "budget": {"until_optimum": True, "queries": 3000}, "outputs": ["table5", "fair"]}},
}


@pytest.fixture
def on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))


def test_external_method_is_validated_against_its_declaration(on_path):
    config = json.loads(json.dumps(CONFIG))
    cfg.validate(config)
    config["methods"]["hill"]["patience"] = 0
    with pytest.raises(NasReproError, match="methods.hill.patience"):
        cfg.validate(config)
    config["methods"]["hill"] = {"type": "my_methods:Nb101Only"}
    with pytest.raises(NasReproError, match="does not run on nb201"):
        cfg.validate(config)
    config["methods"]["hill"] = {"type": "my_methods:Missing"}
    with pytest.raises(NasReproError, match="cannot load my_methods:Missing"):
        cfg.validate(config)


@pytest.mark.slow  # runs the workflow: make test runs it, make test-fast does not
def test_external_method_runs_through_the_workflow(tmp_path, snakemake_run, raw_files, on_path):
    raw = tmp_path / "resources" / "raw"
    raw.mkdir(parents=True)
    shutil.copyfile(raw_files["nb201-cifar10_avg"], raw / "nb201-cifar10_avg.csv")
    shutil.copyfile(raw_files["nb201-nats_bench"], raw / "nb201-nats_bench.csv")
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(CONFIG))
    result = snakemake_run(tmp_path, "--cores", "2", "--configfile", str(tmp_path / "mine.yaml"),
                           env={"PYTHONPATH": str(PLUGINS)}, timeout=600)
    assert result.returncode == 0, show(result)
    run = experiment_run_files(tmp_path, CONFIG, "t5")[("syn", "hill", 0)]
    meta = json.loads(run.with_suffix(".json").read_text())
    assert meta["method"] == {"type": "my_methods:HillClimber", "patience": 4}
    assert meta["queries_to_optimum"] is not None
    table = (tmp_path / "results" / "t5" / "tables" / "table5.md").read_text()
    assert "Hill climbing" in table and "Random Search" in table
