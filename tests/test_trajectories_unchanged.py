"""Trajectories recorded with the code before search spaces became plugins (commit fa18c52): R-EA on
both spaces and WeakNAS (plain and EI) must still query exactly the same architectures, in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import random_nb101_cells, write_nb101_tfrecord
from nasrepro import encodings, pipeline
from nasrepro.benchmark import Benchmark
from nasrepro.runner import Budget, run_search

RECORDED = json.loads((Path(__file__).parent / "data" / "trajectories_before_plugins.json").read_text())
NB201_RUNS = {
    "rea201": ({"type": "regularized_evolution", "population_size": 10, "tournament_size": 3, "mutation": "autodl"}, False, 300),
    "rea201n": ({"type": "regularized_evolution", "population_size": 20, "tournament_size": 5, "mutation": "naslib",
                 "tournament": "distinct"}, False, 300),
    "weak": ({"type": "weaknas", "predictor": {"type": "mlp", "hidden_layer_sizes": [32, 32], "max_epochs": 30}}, True, 60),
    "weakei": ({"type": "weaknas", "sampling": "ei", "ensemble": 2,
                "predictor": {"type": "mlp", "hidden_layer_sizes": [16], "max_epochs": 10}}, True, 40),
}
NB101_RUNS = {
    "rea101": {"type": "regularized_evolution", "population_size": 50, "tournament_size": 10, "tournament": "distinct",
               "mutation": "colab"},
    "rea101n": {"type": "regularized_evolution", "population_size": 20, "tournament_size": 5, "mutation": "naslib",
                "tournament": "with_replacement"},
}


@pytest.mark.parametrize("name", NB201_RUNS)
def test_nb201_trajectory_is_unchanged(name, nb201_synthetic):
    method, features, queries = NB201_RUNS[name]
    X = encodings.encode("nb201", "onehot30", nb201_synthetic.table) if features else None
    result = run_search(nb201_synthetic, X, method, 3, Budget(queries), progress=False)
    assert result.trajectory["arch_id"].tolist() == RECORDED[name]


@pytest.fixture(scope="module")
def nb101_300(tmp_path_factory) -> Benchmark:
    folder = tmp_path_factory.mktemp("nb101")
    write_nb101_tfrecord(folder / "nb.tfrecord", random_nb101_cells(300))
    pipeline.convert_benchmark({"space": "nb101", "dataset": "cifar10", "fit_split": "valid", "expected_size": 300},
                               {"nb101-only108": str(folder / "nb.tfrecord")}, folder / "table.parquet")
    return Benchmark.load(folder / "table.parquet")


@pytest.mark.parametrize("name", NB101_RUNS)
def test_nb101_trajectory_is_unchanged(name, nb101_300):
    result = run_search(nb101_300, None, NB101_RUNS[name], 5, Budget(200), progress=False)
    assert result.trajectory["arch_id"].tolist() == RECORDED[name]
