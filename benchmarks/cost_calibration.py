"""Calibrate the cost model of `nasrepro cost` (src/nasrepro/resources/cost_model.yaml) on this CPU.

    NASREPRO_MIRROR=../shared/benchmarks nasrepro prepare nb201-cifar10
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/cost_calibration.py [--budgets 100 200]

One entry per cost key (`nasrepro.cost.key`: a method type, or "type/variant" for settings calibrated apart)
among config.yaml's methods, from that key's first method on NAS-Bench-201 CIFAR-10, one seed, in-process on
one thread, CPU seconds (process_time) of the search alone:

- polynomial types (`cost.SHAPES`): two budgets, and where the shape declares a lighter setting also at that
  setting (its options halved), solved for the fixed part F(q) and the training part W(q), each a·q + b·q²;
  the slowest trainers at fewer epochs (`REDUCED`; the model scales W by the epochs). Types that score the
  whole space per fit: the fits per query and the seconds per scored architecture (WeakNAS, the strong and
  neural predictors: their recorded rank seconds; arch2vec, CATE: a DNGO's prediction timed apart);
- sequence types (SemiNAS, NAO): the compiled training step timed at every built-in space's sequence length
  (random valid token sequences: a step's time does not depend on the labels), and the per-round overhead
  (pseudo-labelling, generation) from two real runs at fewer epochs, less their training steps;
- pretraining (arch2vec, CATE): on the first 2,000 cells, 1 and 2 epochs, solved for seconds per architecture
  and epoch and per architecture (the embedding pass).

The startup of a search process (imports and table load, with and without torch) is timed in fresh processes,
and what each key's code adds to it (torch, LightGBM, Numba's cached loops: `startup_extra`) in one per key.
The expected queries of a run to the optimum are the WeakNAS paper's Table 5 (NAS-Bench-201 CIFAR-10,
NAS-Bench-101) where it has the method, else the measured mean of `make baselines-cpu` (README).
`benchmarks/cost_check.py` checks the model against real jobs.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from nasrepro import config as cfg, cost, plugins, threads
from nasrepro.benchmark import Benchmark
from nasrepro.config.validation import INITIAL_SAMPLE_OPTIONS
from nasrepro.pipeline import load_features
from nasrepro.runner import Budget, run_search
from nasrepro.searchers import pretrained, searcher_class
from nasrepro.spaces import all_spaces

REPO = Path(__file__).resolve().parents[1]
BENCH = "nb201-cifar10"
# Calibrated at fewer epochs (the model scales training linearly with epochs): the authors' settings take minutes
# per run on a CPU. SemiNAS and NAO: the per-round overhead only (their steps are timed apart).
REDUCED = {
    "lanas": {"epochs_first": 2000, "epochs": 300},
    "seminas": {"epochs": 20, "pseudo_epochs": 2},
}
# Settings calibrated besides each key's own, "<key>#<variant>": the CPU overlays' 4 x 100 MLPs (a narrow MLP costs
# more than its FLOPs say: per-step overhead), for the keys whose predictor is an MLP.
VARIANTS = {"mlp100": {"predictor": {"hidden_layer_sizes": [100, 100, 100, 100]}}}
QUERIES_TO_OPTIMUM = {  # WeakNAS paper, Table 5; `default` and the baselines: measured (README, make baselines-cpu)
    "nb201": {"weaknas": 182, "regularized_evolution": 563, "random": 7782, "lanas": 247, "default": 400},
    "nb101": {"weaknas": 195, "regularized_evolution": 87403, "random": 188140, "lanas": 11391, "default": 2000},
}


def reduced(method: dict) -> dict:
    """The method at the settings the calibration runs it at (`REDUCED`: the slowest trainers at fewer epochs;
    SemiNAS's reduction serves NAO too)."""
    kind = cost.shape(method["type"]).kind
    return cfg.merge(method, REDUCED["seminas"] if kind == "sequence" else REDUCED.get(cost.key(method), {}))


STARTUP = {
    "light": "from nasrepro import pipeline; from nasrepro.benchmark import Benchmark; Benchmark.load('{table}')",
    "torch": "from nasrepro import pipeline; from nasrepro.benchmark import Benchmark; import torch; "
             "import nasrepro.searchers.weaknas; Benchmark.load('{table}')",
}
PRETRAIN_CELLS = 2000
PROBE_QUERIES = 20  # a startup probe's search: past the initial draws of most methods (else just past them)
STEP_ROWS, STEP_EPOCHS = 1000, 20  # a step-time probe: 10 batches of 100 per epoch


def search_cpu(benchmark, features, method: dict, queries: int):
    """(CPU seconds, the run's iteration notes) of one in-process search."""
    started, wall = time.process_time(), time.perf_counter()
    result = run_search(benchmark, features, method, 0, Budget(queries), progress=False)
    cpu = time.process_time() - started
    notes = result.iterations.assign(cpu_per_wall=cpu / (time.perf_counter() - wall))  # to read wall notes as CPU
    return cpu, notes


def solve(low: int, high: int, t_low: float, t_high: float) -> dict:
    """a, b of a·q + b·q² through (low, t_low), (high, t_high), b >= 0 (low = high: a·q through the point)."""
    if low == high:
        return {"a": round(t_high / high, 7), "b": 0.0}
    b = max((t_high / high - t_low / low) / (high - low), 0.0)
    return {"a": round(t_high / high - b * high, 7), "b": round(b, 10)}


def features_for(config: dict, name: str, method: dict, table: str):
    """The features a method's search reads: its encoding, or its pretrained embedding (pretrained at 1 epoch
    here and kept under resources/pretrained/: a search's cost does not depend on the embedding's training)."""
    declared = getattr(searcher_class(method["type"]), "pretraining", None)
    if declared:
        settings = {**declared(method), "pretrain_epochs": 1}
        path = REPO / pretrained.pretrained_file("nb201", settings)
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            pretrained.pretrain_file(table, settings, path)
        return np.load(path)
    if cfg.uses_features(config, name, BENCH):
        return load_features(f"resources/encodings/{BENCH}-{cfg.method_encoding(config, name, BENCH)}.npy")
    return None


def calibrate_polynomial(benchmark, features, method: dict, low: int, high: int) -> dict:
    rule = cost.shape(method["type"])
    low = high if rule.once_after else low  # a fit-once method: one budget, past its fit (listed twice below)
    first = search_cpu(benchmark, features, method, low)[0]  # a job's first search compiles and warms caches
    budgets = list(dict.fromkeys((low, high)))
    heavy = [search_cpu(benchmark, features, method, q) for q in budgets] * (3 - len(budgets))
    measured = {f"{low} first": round(first, 2), f"{low}": round(heavy[0][0], 2), f"{high}": round(heavy[1][0], 2)}
    fixed, work = [0.0, 0.0], [heavy[0][0], heavy[1][0]]
    light_method = cost._scaled(method, 0.5, *rule.lighter)
    r = rule.work(light_method) / rule.work(method)
    if r < 1:
        light = [search_cpu(benchmark, features, light_method, q)[0] for q in budgets] * (3 - len(budgets))
        measured.update({f"{low} lighter": round(light[0], 2), f"{high} lighter": round(light[1], 2)})
        work = [max((h[0] - t) / (1 - r), 0.0) for h, t in zip(heavy, light)]
        fixed = [max(h[0] - w, 0.0) for h, w in zip(heavy, work)]
    q_low, q_high = rule.queries(method, low), rule.queries(method, high)  # a fit-once method: 1, 1
    entry = {"first_call": round(max(first - heavy[0][0], 0.0), 3), "fixed": solve(q_low, q_high, *fixed),
             "work": solve(q_low, q_high, *work), "size": int(benchmark.size),
             "options": method, "measured": measured}
    if rule.scores_space:
        entry.update(scoring(method, heavy[1][1], q_high, benchmark.size, features))
    return entry


def scoring(method: dict, notes, queries: int, size: int, features) -> dict:
    """Fits per query, and CPU seconds per architecture scored at each fit."""
    if "rank_seconds" in notes:
        ranked = notes["rank_seconds"].dropna()
        cpu = float(ranked.mean() * notes["cpu_per_wall"].iloc[0])  # the notes are wall seconds
        return {"fits_per_query": round(len(ranked) / queries, 4), "score_seconds": cpu / size}
    from nasrepro.searchers.bayes import DNGO

    fits = notes["fit_seconds"].notna().sum()
    rng = np.random.default_rng(0)
    model = DNGO(epochs=method["dngo_epochs"]).fit(features[:100].astype(np.float64), rng.random(100))
    started = time.process_time()
    model.predict(features.astype(np.float64))
    return {"fits_per_query": round(fits / queries, 4), "score_seconds": (time.process_time() - started) / size}


def step_seconds(length: int, vocabulary: int, options: dict) -> float:
    """CPU seconds of one compiled SemiNAS training step of `batch_size` random valid sequences of a length."""
    import types

    import torch

    from nasrepro.searchers.seminas import EPD, SemiNAS

    rng = np.random.default_rng(0)
    sequences = torch.as_tensor(rng.integers(1, vocabulary, (STEP_ROWS, length)))
    targets = torch.as_tensor(rng.standard_normal(STEP_ROWS), dtype=torch.float32)
    model = EPD(vocabulary, options["hidden_size"], options["mlp_hidden_size"], options["dropout"])
    trainer = types.SimpleNamespace(**options)
    trainer._train_compiled = lambda *args: SemiNAS._train_compiled(trainer, *args)
    SemiNAS._train(trainer, model, sequences, targets, 1)  # compile
    started = time.process_time()
    SemiNAS._train(trainer, model, sequences, targets, STEP_EPOCHS)
    return (time.process_time() - started) / (STEP_EPOCHS * -(-STEP_ROWS // options["batch_size"]))


def calibrate_sequence(benchmark, method: dict, low: int, high: int) -> dict:
    steps = {}
    for space in all_spaces():
        operators = space.operators_class
        length, vocabulary = operators.sequence_tokens(object.__new__(operators)).shape
        steps.setdefault(int(length), round(step_seconds(length, vocabulary, method), 7))
    fewer = reduced(method)
    entry = {"steps": {"batch": method["batch_size"], "seconds": steps}, "options": method, "measured": {}}
    length = cost.sequence_length(benchmark.space)
    per_round = []
    for q in (low, high):
        seconds, _ = search_cpu(benchmark, None, fewer, q)
        count, rounds = cost.sequence_schedule(fewer, benchmark.size, q)
        per_round.append((seconds - count * steps[length]) / max(rounds, 1))
        entry["measured"][f"{q} ({fewer['epochs']}/{fewer['pseudo_epochs']} epochs)"] = round(seconds, 2)
    entry["round_seconds_per_position"] = round(max(float(np.mean(per_round)), 0.0) / length, 6)
    return entry


def calibrate_pretraining(kind: str, method: dict, table: str) -> dict:
    space, cells = pretrained.load_cells(table)
    cells = cells.iloc[:PRETRAIN_CELLS].reset_index(drop=True)
    settings = searcher_class(kind).pretraining(method)
    pretrained.pretrain(space, cells.iloc[:200].reset_index(drop=True), {**settings, "pretrain_epochs": 1})  # warm
    times = []
    for epochs in (1, 2):
        started = time.process_time()
        pretrained.pretrain(space, cells, {**settings, "pretrain_epochs": epochs})
        times.append(time.process_time() - started)
    per_epoch = max(times[1] - times[0], 0.0) / len(cells)
    return {"per_epoch": per_epoch, "embed": max(times[0] / len(cells) - per_epoch, 0.0), "options": settings,
            "measured": {f"{len(cells)} cells, 1 epoch": round(times[0], 2), f"{len(cells)} cells, 2 epochs": round(times[1], 2)}}


def probe(name: str, queries: int) -> None:
    """In a fresh interpreter (`setup_seconds`): search twice with config.yaml's `name` as the calibration does, in
    process, and print the second (warm) search's CPU seconds; the first pays for the modules the search loads."""
    config = cfg.load(REPO / "config.yaml")
    method = reduced(cfg.searcher_spec(config, name, BENCH))
    table = f"resources/tables/{BENCH}.parquet"
    features = features_for(config, name, method, table)
    benchmark = Benchmark.load(table)
    search_cpu(benchmark, features, method, queries)
    print(json.dumps(search_cpu(benchmark, features, method, queries)[0]))


def setup_seconds(config: dict, name: str, queries: int = PROBE_QUERIES) -> float:
    """CPU seconds of a fresh interpreter that runs two short searches of config.yaml's `name` (just past its
    initial draws: one fit, one round), less two warm searches: the interpreter, the imports and caches
    the method's code loads (torch on first use included), and its first call's extra cost."""
    method = cfg.searcher_spec(config, name, BENCH)
    initial = max((int(method[o]) for o in INITIAL_SAMPLE_OPTIONS if isinstance(method.get(o), int)), default=0)
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import cost_calibration; "
            f"cost_calibration.probe({name!r}, {max(queries, initial + 1)})")
    before = children_cpu()
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return children_cpu() - before - 2 * json.loads(done.stdout.strip().splitlines()[-1])


def startup_extras(model: dict, config: dict, keys: dict[str, str]) -> None:
    """Each key's `startup_extra` (on its "key#variant" entries too): what its code's imports add to a light job's
    startup (torch, LightGBM, Numba's cached loops), measured against random search's, less its first call's cost
    (a part of the model already)."""
    light = min(setup_seconds(config, "random") for _ in range(2))
    for key, name in keys.items():
        extra = setup_seconds(config, name) - light - model["methods"][key].get("first_call", 0.0)
        for entry_name, entry in model["methods"].items():
            if entry_name.split("#")[0] == key:
                entry["startup_extra"] = round(max(extra, 0.0), 2)


def startup_seconds(table: str) -> dict:
    """CPU seconds a search job costs besides its search: a real `nasrepro search` job (config validation, the
    isolated searcher's process, outputs) of random search for a few queries, and that plus the import of torch
    and the predictors (timed in fresh processes, the difference between the two `STARTUP` imports)."""
    imports = {}
    for kind, code in STARTUP.items():
        before = children_cpu()
        subprocess.run([sys.executable, "-c", code.format(table=table)], check=True)
        imports[kind] = children_cpu() - before
    overlay = {"experiments": {"cost_startup": {"description": "a job's startup", "benchmarks": [BENCH],
                                                "methods": ["random"], "seeds": 1, "budget": {"queries": 10},
                                                "budgets": [10], "outputs": []}}, "run": ["cost_startup"]}
    jobs = []
    with tempfile.TemporaryDirectory() as folder:
        layer = Path(folder) / "startup.yaml"
        layer.write_text(yaml.safe_dump(overlay))
        for attempt in range(2):
            before = children_cpu()
            subprocess.run([str(Path(sys.executable).parent / "nasrepro"), "search", "--config", str(REPO / "config.yaml"),
                            str(layer), "--experiment", "cost_startup", "--bench", BENCH, "--method", "random",
                            "--seed", "0", "--out", f"{folder}/{attempt}"], check=True, cwd=REPO,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            jobs.append(children_cpu() - before)
    light = min(jobs)
    return {"light": round(light, 2), "torch": round(light + max(imports["torch"] - imports["light"], 0.0), 2)}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def methods_by_key(config: dict) -> dict[str, str]:
    """Each cost key of config.yaml's built-in methods (on the calibration benchmark) -> its first method."""
    found: dict[str, str] = {}
    for name, entry in config["methods"].items():
        if entry["type"] in plugins.METHODS:
            found.setdefault(cost.key(cfg.searcher_spec(config, name, BENCH)), name)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", type=int, nargs=2, default=[100, 200])
    parser.add_argument("--out", default=str(REPO / "src/nasrepro/resources/cost_model.yaml"))
    parser.add_argument("--keys", nargs="*", help="cost keys to (re)calibrate (default: every key of config.yaml)")
    parser.add_argument("--merge", action="store_true", help="update these keys in the existing model only")
    parser.add_argument("--startup", action="store_true",
                        help="with --merge: measure the job startup again, and what each key's code adds to it")
    args = parser.parse_args()
    threads.limit(1)
    config = cfg.load(REPO / "config.yaml")
    table = f"resources/tables/{BENCH}.parquet"
    benchmark = Benchmark.load(table)
    keys = methods_by_key(config)
    chosen = {k: keys[k] for k in (keys if args.keys is None else args.keys)}
    if args.merge:
        model = yaml.safe_load(Path(args.out).read_text())
        if args.startup:
            model["startup_seconds"] = startup_seconds(table)
            startup_extras(model, config, {k: n for k, n in keys.items() if k in model["methods"]})
    else:
        model = {"measured_on": f"{cpu_model()}, 1 thread, torch CPU, {time.strftime('%Y-%m-%d')}",
                 "calibration_space": benchmark.space, "startup_seconds": startup_seconds(table), "methods": {},
                 "pretraining": {}, "queries_to_optimum": QUERIES_TO_OPTIMUM}
    low, high = args.budgets
    search_cpu(benchmark, None, cfg.searcher_spec(config, "random", BENCH), low)  # the process's one-time imports
    for key, name in chosen.items():
        method = cfg.searcher_spec(config, name, BENCH)
        kind = cost.shape(method["type"]).kind
        if kind == "sequence":
            model["methods"][key] = calibrate_sequence(benchmark, method, high, high + 100)
        else:
            method = reduced(method)
            features = features_for(config, name, method, table)
            model["methods"][key] = calibrate_polynomial(benchmark, features, method, low, high)
            if method.get("predictor", {}).get("type") == "mlp":
                for variant, change in VARIANTS.items():
                    model["methods"][f"{key}#{variant}"] = calibrate_polynomial(
                        benchmark, features, cfg.merge(method, change), low, high)
        if kind == "pretrained":
            model["pretraining"][method["type"]] = calibrate_pretraining(method["type"], method, table)
        print(f"{key} ({name}): {json.dumps(model['methods'][key]['measured'])}", flush=True)
    if chosen:
        startup_extras(model, config, chosen)
    write_model(model, args.out)
    print(f"wrote {args.out}")


def write_model(model: dict, path) -> None:
    Path(path).write_text("# Written by benchmarks/cost_calibration.py: the cost model of `nasrepro cost`.\n"
                          + yaml.safe_dump(json.loads(json.dumps(model, default=float)), sort_keys=False))


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
