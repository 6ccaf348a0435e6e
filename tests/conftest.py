"""Shared fixtures: small benchmarks WRITTEN in the real public file formats, in-memory benchmarks,
a tiny predictor, a network guard and a Snakemake runner.

The synthetic NAS-Bench-201 files have the exact columns of NAS-Landscapes' `cifar10_avg.csv` and of
`nats_bench.csv` (see ../shared/benchmarks/README.md), 15,625 rows in a shuffled but fixed order, and
accuracies that are a smooth function of the ops plus small noise, so a predictor can learn them.
The real mirror is never copied into the repository.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from nasrepro import encodings
from nasrepro.spaces import nb201
from nasrepro.benchmark import Benchmark

REPO = Path(__file__).resolve().parents[1]
# The benchmark mirror, found as the workflow finds it: $NASREPRO_MIRROR, else ../shared/benchmarks.
MIRROR = Path(os.environ.get("NASREPRO_MIRROR") or Path(__file__).resolve().parents[2] / "shared" / "benchmarks")


def benchmark_script(name: str):
    """A script of benchmarks/ loaded as a module (the tests call its functions)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
SNAKEMAKE = Path(sys.executable).with_name("snakemake")

# Tiny networks on a busy 2-core machine run ~20x slower with intra-op threads fighting the
# other processes; the workflow pins threads too (smk.start sets torch threads to the rule's threads).
torch.set_num_threads(1)

# A predictor small enough for 2 CPU cores; tests about the real predictor say so explicitly.
TINY_MLP = {"type": "mlp", "hidden_layer_sizes": [32, 32], "max_epochs": 30}

AVG_HEADER = [
    "index", "sol", "name", "C", "N", "arch_str", "num_classes", "index2", "train-loss", "train-accuracy",
    "train-per-time", "train-all-time", "valid-loss", "valid-accuracy", "valid-per-time", "valid-all-time",
    "test-loss", "test-accuracy", "test-per-time", "test-all-time",
]
NATS_HEADER = [
    "CIFAR10TestAccuracy200Epochs", "CIFAR100TestAccuracy200Epochs", "ImageNetTestAccuracy200Epochs",
    "ArchitectureString", "UniqueString",
]

# Smooth made-up landscape: every edge prefers conv3x3 > conv1x1 > skip > pool >> none, with
# edge-specific weights, plus a mild penalty on cells with many 'none' edges.
OP_QUALITY = np.array([-3.0, 0.4, 1.1, 2.0, 0.1])
EDGE_WEIGHT = np.array([1.0, 0.8, 0.9, 1.3, 0.7, 1.1])


def smooth_score(ops: np.ndarray) -> np.ndarray:
    ops = np.asarray(ops)
    additive = (OP_QUALITY[ops] * EDGE_WEIGHT).sum(axis=1)
    n_none = (ops == 0).sum(axis=1)
    return additive - 0.4 * n_none**2


def all_ops_in_file_order() -> np.ndarray:
    """The 15,625 op tuples in a shuffled but fixed order (row i of the files is arch id i)."""
    ops = np.array(list(itertools.product(range(len(nb201.OPS)), repeat=nb201.NUM_EDGES)), dtype=np.int64)
    return ops[np.random.default_rng(201).permutation(len(ops))]


def make_raw_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cifar10_avg-format frame, nats_bench-format frame) of the synthetic benchmark."""
    rng = np.random.default_rng(2021)
    ops = all_ops_in_file_order()
    n = len(ops)
    cells = [nb201.cell_string(row) for row in ops]
    score = smooth_score(ops)
    clean = 70.0 + 1.5 * score  # roughly 40..92
    valid = clean + rng.normal(0, 0.05, n)
    test = clean - 0.3 + rng.normal(0, 0.05, n)
    avg = pd.DataFrame({
        "index": np.arange(n),
        "sol": rng.integers(100000, 999999, n),
        "name": "infer.tiny",
        "C": 16,
        "N": 5,
        "arch_str": cells,
        "num_classes": 10,
        "index2": np.arange(n),
        "train-loss": rng.uniform(0.001, 0.5, n),
        "train-accuracy": np.minimum(clean + 8.0, 100.0),
        "train-per-time": rng.uniform(5, 12, n),
        "train-all-time": rng.uniform(1000, 2500, n),
        "valid-loss": rng.uniform(0.3, 1.5, n),
        "valid-accuracy": valid,
        "valid-per-time": rng.uniform(2, 4, n),
        "valid-all-time": rng.uniform(400, 800, n),
        "test-loss": rng.uniform(0.3, 1.5, n),
        "test-accuracy": test,
        "test-per-time": rng.uniform(1, 2, n),
        "test-all-time": rng.uniform(200, 400, n),
    })[AVG_HEADER]
    # An isomorphism-like canonical string shared by groups of 5 cells (edge 5's op ignored).
    unique = ["+".join(nb201.OPS[o] for o in row[:5]) for row in ops]
    nats = pd.DataFrame({
        "CIFAR10TestAccuracy200Epochs": clean + 2.5 + rng.normal(0, 0.05, n),
        "CIFAR100TestAccuracy200Epochs": 0.8 * clean - 10 + rng.normal(0, 0.05, n),
        "ImageNetTestAccuracy200Epochs": 0.5 * clean - 5 + rng.normal(0, 0.05, n),
        "ArchitectureString": cells,
        "UniqueString": unique,
    })[NATS_HEADER]
    return avg, nats


@pytest.fixture(scope="session")
def raw_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    avg, nats = make_raw_frames()
    return avg, nats


@pytest.fixture(scope="session")
def synthetic_mirror(tmp_path_factory, raw_frames) -> Path:
    """A mirror-shaped folder holding synthetic nb201/cifar10_avg.csv and nb201/nats_bench.csv."""
    root = tmp_path_factory.mktemp("synthetic_mirror")
    (root / "nb201").mkdir()
    avg, nats = raw_frames
    avg.to_csv(root / "nb201" / "cifar10_avg.csv", index=False)
    nats.to_csv(root / "nb201" / "nats_bench.csv", index=False)
    return root


@pytest.fixture(scope="session")
def raw_files(synthetic_mirror) -> dict[str, Path]:
    return {
        "nb201-cifar10_avg": synthetic_mirror / "nb201" / "cifar10_avg.csv",
        "nb201-nats_bench": synthetic_mirror / "nb201" / "nats_bench.csv",
    }


@pytest.fixture(scope="session")
def nb201_synthetic(raw_files) -> Benchmark:
    """The full synthetic NAS-Bench-201 cifar10-valid benchmark (fit x-valid, report ori-test)."""
    table, meta = nb201.convert("cifar10-valid", "x-valid", raw_files)
    return Benchmark(table=table, meta=meta)


@pytest.fixture(scope="session")
def nb201_features(nb201_synthetic) -> np.ndarray:
    return encodings.encode("nb201", "onehot30", nb201_synthetic.table)


@pytest.fixture(scope="session")
def make_benchmark():
    """Build an in-memory Benchmark from label arrays (ops: distinct NB201 cells unless given)."""

    def build(fit, test=None, ops=None, seed=0, meta=None) -> Benchmark:
        fit = np.asarray(fit, dtype=float)
        test = fit.copy() if test is None else np.asarray(test, dtype=float)
        n = len(fit)
        if ops is None:
            every = np.array(list(itertools.product(range(5), repeat=6)), dtype=np.int8)
            ops = every[np.sort(np.random.default_rng(seed).choice(len(every), n, replace=False))]
        table = pd.DataFrame({"arch_id": np.arange(n)})
        for e in range(6):
            table[f"op{e}"] = np.asarray(ops)[:, e].astype(np.int8)
        table["fit_label"] = fit
        table["test_label"] = test
        info = {
            "space": "nb201", "dataset": "synthetic", "fit_split": "x-valid", "test_split": "ori-test",
            "fit_is_test": False, "label_note": "synthetic labels",
        }
        return Benchmark(table=table, meta={**info, **(meta or {})})

    return build


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Tests never touch the network: any urlopen fails loudly."""
    import urllib.request

    def refuse(*args, **kwargs):
        raise AssertionError(f"a test tried to open a URL: {args[:1]}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.fixture(scope="session")
def snakemake_run():
    """Run the repo's workflow with `-s <repo>/Snakefile --directory <workdir>`; returns CompletedProcess."""
    if not SNAKEMAKE.exists():
        pytest.skip(f"snakemake executable not found beside {sys.executable}")

    def run(workdir: Path, *args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        command = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "--directory", str(workdir), *args]
        environment = {k: v for k, v in os.environ.items() if k != "NASREPRO_MIRROR"}
        environment.update(env or {})
        return subprocess.run(command, cwd=workdir, env=environment, capture_output=True, text=True,
                              timeout=timeout)

    return run


# ------------------------------------------------------------------------------------- NAS-Bench-101
NB101_OP_QUALITY = {"conv3x3-bn-relu": 0.6, "conv1x1-bn-relu": 0.3, "maxpool3x3": -0.2}


def random_nb101_cells(count: int, seed: int = 101) -> list[tuple[str, np.ndarray, list[str]]]:
    """`count` distinct valid NAS-Bench-101 cells as (hash, pruned matrix, op names), drawn like the
    nasbench colab draws specs (each upper-triangle bit 1/2, each interior op uniform) and hashed with
    nasbench-pytorch; isomorphic duplicates are dropped by their hash."""
    from nasrepro.spaces.nb101 import cells as nb101

    rng = np.random.default_rng(seed)
    cells: dict[str, tuple[np.ndarray, list[str]]] = {}
    while len(cells) < count:
        matrix = np.triu(rng.integers(0, 2, (7, 7)), k=1)
        ops = [nb101.INPUT, *rng.choice(nb101.INTERIOR_OPS, 5).tolist(), nb101.OUTPUT]
        spec = nb101.valid_spec(matrix, ops)
        if spec is not None:
            cells.setdefault(nb101.cell_hash(matrix, ops), (spec.matrix.numpy().astype(np.int64), list(spec.ops)))
    return [(h, m, o) for h, (m, o) in cells.items()]


def write_nb101_tfrecord(path: Path, cells, seed: int = 7) -> dict[str, tuple[list[float], list[float]]]:
    """Write `cells` in the nasbench_only108.tfrecord format (3 repeats each, shuffled order) with
    accuracies that are a smooth function of the ops plus noise; returns hash -> (valid, test) fractions."""
    from nasrepro.spaces.nb101 import tfrecord
    from nasrepro.spaces.nb101 import reader as nb101_reader

    rng = np.random.default_rng(seed)
    records, truth = [], {}
    for module_hash, matrix, ops in cells:
        quality = sum(NB101_OP_QUALITY.get(op, 0.0) for op in ops) + 0.1 * matrix.sum()
        valid = [0.85 + 0.02 * quality + rng.normal(0, 0.002) for _ in range(3)]
        test = [v - 0.005 + rng.normal(0, 0.002) for v in valid]
        truth[module_hash] = (valid, test)
        for v, t in zip(valid, test):
            evaluations = [
                {"current_epoch": epoch, "training_time": 30.0 * epoch, "train_accuracy": min(1.0, v + 0.1) * epoch / 108,
                 "validation_accuracy": v * epoch / 108, "test_accuracy": t * epoch / 108,
                 "checkpoint_path": f"gs://made-up/{module_hash}/model.ckpt-{int(epoch * 100)}"}
                for epoch in (0.0, 54.0, 108.0)
            ]
            metrics = nb101_reader.encode_metrics(evaluations, trainable_parameters=int(1e6 * (1 + quality)),
                                                  total_time=3300.0)
            records.append(nb101_reader.record_bytes(module_hash, 108, matrix, ops, metrics))
    order = rng.permutation(len(records))
    tfrecord.write_records(path, [records[i] for i in order])
    return truth


@pytest.fixture(scope="session")
def nb101_cells():
    return random_nb101_cells(300)


@pytest.fixture(scope="session")
def nb101_tfrecord(tmp_path_factory, nb101_cells) -> Path:
    """A small nasbench_only108.tfrecord-format file: 300 distinct valid cells x 3 repeats."""
    path = tmp_path_factory.mktemp("nb101") / "nasbench_only108.tfrecord"
    write_nb101_tfrecord(path, nb101_cells)
    return path


def assert_search_contract(run, benchmark: Benchmark, method: dict, queries: int) -> None:
    """What every method owes the comparison, checked through `run(benchmark, method, seed, queries)`:
    `queries` distinct architectures, the same trajectory for the same seed and another for another seed,
    and the same trajectory when the test labels are permuted (it never reads them)."""
    first = run(benchmark, method, 5, queries).trajectory
    ids = first["arch_id"].tolist()
    assert len(ids) == queries and len(set(ids)) == queries  # never asks an architecture twice
    assert run(benchmark, method, 5, queries).trajectory.equals(first)
    assert run(benchmark, method, 6, queries).trajectory["arch_id"].tolist() != ids
    table = benchmark.table.copy()
    table["test_label"] = np.random.default_rng(9).permutation(table["test_label"].to_numpy())
    altered = Benchmark(table=table, meta=benchmark.meta)
    assert run(altered, method, 5, queries).trajectory["arch_id"].tolist() == ids, \
        f"{method['type']} changed its trajectory when the test labels were permuted"


def experiment_run_files(workdir: Path, config: dict, experiment: str) -> dict[tuple[str, str, int], Path]:
    """Where the workflow keeps each (benchmark, method, seed) run of an experiment (runs are shared)."""
    from nasrepro import runs

    plan = runs.plan(config)
    return {(key["benchmark"], key["method"], key["seed"]): workdir / path
            for key, path in zip(plan.run_keys(experiment), plan.run_files(experiment))}


def render_to(name: str, config: dict, experiment: str, runs: dict | None, folder: Path, **inputs) -> dict[str, Path]:
    """Render registry output `name` of an experiment into `folder` (`{name}.{ext}`); its files by extension."""
    from nasrepro import render
    from nasrepro.outputs import FILES

    files = {key: Path(folder) / f"{name}.{suffix}" for key, suffix in FILES[render.OUTPUTS[name].kind].items()}
    render.render(name, render.view(config, experiment), runs, files, **inputs)
    return files
