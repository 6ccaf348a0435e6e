"""Speed benchmark: seconds per WeakNAS iteration on NAS-Bench-101-sized input (423,624 x 45).

    python benchmarks/weaknas_iteration.py [--rows 423624] [--iterations 3] [--threads 2] [--device auto]

One WeakNAS iteration fits the paper's 4x1000 MLP on everything queried so far and ranks every
architecture of the space with it; the ranking (about 2.6 TFLOP at 423,624 rows) is the hot spot.
The features are 0/1 vectors of seq45's width drawn at random: the cost of a dense MLP does not
depend on the values, and no NAS-Bench-101 file is needed. The labels are a fixed random linear
function of the features, so training runs its usual course. The config.yaml WeakNAS method with its
NAS-Bench-101 options (100 initial samples, then 10 per iteration) runs through the real searcher and
oracle; the script prints, per iteration, the training-set size, the epochs run, the fit and rank
seconds, and the mean.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from nasrepro import config as cfg
from nasrepro.oracle import Oracle
from nasrepro.runner import environment
from nasrepro.searchers import SearchSpace, make_searcher

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=423_624, help="architectures to rank (NAS-Bench-101: 423,624)")
    parser.add_argument("--width", type=int, default=45, help="encoding width (seq45: 45)")
    parser.add_argument("--iterations", type=int, default=3, help="WeakNAS iterations to time")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="auto", help="auto (GPU when present), cpu or cuda")
    parser.add_argument("--predict-batch-size", type=int, default=None, help="rows per forward pass when ranking")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    features = (rng.random((args.rows, args.width)) < 0.3).astype(np.float32)
    fit = features @ rng.normal(0, 1, args.width) + rng.normal(0, 0.1, args.rows)
    space = SearchSpace("nb101", args.rows, np.zeros((args.rows, 1), np.int8), features, float(fit.mean()),
                        float(fit.std()))
    config = cfg.load(str(REPO / "config.yaml"))
    method = cfg.searcher_spec(config, "weaknas", "nb101-cifar10")
    method["predictor"] = {**method["predictor"], "device": args.device}
    if args.predict_batch_size:
        method["predictor"]["predict_batch_size"] = args.predict_batch_size
    searcher = make_searcher(method, space, seed=0)
    oracle = Oracle(fit, fit)

    print(f"{args.rows} x {args.width}, WeakNAS {method}, device {environment()['device']}, "
          f"torch threads {args.threads}")
    for iteration in range(args.iterations):
        ids = searcher.ask(10_000)
        started = time.perf_counter()
        searcher.tell(ids, oracle.query(ids, iteration))
        note = searcher.iterations[iteration]
        print(f"iteration {iteration}: {note['n_train']} trained, {note['epochs']} epochs, fit {note['fit_seconds']:.2f} s, "
              f"rank {note['rank_seconds']:.2f} s, total {time.perf_counter() - started:.2f} s")
    fits = [n["fit_seconds"] for n in searcher.iterations]
    ranks = [n["rank_seconds"] for n in searcher.iterations]
    print(f"mean over {args.iterations} iterations: fit {np.mean(fits):.2f} s + rank {np.mean(ranks):.2f} s "
          f"= {np.mean(fits) + np.mean(ranks):.2f} s per iteration")


if __name__ == "__main__":
    main()
