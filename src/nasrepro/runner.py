"""Run one (benchmark, method, seed): the searcher asks, the oracle answers and counts."""

from __future__ import annotations

import platform
from pathlib import Path
import sys
import time
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from importlib import metadata

import numpy as np
import pandas as pd
from tqdm import tqdm

from . import lazy, metrics
from .benchmark import Benchmark
from .contract import Contract
from .errors import NasReproError
from .oracle import Oracle
from .sandbox import Isolated
from .searchers import SearchSpace, make_searcher
from .spaces import get_space

OPTIMUM_TARGETS = ("fit", "test")
LABEL_MODES = ("avg", "random_seed_per_arch")


@dataclass(frozen=True)
class Budget:
    """Stop after `queries`, or once every optimum of `optima` is queried (`until_optimum`) and at least
    `min_queries` are used, whichever is first. A shared run (`nasrepro.runs.covering_budget`) may go on
    past one experiment's optimum to another's fixed budget, or to the optima of both targets."""

    queries: int
    until_optimum: bool = False
    optima: tuple[str, ...] = ("fit",)  # which labels' argmax is "the global optimum"
    min_queries: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.optima, str):  # Budget(100, True, "fit")
            object.__setattr__(self, "optima", (self.optima,))

    @property
    def optimum(self) -> str:
        """The target the run's `queries_to_optimum` refers to (the first of `optima`)."""
        return self.optima[0]

    @classmethod
    def from_config(cls, spec: dict, space_size: int) -> "Budget":
        until = bool(spec.get("until_optimum", False))
        queries = int(spec.get("queries", space_size if until else 0))
        if queries < 1:
            raise NasReproError("budget.queries must be a positive number of queries")
        optima = spec.get("optimum", "fit")
        optima = tuple([optima] if isinstance(optima, str) else optima)
        unknown = [target for target in optima if target not in OPTIMUM_TARGETS]
        if unknown or not optima:
            raise NasReproError(f"budget.optimum {unknown or optima!r} is not one of {', '.join(OPTIMUM_TARGETS)}")
        return cls(queries=queries, until_optimum=until, optima=optima, min_queries=int(spec.get("min_queries", 0)))


@dataclass
class RunResult:
    trajectory: pd.DataFrame
    iterations: pd.DataFrame
    metadata: dict = field(default_factory=dict)


def run_fit_labels(benchmark: Benchmark, label_mode: str, seed: int) -> np.ndarray:
    """The fitting labels the oracle answers in one run: the mean over training repeats ('avg'), or one
    repeat drawn per architecture once for the whole run ('random_seed_per_arch', the reference code's
    non-deterministic mode; benchmarks with per-seed data only)."""
    if label_mode == "avg":
        return benchmark.fit_labels
    if label_mode != "random_seed_per_arch":
        raise NasReproError(f"unknown label_mode {label_mode!r}; known: {', '.join(LABEL_MODES)}")
    repeats = benchmark.fit_repeat_labels()
    drawn = np.random.default_rng([seed, 0x1ABE1]).integers(repeats.shape[1], size=len(repeats))
    return repeats[np.arange(len(repeats)), drawn]


def search_space(benchmark: Benchmark, features: np.ndarray | None, fit_labels: np.ndarray | None = None) -> SearchSpace:
    if features is None:
        features = np.empty((benchmark.size, 0), dtype=np.float32)
    if len(features) != benchmark.size:
        raise NasReproError(f"feature matrix has {len(features)} rows, benchmark has {benchmark.size}")
    fit = benchmark.fit_labels if fit_labels is None else fit_labels
    return SearchSpace(
        space=benchmark.space,
        size=benchmark.size,
        operators=get_space(benchmark.space).operators(benchmark.cells),
        features=features,
        fit_label_mean=float(fit.mean()),
        fit_label_std=float(fit.std()),
    )


def run_search(
    benchmark: Benchmark,
    features: np.ndarray | None,
    method: dict,
    seed: int,
    budget: Budget,
    charge_repeats: bool = True,
    label_mode: str = "avg",
    record_pools: bool = False,
    progress: bool = True,
    isolated: bool = False,
    forbidden: tuple[str, ...] = (),
) -> RunResult:
    """Run one seeded search within `budget`. `record_pools`: also store, per predictor fit, the ids the
    next batch is drawn from (`pool_ids`; Figure 4 plots them), off by default as they are large.
    `isolated` (the workflow's and the CLI's search jobs): the searcher runs in its own process
    (`nasrepro.sandbox`), which may not open the `forbidden` paths (tables, runs, mirror)."""
    started = time.perf_counter()
    fit_labels = run_fit_labels(benchmark, label_mode, seed)
    space = search_space(benchmark, features, fit_labels)
    contract = Contract(method.get("type"), seed, benchmark.size, isolated)  # checks every ask; a user's errors are theirs
    searcher = contract.build(lambda: Isolated(method, space, seed, budget.queries, list(forbidden)) if isolated
                              else make_searcher(method, space, seed, budget=budget.queries))
    with closing(searcher) if isolated else nullcontext():
        oracle = Oracle(fit_labels, benchmark.test_labels, charge_repeats=charge_repeats)
        optima = {target: benchmark.optimum(target) for target in OPTIMUM_TARGETS}
        found_at: dict[str, int | None] = dict.fromkeys(OPTIMUM_TARGETS)
        truth = metrics.Truth(benchmark.fit_labels, benchmark.test_labels, oracle.test_ranks)
        diagnostics = []
        step = 0
        stopped_by = "budget"
        best_fit = -np.inf
        # A run to the optimum shows queries done and the best fitting label so far: no ETA against the cap.
        with tqdm(total=None if budget.until_optimum else budget.queries, desc=f"{method.get('type')} seed {seed}",
                  unit="query", disable=not progress, file=sys.stderr, mininterval=5) as bar:
            while oracle.used < budget.queries:
                ids = contract.ask(searcher, budget.queries - oracle.used, step)
                if len(ids) == 0:
                    stopped_by = "searcher"
                    break
                before = oracle.used
                labels = oracle.query(ids, iteration=step)
                contract.charged(oracle.used - before, ids, step)
                bar.update(oracle.used - before)
                best_fit = max(best_fit, float(labels.max()))
                bar.set_postfix_str(f"best so far (fitting label) {best_fit:.2f}", refresh=False)
                for target, arch_id in optima.items():
                    if found_at[target] is None and oracle.has_queried(arch_id):
                        found_at[target] = oracle.used
                if (budget.until_optimum and oracle.used >= budget.min_queries
                        and all(found_at[target] is not None for target in budget.optima)):
                    stopped_by = "optimum"
                    break
                contract.tell(searcher, ids, labels, step)
                state = searcher.predictor_state
                if state is not None:
                    row = {"iteration": step, "queries": oracle.used, **metrics.predictor_diagnostics(state, truth)}
                    if record_pools:  # the pool of fit `step` is what the trajectory's iteration step + 1 draws from
                        row["pool_ids"] = None if state.pool is None else np.asarray(state.pool).tolist()
                    diagnostics.append(row)
                step += 1
        metadata = {
            "seed": seed,
            "method": method,
            "budget": budget.__dict__,
            "charge_repeats": charge_repeats,
            "label_mode": label_mode,
            "benchmark": benchmark.meta,
            "optimum_arch_id": optima[budget.optimum],
            "optimum_arch_ids": optima,
            "test_optimum": float(benchmark.test_labels.max()),
            "queries_used": oracle.used,
            "queries_to_optimum": found_at[budget.optimum],
            "queries_to_fit_optimum": found_at["fit"],
            "queries_to_test_optimum": found_at["test"],
            # None above = censored: that optimum was not queried before the run stopped (`stopped_by`: the
            # budget or cap, the searcher, or the target optimum of an until-optimum run), so the queries it
            # would take are only known to exceed `queries_used`.
            "queries_to_fit_optimum_censored": found_at["fit"] is None,
            "queries_to_test_optimum_censored": found_at["test"] is None,
            "stopped_by": stopped_by,
            "wall_seconds": time.perf_counter() - started,
            "environment": environment(),
        }
        return RunResult(trajectory=oracle.trajectory(), iterations=_iterations(searcher.iterations, diagnostics),
                         metadata=metadata)


def _iterations(searcher_notes: list[dict], diagnostics: list[dict]) -> pd.DataFrame:
    """The searcher's own per-iteration notes joined with the runner's metrics of its predictor."""
    notes, metrics_rows = pd.DataFrame(searcher_notes), pd.DataFrame(diagnostics)
    if notes.empty or metrics_rows.empty:
        return metrics_rows if notes.empty else notes
    shared = [c for c in metrics_rows.columns if c in notes.columns and c != "iteration"]
    return notes.drop(columns=shared).merge(metrics_rows, on="iteration", how="outer")


def source_commit() -> str | None:
    """The git commit of the nasrepro checkout that ran ('+ uncommitted changes' when it differs from
    it), or None outside a git checkout (an installed package)."""
    import subprocess

    checkout = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + (" + uncommitted changes" if dirty else "")


def environment() -> dict:
    versions = {}
    for package in ("nasrepro", "numpy", "pandas", "torch", "lightgbm", "snakemake"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    # torch only if the job loaded it (a method that trains no torch model never does): then it ran on the CPU
    torch = lazy.loaded("torch")
    cpu = f"cpu ({platform.processor() or platform.machine()})"
    device = torch.cuda.get_device_name(0) if torch is not None and torch.cuda.is_available() else cpu
    return {
        "commit": source_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "versions": versions,
    }
