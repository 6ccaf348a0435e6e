"""Which search runs a config needs: each distinct run once, shared by every experiment that asks for it.

A run is identified by what determines it (`identity`): the benchmark's identity (space, dataset, splits,
file and the pinned checksums of the raw files its table is converted from), the method's resolved options
(its predictor's too), the encoding it reads, the label mode and the charging of repeats; never an
experiment's name, a method's config key, its label or a caption. Experiments that ask for the same run
read the same files, `results/runs/{run_id}/{seed}.*`.

A method whose first q queries do not depend on its budget (`Searcher.shares_prefix`) runs once, to the
largest budget any experiment needs (and on to the optimum where one asks for it): every shorter budget
is a prefix of that run (`analysis.view`). Other methods run once per distinct budget.

The search job's params (`Run.spec`) hold the identity, the covering budget and the hash of the method's
code (`code_digest`): a change in any of them re-runs exactly that run (Snakemake's params trigger).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from . import config as cfg
from .predictors import predictor_class
from .searchers import searcher_class
from .searchers.pretrained import pretrained_file
from .spaces import get_space

ID_DIGITS = 10
RUN_ID_PATTERN = r"[a-z0-9_]+-[0-9a-f]{%d}" % ID_DIGITS
COVERED = ("budget", "record_pools", "code")  # spec keys that are not part of a run's identity


@dataclass
class Run:
    """One distinct run (for every seed an experiment asks of it): what the search job is given."""

    run_id: str
    bench: str  # a benchmark name of this identity: the table and encoding files the job reads
    spec: dict
    seeds: set[int] = field(default_factory=set)
    uses: list["Use"] = field(default_factory=list)


@dataclass(frozen=True)
class Use:
    """An experiment's (benchmark, method) and the run it reads, with the experiment's own budget."""

    experiment: str
    bench: str
    method: str
    run_id: str
    budget: dict
    seeds: tuple[int, ...]


@dataclass
class Plan:
    runs: dict[str, Run]
    uses: dict[str, list[Use]]  # per experiment

    def run_files(self, experiment: str) -> list[str]:
        return [run_file(use.run_id, seed) for use in self.uses[experiment] for seed in use.seeds]

    def run_keys(self, experiment: str) -> list[dict]:
        """Per run file of `run_files`, the keys it is collected under and the experiment's budget."""
        return [{"experiment": experiment, "benchmark": use.bench, "method": use.method, "seed": seed,
                 "run_id": use.run_id, "view": use.budget}
                for use in self.uses[experiment] for seed in use.seeds]

    def jobs(self, experiments: list[str] | None = None) -> set[tuple[str, int]]:
        """The distinct (run_id, seed) search jobs the experiments need (all planned ones by default)."""
        names = self.uses if experiments is None else experiments
        return {(use.run_id, seed) for name in names for use in self.uses[name] for seed in use.seeds}


def inputs(run: Run) -> dict[str, str]:
    """The files a run's search job reads: its benchmark's table, and the encoding when it reads one (a method
    that declares a pretraining reads that step's embedding as its features instead)."""
    files = {"table": f"resources/tables/{run.bench}.parquet"}
    if run.spec["encoding"]:
        files["features"] = f"resources/encodings/{run.bench}-{run.spec['encoding']}.npy"
    settings = pretraining(run.spec)
    if settings:
        files["features"] = pretrained_file(run.spec["benchmark"]["space"], settings)
    return files


def pretraining(spec: dict) -> dict | None:
    """The label-free pretraining a run's method declares (`pretraining(options)`, e.g. arch2vec's), or None."""
    declared = getattr(searcher_class(spec["method"]["type"]), "pretraining", None)
    return declared(spec["method"]) if declared else None


def pretrainings(plan: Plan) -> dict[str, tuple[str, dict]]:
    """Each pretraining output the plan's runs read: path -> (a benchmark of its space, by name, whose table's
    cell columns it reads; its settings). One file per space and settings, whichever benchmarks use it."""
    found: dict[str, tuple[str, dict]] = {}
    for run in sorted(plan.runs.values(), key=lambda r: r.bench):
        settings = pretraining(run.spec)
        if settings:
            found.setdefault(pretrained_file(run.spec["benchmark"]["space"], settings), (run.bench, settings))
    return found


def input_files(plan: Plan) -> list[str]:
    return sorted({path for run in plan.runs.values() for path in inputs(run).values()})


def missing_runs(plan: Plan, experiments: list[str]) -> list[str]:
    """The run files of the experiments that are not on disk, sorted."""
    return sorted(path for path in (run_file(run_id, seed) for run_id, seed in plan.jobs(experiments))
                  if not Path(path).is_file())


def run_file(run_id: str, seed: int) -> str:
    return f"results/runs/{run_id}/{seed}.parquet"


def plan(config: dict, experiments: list[str] | None = None) -> Plan:
    """The runs of `experiments` (default: every experiment of the config). A run's covering budget is
    taken over the enabled experiments that use it (over all of them when none is enabled), so a subset
    run (`run:`) never lengthens a run for an experiment it does not run."""
    enabled = set(cfg.enabled_experiments(config))
    names = list(config["experiments"]) if experiments is None else experiments
    runs: dict[str, Run] = {}
    uses: dict[str, list[Use]] = {}
    asked: dict[tuple[str, str, str], dict] = {}  # each use's own spec (its budget and pools)
    for name in names:
        experiment = config["experiments"][name]
        seeds = tuple(cfg.seeds(experiment))
        uses[name] = []
        for bench in experiment["benchmarks"]:
            for method in experiment["methods"]:
                spec = run_spec(config, name, bench, method)
                run_id = identify(spec, prefix=shares_prefix(spec))
                run = runs.setdefault(run_id, Run(run_id, bench, spec))
                use = Use(name, bench, method, run_id, experiment["budget"], seeds)
                asked[name, bench, method] = spec
                run.uses.append(use)
                run.seeds.update(seeds)
                uses[name].append(use)
    for run in runs.values():
        counted = [u for u in run.uses if u.experiment in enabled] or run.uses
        specs = [asked[u.experiment, u.bench, u.method] for u in counted]
        run.spec = {**run.spec, "budget": covering_budget([s["budget"] for s in specs]),
                    "record_pools": any(s["record_pools"] for s in specs)}
    return Plan(runs, uses)


def run_spec(config: dict, experiment: str, bench: str, method: str) -> dict:
    """Everything that determines one experiment's search job but the seed: the run identity, the
    experiment's budget and whether pools are recorded, and the code digest of the method."""
    spec = config["experiments"][experiment]
    options = cfg.searcher_spec(config, method, bench)
    return {
        "benchmark": benchmark_identity(config["benchmarks"][bench]),
        "method": options,
        "encoding": cfg.method_encoding(config, method, bench) if cfg.uses_features(config, method, bench) else None,
        "budget": spec["budget"],
        "charge_repeats": spec.get("charge_repeats", True),
        "label_mode": spec.get("label_mode", "avg"),
        "record_pools": spec.get("record_pools", False),
        "code": code_digest(options),
    }


def benchmark_identity(bench: dict) -> dict:
    """What determines a benchmark's table: its space, dataset, splits, file and the pinned checksums of
    the raw files it is converted from (not its name, caption or paper column)."""
    space = get_space(bench["space"])
    identity = {key: bench[key] for key in ("space", "dataset", "fit_split", "file", "expected_size") if key in bench}
    identity["sources"] = {name: source.sha256 or source.git_blob
                           for name, source in space.benchmark_sources(bench).items()}
    return identity


def shares_prefix(spec: dict) -> bool:
    return searcher_class(spec["method"]["type"]).shares_prefix(spec["method"])


def wants_gpu(spec: dict) -> bool:
    return searcher_class(spec["method"]["type"]).wants_gpu(spec["method"])


def identify(spec: dict, prefix: bool) -> str:
    """The run id: a slug of the method type and a hash of the identity (budget left out for a method
    whose runs share prefixes)."""
    identity = {k: v for k, v in spec.items() if k not in COVERED}
    if not prefix:
        identity["budget"] = spec["budget"]
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:ID_DIGITS]
    slug = re.sub(r"[^a-z0-9_]+", "_", spec["method"]["type"].lower()).strip("_")[:40] or "method"
    return f"{slug}-{digest}"


def covering_budget(budgets: list[dict]) -> dict:
    """One budget whose run holds every given budget's run as a prefix: on to the largest query budget,
    and on until every asked optimum is queried (capped by the largest cap; none: the whole space)."""
    fixed = [b["queries"] for b in budgets if not b.get("until_optimum")]
    to_optimum = [b for b in budgets if b.get("until_optimum")]
    if not to_optimum:
        return {"queries": max(fixed)}
    caps = [b.get("queries") for b in to_optimum]
    cap = None if None in caps else max(caps + fixed)
    covering = {"until_optimum": True, "optimum": sorted({b.get("optimum", "fit") for b in to_optimum})}
    if cap is not None:
        covering["queries"] = cap
    if fixed:
        covering["min_queries"] = max(fixed)
    return covering


def code_digest(method: dict) -> str:
    """A hash of the code of a method: the module of its class and of its predictor's class, if any.
    Editing either re-runs exactly the runs of that method (README: what counts as a method's code)."""
    classes = [searcher_class(method["type"])]
    if "predictor" in method:
        classes.append(predictor_class(method["predictor"]))
    sources = sorted({inspect.getsourcefile(cls) for cls in classes})
    digest = hashlib.sha256()
    for source in sources:
        stat = Path(source).stat()
        digest.update(_file_digest(source, stat.st_mtime_ns, stat.st_size))
    return digest.hexdigest()[:16]


@cache
def _file_digest(path: str, mtime_ns: int, size: int) -> bytes:
    """A source file's hash, read once per version of the file (a plan asks for it once per use)."""
    return hashlib.sha256(Path(path).read_bytes()).digest()
