"""Speed benchmark: wall time of WeakNAS seed runs to the global optimum on one NAS-Bench-201 dataset.

    python benchmarks/weaknas_seed.py --mirror ../shared/benchmarks --seeds 0 1 2 [--threads 1]

Builds the canonical table from the mirror (nothing is written outside a temporary folder), then runs
the config.yaml WeakNAS method (paper MLP, 10 + 10 per iteration, Top-100) until the optimum of the
fitting label is queried, and prints one line per seed plus the mean seconds per iteration.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from nasrepro import config as cfg, encodings
from nasrepro.spaces import nb201
from nasrepro.benchmark import Benchmark, write_table
from nasrepro.runner import Budget, environment, run_search
from nasrepro.spaces import get_source

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", required=True, help="folder with nb201/cifar10_avg.csv and nb201/nats_bench.csv")
    parser.add_argument("--bench", default="nb201-cifar10", help="benchmark name in config.yaml")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1, as the workflow)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = cfg.load(str(REPO / "config.yaml"))
    bench = config["benchmarks"][args.bench]
    files = {name: Path(args.mirror) / get_source(name).mirror_path
             for name in nb201.required_sources(bench["dataset"], bench["fit_split"])}
    table, meta = nb201.convert(bench["dataset"], bench["fit_split"], files)
    with tempfile.TemporaryDirectory() as tmp:
        write_table(table, meta, Path(tmp) / "table.parquet")
        benchmark = Benchmark.load(Path(tmp) / "table.parquet")
    features = encodings.encode("nb201", bench.get("encoding", "onehot30"), benchmark.table)
    device = environment()["device"]
    print(f"{args.bench}, WeakNAS (config.yaml), device {device}, torch threads {args.threads}")
    per_iteration = []
    for seed in args.seeds:
        started = time.perf_counter()
        result = run_search(benchmark, features, cfg.searcher_spec(config, "weaknas", args.bench), seed,
                            Budget(queries=benchmark.size, until_optimum=True), progress=False)
        seconds = time.perf_counter() - started
        iterations = int(result.trajectory["iteration"].max()) + 1
        per_iteration.append(seconds / iterations)
        print(f"seed {seed}: {result.metadata['queries_to_optimum']} queries, {iterations} iterations, "
              f"{seconds:.1f} s ({seconds / iterations:.2f} s/iteration)")
    print(f"mean {sum(per_iteration) / len(per_iteration):.2f} s per iteration over {len(args.seeds)} seed(s)")


if __name__ == "__main__":
    main()
