"""What a config costs before it runs: per experiment and method, the search jobs it asks for, the distinct
jobs left once runs are shared (`nasrepro.runs`), the jobs saved, and the estimated core-hours.

The cost model (`resources/cost_model.yaml`) is written by `benchmarks/cost_calibration.py` from measurements on
one CPU core and checked against real jobs by `benchmarks/cost_check.py`. Each method type's cost rule is one
entry of `SHAPES` below, in terms of its options and its space's properties (`Space.size`, the token sequence's
length), never a space's name:

- every job: a process startup (imports, table load), plus what its method's code loads (torch, LightGBM,
  Numba's cached loops), measured per type;
- `polynomial` types: CPU seconds F(q) + r·W(q) for a run of q queries, F and W each a·q + b·q² (b: training
  sets grow with q), measured on the calibration space at two budgets, and (where the shape declares a lighter
  setting) at two training loads, which splits the fixed search work F from the training work W; r is the
  options' training work (`Shape.work`) relative to the calibrated options'. A type whose every fit scores the
  whole space (`scores_space`) adds fits·(size − calibrated size)·(seconds per architecture), times r where that
  scoring costs as the training does (`scoring_scales`);
- `sequence` types (SemiNAS, NAO): per round, `epochs` over the labelled set and `pseudo_epochs` over the
  labelled set repeated `up_sample_ratio` times plus the pseudo-labelled ones, each a count of batches, times the
  compiled training step's measured time at the space's sequence length, plus a measured per-round overhead
  (pseudo-labelling and generation) proportional to the sequence length;
- `pretraining` (arch2vec, CATE): once per space and settings, seconds per architecture and epoch times the
  space's size and the epochs, plus the embedding pass per architecture.

Structurally different settings of one type (`Shape.variant`: WeakNAS's predictor, LaNAS's fit, SemiNAS's
trainer) are calibrated apart; a type or variant the model lacks is costed as WeakNAS and flagged in one line
(`uncalibrated`). The expected queries of an until-optimum run come from the model's `queries_to_optimum`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Callable

import yaml

from . import config as cfg, plugins, runs as nasrepro_runs
from .searchers import searcher_class
from .spaces import get_space

MODEL_FILE = "cost_model.yaml"
FALLBACK = "weaknas"  # what an uncalibrated type is costed as (and flagged)


@cache
def model() -> dict:
    return yaml.safe_load(resources.files("nasrepro").joinpath("resources", MODEL_FILE).read_text())


def _get(options: dict, path: str, default=None):
    """An option by dotted path ("predictor.epochs")."""
    value = options
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return default if value is None else value


def _scaled(options: dict, factor: float, *paths: str) -> dict:
    """The options with each option of `paths` multiplied by `factor` (rounded, at least 1)."""
    out = yaml.safe_load(yaml.safe_dump(options))
    for path in paths:
        *parents, name = path.split(".")
        block = out
        for parent in parents:
            block = block[parent]
        block[name] = max(1, round(block[name] * factor))
    return out


def mlp_size(predictor) -> float:
    """Multiply-adds per architecture of an MLP predictor's hidden layers (1: no MLP)."""
    if not isinstance(predictor, dict) or predictor.get("type") != "mlp":
        return 1.0
    sizes = predictor.get("hidden_layer_sizes") or [1000] * 4
    return float(sum(a * b for a, b in zip(sizes, sizes[1:])) + sizes[0] * 30)


def weaknas_models(options: dict) -> int:
    """Predictors fitted per iteration (`ensemble`; null: 5 for EI, else 1, as `WeakNAS` resolves it)."""
    return options.get("ensemble") or (5 if options.get("sampling") == "ei" else 1)


@dataclass(frozen=True)
class Shape:
    """One method type's cost rule.

    `kind`: polynomial, sequence (SemiNAS-style training steps) or pretrained (polynomial plus a pretraining).
    `work(options)`: the training work, in any unit (only ratios between options of one type count).
    `lighter`: the option paths halved for the calibration's second training load (none: r scales everything).
    `variant(options)`: settings that change the cost's shape, calibrated apart ("": the type's own).
    `scores_space`: every fit scores every architecture of the space.
    `scoring_scales`: that scoring costs as `work` scales (an MLP's size), not the same whatever the training
    (a tree's or a DNGO's prediction).
    `once_after`: the option after whose count of queries the method fits once (F and W are then that one fit's
    cost, a run of fewer queries costs nothing: q counts 1 past it, else 0).
    """

    kind: str = "polynomial"
    work: Callable[[dict], float] = lambda options: 1.0
    lighter: tuple[str, ...] = ()
    variant: Callable[[dict], str] = lambda options: ""
    scores_space: bool = False
    scoring_scales: bool = True
    once_after: str | None = None

    def queries(self, options: dict, queries: int) -> int:
        """The q of F(q) and W(q) for a run of `queries`."""
        return queries if self.once_after is None else int(queries > options[self.once_after])


def _unless(value: str, default: str) -> str:
    return "" if value == default else value


def _epochs(path: str) -> Callable[[dict], float]:
    return lambda options: float(_get(options, path, 1))


SHAPES: dict[str, Shape] = {
    "random": Shape(),
    "regularized_evolution": Shape(),
    "local_search": Shape(),
    "mcts": Shape(),
    "nasbowl": Shape(),
    "weaknas": Shape(work=lambda o: weaknas_models(o) * mlp_size(o.get("predictor")),
                     variant=lambda o: _unless(_get(o, "predictor.type", "mlp"), "mlp"), scores_space=True),
    "strong_predictor": Shape(work=lambda o: mlp_size(o.get("predictor")),
                              variant=lambda o: _unless(_get(o, "predictor.type", "mlp"), "mlp"), scores_space=True),
    "neural_predictor": Shape(work=_epochs("predictor.epochs"), lighter=("predictor.epochs",), scores_space=True,
                              once_after="num_train"),
    "bananas": Shape(work=lambda o: o["num_ensemble"] * o["epochs"] * o["num_layers"] * o["layer_width"] ** 2,
                     lighter=("epochs",)),
    "npenas_bo": Shape(work=_epochs("predictor.epochs"), lighter=("predictor.epochs",)),
    "npenas_np": Shape(work=_epochs("predictor.epochs"), lighter=("predictor.epochs",)),
    "bonas": Shape(work=_epochs("epochs"), lighter=("epochs",)),
    "lanas": Shape(work=lambda o: float(o["epochs"]) if o.get("fit") == "adam" else 1.0,
                   lighter=("epochs", "epochs_first"), variant=lambda o: _unless(o.get("fit", "adam"), "adam"),
                   scores_space=True, scoring_scales=False),
    "arch2vec": Shape(kind="pretrained", work=_epochs("dngo_epochs"), lighter=("dngo_epochs",), scores_space=True,
                      scoring_scales=False),
    "cate": Shape(kind="pretrained", work=_epochs("dngo_epochs"), lighter=("dngo_epochs",), scores_space=True,
                  scoring_scales=False),
    "seminas": Shape(kind="sequence", variant=lambda o: _unless(o.get("trainer", "auto"), "auto")),
    "nao": Shape(kind="sequence", variant=lambda o: _unless(o.get("trainer", "auto"), "auto")),
}


def shape(kind: str) -> Shape:
    return SHAPES.get(kind, Shape())


def key(method: dict) -> str:
    """The model's entry for a method: its type, or "type/variant"."""
    variant = shape(method["type"]).variant(method)
    return f"{method['type']}/{variant}" if variant else method["type"]


def calibrated(method: dict) -> dict | None:
    """The model's entry for the method (None: not calibrated); of several (the CPU overlays' narrow MLPs are
    calibrated beside the paper's), the one whose MLP is nearest in size."""
    wanted = key(method)
    entries = [e for name, e in model()["methods"].items() if name.split("#")[0] == wanted]
    if not entries:
        return None
    size = mlp_size(method.get("predictor"))
    return min(entries, key=lambda e: abs(math.log(size / mlp_size(e["options"].get("predictor")))))


def uncalibrated(methods) -> list[str]:
    """The methods' entries (`key`) the model lacks; each such method is costed as WeakNAS."""
    return sorted({key(m) for m in methods if calibrated(m) is None})


def run_seconds(spec: dict) -> float:
    """Estimated CPU seconds of one search job (one core): startup plus search (its pretraining not included:
    `pretraining_seconds`, once per pretraining file)."""
    method = spec["method"]
    space = spec["benchmark"]["space"]
    return startup_seconds(method) + search_seconds(method, space, expected_queries(spec, method["type"], space))


def search_seconds(method: dict, space: str, queries: int, size: int | None = None) -> float:
    """CPU seconds of the search of q queries on `space` (`size`: its architectures, default `Space.size`)."""
    entry, r = calibrated(method), 1.0
    size = get_space(space).size if size is None else size
    rule = shape(method["type"])
    if entry is None:  # flagged by `render`
        entry = model()["methods"][FALLBACK]
    elif rule.kind == "sequence":
        return sequence_seconds(method, entry, space, size, queries)
    else:
        r = rule.work(method) / rule.work(entry["options"])
    queries = rule.queries(method, queries)
    fixed, work = (entry[part]["a"] * queries + entry[part]["b"] * queries**2 for part in ("fixed", "work"))
    scoring = entry.get("fits_per_query", 0) * queries * (size - entry["size"]) * entry.get("score_seconds", 0)
    return entry.get("first_call", 0.0) + max(fixed + r * work + (r if rule.scoring_scales else 1.0) * scoring, 0.0)


def sequence_schedule(options: dict, size: int, queries: int) -> tuple[int, int]:
    """(training steps, rounds) of a SemiNAS-style run of q queries: `initial` labelled, then per round `epochs`
    over the labelled set and `pseudo_epochs` over it repeated `up_sample_ratio` times plus `unlabelled`
    pseudo-labelled ones (batches of `batch_size`), and `new_arch` more labelled; rounds until the budget."""
    labelled, steps, rounds = min(options["initial"], queries), 0, 0
    batch = options["batch_size"]
    while labelled < min(queries, size) and (options["rounds"] is None or rounds < options["rounds"]):
        pseudo = min(options["unlabelled"], size - labelled)
        steps += options["epochs"] * math.ceil(labelled / batch)
        steps += options["pseudo_epochs"] * math.ceil((labelled * options["up_sample_ratio"] + pseudo) / batch)
        rounds += 1
        labelled += options["new_arch"]
    return steps, rounds


def sequence_length(space: str) -> int:
    """Positions of the space's token sequence (`Operators.sequence_tokens`, which needs no table)."""
    operators = get_space(space).operators_class
    return int(operators.sequence_tokens(object.__new__(operators)).shape[0])


def step_seconds(entry: dict, length: int) -> float:
    """The measured seconds of one training step at a sequence length, linear between (and beyond) the two
    measured lengths nearest to it."""
    points = sorted((int(k), v) for k, v in entry["steps"]["seconds"].items())
    (x0, y0), (x1, y1) = sorted(points, key=lambda p: abs(p[0] - length))[:2] if len(points) > 1 else points * 2
    return y0 if x0 == x1 else y0 + (y1 - y0) * (length - x0) / (x1 - x0)


def sequence_seconds(method: dict, entry: dict, space: str, size: int, queries: int) -> float:
    steps, rounds = sequence_schedule(method, size, queries)
    length = sequence_length(space)
    per_step = step_seconds(entry, length) * method["batch_size"] / entry["steps"]["batch"]
    return steps * per_step + rounds * entry["round_seconds_per_position"] * length


def pretraining_seconds(settings: dict, space: str) -> float:
    """CPU seconds of one label-free pretraining (`searchers.pretrained`): per architecture of the space, the
    measured seconds per epoch times the epochs plus the embedding pass."""
    entry = model().get("pretraining", {}).get(settings["model"])
    if entry is None:
        return 0.0
    return get_space(space).size * (settings["pretrain_epochs"] * entry["per_epoch"] + entry["embed"])


def startup_seconds(method: dict) -> float:
    """A job's CPU seconds besides its search: a light job's startup plus what the method's code loads, as the
    calibration measured for its key (`startup_extra`); else the torch job's where the method wants a GPU. A user's
    method counts as a torch job, so that no job's runner process imports a user's module to estimate it
    (`nasrepro.sandbox`)."""
    startup = model()["startup_seconds"]
    kind = method["type"]
    if kind not in plugins.METHODS:
        return startup["torch"]
    entry = calibrated(method)
    if entry is not None and "startup_extra" in entry:
        return startup["light"] + entry["startup_extra"]
    return startup["torch" if searcher_class(kind).wants_gpu(method) else "light"]


def expected_queries(spec: dict, kind: str, space: str) -> int:
    """The queries of a run: its budget, or for a run to the optimum the model's typical count on its space
    (on a space the model has no counts for, the calibration space's scaled by the spaces' sizes)."""
    budget = spec["budget"]
    if not budget.get("until_optimum"):
        return budget["queries"]
    counts = model()["queries_to_optimum"]
    typical, scale = counts.get(space), 1.0
    if typical is None:
        reference = model()["calibration_space"]
        typical, scale = counts[reference], get_space(space).size / get_space(reference).size
    expected = math.ceil(scale * typical.get(kind, typical["default"]))
    return min(max(expected, budget.get("min_queries", 0)), budget.get("queries") or math.inf)


@dataclass
class Row:
    experiment: str
    method: str
    asked: int  # search jobs the experiment asks for
    distinct: int  # of those, jobs no earlier experiment (in config order) already plans
    to_run: int  # of the distinct jobs, those the workflow will run (`nasrepro.runs.pending`)
    core_hours: float  # of the distinct jobs (and the pretrainings they are the first to need)
    to_run_hours: float  # of the jobs to run
    asked_hours: float  # of every asked job, each run on its own (no sharing)
    kind: str = ""  # the method's type
    pretraining_hours: float = 0.0  # of core_hours: the pretrainings this row is the first to need

    @property
    def saved(self) -> int:
        return self.asked - self.distinct


def estimate(config: dict) -> list[Row]:
    """One row per (experiment, method) of the enabled experiments that can run here (a benchmark file that
    no fetch can place leaves its experiments out, as the workflow does); a shared job is counted (and
    costed) once, for the first experiment that needs it, and so is a pretraining."""
    experiments = cfg.runnable_experiments(config)
    plan = nasrepro_runs.plan(config)
    todo = nasrepro_runs.pending(plan, experiments)
    seen: set[tuple[str, int]] = set()
    pretrained: set[str] = set()
    rows = []
    for experiment in experiments:
        uses = plan.uses[experiment]
        for method in dict.fromkeys(use.method for use in uses):
            asked, asked_seconds, new = 0, 0.0, []
            for use in (u for u in uses if u.method == method):
                asked += len(use.seeds)
                own = nasrepro_runs.run_spec(config, experiment, use.bench, method)
                asked_seconds += len(use.seeds) * run_seconds(own)
                new += [(use.run_id, seed) for seed in use.seeds if (use.run_id, seed) not in seen]
                seen.update(new)
            running = [job for job in new if job in todo]
            first = _pretraining_hours(plan, new, pretrained)
            rows.append(Row(experiment, method, asked, len(new), len(running), _hours(plan, new) + first,
                            _hours(plan, running) + first, asked_seconds / 3600 + first,
                            config["methods"][method]["type"], first))
    return rows


def _pretraining_hours(plan, jobs, done: set[str]) -> float:
    """The core-hours of the pretrainings the jobs read that no earlier row counted (added to `done`)."""
    seconds = 0.0
    for run_id, _ in jobs:
        spec = plan.runs[run_id].spec
        settings = nasrepro_runs.pretraining(spec)
        path = settings and nasrepro_runs.pretrained_file(spec["benchmark"]["space"], settings)
        if path and path not in done:
            done.add(path)
            seconds += pretraining_seconds(settings, spec["benchmark"]["space"])
    return seconds / 3600


def _hours(plan, jobs) -> float:
    return sum(run_seconds(plan.runs[run_id].spec) for run_id, _ in jobs) / 3600


def remaining(plan, experiments: list[str], cores: int | None) -> str:
    """One line for the start of a workflow run: the search jobs it will run (`nasrepro.runs.pending`: not
    run yet, or their code, inputs or budget changed), their estimated core-hours and the wall time they
    take on `cores` cores (none where the cores are not known, e.g. on a cluster)."""
    todo = nasrepro_runs.pending(plan, experiments)
    seconds = _hours(plan, todo) * 3600
    eta = f", about {_duration(seconds / cores)} on {cores} core{'s' if cores != 1 else ''}" if cores else ""
    return (f"nasrepro: {len(todo)} of {len(plan.jobs(experiments))} search jobs to run, estimated {seconds / 3600:.2f} "
            f"core-hours{eta} (cost model: {model()['measured_on']})")


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def gpu_line() -> str:
    """The GPU figures of the model (benchmarks/gpu_figures.py), or that none were measured."""
    gpu = model().get("gpu")
    if not gpu:
        return "GPU figures: not measured (benchmarks/gpu_figures.py --merge on a GPU machine)"
    steps = "; ".join(f"{method} " + ", ".join(f"{1000 * s:.2f} ms ({length} tokens)" for length, s in lengths.items())
                      for method, lengths in gpu["step_seconds"].items())
    scoring = gpu["scoring_seconds"]
    return (f"GPU ({gpu['measured_on']}): a training step {steps}; a scoring pass over {scoring['rows']:,} cells "
            f"fp32 {scoring['fp32']:.2f} s, bf16 {scoring['bf16']:.2f} s")


def render(rows: list[Row], config: dict) -> str:
    """The table `nasrepro cost` prints: per experiment and method, then totals per search space and per method
    type, and a line naming any method the model has not calibrated."""
    spaces = {name: get_space(bench["space"]).name for name, bench in config["benchmarks"].items()}
    lines = [f"Cost model: {model()['measured_on']} (benchmarks/cost_calibration.py, checked by "
             f"benchmarks/cost_check.py); {gpu_line()}"]
    lines += [f"Not run here: {name}: {why}" for name in cfg.enabled_experiments(config)
              if (why := cfg.unavailable(config, name))]
    lines.append(f"{'experiment':<26}{'method':<28}{'asked':>8}{'distinct':>10}{'saved':>8}{'core-h':>10}"
                 f"{'saved core-h':>14}{'to run':>8}{'to run core-h':>15}")
    for row in rows:
        lines.append(f"{row.experiment:<26}{row.method:<28}{row.asked:>8}{row.distinct:>10}{row.saved:>8}"
                     f"{row.core_hours:>10.1f}{row.asked_hours - row.core_hours:>14.1f}{row.to_run:>8}"
                     f"{row.to_run_hours:>15.1f}")
    by_space: dict[str, list[Row]] = {}
    for row in rows:
        bench = config["experiments"][row.experiment]["benchmarks"][0]
        by_space.setdefault(spaces[bench], []).append(row)
    for space, group in [*by_space.items(), ("all", rows)]:
        lines.append(f"{'total ' + space:<54}{sum(r.asked for r in group):>8}{sum(r.distinct for r in group):>10}"
                     f"{sum(r.saved for r in group):>8}{sum(r.core_hours for r in group):>10.1f}"
                     f"{sum(r.asked_hours - r.core_hours for r in group):>14.1f}{sum(r.to_run for r in group):>8}"
                     f"{sum(r.to_run_hours for r in group):>15.1f}")
    by_type: dict[str, float] = {}
    for row in rows:
        by_type[row.kind] = by_type.get(row.kind, 0.0) + row.core_hours
    lines.append("core-h by method type: " + ", ".join(f"{kind} {hours:.1f}" for kind, hours in
                                                        sorted(by_type.items(), key=lambda item: -item[1])))
    pretraining = sum(row.pretraining_hours for row in rows)
    if pretraining:
        lines.append(f"of which label-free pretraining (once per space and settings): {pretraining:.1f} core-h")
    missing = uncalibrated(plan_method for plan_method in _methods(config, rows))
    if missing:
        lines.append(f"Not calibrated, costed as WeakNAS (rerun benchmarks/cost_calibration.py): {', '.join(missing)}.")
    lines.append("A shared run is counted, with its whole length, for the first experiment that needs it (its "
                 "'saved core-h' may be negative); the totals are exact. 'to run': the search jobs the workflow "
                 "will run now (not run yet, or their code, inputs or budget changed), as its start line counts.")
    return "\n".join(lines)


def _methods(config: dict, rows: list[Row]) -> list[dict]:
    """The resolved options of every (method, benchmark) the rows cost."""
    return [cfg.searcher_spec(config, row.method, bench) for row in rows
            for bench in config["experiments"][row.experiment]["benchmarks"]]
