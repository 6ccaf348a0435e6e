"""What a config costs before it runs: per experiment and method, the search jobs it asks for, the distinct
jobs left once runs are shared (`nasrepro.runs`), the jobs saved, and the estimated core-hours.

The cost model (`resources/cost_model.yaml`, written by `benchmarks/cost_calibration.py`) was measured on
one CPU core: a process startup (imports, table load) per job, and per method type CPU seconds
a·q + b·q² for a run of q queries on NAS-Bench-201 (b: training sets grow with q), measured at two
budgets. A run's estimate scales a and b by its training work relative to the calibrated settings (epochs,
ensemble size, MLP width: the per-epoch cost is taken as constant), adds the ranking of the extra
architectures of a larger space per predictor fit, and takes the expected queries of an until-optimum run
from the model's `queries_to_optimum`. GPU-hours are printed only where the model holds a GPU measurement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from . import config as cfg, plugins, runs as nasrepro_runs
from .searchers import searcher_class
from .spaces import get_space

MODEL_FILE = "cost_model.yaml"
CALIBRATION_SPACE = "nb201"
EPOCH_OPTIONS = ("epochs", "max_epochs", "pseudo_epochs", "epochs_first")  # alternative phases: the largest counts
ENSEMBLE_OPTIONS = ("num_ensemble", "ensemble")  # models trained per fit: they multiply


@cache
def model() -> dict:
    return yaml.safe_load(resources.files("nasrepro").joinpath("resources", MODEL_FILE).read_text())


@dataclass
class Row:
    experiment: str
    method: str
    asked: int  # search jobs the experiment asks for
    distinct: int  # of those, jobs no earlier experiment (in config order) already plans
    to_run: int  # of the distinct jobs, those the workflow will run (`nasrepro.runs.pending`)
    core_hours: float  # of the distinct jobs
    to_run_hours: float  # of the jobs to run
    asked_hours: float  # of every asked job, each run on its own (no sharing)

    @property
    def saved(self) -> int:
        return self.asked - self.distinct


def estimate(config: dict) -> list[Row]:
    """One row per (experiment, method) of the enabled experiments that can run here (a benchmark file that
    no fetch can place leaves its experiments out, as the workflow does); a shared job is counted (and
    costed) once, for the first experiment that needs it."""
    experiments = cfg.runnable_experiments(config)
    plan = nasrepro_runs.plan(config)
    todo = nasrepro_runs.pending(plan, experiments)
    seen: set[tuple[str, int]] = set()
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
            rows.append(Row(experiment, method, asked, len(new), len(running), _hours(plan, new),
                            _hours(plan, running), asked_seconds / 3600))
    return rows


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


def run_seconds(spec: dict) -> float:
    """Estimated CPU seconds of one search job (one core)."""
    method = spec["method"]
    kind = method["type"]
    calibrated = nearest_calibration(method)
    space = spec["benchmark"]["space"]
    queries = expected_queries(spec, kind, space)
    scale = work(method, calibrated["options"]) if calibrated["options"]["type"] == kind else 1.0  # else: as WeakNAS
    seconds = scale * (calibrated["a"] * queries + calibrated["b"] * queries**2)
    startup = model()["startup_seconds"]["torch" if trains_torch(kind, method) else "light"]
    extra = max(0, get_space(space).size - get_space(CALIBRATION_SPACE).size)
    ranked = calibrated.get("fits_per_query", 0) * queries * extra * model()["rank_seconds_per_architecture"]
    return startup + seconds + ranked * scale


def trains_torch(kind: str, method: dict) -> bool:
    """Whether a job of the method loads torch; a user's method counts as one that does, so that no job's
    runner process imports a user's module to estimate it (`nasrepro.sandbox`)."""
    return searcher_class(kind).wants_gpu(method) if kind in plugins.METHODS else True


def nearest_calibration(method: dict) -> dict:
    """The calibrated settings of the method's type ("type" or "type/variant") whose MLP is nearest in size
    to the method's (WeakNAS's own where the type was not calibrated)."""
    entries = [entry for key, entry in model()["methods"].items() if key.split("/")[0] == method["type"]]
    if not entries:
        return model()["methods"]["default"]
    return min(entries, key=lambda entry: abs(math.log(mlp_size(method) / mlp_size(entry["options"]))))


def expected_queries(spec: dict, kind: str, space: str) -> int:
    """The queries of a run: its budget, or for a run to the optimum the model's typical count on its space
    (on a space the model has no counts for, the calibration space's scaled by the spaces' sizes)."""
    budget = spec["budget"]
    if not budget.get("until_optimum"):
        return budget["queries"]
    counts = model()["queries_to_optimum"]
    typical, scale = counts.get(space), 1.0
    if typical is None:
        typical, scale = counts[CALIBRATION_SPACE], get_space(space).size / get_space(CALIBRATION_SPACE).size
    expected = math.ceil(scale * typical.get(kind, typical["default"]))
    return min(max(expected, budget.get("min_queries", 0)), budget.get("queries") or math.inf)


def work(options: dict, calibrated: dict) -> float:
    """Training work of `options` relative to the calibrated settings of the same method: the largest ratio
    of an epoch count, times the ratio of models per fit, times the ratio of MLP width."""
    def values(block: dict, names) -> dict:
        blocks = [block, block.get("predictor") if isinstance(block.get("predictor"), dict) else {}]
        return {n: b[n] for b in blocks for n in names if isinstance(b.get(n), (int, float)) and b[n]}

    ours, theirs = values(options, EPOCH_OPTIONS), values(calibrated, EPOCH_OPTIONS)
    epochs = max([ours[n] / theirs[n] for n in ours if n in theirs], default=1.0)
    ours, theirs = values(options, ENSEMBLE_OPTIONS), values(calibrated, ENSEMBLE_OPTIONS)
    models = math.prod(ours[n] / theirs[n] for n in ours if n in theirs)
    return epochs * models * mlp_size(options) / mlp_size(calibrated)


def mlp_size(options: dict) -> float:
    """Multiply-adds per architecture of the options' MLP predictor between its hidden layers (1: no MLP)."""
    predictor = options.get("predictor")
    if not isinstance(predictor, dict) or predictor.get("type") != "mlp":
        return 1.0
    sizes = predictor.get("hidden_layer_sizes") or [1000] * 4
    return float(sum(a * b for a, b in zip(sizes, sizes[1:])) + sizes[0] * 30)


def render(rows: list[Row], config: dict) -> str:
    """The table `nasrepro cost` prints: per experiment and method, then totals per search space."""
    spaces = {name: get_space(bench["space"]).name for name, bench in config["benchmarks"].items()}
    lines = [f"Cost model: {model()['measured_on']} (benchmarks/cost_calibration.py); "
             f"GPU-hours: {model().get('gpu', 'not measured')}"]
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
    types = {config["methods"][row.method]["type"] for row in rows}
    uncalibrated = sorted(types - set(model()["methods"]))
    if uncalibrated:
        lines.append(f"Not calibrated, costed as WeakNAS (rerun benchmarks/cost_calibration.py): {', '.join(uncalibrated)}.")
    lines.append("A shared run is counted, with its whole length, for the first experiment that needs it (its "
                 "'saved core-h' may be negative); the totals are exact. 'to run': the search jobs the workflow "
                 "will run now (not run yet, or their code, inputs or budget changed), as its start line counts.")
    return "\n".join(lines)
