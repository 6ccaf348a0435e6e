"""What isolating the searcher costs (`nasrepro.sandbox`): the same runs in the runner's process and in a
process of their own, side by side, and the pipe's cost per ask/tell round.

    python benchmarks/isolation_overhead.py --table resources/tables/nb201-cifar10.parquet \
        --features resources/encodings/nb201-cifar10-onehot30.npy --queries 1000

CPU seconds count the runner's process and its searcher process (`resource.RUSAGE_CHILDREN`).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

from nasrepro import config as cfg
from nasrepro.benchmark import Benchmark
from nasrepro.pipeline import load_features
from nasrepro.runner import Budget, run_search
from nasrepro.threads import limit


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(benchmark, features, method, queries, isolated) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = run_search(benchmark, features, method, 0, Budget(queries), progress=False, isolated=isolated)
    rounds = int(result.trajectory["iteration"].max()) + 1
    return time.perf_counter() - wall, cpu_seconds() - cpu, rounds


def startup_seconds(benchmark, features, method, times: int = 5) -> float:
    """Wall seconds to start a searcher's process and build its searcher (the per-run part of the overhead)."""
    from nasrepro.runner import search_space
    from nasrepro.sandbox import Isolated

    space = search_space(benchmark, features)
    started = time.perf_counter()
    for _ in range(times):
        Isolated(method, space, 0, 1000, []).close()
    return (time.perf_counter() - started) / times


def round_trip_ms(benchmark, features, rounds: int = 2000, repeats: int = 3) -> tuple[float, float]:
    """(in-process, isolated) wall milliseconds of one ask(1)/tell round of random search, the best of
    `repeats`: the pipe's own cost, without the method's work."""
    import numpy as np

    from nasrepro.runner import search_space
    from nasrepro.sandbox import Isolated
    from nasrepro.searchers import make_searcher

    space, method = search_space(benchmark, features), {"type": "random"}
    labels = benchmark.fit_labels

    def per_round(searcher) -> float:
        started = time.perf_counter()
        for _ in range(rounds):
            ids = np.asarray(searcher.ask(1))
            searcher.tell(ids, labels[ids])
        return 1000 * (time.perf_counter() - started) / rounds

    inline = min(per_round(make_searcher(method, space, 0, budget=rounds)) for _ in range(repeats))
    isolated = Isolated(method, space, 0, rounds * repeats, [])
    try:
        piped = min(per_round(isolated) for _ in range(repeats))
    finally:
        isolated.close()
    return inline, piped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", required=True)
    parser.add_argument("--features", required=True)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--methods", nargs="+", default=["random", "weaknas"])
    parser.add_argument("--mlp-width", type=int, help="hidden width of WeakNAS's 4-layer MLP (default: the config's)")
    args = parser.parse_args()
    limit(1)
    config = cfg.validate(cfg.load(Path(__file__).resolve().parents[1] / "config.yaml"))
    benchmark = Benchmark.load(args.table)
    features = load_features(args.features)
    print(f"CPU: {platform.processor() or platform.machine()}; one thread; {args.queries} queries, seed 0")
    print(f"{'method':<12}{'where':<12}{'rounds':>8}{'wall s':>10}{'CPU s':>10}{'ms/round (wall)':>18}")
    rows = {}
    for name in args.methods:
        method = cfg.searcher_spec(config, name, "nb201-cifar10")
        if args.mlp_width and isinstance(method.get("predictor"), dict):
            method["predictor"]["hidden_layer_sizes"] = [args.mlp_width] * 4
        for isolated in (False, True):
            wall, cpu, rounds = timed(benchmark, features, method, args.queries, isolated)
            where = "isolated" if isolated else "in-process"
            rows[name, where] = (wall, cpu, rounds)
            print(f"{name:<12}{where:<12}{rounds:>8}{wall:>10.2f}{cpu:>10.2f}{1000 * wall / rounds:>18.3f}")
        (w0, c0, n), (w1, c1, _) = rows[name, "in-process"], rows[name, "isolated"]
        start = startup_seconds(benchmark, features, method)
        print(f"{name:<12}{'overhead':<12}{'':>8}{w1 - w0:>10.2f}{c1 - c0:>10.2f}{1000 * (w1 - w0) / n:>18.3f}")
        print(f"{name:<12}{'of which: process start':<36}{start:>10.2f}  per round: "
              f"{1000 * (w1 - w0 - start) / n:.3f} ms wall")
    inline, piped = round_trip_ms(benchmark, features)
    print(f"one ask(1)/tell round of random search: {inline:.4f} ms in-process, {piped:.4f} ms isolated "
          f"(the pipe: {piped - inline:.4f} ms a round)")
    print(json.dumps({f"{k[0]}/{k[1]}": v for k, v in rows.items()}))


if __name__ == "__main__":
    main()
