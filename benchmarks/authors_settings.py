"""NASBOWL and BONAS before/after their authors' settings (issue 29), on one prepared benchmark, 1 thread:
queries to the optimum of the fitting label (censored at --cap) and CPU seconds per run, seed after seed, for
each method with its earlier behaviour (named options) and with its defaults (the authors').

    python benchmarks/authors_settings.py --seeds 20 --cap 1000 --out authors_settings.csv

--table defaults to resources/tables/nb201-cifar10.parquet (`nasrepro prepare nb201-cifar10` builds it). Rows
already in --out are kept and not run again, so an interrupted measurement resumes. Prints a Markdown table: per
method and setting, runs that found the optimum, median and mean queries to it (censored runs counted at the
cap), CPU seconds per run; and per method the two-sided Mann-Whitney U p of before against after, censored runs
tied at cap + 1 (they are worse than every run that found the optimum).
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

from nasrepro.benchmark import Benchmark  # noqa: E402
from nasrepro.runner import Budget, run_search  # noqa: E402

SETTINGS = {
    ("nasbowl", "before"): {"type": "nasbowl", "pool_strategy": "mixed", "graph": "full", "target": "accuracy"},
    ("nasbowl", "after"): {"type": "nasbowl"},
    ("bonas", "before"): {"type": "bonas", "loss": "mse"},
    ("bonas", "after"): {"type": "bonas"},
}


def one_run(benchmark: Benchmark, method: dict, seed: int, cap: int) -> dict:
    import torch

    torch.set_num_threads(1)
    started = time.process_time()
    result = run_search(benchmark, None, method, seed, Budget(cap, True), progress=False)
    found = result.metadata["queries_to_optimum"]
    return {"queries": len(result.trajectory), "queries_to_optimum": None if found is None else int(found),
            "cpu_seconds": time.process_time() - started}


def summary(frame: pd.DataFrame, cap: int) -> str:
    from scipy.stats import mannwhitneyu

    lines = ["| method | setting | options | found optimum | median queries | mean queries | CPU s/run (mean) |",
             "|---|---|---|---|---|---|---|"]
    tests = ["", "| method | runs before / after | Mann-Whitney U | two-sided p |", "|---|---|---|---|"]
    for (method, setting), options in SETTINGS.items():
        runs = frame[(frame["method"] == method) & (frame["setting"] == setting)]
        if runs.empty:
            continue
        q = runs["queries_to_optimum"].fillna(cap)
        lines.append(f"| {method} | {setting} | `{json.dumps({k: v for k, v in options.items() if k != 'type'})}` | "
                     f"{runs['queries_to_optimum'].notna().sum()}/{len(runs)} | {q.median():.0f} | {q.mean():.1f} | "
                     f"{runs['cpu_seconds'].mean():.1f} |")
    for method in dict.fromkeys(m for m, _ in SETTINGS):
        pair = [frame[(frame["method"] == method) & (frame["setting"] == s)]["queries_to_optimum"].fillna(cap + 1)
                for s in ("before", "after")]
        if min(len(p) for p in pair) > 0:
            test = mannwhitneyu(pair[0], pair[1], alternative="two-sided")
            tests.append(f"| {method} | {len(pair[0])} / {len(pair[1])} | {test.statistic:.1f} | {test.pvalue:.3g} |")
    return "\n".join(lines + tests)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--table", default="resources/tables/nb201-cifar10.parquet")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--cap", type=int, default=1000, help="stop a run at this many queries (censored)")
    parser.add_argument("--methods", default="nasbowl,bonas")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    benchmark = Benchmark.load(args.table)
    methods = args.methods.split(",")
    rows = pd.read_csv(args.out).to_dict("records") if Path(args.out).is_file() else []
    done = {(r["method"], r["setting"], r["seed"]) for r in rows}
    for seed in range(args.seeds):
        for (method, setting), options in SETTINGS.items():
            if method not in methods or (method, setting, seed) in done:
                continue
            row = {"method": method, "setting": setting, "seed": seed, "cap": args.cap,
                   **one_run(benchmark, options, seed, args.cap)}
            rows.append(row)
            print(json.dumps(row), flush=True)
            pd.DataFrame(rows).to_csv(args.out, index=False)
    print(summary(pd.DataFrame(rows), args.cap))


if __name__ == "__main__":
    main()
