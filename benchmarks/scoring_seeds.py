"""Paired-seed check: do the MLP's scoring kernels and bf16 change WeakNAS's queries to the optimum?

    python benchmarks/scoring_seeds.py --mirror ../shared/benchmarks --seeds 20 [--out /tmp/scoring_seeds.jsonl]

NAS-Bench-201 CIFAR-10 (canonical table built from the mirror in a temporary folder), config.yaml's `weaknas`
(the paper's 4 x 1000 MLP, 10 + 10 per iteration, Top-100) until the optimum of the fitting label is
queried or --cap queries were spent (1,000: a run then ranks last, at cap + 1), one torch thread. Arms, each over seeds 0..n-1: `fp32 reference` (addmm / MKL ranking), `fp32 onednn`
(the oneDNN ranking kernel, pinned with NASREPRO_FP32_KERNEL), `bf16` (precision: bf16, fitting and ranking).
Each finished run is appended to --out (a rerun skips the runs already there), then the table: mean ± SD per
arm, and per arm against `fp32 reference`, paired by seed: seeds with equal counts, the Wilcoxon signed-rank p
(two-sided, zero differences dropped; 1.0 when all are zero) and the two-sided Mann-Whitney U p.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from nasrepro import config as cfg, encodings
from nasrepro.benchmark import Benchmark, write_table
from nasrepro.predictors import scoring
from nasrepro.runner import Budget, run_search
from nasrepro.spaces import get_source, nb201

REPO = Path(__file__).resolve().parents[1]
ARMS = {"fp32 reference": ("fp32", "reference"), "fp32 onednn": ("fp32", "onednn"), "bf16": ("bf16", None)}


def load(mirror: str, bench_name: str):
    config = cfg.load(str(REPO / "config.yaml"))
    bench = config["benchmarks"][bench_name]
    files = {name: Path(mirror) / get_source(name).mirror_path
             for name in nb201.required_sources(bench["dataset"], bench["fit_split"])}
    table, meta = nb201.convert(bench["dataset"], bench["fit_split"], files)
    with tempfile.TemporaryDirectory() as tmp:
        write_table(table, meta, Path(tmp) / "table.parquet")
        benchmark = Benchmark.load(Path(tmp) / "table.parquet")
    return config, benchmark, encodings.encode("nb201", bench.get("encoding", "onehot30"), benchmark.table)


def run_arm(config, benchmark, features, bench_name: str, arm: str, seed: int, cap: int) -> dict:
    precision, kernel = ARMS[arm]
    spec = cfg.searcher_spec(config, "weaknas", bench_name)
    spec = {**spec, "predictor": {**spec["predictor"], "precision": precision}}
    os.environ.pop(scoring.PIN_ENV, None)
    if kernel:
        os.environ[scoring.PIN_ENV] = kernel
    started = time.process_time()
    result = run_search(benchmark, features, spec, seed, Budget(queries=min(cap, benchmark.size), until_optimum=True),
                        progress=False)
    os.environ.pop(scoring.PIN_ENV, None)
    found = result.metadata["queries_to_optimum"]
    return {"arm": arm, "seed": seed, "queries": None if found is None else int(found), "cap": cap,
            "cpu_s": round(time.process_time() - started, 2)}


def ranked(row: dict) -> int:
    """Queries to the optimum; a run that did not find it within its cap ranks last, at cap + 1."""
    return row["queries"] if row["queries"] is not None else row["cap"] + 1


def summarize(rows: list[dict], seeds: int) -> None:
    found = {(r["arm"], r["seed"]): r for r in rows}
    reference = [ranked(found[("fp32 reference", s)]) for s in range(seeds) if ("fp32 reference", s) in found]
    print("| arm | seeds | not found within the cap | queries to optimum (not found: cap + 1), mean ± SD | median "
          "| CPU s per run | equal to fp32 ref (paired) | Wilcoxon p | Mann-Whitney p |")
    print("|---|---|---|---|---|---|---|---|---|")
    for arm in ARMS:
        paired = [s for s in range(seeds) if (arm, s) in found and ("fp32 reference", s) in found]
        q = np.array([ranked(found[(arm, s)]) for s in range(seeds) if (arm, s) in found])
        censored = sum(found[(arm, s)]["queries"] is None for s in range(seeds) if (arm, s) in found)
        if not len(q):
            continue
        cpu = np.mean([found[(arm, s)]["cpu_s"] for s in range(seeds) if (arm, s) in found])
        a = np.array([ranked(found[(arm, s)]) for s in paired])
        b = np.array([ranked(found[("fp32 reference", s)]) for s in paired])
        if arm == "fp32 reference" or not len(paired):
            tests = "– | – | –"
        else:
            wilcoxon = 1.0 if np.all(a == b) else stats.wilcoxon(a, b).pvalue
            mann_whitney = stats.mannwhitneyu(q, reference, alternative="two-sided").pvalue
            tests = f"{int(np.sum(a == b))}/{len(paired)} | {wilcoxon:.3f} | {mann_whitney:.3f}"
        print(f"| {arm} | {len(q)} | {censored} | {q.mean():.1f} ± {q.std(ddof=1):.1f} | {np.median(q):.0f} | {cpu:.1f} | {tests} |")
    print("\nper seed: " + "; ".join(
        f"{s}: " + "/".join(str(found[(arm, s)]["queries"] or f">{found[(arm, s)]['cap']}") if (arm, s) in found
                            else "-" for arm in ARMS)
        for s in range(seeds)) + f"  ({' / '.join(ARMS)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", required=True, help="folder with nb201/cifar10_avg.csv and nb201/nats_bench.csv")
    parser.add_argument("--bench", default="nb201-cifar10", help="benchmark name in config.yaml")
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0..n-1")
    parser.add_argument("--cap", type=int, default=1000,
                        help="queries at most a run (a run that has not found the optimum then ranks last)")
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--out", default="/tmp/scoring_seeds.jsonl", help="finished runs, one JSON line each")
    parser.add_argument("--descending", action="store_true",
                        help="seeds n-1..0 (a second process can then share the work with one going up)")
    parser.add_argument("--summary-only", action="store_true", help="print the table of the runs in --out")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    if not args.summary_only:
        config, benchmark, features = load(args.mirror, args.bench)
        done = {(r["arm"], r["seed"]) for r in rows}
        for seed in (range(args.seeds)[::-1] if args.descending else range(args.seeds)):  # seed-major: pairs
            for arm in args.arms:
                if (arm, seed) in done:
                    continue
                row = run_arm(config, benchmark, features, args.bench, arm, seed, args.cap)
                rows.append(row)
                with out.open("a") as file:
                    file.write(json.dumps(row) + "\n")
                print(json.dumps(row), flush=True)
    summarize(rows, args.seeds)


if __name__ == "__main__":
    main()
