"""Benchmark (not a test): one WeakNAS scoring pass over NAS-Bench-101, per kernel, and LaNAS's einsum -> matmul.

    python benchmarks/nb101_scoring.py [--rows 423624] [--repeats 2] [--threads 1]

Part 1: the paper's 4 x 1000 MLP (Glorot-initialised as `MLPRegressor` does: the values do not matter, the
shapes do) ranks 423,624 rows of 45 0/1 features (seq45's shape) through `MLPRegressor.predict` with its
default predict_batch_size (65,536), once per variant per repeat, the variant order reversed on odd
repeats: `fp32 reference` (addmm, MKL), `fp32 onednn` (oneDNN fused linear + ReLU, packed weights), both
pinned with NASREPRO_FP32_KERNEL; `fp32 auto` (what a run on a fresh machine gets: the measured check with an
empty cache, then the pass with its verdict; the check's own CPU seconds are printed below the table); `bf16`
(precision: bf16). CPU seconds (time.process_time), GFLOP/s of the pass's 2 * rows * sum(fan_in * fan_out) multiply-adds, max abs difference and Spearman rho / top-100 overlap
against the fp32 reference scores of the same weights.

Part 2: LaNAS's classifier epoch at the root (11,391 x 37 rows, float64): residual and gradient via the old
`np.einsum` and the landed `np.matmul`, microseconds per epoch (best of --lanas-rounds), max abs difference.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from nasrepro.predictors import scoring
from nasrepro.predictors.mlp import MLPRegressor


def cpu_line() -> str:
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")),
                 platform.processor())
    flags = next((set(line.split(":", 1)[1].split()) for line in text.splitlines() if line.startswith("flags")), set())
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    return f"{model}; " + ", ".join(f"{flag} {'yes' if flag in flags else 'no'}" for flag in wanted)


def model(rows_features: int, seed: int, precision: str) -> MLPRegressor:
    net = MLPRegressor(hidden_layer_sizes=[1000] * 4, device="cpu", precision=precision, random_state=seed)
    weights, biases = net._init_layers(rows_features, torch.Generator().manual_seed(seed), torch.device("cpu"))
    net.weights_, net.biases_ = [w.detach() for w in weights], [b.detach() for b in biases]
    return net


def timed_pass(net: MLPRegressor, X: np.ndarray, pin: str | None) -> tuple[np.ndarray, float, float]:
    os.environ.pop(scoring.PIN_ENV, None)
    if pin:
        os.environ[scoring.PIN_ENV] = pin
    cpu, wall = time.process_time(), time.perf_counter()
    scores = net.predict(X)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    os.environ.pop(scoring.PIN_ENV, None)
    return scores, cpu, wall


def recording(checks: list):
    """scoring.measure, its CPU seconds and result appended to `checks`."""
    measure = scoring.measure

    def timed(*args):
        started = time.process_time()
        result = measure(*args)
        checks.append((time.process_time() - started, result))
        return result

    return timed


def scoring_pass(args) -> None:
    rng = np.random.default_rng(0)
    X = (rng.random((args.rows, 45)) < 0.25).astype(np.float32)
    full, half = model(45, 0, "fp32"), model(45, 0, "bf16")
    sizes = [45, 1000, 1000, 1000, 1000, 1]
    gflop = 2 * args.rows * sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) / 1e9
    print(f"\n## One scoring pass: {args.rows:,} x 45 through 4 x 1000 ({gflop:,.0f} GFLOP), "
          f"predict_batch_size {full.predict_batch_size:,}")
    variants = {"fp32 reference": (full, "reference"), "fp32 onednn": (full, "onednn"),
                "fp32 auto": (full, None), "bf16": (half, None)}
    for net, pin in variants.values():  # warm-up: oneDNN builds its primitives on the first call
        timed_pass(net, X[:2048], pin)
    seconds: dict[str, list] = {name: [] for name in variants}
    scores: dict[str, np.ndarray] = {}
    checks: list = []
    scoring.measure = recording(checks)
    for repeat in range(args.repeats):
        for name in (list(variants) if repeat % 2 == 0 else list(variants)[::-1]):
            net, pin = variants[name]
            if name == "fp32 auto":  # a fresh machine: no cached verdict, so the check runs inside this pass
                scoring._verdicts.clear()
                os.environ[scoring.CACHE_ENV] = str(Path(tempfile.mkdtemp()) / "kernels.json")
            scores[name], cpu, wall = timed_pass(net, X, pin)
            seconds[name].append((cpu, wall, getattr(net, "kernel_", "?")))
    reference = scores["fp32 reference"]
    top = set(np.argsort(-reference)[:100])
    print("| variant | kernel | CPU s per pass (each repeat) | wall s | GFLOP/s (CPU) | reference / variant CPU "
          "| max abs diff vs fp32 reference | Spearman rho | top-100 overlap |")
    print("|---|---|---|---|---|---|---|---|---|")
    base = np.mean([cpu for cpu, _, _ in seconds["fp32 reference"]])
    for name, runs in seconds.items():
        cpu = np.mean([c for c, _, _ in runs])
        rho = stats.spearmanr(reference, scores[name])[0] if name != "fp32 reference" else 1.0
        print(f"| {name} | {runs[-1][2]} | {cpu:.2f} ({', '.join(f'{c:.2f}' for c, _, _ in runs)}) "
              f"| {np.mean([w for _, w, _ in runs]):.2f} | {gflop / cpu:.0f} | {base / cpu:.2f} "
              f"| {np.abs(scores[name] - reference).max():.1e} | {rho:.6f} "
              f"| {len(top & set(np.argsort(-scores[name])[:100]))} |")
    print(f"score scale: max |score| {np.abs(reference).max():.3f}, SD {reference.std():.3f}")
    for cpu, check in checks:
        print(f"measured check (fp32 auto): {cpu:.2f} CPU s; best s on {min(scoring.CHECK_ROWS, full.predict_batch_size):,} rows: "
              + ", ".join(f"{k} {v:.3f}" for k, v in check["seconds"].items())
              + f"; reference / onednn {check['seconds']['reference'] / check['seconds']['onednn']:.3f} "
              f"(margin {scoring.MARGIN}) -> {check['kernel']}")


def lanas_epoch(args) -> None:
    rng = np.random.default_rng(1)
    X = np.concatenate([(rng.random((1, 11391, 36)) < 0.2).astype(np.float64), np.ones((1, 11391, 1))], axis=2)
    y, mask = rng.normal(size=(1, 11391)), np.ones((1, 11391))
    theta, counts = rng.normal(size=(1, 37)), mask.sum(axis=1)

    def old():
        residual = (np.einsum("kmd,kd->km", X, theta) - y) * mask
        return 2.0 * np.einsum("km,kmd->kd", residual, X) / counts[:, None]

    def new():
        residual = (np.matmul(X, theta[:, :, None])[..., 0] - y) * mask
        return 2.0 * np.matmul(residual[:, None, :], X)[:, 0] / counts[:, None]

    best = {}
    for _ in range(args.lanas_rounds):
        for name, step in (("einsum (before)", old), ("matmul (after)", new)):
            started = time.process_time()
            for _ in range(100):
                step()
            best[name] = min(best.get(name, np.inf), (time.process_time() - started) / 100)
    print("\n## LaNAS classifier epoch (residual + gradient), 11,391 x 37 float64, CPU us per epoch "
          f"(best of {args.lanas_rounds} x 100)")
    print("| kernel | CPU us per epoch | einsum / this |\n|---|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds * 1e6:.0f} | {best['einsum (before)'] / seconds:.2f} |")
    print(f"max abs difference of the gradients: {np.abs(old() - new()).max():.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=423_624)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1, as the workflow)")
    parser.add_argument("--lanas-rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"CPU: {cpu_line()}\ntorch {torch.__version__}, {args.threads} thread(s), numpy {np.__version__}, "
          f"load average {os.getloadavg()[0]:.1f}")
    lanas_epoch(args)
    scoring_pass(args)


if __name__ == "__main__":
    main()
