"""Every method of config.yaml on the external toy space (tests/plugins/toy_space.py) and on TransNAS-Bench-101
micro: "ran: N queries" (a short run, the options that only make it slow shrunk: `FAST`), or the one line config
validation refuses it with.

    NASREPRO_MIRROR=../shared/benchmarks .venv/bin/python benchmarks/capability_matrix.py [--queries 12]

TransNAS-Bench-101 micro is read from the mirror's `transnas/all_benchmarks_zen.zip` (task class_scene);
tests/test_capabilities.py runs the same `outcome` for every built-in method type on a synthetic zip.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

from nasrepro import config as cfg
from nasrepro import encodings
from nasrepro.benchmark import Benchmark
from nasrepro.errors import NasReproError
from nasrepro.runner import Budget, run_search
from nasrepro.searchers import searcher_class
from nasrepro.searchers.pretrained import pretrain
from nasrepro.spaces import get_space

REPO = Path(__file__).resolve().parents[1]
TOY = "toy_space:ToySpace"
TOY_BENCH = {"space": TOY, "dataset": "toy", "fit_split": "valid"}
TRANSNAS_BENCH = {"space": "transnas_micro", "dataset": "class_scene", "fit_split": "valid"}
SMALL_PREDICTOR = {"epochs": 5, "hidden": 8}  # a graph predictor's size and training, whatever its type
# What makes a run of a few queries quick: initial samples, batches, epochs, widths and the uncompiled trainers
# (no Numba compilation); never an option that changes what a method needs of a space. Keys a type does not
# declare are left out.
FAST = {"init_sample": 5, "sample_each_iter": 5, "num_init": 5, "init_samples": 5, "initial": 6, "num_train": 6,
        "population_size": 5, "k": 3, "num_candidates": 10, "pool_size": 10, "batch_size": 3, "num_ensemble": 2,
        "epochs": 3, "epochs_first": 3, "per_iteration": 3, "new_arch": 3, "top_k": 3, "unlabelled": 20,
        "pseudo_epochs": 2, "rounds": 1, "rollout_attempts": 50, "dngo_epochs": 5, "pretrain_epochs": 1,
        "pretrain_batch": 512, "hidden": 8, "latent": 4, "d_model": 8, "graph_layers": 1, "pair_layers": 1,
        "hidden_size": 8, "mlp_hidden_size": 4, "trainer": "torch"}


def fast(entry: dict) -> dict:
    """The method entry with `FAST` laid over the options its type declares (its predictor shrunk too)."""
    declared = searcher_class(entry["type"]).options
    quick = {**entry, **{k: v for k, v in FAST.items() if k in declared}}
    if "predictor" in declared:
        predictor = entry.get("predictor", declared["predictor"].default)
        predictor = {"type": predictor} if isinstance(predictor, str) else dict(predictor)
        small = ({"hidden_layer_sizes": [16], "max_epochs": 20} if predictor["type"] == "mlp"
                 else SMALL_PREDICTOR if predictor["type"] in ("gcn", "gin") else {})
        quick["predictor"] = {**predictor, **small}
    return quick


def outcome(name: str, entry: dict, bench: dict, benchmark: Benchmark, queries: int = 12) -> str:
    """'ran: N queries' after a short run of the method `name` (its config entry) on `benchmark` (of the space
    and dataset `bench` names), or the line validation refuses it with."""
    key = bench["dataset"]  # the benchmark's name in the config
    config = {"data": {"allow_download": False, "verify_raw": False}, "benchmarks": {key: dict(bench)},
              "methods": {name: copy.deepcopy(entry)},
              "experiments": {"one": {"benchmarks": [key], "methods": [name], "seeds": 1, "budget": {"queries": queries}}}}
    try:
        cfg.validate(config)
    except NasReproError as error:
        return str(error)
    spec = cfg.searcher_spec(config, name, key)
    cls = searcher_class(entry["type"])
    features = None
    if cfg.uses_features(config, name, key):
        options = {k: v for k, v in spec.items() if k != "type"}
        pretraining = getattr(cls, "pretraining", None)
        features = (pretrain(bench["space"], benchmark.cells, pretraining(options)) if pretraining
                    else encodings.encode(bench["space"], cfg.method_encoding(config, name, key), benchmark.table))
    result = run_search(benchmark, features, spec, 0, Budget(queries), progress=False)
    return f"ran: {len(result.trajectory)} queries"


def toy_benchmark() -> Benchmark:
    from toy_space import labels_csv

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "labels.csv"
        path.write_text(labels_csv())
        table, meta = get_space(TOY).convert(TOY_BENCH, {"toy-labels": path})
    return Benchmark(table=table, meta={**meta, "space": TOY})


def transnas_benchmark(zip_path: Path, task: str = "class_scene") -> Benchmark:
    from nasrepro.spaces.transnas.convert import ZIP_SOURCE

    table, meta = get_space("transnas_micro").convert({**TRANSNAS_BENCH, "dataset": task}, {ZIP_SOURCE: zip_path})
    return Benchmark(table=table, meta=meta)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=12)
    parser.add_argument("--mirror", default=os.environ.get("NASREPRO_MIRROR", REPO.parent / "shared" / "benchmarks"))
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "tests" / "plugins"))
    config = cfg.validate(cfg.load(REPO / "config.yaml"))
    spaces = {"toy": (TOY_BENCH, toy_benchmark()),
              "transnas_micro": (TRANSNAS_BENCH,
                                 transnas_benchmark(Path(args.mirror) / "transnas" / "all_benchmarks_zen.zip"))}
    rows = []
    for name, entry in config["methods"].items():
        for space, (bench, benchmark) in spaces.items():
            line = outcome(name, fast(entry), bench, benchmark, args.queries)
            rows.append({"method": name, "type": entry["type"], "space": space, "outcome": line})
            print(f"{name} ({entry['type']}) on {space}: {line}", flush=True)
    frame = pd.DataFrame(rows)
    ran = frame["outcome"].str.startswith("ran: ")
    for space, ok in ran.groupby(frame["space"]):
        print(f"{space}: {int(ok.sum())} of {len(ok)} methods ran, {int((~ok).sum())} refused at validation")


if __name__ == "__main__":
    main()
