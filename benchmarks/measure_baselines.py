"""Measure one method on one prepared benchmark outside Snakemake, seed after seed in one process (1 thread):
queries to the optimum of the fitting label (censored at --cap), the test accuracy of the best architecture by
fitting label found within each budget (`test_of_best_valid`, the baselines' report), and CPU seconds per run.

    python benchmarks/measure_baselines.py '{"type": "nasbowl"}' --seeds 20 --cap 400 --out nasbowl.csv
    python benchmarks/measure_baselines.py '{"type": "bananas"}' --features truncpath30 ...   # an encoding
    python benchmarks/measure_baselines.py '{"type": "arch2vec"}' ...   # pretrains (or reuses) its embedding

Prints one line per seed and the means; writes one CSV row per seed.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from nasrepro import encodings  # noqa: E402
from nasrepro.benchmark import Benchmark  # noqa: E402
from nasrepro.runner import Budget, run_search  # noqa: E402
from nasrepro.searchers import searcher_class  # noqa: E402
from nasrepro.searchers.pretrained import pretrain, pretrained_file  # noqa: E402

BUDGETS = (100, 150, 200, 400)


def features_for(method: dict, benchmark: Benchmark, encoding: str | None) -> np.ndarray | None:
    cls = searcher_class(method["type"])
    options = cls.resolve({k: v for k, v in method.items() if k != "type"}, benchmark.space)
    if hasattr(cls, "pretraining"):
        path = Path(pretrained_file(benchmark.space, cls.pretraining(options)))
        if not path.exists():
            started = time.process_time()
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, pretrain(benchmark.space, benchmark.cells, cls.pretraining(options)), allow_pickle=False)
            print(f"pretrained {path} in {time.process_time() - started:.0f} CPU seconds", flush=True)
        return np.load(path, allow_pickle=False)
    if cls.input_needed(options) != "features":
        return None
    return encodings.encode(benchmark.space, encoding or "onehot30", benchmark.table)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("method", help="the method's options as JSON, with its type")
    parser.add_argument("--table", default="resources/tables/nb201-cifar10.parquet")
    parser.add_argument("--features", help="encoding name for methods that read one (default onehot30)")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--cap", type=int, default=None, help="stop at this many queries (default: the space)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    method = json.loads(args.method)
    benchmark = Benchmark.load(args.table)
    features = features_for(method, benchmark, args.features)
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        started = time.process_time()
        result = run_search(benchmark, features, method, seed, Budget(args.cap or benchmark.size, True), progress=False)
        trajectory = result.trajectory
        row = {"seed": seed, "queries": len(trajectory), "queries_to_optimum": result.metadata["queries_to_optimum"],
               "cpu_seconds": time.process_time() - started}
        for budget in BUDGETS:
            seen = trajectory[trajectory["query"] < budget]
            row[f"test_at_{budget}"] = float(seen.loc[seen["fit_label"].idxmax(), "test_label"])
        rows.append(row)
        print(json.dumps(row), flush=True)
        pd.DataFrame(rows).to_csv(args.out, index=False)
    frame = pd.DataFrame(rows)
    found = frame["queries_to_optimum"].dropna()
    print(f"{method}: optimum found in {len(found)}/{len(frame)} runs (cap {args.cap}); queries to it: mean "
          f"{found.mean():.1f}, median {found.median():.0f}; " + ", ".join(
              f"test@{b} {frame[f'test_at_{b}'].mean():.2f}±{frame[f'test_at_{b}'].std():.2f}" for b in BUDGETS)
          + f"; CPU s/run {frame['cpu_seconds'].mean():.1f}")


if __name__ == "__main__":
    main()
