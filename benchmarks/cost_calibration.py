"""Calibrate the cost model of `nasrepro cost` (src/nasrepro/resources/cost_model.yaml) on this CPU.

    NASREPRO_MIRROR=../shared/benchmarks nasrepro prepare nb201-cifar10
    python benchmarks/cost_calibration.py [--budgets 100 200] [--out src/nasrepro/resources/cost_model.yaml]

Per method type (config.yaml's entry of that name, with the reductions below for the slowest trainers),
one seed on NAS-Bench-201 CIFAR-10 at two budgets, in-process on one thread: CPU seconds (process_time)
of the search alone, solved for a·q + b·q². The startup of a search process (imports and table load,
with and without torch) is timed in fresh processes. The ranking cost per architecture comes from
WeakNAS's recorded rank_seconds (the 4 x 1000 MLP), fits per query from each method's predictor fits.
The expected queries of a run to the optimum are the WeakNAS paper's Table 5 (NAS-Bench-201 CIFAR-10,
NAS-Bench-101) where it has the method, else the measured mean of `make baselines-cpu` (README).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

from nasrepro import config as cfg, threads
from nasrepro.benchmark import Benchmark
from nasrepro.pipeline import load_features
from nasrepro.runner import Budget, run_search

REPO = Path(__file__).resolve().parents[1]
# Calibrated at fewer epochs (the model scales training linearly with epochs): the authors' settings take minutes
# per run on a CPU. NPENAS and BANANAS run their authors' epochs: their compiled training loops are fast.
REDUCED = {
    "seminas": {"epochs": 50, "pseudo_epochs": 5},
    "nao": {"epochs": 50, "pseudo_epochs": 5},
    "lanas": {"epochs_first": 200, "epochs": 30},
}
# Settings calibrated besides each type's own, keyed "<type>/<variant>": the CPU overlays' 4 x 100 MLPs (a narrow
# MLP costs more than its FLOPs say: per-step overhead), for the types whose predictor is an MLP.
VARIANTS = {"mlp100": {"predictor": {"hidden_layer_sizes": [100, 100, 100, 100]}}}
QUERIES_TO_OPTIMUM = {  # WeakNAS paper, Table 5; `default` and the baselines: measured (README, make baselines-cpu)
    "nb201": {"weaknas": 182, "regularized_evolution": 563, "random": 7782, "lanas": 247, "default": 400},
    "nb101": {"weaknas": 195, "regularized_evolution": 87403, "random": 188140, "lanas": 11391, "default": 2000},
}
STARTUP = {
    "light": "from nasrepro import pipeline; from nasrepro.benchmark import Benchmark; Benchmark.load('{table}')",
    "torch": "from nasrepro import pipeline; from nasrepro.benchmark import Benchmark; import torch; "
             "import nasrepro.searchers.weaknas; Benchmark.load('{table}')",
}


def cpu_seconds(benchmark, features, method: dict, queries: int):
    started = time.process_time()
    result = run_search(benchmark, features, method, 0, Budget(queries), progress=False)
    return time.process_time() - started, result.iterations


def startup_seconds(table: str) -> dict:
    """CPU seconds of a fresh process that imports what a search job imports and loads the table."""
    times = {}
    for kind, code in STARTUP.items():
        before = children_cpu()
        subprocess.run([sys.executable, "-c", code.format(table=table)], check=True)
        times[kind] = round(children_cpu() - before, 2)
    return times


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", type=int, nargs=2, default=[100, 200])
    parser.add_argument("--out", default=str(REPO / "src/nasrepro/resources/cost_model.yaml"))
    parser.add_argument("--methods", nargs="*", help="method names of config.yaml (default: one per type)")
    parser.add_argument("--merge", action="store_true", help="update these methods in the existing model only")
    args = parser.parse_args()
    threads.limit(1)
    config = cfg.load(REPO / "config.yaml")
    bench = "nb201-cifar10"
    table = f"resources/tables/{bench}.parquet"
    benchmark = Benchmark.load(table)
    names = args.methods or sorted({entry["type"]: name for name, entry in config["methods"].items()
                                    if name == entry["type"]}.values())
    if args.merge:
        model = yaml.safe_load(Path(args.out).read_text())
    else:
        model = {"measured_on": f"{cpu_model()}, 1 thread, torch CPU, {time.strftime('%Y-%m-%d')}",
                 "startup_seconds": startup_seconds(table), "methods": {}, "queries_to_optimum": QUERIES_TO_OPTIMUM}
    low, high = args.budgets
    runs = [(name, name, {}) for name in names]
    runs += [(f"{name}/{variant}", name, change) for name in names for variant, change in VARIANTS.items()
             if cfg.searcher_spec(config, name, bench).get("predictor", {}).get("type") == "mlp"]
    for key, name, change in runs:
        method = cfg.merge(cfg.merge(cfg.searcher_spec(config, name, bench), REDUCED.get(name, {})), change)
        encoding = cfg.method_encoding(config, name, bench)
        features = load_features(f"resources/encodings/{bench}-{encoding}.npy") if cfg.uses_features(config, name, bench) else None
        (t_low, _), (t_high, fits) = (cpu_seconds(benchmark, features, method, q) for q in (low, high))
        b = max((t_high / high - t_low / low) / (high - low), 0.0)
        a = t_high / high - b * high
        ranked = fits["rank_seconds"].notna().sum() if "rank_seconds" in fits else 0
        model["methods"][key.replace(name, method["type"], 1)] = {"a": round(a, 6), "b": round(b, 9), "fits_per_query": round(ranked / high, 4),
                                            "options": method, "measured": {low: round(t_low, 2), high: round(t_high, 2)}}
        if key == "weaknas":
            model["rank_seconds_per_architecture"] = float(fits["rank_seconds"].mean() / benchmark.size)
        print(f"{key}: {t_low:.1f} s at {low} queries, {t_high:.1f} s at {high}", flush=True)
    model["methods"]["default"] = model["methods"]["weaknas"]
    Path(args.out).write_text("# Written by benchmarks/cost_calibration.py: the cost model of `nasrepro cost`.\n"
                              + yaml.safe_dump(json.loads(json.dumps(model, default=float)), sort_keys=False))
    print(f"wrote {args.out}")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
