"""Which search runs a config needs: each distinct run once, shared by every experiment that asks for it.

A run is identified by what determines it (`identify`): the benchmark's identity (space, dataset, splits,
file and the pinned checksums of the raw files its table is converted from), the method's resolved options
(its predictor's too), the encoding it reads, the label mode and the charging of repeats; never an
experiment's name, a method's config key, its label or a caption. Experiments that ask for the same run
read the same files, `results/runs/{run_id}/{seed}.*`.

A search job is given (`job_spec`, the job's params) the run's identity and three more things, a change in
any of which re-runs exactly that job: the digest of its code (`code_modules`: the project modules its
method, predictor, space operators and the runner reach by import, each hashed by its syntax tree), the
digests of the table and encoding contents it reads (`input_digests`, stamped beside each file when it is
written), and its budget.

A method whose first q queries do not depend on its budget (`Searcher.shares_prefix`) runs once, to a
budget that covers every experiment's (`covering_budget`), and on to the optimum where one asks for it:
every shorter budget is a prefix of that run (`analysis.view`). A run on disk that already covers what the
plan asks keeps its own budget, whichever config made it; one that does not is re-run once to cover both,
so a run is never replaced by a shorter one and two configs never re-run each other's runs. Other methods
run once per distinct budget.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from . import code_identity, config as cfg
from .io import content_digest
from .searchers import searcher_class
from .searchers.pretrained import pretrained_file
from .spaces import get_space

ID_DIGITS = 10
RUN_ID_PATTERN = r"[a-z0-9_]+-[0-9a-f]{%d}" % ID_DIGITS
COVERED = ("budget", "record_pools", "code", "inputs")  # spec keys that are not part of a run's identity


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
    budgets: dict[tuple[str, int], tuple[dict, bool]] = field(default_factory=dict)  # per job, once (`job_spec`)

    def run_files(self, experiment: str) -> list[str]:
        return [run_file(use.run_id, seed) for use in self.uses[experiment] for seed in use.seeds]

    def all_run_files(self, experiment: str) -> list[str]:
        """Each run file of `run_files` with the two files written beside it."""
        return [path for use in self.uses[experiment] for seed in use.seeds
                for path in (run_file(use.run_id, seed), *companion_files(use.run_id, seed))]

    def run_keys(self, experiment: str) -> list[dict]:
        """Per run file of `run_files`, the keys it is collected under and the experiment's budget."""
        return [{"experiment": experiment, "benchmark": use.bench, "method": use.method, "seed": seed,
                 "run_id": use.run_id, "view": use.budget}
                for use in self.uses[experiment] for seed in use.seeds]

    def expected(self, experiment: str) -> list[dict]:
        """Per run file of `run_files`, what `check_collected` holds the run to."""
        return [{"file": run_file(use.run_id, seed), "run_id": use.run_id, "identity": identity(self.runs[use.run_id].spec),
                 "code": self.runs[use.run_id].spec["code"], "inputs": inputs(self.runs[use.run_id]), "budget": use.budget}
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
    """Everything that determines one experiment's search job but the seed and its inputs' digests: the run
    identity, the experiment's budget and whether pools are recorded, and the digest of the run's code."""
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
        "code": code_digest(options, config["benchmarks"][bench]["space"]),
    }


def benchmark_identity(bench: dict) -> dict:
    """What determines a benchmark's table: its space, dataset, splits, file and the pinned checksums of
    the raw files it is converted from (not its name, caption or paper column)."""
    space = get_space(bench["space"])
    found = {key: bench[key] for key in ("space", "dataset", "fit_split", "file", "expected_size") if key in bench}
    found["sources"] = {name: source.sha256 or source.git_blob for name, source in space.benchmark_sources(bench).items()}
    return found


def shares_prefix(spec: dict) -> bool:
    return searcher_class(spec["method"]["type"]).shares_prefix(spec["method"])


def wants_gpu(spec: dict) -> bool:
    return searcher_class(spec["method"]["type"]).wants_gpu(spec["method"])


def identity(spec: dict) -> dict:
    """What identifies a run in its spec (the budget apart: `identify`)."""
    return {k: v for k, v in spec.items() if k not in COVERED}


def identify(spec: dict, prefix: bool) -> str:
    """The run id: a slug of the method type and a hash of the identity (budget left out for a method
    whose runs share prefixes)."""
    identified = identity(spec)
    if not prefix:
        identified["budget"] = spec["budget"]
    digest = hashlib.sha256(json.dumps(identified, sort_keys=True).encode()).hexdigest()[:ID_DIGITS]
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
    targets = {t for b in to_optimum for t in ([b.get("optimum", "fit")] if isinstance(b.get("optimum", "fit"), str)
                                                else b["optimum"])}
    covering = {"until_optimum": True, "optimum": sorted(targets)}
    if cap is not None:
        covering["queries"] = cap
    minimum = max(fixed + [b.get("min_queries", 0) for b in to_optimum])
    if minimum:
        covering["min_queries"] = minimum
    return covering


def code_modules(method: dict, space: str) -> dict[str, str]:
    """The code of a run, module -> digest: every project module reachable by import from its searcher's and
    predictor's modules, its space's operators and the runner (with the oracle and the contract). A user's
    module outside the package counts the same way (README: what counts as a run's code)."""
    from .plugins import target_of
    from .predictors import predictor_spec

    roots = ["nasrepro.runner", target_of("method", method["type"]).partition(":")[0],
             get_space(space).operators_class.__module__]
    if "predictor" in method:  # found by name: a job never imports a user's module in the runner's process
        roots.append(target_of("predictor", predictor_spec(method["predictor"])["type"]).partition(":")[0])
    return code_identity.closure(roots)


def code_digest(method: dict, space: str) -> str:
    return code_identity.digest_of(code_modules(method, space))


def step_code(step: str, space: str, model: str | None = None) -> str:
    """The digest of the code of a data step of a space: "convert" (its table), "encode" (its encodings) or
    "pretrain" (a label-free embedding by `model`)."""
    space_module = type(get_space(space)).__module__
    roots = {"convert": [space_module, "nasrepro.benchmark", "nasrepro.download"],
             "encode": [space_module, "nasrepro.encodings"],
             "pretrain": [space_module, "nasrepro.searchers.pretrained", f"nasrepro.searchers.{model}"]}[step]
    return code_identity.digest_of(code_identity.closure(roots))


def input_digests(run: Run) -> dict[str, str | None]:
    """The content digest of each file the run reads (None: not made yet)."""
    return {name: content_digest(path) for name, path in sorted(inputs(run).items())}


def job_spec(plan: Plan, run_id: str, seed: int) -> dict:
    """What one search job is given (its params): the run's spec, the digests of what it reads, and a budget
    that covers the plan's without ever shortening the run on disk (`extended`). The budget is decided once
    per plan, from the run on disk when it was first asked: Snakemake evaluates params again after it has
    removed a job's old outputs, and must be given the same budget then."""
    run = plan.runs[run_id]
    if (run_id, seed) not in plan.budgets:
        plan.budgets[run_id, seed] = extended(recorded(run_id, seed), run.spec["budget"], run.spec["record_pools"])
    budget, pools = plan.budgets[run_id, seed]
    spec = {**run.spec, "inputs": input_digests(run), "budget": budget, "record_pools": pools}
    # keys sorted, as the run's .json records them: Snakemake compares params by their text, order included
    return json.loads(json.dumps(spec, sort_keys=True))


def extended(record: dict | None, budget: dict, record_pools: bool) -> tuple[dict, bool]:
    """(budget, record_pools) of the next run of a job: the recorded run's own where it covers `budget`, else
    one that covers both (no record: the planned ones)."""
    if record is None:
        return budget, record_pools
    ran = record["config"]
    pools = record_pools or bool(ran.get("record_pools"))
    if covers(record, budget) and pools == bool(ran.get("record_pools")):
        return ran["budget"], pools
    return covering_budget([ran["budget"], budget]), pools


def covers(record: dict, budget: dict) -> bool:
    """Whether a recorded run holds, as its prefix, the whole run that `budget` would make."""
    used = record["queries_used"]
    if record.get("stopped_by") == "searcher":
        return True  # it asked for nothing more: a longer budget would end the same way
    cap = budget.get("queries")
    if cap is None and "queries" not in record["config"]["budget"]:
        cap = (record.get("budget") or {}).get("queries")  # both uncapped: the run went as far as its space allows
    if not budget.get("until_optimum"):
        return used >= cap
    targets = budget.get("optimum", "fit")
    found = [record.get(f"queries_to_{target}_optimum") for target in ([targets] if isinstance(targets, str) else targets)]
    if None in found:
        return cap is not None and used >= cap
    needed = max(found + [budget.get("min_queries", 0)])
    return used >= (needed if cap is None else min(cap, needed))


def recorded(run_id: str, seed: int) -> dict | None:
    """A finished run's metadata (its `.json`), or None when any of its three files is missing or the
    metadata is not a run's (it is then run again)."""
    files = [Path(run_file(run_id, seed))] + [Path(path) for path in companion_files(run_id, seed)]
    if not all(path.is_file() for path in files):
        return None
    record = _read_record(str(files[2]), *_version(files[2]))
    complete = isinstance(record, dict) and isinstance(record.get("config"), dict) and "budget" in record["config"] \
        and isinstance(record.get("queries_used"), int)
    return record if complete else None


def companion_files(run_id: str, seed: int) -> tuple[str, str]:
    """The iterations and metadata files written beside a run's trajectory (`run_file`)."""
    return f"results/runs/{run_id}/{seed}.iterations.parquet", f"results/runs/{run_id}/{seed}.json"


def pending(plan: Plan, experiments: list[str]) -> dict[tuple[str, int], str]:
    """The search jobs of the experiments that the workflow will run, each with why: no finished run, or
    what of its spec differs from the finished run's (code, inputs, budget, ...)."""
    todo = {}
    for run_id, seed in sorted(plan.jobs(experiments)):
        record = recorded(run_id, seed)
        if record is None:
            todo[run_id, seed] = "not run yet"
            continue
        spec, ran = job_spec(plan, run_id, seed), record.get("config", {})
        differs = [key for key in spec if spec[key] != ran.get(key) and not (key == "inputs" and None in spec[key].values())]
        if differs:
            todo[run_id, seed] = "its " + ", ".join(differs) + " changed"
    return todo


def _version(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


@cache
def _read_record(path: str, mtime_ns: int, size: int) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def check_collected(expected: list[dict]) -> None:
    """The last guard before a table: every run an experiment collects exists, has the identity and the
    code digest of the plan, read the table and encoding contents that are on disk now, and covers the
    experiment's budget. NasReproError naming the first file that does not."""
    from .errors import NasReproError

    for want in expected:
        trajectory = want["file"]
        metadata = str(Path(trajectory).with_suffix(".json"))
        record = recorded(want["run_id"], int(Path(trajectory).stem))
        if record is None:
            raise NasReproError(f"{metadata}: the run is missing or incomplete; run the workflow to make it")
        ran = record["config"]
        why = ("it is the run of another specification" if identity(ran) != want["identity"] else
               f"it was made by other code (digest {ran.get('code')}, the plan's {want['code']}; `nasrepro runs --why "
               f"{want['run_id']}` names the modules)" if ran.get("code") != want["code"] else
               "it read another table or encoding than the one on disk now" if any(
                   (ran.get("inputs") or {}).get(name) != content_digest(path) for name, path in want["inputs"].items())
               else f"it stops short of the experiment's budget {want['budget']}" if not covers(record, want["budget"])
               else None)
        if why:
            raise NasReproError(f"{metadata}: {why}; run the workflow to re-make it")


def lock_store(folder: str = "results"):
    """Hold the run store for as long as this process lives (the returned handle): a second workflow that
    would write the same runs (another working directory sharing this results/ folder) stops in one line."""
    import datetime
    import fcntl
    import os
    import socket

    from .errors import NasReproError

    path = Path(folder) / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "a process that did not say which"
        handle.close()
        raise NasReproError(f"{path}: another workflow is writing this run store ({holder}); wait until it ends, "
                            "or give this one another working directory and results folder") from None
    handle.seek(0)
    handle.truncate()
    since = datetime.datetime.now().isoformat(timespec="seconds")
    handle.write(f"pid {os.getpid()} on {socket.gethostname()} in {os.getcwd()}, since {since}\n")
    handle.flush()
    return handle


def explain(run_id: str) -> str:
    """`nasrepro runs --why RUN_ID`: for each finished seed of a run, the modules of its code and which of
    them changed since it ran, and whether the table and encoding it read are still those on disk."""
    from .errors import NasReproError

    records = sorted(Path("results/runs", run_id).glob("*.json"), key=lambda path: path.stem)
    if not re.fullmatch(RUN_ID_PATTERN, run_id) or not records:
        raise NasReproError(f"results/runs/{run_id}: no such run (run ids are the folder names in results/runs/)")
    lines = []
    for path in records:
        record = _read_record(str(path), *_version(path))
        if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
            lines.append(f"{path}: not a run's metadata; the workflow runs this seed again")
            continue
        ran = record["config"]
        then = record.get("code_modules") or {}
        now = code_modules(ran["method"], ran["benchmark"]["space"])
        changes = code_identity.changed(then, now)
        lines.append(f"{path}: seed {path.stem}, code digest {ran.get('code')} then, "
                     f"{code_identity.digest_of(now)} now; {len(now)} modules:")
        lines += [f"  {name:<48} {digest}  {changes.get(name, 'unchanged')}" for name, digest in now.items()]
        lines += [f"  {name:<48} {'':16}  removed" for name in then if name not in now]
        read = record.get("input_files") or {}
        lines += [f"  input {name} ({read.get(name)}): "
                  + ("unchanged" if read.get(name) and content_digest(read[name]) == digest else "changed since it ran")
                  for name, digest in (ran.get("inputs") or {}).items()]
    return "\n".join(lines)
