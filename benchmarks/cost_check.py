"""Check the cost model of `nasrepro cost` against real search jobs: one job per cost key (`nasrepro.cost.key`:
each built-in method type of config.yaml, and the settings calibrated apart), at two budgets, each a fresh
`nasrepro search` process on NAS-Bench-201 CIFAR-10 (the workflow's job: startup, table load, the isolated
searcher), and each label-free pretraining on a part of the space; prints estimate, measured CPU seconds (the
child processes' user + system) and their ratio.

    NASREPRO_MIRROR=../shared/benchmarks nasrepro prepare nb201-cifar10
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/cost_check.py [--budgets 50 120] [--sequence-budgets 200 300] [--methods ...]

Besides each key's first method, the methods whose cost comes from a declared scaling rather than their own
calibration (`EXTRA`: the EI ensembles, NASLib's BANANAS). The methods run with config.yaml's settings (the
authors' epochs; the calibration ran the slowest at fewer), except SemiNAS and NAO at a tenth of their epochs
(`SEQUENCE_EPOCHS`: the model counts their training steps, each timed in the calibration; the authors' take
minutes per round here) and at `--sequence-budgets` (their first 100 queries are uniform draws: one and two
rounds). arch2vec and CATE search in an embedding pretrained
for 1 epoch (the calibration's file: a search's cost does not depend on the embedding's training); their
pretraining is checked apart on `PRETRAIN_CELLS` cells for `PRETRAIN_EPOCHS` epochs (the calibration used
2,000 cells, 1 and 2 epochs). Target: every ratio measured / estimate within 0.7-1.4.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from nasrepro import config as cfg, cost, runs
from nasrepro.searchers import searcher_class

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cost_calibration import BENCH, REPO, cpu_model, methods_by_key  # noqa: E402

EXTRA = ["weaknas_ei", "bananas_naslib"]
PRETRAIN_CELLS, PRETRAIN_EPOCHS = 2500, 1
SEQUENCE_EPOCHS = {"epochs": 100, "pseudo_epochs": 50}  # a tenth of the authors' (the model counts steps)
# with --long: the methods that dominate the reproduction's cost, at config.yaml's (the authors') epochs and at a
# budget where their training is most of the job (LaNAS: the quadratic term that the calibration extrapolates)
LONG = {"seminas": [200], "nao": [200], "lanas": [1000, 4000]}
LOW, HIGH = 0.7, 1.4


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def overlay(budgets: dict[str, list[int]], reduced: bool = True) -> dict:
    """An overlay with one experiment per budget over the methods checked at it (one seed, NAS-Bench-201
    CIFAR-10); `reduced`: SemiNAS and NAO at `SEQUENCE_EPOCHS`."""
    experiments = {f"cost_check_{q}": {"description": f"cost check, {q} queries", "benchmarks": [BENCH],
                                       "methods": [name for name in budgets if q in budgets[name]], "seeds": 1,
                                       "budget": {"queries": q}, "budgets": [q], "outputs": []}
                   for q in sorted({q for qs in budgets.values() for q in qs})}
    config = cfg.load(REPO / "config.yaml")
    changed = {name: SEQUENCE_EPOCHS for name in budgets
               if reduced and cost.shape(config["methods"][name]["type"]).kind == "sequence"}
    return {"methods": changed, "experiments": experiments, "run": list(experiments)}


def features_file(config: dict, name: str) -> str | None:
    """The pretrained embedding a method reads (the calibration's 1-epoch file), None for the others."""
    declared = getattr(searcher_class(config["methods"][name]["type"]), "pretraining", None)
    if not declared:
        return None
    settings = {**declared(cfg.searcher_spec(config, name, BENCH)), "pretrain_epochs": 1}
    path = REPO / runs.pretrained_file("nb201", settings)
    if not path.is_file():
        sys.exit(f"{path} is missing: run benchmarks/cost_calibration.py first (it pretrains it)")
    return str(path)


def measure(command: list[str]) -> float:
    """Child CPU seconds of a command (NaN where it failed: its error is printed, the check goes on)."""
    before = children_cpu()
    done = subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        print(f"failed: {' '.join(command[:12])}: {done.stderr.strip().splitlines()[-1:]}", flush=True)
        return float("nan")
    return children_cpu() - before


def check_search(config: dict, files: list[str], name: str, q: int, out: Path) -> tuple[float, float]:
    experiment = f"cost_check_{q}"
    command = [str(Path(sys.executable).parent / "nasrepro"), "search", "--config", *files, "--experiment", experiment,
               "--bench", BENCH, "--method", name, "--seed", "0", "--out", str(out / f"{name}-{q}")]
    features = features_file(config, name)
    if features:
        command += ["--features", features]
    estimate = cost.run_seconds(runs.run_spec(config, experiment, BENCH, name))
    return estimate, measure(command)


def check_pretraining(config: dict, name: str) -> tuple[float, float]:
    kind = config["methods"][name]["type"]
    settings = {**searcher_class(kind).pretraining(cfg.searcher_spec(config, name, BENCH)),
                "pretrain_epochs": PRETRAIN_EPOCHS}
    code = ("import sys; from nasrepro import threads; threads.limit(1); from nasrepro.searchers import pretrained; "
            f"space, cells = pretrained.load_cells('resources/tables/{BENCH}.parquet'); "
            f"pretrained.pretrain(space, cells.iloc[:{PRETRAIN_CELLS}].reset_index(drop=True), {settings!r})")
    entry = cost.model()["pretraining"][kind]
    estimate = cost.model()["startup_seconds"]["torch"] + PRETRAIN_CELLS * (
        PRETRAIN_EPOCHS * entry["per_epoch"] + entry["embed"])
    return estimate, measure([sys.executable, "-c", code])


def synthetic_nb101(cells: int):
    """A NAS-Bench-101 benchmark of `cells` distinct random valid cells (the tests' generator, the space's own
    cell description) with made-up labels: its sequences, encodings and size are NAS-Bench-101's kind, which is
    what a search's cost depends on."""
    import numpy as np

    sys.path.insert(0, str(REPO / "tests"))
    from conftest import random_nb101_cells

    from nasrepro.benchmark import Benchmark
    from nasrepro.spaces.nb101 import cells as nb101

    table = nb101.describe_cells([(matrix, ops) for _, matrix, ops in random_nb101_cells(cells)])
    table.insert(0, "arch_id", np.arange(len(table)))
    rng = np.random.default_rng(0)
    table["fit_label"] = 90 + rng.normal(0, 2, len(table))
    table["test_label"] = table["fit_label"] - 0.3
    table["params"] = rng.integers(100_000, 3_000_000, len(table))
    meta = {"space": "nb101", "dataset": "synthetic", "fit_split": "valid", "test_split": "test",
            "fit_is_test": False, "label_note": "synthetic labels"}
    return Benchmark(table=table, meta=meta)


def check_nb101(config: dict, cells: int, budgets: list[int]) -> list[str]:
    """In-process searches on a synthetic NAS-Bench-101 table (no startup: search CPU seconds only) against
    `cost.search_seconds` at the table's size: WeakNAS (its scoring grows with the space) and NAO (the
    training step at NAS-Bench-101's sequence length, at NB201-like rounds and fewer epochs)."""
    from nasrepro import threads
    from nasrepro.spaces import get_space
    from cost_calibration import search_cpu

    threads.limit(1)
    benchmark = synthetic_nb101(cells)
    space = get_space("nb101")
    search_cpu(benchmark, None, cfg.searcher_spec(config, "random", "nb101-cifar10"), 10)  # one-time imports
    features = space.encodings["seq45"](benchmark.table).astype("float32")
    nao = cfg.merge(cfg.searcher_spec(config, "nao", "nb101-cifar10"),
                    {"initial": 100, "new_arch": 100, "rounds": None, "epochs": 50, "pseudo_epochs": 10})
    misses = []
    for name, method, inputs in (("weaknas", cfg.searcher_spec(config, "weaknas", "nb101-cifar10"), features),
                                 ("nao", nao, None)):
        for q in budgets:
            measured, _ = search_cpu(benchmark, inputs, method, q)
            estimate = cost.search_seconds(method, "nb101", q, size=benchmark.size)
            misses += report(f"{name} (synthetic NB101, search only)", cost.key(method), f"{q} of {benchmark.size}",
                             estimate, measured)
    return misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", type=int, nargs=2, default=[50, 120])
    parser.add_argument("--sequence-budgets", type=int, nargs=2, default=[200, 300])
    parser.add_argument("--methods", nargs="*", help="method names of config.yaml (default: one per cost key + EXTRA)")
    parser.add_argument("--no-pretraining", action="store_true", help="skip the pretraining checks")
    parser.add_argument("--no-searches", action="store_true", help="skip the NAS-Bench-201 search jobs")
    parser.add_argument("--long", action="store_true",
                        help=f"also {', '.join(f'{m} at {qs}' for m, qs in LONG.items())} queries at the authors' epochs")
    parser.add_argument("--nb101-cells", type=int, default=20000,
                        help="cells of the synthetic NAS-Bench-101 table for the NB101 checks (0: skip them)")
    args = parser.parse_args()
    base = cfg.load(REPO / "config.yaml")
    methods = args.methods or [*methods_by_key(base).values(), *EXTRA]
    print(f"# {cpu_model()}; one thread per job; {BENCH}; seed 0; budgets {args.budgets}", flush=True)
    print(f"| method | cost key | queries | estimate (s) | measured (s) | ratio |\n|---|---|---:|---:|---:|---:|", flush=True)
    misses = []
    with tempfile.TemporaryDirectory() as folder:
        budgets = {} if args.no_searches else {name: budgets_of(base, name, args) for name in methods}
        misses += check_searches(budgets, Path(folder), "cost_check")
        if args.long:
            misses += check_searches(LONG, Path(folder), "long", reduced=False,
                                     note=" (authors' epochs)")
        if not args.no_pretraining:
            for name in (n for n in methods if cost.shape(base["methods"][n]["type"]).kind == "pretrained"):
                estimate, measured = check_pretraining(base, name)
                misses += report(name, "pretraining", f"{PRETRAIN_CELLS} cells x {PRETRAIN_EPOCHS} epochs",
                                 estimate, measured)
    if args.nb101_cells:
        misses += check_nb101(base, args.nb101_cells, args.sequence_budgets)  # past NB101's initial 100
    print(f"\n{len(misses)} outside {LOW}-{HIGH}x" + (f": {', '.join(misses)}" if misses else ""))


def check_searches(budgets: dict[str, list[int]], folder: Path, name: str, reduced: bool = True,
                   note: str = "") -> list[str]:
    """One real job per method and budget, its estimate beside it; the rows outside the target."""
    if not budgets:
        return []
    (folder / name).mkdir()
    layer = folder / name / "overlay.yaml"
    layer.write_text(yaml.safe_dump(overlay(budgets, reduced)))
    files = [str(REPO / "config.yaml"), str(layer)]
    config = cfg.load(*files)
    misses = []
    for method in budgets:
        for q in budgets[method]:
            estimate, measured = check_search(config, files, method, q, folder / name)
            key = cost.key(cfg.searcher_spec(config, method, BENCH))
            misses += report(method + note, key, str(q), estimate, measured)
    return misses


def budgets_of(config: dict, name: str, args) -> list[int]:
    """The budgets a method is checked at: SemiNAS and NAO at theirs; a fit-once method past its fit."""
    rule = cost.shape(config["methods"][name]["type"])
    if rule.kind == "sequence":
        return args.sequence_budgets
    if rule.once_after:
        return [q + cfg.searcher_spec(config, name, BENCH)[rule.once_after] for q in args.budgets]
    return args.budgets


def report(name: str, key: str, size: str, estimate: float, measured: float) -> list[str]:
    ratio = measured / estimate if estimate > 0 else float("inf")
    print(f"| {name} | {key} | {size} | {estimate:.1f} | {measured:.1f} | {ratio:.2f} |", flush=True)
    return [] if LOW <= ratio <= HIGH else [f"{name} at {size} ({ratio:.2f})"]


if __name__ == "__main__":
    main()
