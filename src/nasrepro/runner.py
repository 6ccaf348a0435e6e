"""Run one (benchmark, method, seed): the searcher asks, the oracle answers and counts."""

from __future__ import annotations

import platform
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from .benchmark import Benchmark
from .errors import NasReproError
from .oracle import Oracle
from .searchers import SearchSpace, make_searcher

OPTIMUM_TARGETS = ("fit", "test")


@dataclass(frozen=True)
class Budget:
    """Stop after `queries`, or once the optimum is queried (`until_optimum`), whichever is first."""

    queries: int
    until_optimum: bool = False
    optimum: str = "fit"  # which label's argmax is "the global optimum"

    @classmethod
    def from_config(cls, spec: dict, space_size: int) -> "Budget":
        until = bool(spec.get("until_optimum", False))
        queries = int(spec.get("queries", space_size if until else 0))
        if queries < 1:
            raise NasReproError("budget.queries must be a positive number of queries")
        optimum = spec.get("optimum", "fit")
        if optimum not in OPTIMUM_TARGETS:
            raise NasReproError(f"budget.optimum {optimum!r} is not one of {', '.join(OPTIMUM_TARGETS)}")
        return cls(queries=queries, until_optimum=until, optimum=optimum)


@dataclass
class RunResult:
    trajectory: pd.DataFrame
    iterations: pd.DataFrame
    metadata: dict = field(default_factory=dict)


def search_space(benchmark: Benchmark, features: np.ndarray | None) -> SearchSpace:
    if features is None:
        features = np.empty((benchmark.size, 0), dtype=np.float32)
    if len(features) != benchmark.size:
        raise NasReproError(f"feature matrix has {len(features)} rows, benchmark has {benchmark.size}")
    ops = benchmark.table[benchmark.op_columns].to_numpy(np.int8)
    fit = benchmark.fit_labels
    return SearchSpace(
        space=benchmark.space,
        size=benchmark.size,
        ops=ops,
        features=features,
        fit_label_mean=float(fit.mean()),
        fit_label_std=float(fit.std()),
        cells=benchmark.cells,
    )


def run_search(
    benchmark: Benchmark,
    features: np.ndarray | None,
    method: dict,
    seed: int,
    budget: Budget,
    charge_repeats: bool = True,
    progress: bool = True,
) -> RunResult:
    started = time.perf_counter()
    searcher = make_searcher(method, search_space(benchmark, features), seed)
    oracle = Oracle(benchmark.fit_labels, benchmark.test_labels, charge_repeats=charge_repeats)
    optimum = benchmark.optimum(budget.optimum)
    found_at = None
    step = 0
    with tqdm(total=budget.queries, desc=f"{method.get('type')} seed {seed}", disable=not progress,
              file=sys.stderr, mininterval=5) as bar:
        while oracle.used < budget.queries:
            ids = searcher.ask(budget.queries - oracle.used)
            if len(ids) == 0:
                break
            before = oracle.used
            labels = oracle.query(ids, iteration=step)
            bar.update(oracle.used - before)
            step += 1
            if found_at is None and oracle.has_queried(optimum):
                found_at = oracle.used
                if budget.until_optimum:
                    break
            searcher.tell(ids, labels)
    trajectory = oracle.trajectory()
    metadata = {
        "seed": seed,
        "method": method,
        "budget": budget.__dict__,
        "charge_repeats": charge_repeats,
        "benchmark": benchmark.meta,
        "optimum_arch_id": optimum,
        "test_optimum": float(benchmark.test_labels.max()),
        "queries_used": oracle.used,
        "queries_to_optimum": found_at,
        "wall_seconds": time.perf_counter() - started,
        "environment": environment(),
    }
    return RunResult(trajectory=trajectory, iterations=pd.DataFrame(searcher.iterations), metadata=metadata)


def environment() -> dict:
    versions = {}
    for package in ("nasrepro", "numpy", "pandas", "torch", "lightgbm", "snakemake"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"cpu ({platform.processor() or platform.machine()})"
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device,
        "torch_threads": torch.get_num_threads(),
        "versions": versions,
    }
