"""The MLP's ranking kernels (predictors.scoring), their measured choice, and the bf16 precision's hardware
check, plus fp32 / bf16 / oneDNN agreement on a small synthetic NAS-Bench-101 space (seq45 encoding)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from nasrepro import config as cfg, encodings
from nasrepro.benchmark import Benchmark
from nasrepro.errors import NasReproError
from nasrepro.predictors import mlp, scoring
from nasrepro.predictors.mlp import MLPRegressor
from nasrepro.runner import Budget, run_search
from nasrepro.spaces.nb101 import cells as nb101

REPO = Path(__file__).resolve().parents[1]

needs_onednn = pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN")
needs_bf16 = pytest.mark.skipif(not mlp.bf16_supported(torch.device("cpu")),
                                reason="this CPU has neither AVX512_BF16 nor AMX")


@pytest.fixture(autouse=True)
def fresh_verdicts(tmp_path, monkeypatch):
    """Each test starts with no cached verdict, a cache file of its own and no pinned kernel."""
    monkeypatch.setattr(scoring, "_verdicts", {})
    monkeypatch.setenv(scoring.CACHE_ENV, str(tmp_path / "kernels.json"))
    monkeypatch.delenv(scoring.PIN_ENV, raising=False)


def net(sizes, seed=0):
    generator = torch.Generator().manual_seed(seed)
    weights = [torch.randn(a, b, generator=generator) / a ** 0.5 for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [torch.randn(b, generator=generator) * 0.1 for b in sizes[1:]]
    return weights, biases


def forward64(x, weights, biases):
    """The exact value, in float64."""
    x = x.double()
    for w, b in zip(weights[:-1], biases[:-1]):
        x = torch.relu(x @ w.double() + b.double())
    return (x @ weights[-1].double() + biases[-1].double()).squeeze(1)


@needs_onednn
def test_kernels_agree_to_float32_rounding_on_every_batch_length(monkeypatch):
    monkeypatch.setattr(scoring, "TILE", 64)  # oneDNN's tiles: several full ones and a short last one
    weights, biases = net([45, 300, 300, 300, 300, 1])
    x = (torch.rand(700, 45, generator=torch.Generator().manual_seed(1)) < 0.3).float()
    exact = forward64(x, weights, biases)
    scale = float(exact.abs().max())
    runs = {kernel: scoring.prepare(kernel, weights, biases, 256) for kernel in scoring.KERNELS}
    with torch.no_grad():
        for rows in (256, 100, 1):  # the packed weights' batch hint (256) and shorter last batches
            got = {kernel: run(x[:rows]) for kernel, run in runs.items()}
            for kernel, scores in got.items():
                assert scores.shape == (rows,) and scores.dtype == torch.float32
                assert float((scores.double() - exact[:rows]).abs().max()) < 1e-5 * scale, kernel
    assert not torch.equal(got["reference"], got["onednn"]) or rows == 1  # two kernels, not one run twice


@needs_onednn
def test_predict_through_onednn_matches_the_reference(monkeypatch):
    rng = np.random.default_rng(0)
    X = (rng.random((500, 45)) < 0.3).astype(np.float32)
    model = MLPRegressor(hidden_layer_sizes=[64, 64, 64], max_epochs=3, device="cpu", predict_batch_size=128)
    model.fit(X[:100], X[:100] @ rng.normal(0, 1, 45))
    reference = model.predict(X)
    assert model.kernel_ == "reference"  # 500 rows: below MIN_ROWS, no check runs
    monkeypatch.setenv(scoring.PIN_ENV, "onednn")
    fast = model.predict(X)
    assert model.kernel_ == "onednn"
    np.testing.assert_allclose(fast, reference, rtol=1e-5, atol=1e-5 * np.abs(reference).max())


def test_a_bad_pinned_kernel_is_one_line(monkeypatch):
    weights, biases = net([4, 3, 1])
    monkeypatch.setenv(scoring.PIN_ENV, "mkl")
    with pytest.raises(NasReproError, match=r"NASREPRO_FP32_KERNEL: 'mkl', expected one of reference, onednn"):
        scoring.kernel_for(weights, biases, np.zeros((10, 4), np.float32), 10)


@needs_onednn
def test_the_measured_verdict_is_cached_per_machine(monkeypatch, tmp_path):
    weights, biases = net([45, 200, 200, 1])
    X = (np.random.default_rng(2).random((600, 45)) < 0.3).astype(np.float32)
    monkeypatch.setattr(scoring, "MIN_ROWS", 500)
    measured = []
    real_measure = scoring.measure
    monkeypatch.setattr(scoring, "measure", lambda *args: measured.append(1) or real_measure(*args))
    verdict = scoring.kernel_for(weights, biases, X, 300)
    assert verdict in scoring.KERNELS and measured == [1]
    assert scoring.kernel_for(weights, biases, X, 300) == verdict and measured == [1]  # this process: cached
    cached = json.loads((tmp_path / "kernels.json").read_text())
    assert list(cached.values()) == [verdict] and "threads" in next(iter(cached))
    # a new process on this machine reads the file: flip the stored verdict and it is obeyed, unmeasured
    flipped = {key: "onednn" if value == "reference" else "reference" for key, value in cached.items()}
    (tmp_path / "kernels.json").write_text(json.dumps(flipped))
    monkeypatch.setattr(scoring, "_verdicts", {})
    assert scoring.kernel_for(weights, biases, X, 300) == next(iter(flipped.values())) and measured == [1]
    assert scoring.kernel_for(weights, biases, X[:499], 300) == "reference"  # below MIN_ROWS


@needs_onednn
def test_measure_times_both_kernels_and_applies_the_margin(monkeypatch):
    weights, biases = net([45, 100, 1])
    X = np.ones((64, 45), np.float32)
    result = scoring.measure(weights, biases, X, 64)
    assert set(result["seconds"]) == set(scoring.KERNELS) and all(s > 0 for s in result["seconds"].values())
    faster = result["seconds"]["reference"] >= scoring.MARGIN * result["seconds"]["onednn"]
    assert result["kernel"] == ("onednn" if faster else "reference")


# ------------------------------------------------------------------------------- bf16's hardware check
def test_bf16_on_a_cpu_without_avx512_bf16_or_amx_is_refused_at_validation(monkeypatch):
    monkeypatch.setattr(mlp, "cpu_bf16_flags", lambda: set())
    monkeypatch.setattr(mlp, "_gpu_visible", lambda: False)
    for device in ("cpu", "auto"):
        with pytest.raises(NasReproError, match="option precision: 'bf16' needs a CPU with AVX512_BF16 or AMX") as error:
            MLPRegressor.resolve({"precision": "bf16", "device": device})
        assert "\n" not in str(error.value) and "avx512_bf16 or amx_bf16" in str(error.value)
    assert MLPRegressor.resolve({"precision": "bf16", "device": "cuda"})["precision"] == "bf16"  # the job checks
    assert MLPRegressor.resolve({"precision": "fp32", "device": "cpu"})["precision"] == "fp32"
    with pytest.raises(NasReproError, match=r"key 'methods.weaknas_bf16'.*precision: 'bf16' needs a CPU") as error:
        cfg.load(str(REPO / "config" / "bf16-check.yaml"))  # the product's own bf16 overlay
    assert "\n" not in str(error.value)


def test_bf16_where_a_gpu_is_visible_passes_validation(monkeypatch):
    monkeypatch.setattr(mlp, "cpu_bf16_flags", lambda: set())
    monkeypatch.setattr(mlp, "_gpu_visible", lambda: True)
    assert MLPRegressor.resolve({"precision": "bf16"})["device"] == "auto"
    with pytest.raises(NasReproError, match="needs a CPU with AVX512_BF16"):
        MLPRegressor.resolve({"precision": "bf16", "device": "cpu"})


# ------------------------------------------------------------------ a small NAS-Bench-101 space, seq45
@pytest.fixture(scope="module")
def nb101_space():
    """1,500 random 7-vertex-or-fewer cells, labelled by a smooth made-up landscape, and their seq45 rows."""
    from conftest import random_nb101_cells

    cells = [(matrix, ops) for _, matrix, ops in random_nb101_cells(1500)]
    table = nb101.describe_cells(cells)
    table.insert(0, "arch_id", np.arange(len(table)))
    features = encodings.encode("nb101", "seq45", table)
    rng = np.random.default_rng(3)
    clean = features @ rng.normal(0, 1, features.shape[1]) + 0.5 * np.sin(features @ rng.normal(0, 1, features.shape[1]))
    table["fit_label"] = 90 + clean + rng.normal(0, 0.05, len(table))
    table["test_label"] = table["fit_label"] - 0.2
    table["params"] = rng.integers(100_000, 3_000_000, len(table))
    meta = {"space": "nb101", "dataset": "synthetic", "fit_split": "valid", "test_split": "test",
            "fit_is_test": False, "label_note": "synthetic labels"}
    return Benchmark(table=table, meta=meta), features.astype(np.float32)


def top_overlap(a, b, k):
    return len(set(np.argsort(-a)[:k]) & set(np.argsort(-b)[:k]))


@needs_bf16
def test_fp32_bf16_and_onednn_rank_a_nb101_space_alike(nb101_space, monkeypatch):
    benchmark, features = nb101_space
    labels = benchmark.table["fit_label"].to_numpy()
    train = np.random.default_rng(4).choice(len(labels), 200, replace=False)
    options = dict(hidden_layer_sizes=[256, 256, 256, 256], max_epochs=40, device="cpu", random_state=5)
    target = (labels[train] - labels.mean()) / labels.std()  # z-scored, as WeakNAS fits it
    full = MLPRegressor(**options).fit(features[train], target)
    half = MLPRegressor(precision="bf16", **options).fit(features[train], target)
    on_full, on_half = full.predict(features), half.predict(features)
    assert stats.spearmanr(on_full, on_half)[0] > 0.99  # measured 0.9999
    assert top_overlap(on_full, on_half, 100) >= 90  # measured 98
    assert stats.spearmanr(on_half, labels)[0] > 0.9  # bf16 really learnt the landscape (0.986)
    if torch.backends.mkldnn.is_available():
        monkeypatch.setenv(scoring.PIN_ENV, "onednn")
        on_onednn = full.predict(features)
        np.testing.assert_allclose(on_onednn, on_full, rtol=1e-5, atol=1e-5 * np.abs(on_full).max())
        assert top_overlap(on_full, on_onednn, 100) >= 99  # only near-ties may swap


@needs_bf16
def test_weaknas_runs_on_nb101_in_fp32_and_bf16(nb101_space):
    benchmark, features = nb101_space
    labels = benchmark.table["fit_label"].to_numpy()
    best = {}
    for precision in ("fp32", "bf16"):
        spec = {"type": "weaknas", "init_sample": 20, "sample_each_iter": 20, "top_start": 50, "top_end": 50,
                "predictor": {"type": "mlp", "hidden_layer_sizes": [128, 128], "max_epochs": 30, "device": "cpu",
                              "precision": precision}}
        result = run_search(benchmark, features, spec, 0, Budget(queries=100), progress=False)
        queried = result.trajectory["arch_id"].to_numpy()
        assert len(queried) == 100 and len(set(queried)) == 100
        assert set(result.iterations["scoring_kernel"].dropna()) == {"reference"}  # 1,500 rows: no check runs
        best[precision] = labels[queried].max()
    # both reach the top 5 of 1,500 (100 random queries would with p = 0.29)
    top5 = np.sort(labels)[-5]
    assert best["fp32"] >= top5 and best["bf16"] >= top5
