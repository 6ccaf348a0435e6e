"""SemiNAS / NAO, the compiled training step (`trainer: auto`) against the torch loop (`trainer: torch`), paired
by seed on NAS-Bench-201 CIFAR-10 with config.yaml's options (the authors' model, epochs and optimizer; the
NB201 adaptation's 100 initial, 100 per round, 1,000 pseudo-labelled): queries to the fitting label's optimum
(censored at --cap), the test accuracy of the best architecture by fitting label at the cap, CPU seconds a run.

    python benchmarks/seminas_paired.py run --mirror ../shared/benchmarks --trainer torch --seeds 20 --cap 200 \\
        --out results/speed/seminas-torch.csv
    python benchmarks/seminas_paired.py run ... --trainer auto --out results/speed/seminas-auto.csv
    python benchmarks/seminas_paired.py compare results/speed/seminas-torch.csv results/speed/seminas-auto.csv

`run` builds the canonical table from the mirror in a temporary folder, runs seed after seed on one thread and
appends one CSV row per seed (a rerun skips the seeds already in --out, so runs can be split or resumed).
`compare` pairs the two files by seed: Mann-Whitney U (two-sided) on queries to the optimum (a run that did
not find it ranks last, tied at cap + 1), Wilcoxon signed-rank on the pairs of queries and of test accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BENCH = "nb201-cifar10"


def load_benchmark(mirror: str):
    from nasrepro import config as cfg
    from nasrepro.benchmark import Benchmark, write_table
    from nasrepro.spaces import nb201

    try:
        from nasrepro.spaces import get_source
    except ImportError:  # before spaces were plugins
        from nasrepro.sources import get_source

    bench = cfg.load(str(REPO / "config.yaml"))["benchmarks"][BENCH]
    files = {name: Path(mirror) / get_source(name).mirror_path
             for name in nb201.required_sources(bench["dataset"], bench["fit_split"])}
    table, meta = nb201.convert(bench["dataset"], bench["fit_split"], files)
    with tempfile.TemporaryDirectory() as tmp:
        write_table(table, meta, Path(tmp) / "table.parquet")
        return Benchmark.load(Path(tmp) / "table.parquet")


def run(args) -> None:
    import torch

    from nasrepro import config as cfg, threads
    from nasrepro.runner import Budget, run_search

    threads.limit(1)
    torch.set_num_threads(1)
    method = cfg.merge(cfg.searcher_spec(cfg.load(str(REPO / "config.yaml")), args.method, BENCH),
                       {"trainer": args.trainer, "device": "cpu"})
    benchmark = load_benchmark(args.mirror)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set(pd.read_csv(out)["seed"]) if out.exists() else set()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        if seed in done:
            continue
        started, wall = time.process_time(), time.perf_counter()
        result = run_search(benchmark, None, method, seed, Budget(args.cap, True), progress=False)
        trajectory = result.trajectory
        best = trajectory.loc[trajectory["fit_label"].idxmax()]
        found = result.metadata["queries_to_optimum"]
        row = {"method": args.method, "trainer": args.trainer, "seed": seed, "cap": args.cap,
               "queries": len(trajectory), "queries_to_optimum": found, "best_fit_label": float(best["fit_label"]),
               "test_of_best": float(best["test_label"]), "queried": _digest(trajectory), "cpu_seconds": time.process_time() - started,
               "wall_seconds": time.perf_counter() - wall}
        print(json.dumps(row), flush=True)
        rows = [pd.read_csv(out)] if out.exists() else []
        pd.concat([*rows, pd.DataFrame([row])], ignore_index=True).to_csv(out, index=False)  # columns may grow


def _digest(trajectory) -> str:
    """The queried architectures in their order, as a short hash: equal digests, equal runs."""
    import hashlib

    return hashlib.sha256(",".join(map(str, trajectory["arch_id"])).encode()).hexdigest()[:16]


def compare(args) -> None:
    from scipy import stats

    a, b = (pd.read_csv(path).drop_duplicates("seed").set_index("seed") for path in (args.first, args.second))
    seeds = a.index.intersection(b.index)
    a, b = a.loc[seeds], b.loc[seeds]
    cap = int(a["cap"].iloc[0])
    qa, qb = (frame["queries_to_optimum"].fillna(cap + 1).to_numpy() for frame in (a, b))
    print(f"{len(seeds)} paired seeds, cap {cap} queries")
    print("| loop | optimum found | queries to it: mean (median) of those found | test acc. of best at cap: mean ± SD "
          "| CPU s per run: mean |")
    print("|---|---|---|---|---|")
    for frame in (a, b):
        found = frame["queries_to_optimum"].dropna()
        mean = f"{found.mean():.1f} ({found.median():.0f})" if len(found) else "-"
        print(f"| {frame['trainer'].iloc[0]} | {len(found)}/{len(frame)} (censored {len(frame) - len(found)}) | {mean} "
              f"| {frame['test_of_best'].mean():.3f} ± {frame['test_of_best'].std():.3f} "
              f"| {frame['cpu_seconds'].mean():.1f} |")
    print(f"queries to the optimum (censored = cap + 1): Mann-Whitney U p = {_mann_whitney(qa, qb):.3g}, "
          f"Wilcoxon p = {_wilcoxon(qa, qb)}")
    ta, tb = a["test_of_best"].to_numpy(), b["test_of_best"].to_numpy()
    print(f"test accuracy of the best at the cap: Mann-Whitney U p = {_mann_whitney(ta, tb):.3g}, "
          f"Wilcoxon p = {_wilcoxon(ta, tb)}; identical pairs {int((ta == tb).sum())}/{len(ta)}")
    if "queried" in a and "queried" in b:
        both = a["queried"].notna() & b["queried"].notna()
        same = int((a.loc[both, "queried"] == b.loc[both, "queried"]).sum())
        print(f"the same architectures queried in the same order: {same}/{int(both.sum())} pairs (of those recorded)")
    print(f"CPU seconds per run: ratio {a['cpu_seconds'].mean() / b['cpu_seconds'].mean():.2f}")


def _mann_whitney(x, y) -> float:
    from scipy import stats

    if np.array_equal(np.sort(x), np.sort(y)):
        return 1.0
    return float(stats.mannwhitneyu(x, y, alternative="two-sided").pvalue)


def _wilcoxon(x, y) -> str:
    from scipy import stats

    if np.all(x == y):
        return "- (every pair equal)"
    return f"{stats.wilcoxon(x, y).pvalue:.3g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("run", help="seeds of one loop")
    one.add_argument("--mirror", default=os.environ.get("NASREPRO_MIRROR", "../shared/benchmarks"))
    one.add_argument("--method", default="seminas", help="config.yaml's method entry (seminas, nao)")
    one.add_argument("--trainer", choices=["auto", "torch"], required=True)
    one.add_argument("--seeds", type=int, default=20)
    one.add_argument("--first-seed", type=int, default=0)
    one.add_argument("--cap", type=int, default=200, help="queries at most (stops earlier at the optimum)")
    one.add_argument("--out", required=True)
    both = commands.add_parser("compare", help="two loops' CSVs paired by seed")
    both.add_argument("first")
    both.add_argument("second")
    args = parser.parse_args()
    {"run": run, "compare": compare}[args.command](args)


if __name__ == "__main__":
    main()
