"""Speed benchmark: seconds per WeakNAS iteration on NAS-Bench-101-sized input (423,624 x 45), fp32 and bf16.

    python benchmarks/weaknas_iteration.py [--rows 423624] [--train 1000] [--precision fp32 bf16]
                                           [--iterations 1] [--threads 1] [--device auto]

One WeakNAS iteration fits the paper's 4x1000 MLP on everything queried so far (here --train rows,
about what the NAS-Bench-101 schedule of 100 + 10 per iteration has queried by its later iterations)
and ranks every architecture of the space with it; the ranking (about 2.6 TFLOP at 423,624 rows) is
the hot spot. The script times exactly that work with the predictor the searcher builds (the mlp entry
of config.yaml's WeakNAS method: MLPRegressor with its defaults), plus the Top-N selection the searcher
does with the ranking; it does not go through the searcher, so it needs no oracle and no search space.
The features are 0/1 vectors of seq45's width drawn at random: the cost of a dense MLP does not
depend on the values, and no NAS-Bench-101 file is needed. The labels are a fixed random linear
function of the features plus noise, z-scored as WeakNAS does, so training runs its usual course.
Printed per precision and iteration: epochs, fit and rank CPU seconds (process_time: all threads) and
wall seconds, and the fp32/bf16 ratios.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from nasrepro.predictors.mlp import MLPRegressor, resolve_device


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=423_624, help="architectures to rank (NAS-Bench-101: 423,624)")
    parser.add_argument("--width", type=int, default=45, help="encoding width (seq45: 45)")
    parser.add_argument("--train", type=int, default=1000, help="training rows (architectures queried so far)")
    parser.add_argument("--precision", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument("--iterations", type=int, default=1, help="timed iterations per precision")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--device", default="auto", help="auto (GPU when present), cpu or cuda")
    parser.add_argument("--predict-batch-size", type=int, default=None, help="rows per forward pass when ranking")
    parser.add_argument("--top", type=int, default=100, help="Top-N the searcher samples from")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    features = (rng.random((args.rows, args.width)) < 0.3).astype(np.float32)
    fit = features @ rng.normal(0, 1, args.width) + rng.normal(0, 0.1, args.rows)
    labels = ((fit - fit.mean()) / fit.std()).astype(np.float32)
    device = resolve_device(args.device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()
    print(f"{args.rows} x {args.width} ranked, {args.train} trained, MLP 4x1000 (max 100 epochs), {device} "
          f"({where}), torch {torch.__version__}, {args.threads} thread(s)")

    options = {"device": args.device}
    if args.predict_batch_size:
        options["predict_batch_size"] = args.predict_batch_size
    # a short warm-up per precision, so that no timed run pays for the first oneDNN / CUDA call
    for precision in args.precision:
        MLPRegressor(precision=precision, max_epochs=1, **options).fit(features[:200], labels[:200]).predict(
            features[:4096])

    means = {}
    for precision in args.precision:
        totals = []
        for iteration in range(args.iterations):
            train = np.random.default_rng(100 + iteration).choice(args.rows, args.train, replace=False)
            model = MLPRegressor(precision=precision, random_state=iteration, **options)
            cpu, wall = time.process_time(), time.perf_counter()
            model.fit(features[train], labels[train])
            if device.type == "cuda":
                torch.cuda.synchronize()
            fit_cpu, fit_wall = time.process_time() - cpu, time.perf_counter() - wall
            cpu, wall = time.process_time(), time.perf_counter()
            scores = model.predict(features)
            top = np.argpartition(-scores, args.top)[: args.top]  # the searcher's Top-N
            rank_cpu, rank_wall = time.process_time() - cpu, time.perf_counter() - wall
            totals.append((fit_cpu, rank_cpu, fit_wall, rank_wall))
            print(f"{precision} iteration {iteration}: {model.n_epochs_} epochs, fit {fit_cpu:.2f} CPU s "
                  f"({fit_wall:.2f} wall), rank {rank_cpu:.2f} CPU s ({rank_wall:.2f} wall), "
                  f"total {fit_cpu + rank_cpu:.2f} CPU s ({fit_wall + rank_wall:.2f} wall); top-{args.top} "
                  f"mean label {labels[top].mean():.2f}", flush=True)
        means[precision] = np.mean(totals, axis=0)
        fit_cpu, rank_cpu, fit_wall, rank_wall = means[precision]
        print(f"{precision} mean over {args.iterations}: fit {fit_cpu:.2f} + rank {rank_cpu:.2f} = "
              f"{fit_cpu + rank_cpu:.2f} CPU s per iteration ({fit_wall + rank_wall:.2f} wall s)")
    if {"fp32", "bf16"} <= set(means):
        full, half = means["fp32"], means["bf16"]
        print(f"fp32 / bf16: fit {full[0] / half[0]:.2f}x, rank {full[1] / half[1]:.2f}x, "
              f"iteration {(full[0] + full[1]) / (half[0] + half[1]):.2f}x (CPU s)")


if __name__ == "__main__":
    main()
