"""A searcher runs in its own process (`nasrepro.sandbox`): it cannot reach the oracle, the benchmark or the
tables on disk, its results are those of the same searcher in the runner's process, and a searcher that
exits or forks fails the run in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from nasrepro import pipeline
from nasrepro.benchmark import write_table
from nasrepro.errors import NasReproError

PLUGINS = Path(__file__).resolve().parent / "plugins"


@pytest.fixture
def workdir(tmp_path, monkeypatch, nb201_synthetic):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.setenv("PYTHONPATH", str(PLUGINS))
    write_table(nb201_synthetic.table, nb201_synthetic.meta, "resources/tables/c10.parquet")
    return tmp_path


def search(method: dict, queries: int = 20, seed: int = 0) -> dict:
    spec = {"method": method, "budget": {"queries": queries}, "charge_repeats": True, "label_mode": "avg",
            "record_pools": False, "encoding": None, "benchmark": {"space": "nb201"}}
    out = Path("results/runs/x")
    pipeline.search(spec, seed, {"run_id": "x"}, "resources/tables/c10.parquet", None, out / f"{seed}.parquet",
                    out / f"{seed}.iterations.parquet", out / f"{seed}.json", progress=False)
    return json.loads((out / f"{seed}.json").read_text())


@pytest.mark.parametrize("hostile", ["ReadsTheOracle", "ClearsTheRecord", "WalksTheStack"])
def test_a_method_finds_no_label_it_did_not_pay_for(workdir, hostile):
    run = search({"type": f"hostile_methods:{hostile}"})
    assert run["queries_used"] == 20  # every query counted: the record is out of its reach
    assert len(pd.read_parquet("results/runs/x/0.parquet")) == 20


def test_opening_a_table_ends_the_run_even_when_the_method_catches_the_refusal(workdir):
    with pytest.raises(NasReproError) as error:
        search({"type": "hostile_methods:ReadsTheTable"})
    assert "c10.parquet, which a method may not read" in str(error.value) and "\n" not in str(error.value)
    assert not Path("results/runs/x/0.json").exists()


@pytest.mark.parametrize("hostile, says", [
    ("Exits", "method 'hostile_methods:Exits' called sys.exit(0) in ask(20) at iteration 0, seed 0; the run is void"),
    ("ExitsHard", "method 'hostile_methods:ExitsHard': its process exited with status 0 in ask(20); the run is void"),
    ("Forks", "method 'hostile_methods:Forks' started a process (os.fork): a method runs in its own process only; "
              "the run is void")])
def test_a_method_that_exits_or_forks_fails_the_run_in_one_line(workdir, hostile, says):
    with pytest.raises(NasReproError) as error:
        search({"type": f"hostile_methods:{hostile}"})
    assert str(error.value) == says
    assert not Path("results/runs/x/0.json").exists()


def test_a_hung_method_costs_minutes_not_a_day():
    from nasrepro import contract

    assert contract.job_time_limit({}, estimate_seconds=2)[0] == contract.MIN_JOB_SECONDS
    assert contract.job_time_limit({}, estimate_seconds=100)[0] == 2000
    assert contract.job_time_limit({"max_job_seconds": 5}, estimate_seconds=100)[0] == 5
    assert contract.runtime_minutes(100) * 60 >= 2000 + contract.SLURM_MARGIN_SECONDS


@pytest.mark.parametrize("method", [{"type": "regularized_evolution"},
                                    {"type": "weaknas", "init_sample": 10,
                                     "predictor": {"type": "mlp", "hidden_layer_sizes": [16], "max_epochs": 5}}])
def test_an_isolated_run_is_the_run_in_the_runners_process(workdir, nb201_synthetic, method):
    from nasrepro.runner import Budget, run_search

    isolated = search(method, queries=30)
    trajectory = pd.read_parquet("results/runs/x/0.parquet")
    iterations = pd.read_parquet("results/runs/x/0.iterations.parquet")
    inline = run_search(nb201_synthetic, None, method, 0, Budget(30), progress=False)
    assert trajectory["arch_id"].tolist() == inline.trajectory["arch_id"].tolist()
    assert isolated["queries_used"] == 30
    inline.iterations.to_parquet("inline.parquet")  # both as written to disk
    timed = [column for column in iterations if column.endswith("_seconds")]
    pd.testing.assert_frame_equal(iterations.drop(columns=timed), pd.read_parquet("inline.parquet").drop(columns=timed),
                                  check_dtype=False, check_column_type=False, check_index_type=False)
