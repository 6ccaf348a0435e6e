"""A search space of one's own (tests/plugins/toy_space.py, no package edit): its file is fetched from a
mirror and checksum-verified, converted and encoded by the workflow, and R-EA, local search, random
search and WeakNAS run on it through the one oracle to a table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import TINY_MLP
from test_workflow import show

PLUGINS = Path(__file__).parent / "plugins"
METHODS = {
    "weaknas": {"type": "weaknas", "label": "WeakNAS", "init_sample": 5, "sample_each_iter": 5, "top_start": 10,
                "top_end": 10, "predictor": TINY_MLP},
    "rea": {"type": "regularized_evolution", "label": "R-EA", "population_size": 5, "tournament_size": 2},
    "local": {"type": "local_search", "label": "Local Search", "num_init": 3},
    "random": {"type": "random", "label": "Random Search"},
}


@pytest.mark.slow  # runs the workflow: make test runs it, make test-fast does not
def test_a_toy_space_from_outside_the_package_runs_through_the_workflow(tmp_path, snakemake_run, monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))
    from toy_space import labels_csv

    shutil.copy(PLUGINS / "toy_space.py", tmp_path)  # a module beside the config, as a user keeps one
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "labels.csv").write_text(labels_csv())
    config = {
        "data": {"mirror": str(mirror), "allow_download": False},
        "benchmarks": {"toy": {"space": "toy_space:ToySpace", "dataset": "toy", "fit_split": "valid"}},
        "methods": METHODS,
        "experiments": {"toy": {"benchmarks": ["toy"], "methods": list(METHODS), "seeds": 3,
                                "budget": {"until_optimum": True}, "budgets": [5, 10], "outputs": ["table5", "table4"]}},
    }
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(config))
    result = snakemake_run(tmp_path, "--cores", "2", "--configfile", str(tmp_path / "toy.yaml"), timeout=600)
    assert result.returncode == 0, show(result)

    table5 = pd.read_csv(tmp_path / "results" / "toy" / "tables" / "table5.csv")
    ran = table5[table5["status"] == "ran here"]
    assert set(ran["method"]) == {"WeakNAS", "R-EA", "Local Search", "Random Search"}
    assert (ran["n"] == 3).all() and ran["mean"].between(1, 27).all()  # 27 architectures in the toy space
    table4 = pd.read_csv(tmp_path / "results" / "toy" / "tables" / "table4.csv")
    assert set(table4.loc[table4["status"] == "ran here", "queries"]) == {5, 10}
    markdown = (tmp_path / "results" / "toy" / "tables" / "table5.md").read_text()
    assert "fit on the toy valid accuracy" in markdown and "mutation=None" in markdown  # R-EA: the space's first
