"""Per-run CPU seconds of the graph-predictor methods at their authors' settings on NAS-Bench-201 CIFAR-10,
with the compiled training loops (`trainer: auto`, the default) or the torch loops they stand in for
(`trainer: torch`, the code before the speed work). Results: benchmarks/RESULTS-predictor-speed.md.

    NASREPRO_MIRROR=../shared/benchmarks nasrepro prepare nb201-cifar10
    python benchmarks/predictor_speed.py runs --trainer auto --queries 1000 --out results/speed/auto.csv
    python benchmarks/predictor_speed.py runs --trainer torch --queries 300 --methods npenas_bo --out ...
    python benchmarks/predictor_speed.py agreement   # compiled vs torch loops, beside torch vs itself

`agreement`: fits on 100 random NAS-Bench-201 cells at the authors' epochs, three ways per seed: the torch
loop, the torch loop with its initial weights scaled by 1 + 1e-6 (how far float rounding alone moves it),
and the compiled loop; the largest relative difference of each loss curve from the torch loop's (GIN;
BANANAS' torch loop keeps none) and the Kendall tau of each one's predictions on 2,000 held-out cells
with the torch loop's and with the true labels; the CPU seconds of each fit (the first compiled fit of a
process includes loading Numba's cache, about 0.5 s).

`runs`: one search per method (config.yaml's entry, seed 0), in-process on one thread; CPU seconds are
`time.process_time` of the search alone. Also recorded: the training steps the run took (from its fits'
training-set sizes), so a run cut short can be scaled by seconds per step. SemiNAS and NAO have no
compiled loop (their LSTM steps on batches of 100 are arithmetic-bound, not overhead-bound: see the results).
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

import numpy as np

from nasrepro import config as cfg, threads
from nasrepro.benchmark import Benchmark
from nasrepro.pipeline import load_features
from nasrepro.predictors import predictor_class, predictor_spec
from nasrepro.runner import Budget, run_search
from nasrepro.searchers import searcher_class

REPO = Path(__file__).resolve().parents[1]
BENCH = "nb201-cifar10"
METHODS = ["npenas_np", "npenas_bo", "bananas_naslib", "nao", "seminas"]


def with_trainer(method: dict, trainer: str) -> dict:
    if method["type"] in ("npenas_bo", "npenas_np"):
        return cfg.merge(method, {"predictor": {"trainer": trainer}})
    if method["type"] == "bananas":
        return cfg.merge(method, {"trainer": trainer})
    return method  # SemiNAS, NAO: one loop


def training_steps(method: dict, n_train: list[int]) -> int:
    """Optimizer steps over the run's fits (n_train: the training-set size of each fit), from the method's
    resolved options (BANANAS: one step per member and batch)."""
    options = searcher_class(method["type"]).resolve({k: v for k, v in method.items() if k != "type"}, "nb201")
    if method["type"] == "bananas":
        per_fit = lambda n: options["num_ensemble"] * options["epochs"] * math.ceil(n / options["batch_size"])
    elif method["type"] in ("npenas_bo", "npenas_np"):
        spec = predictor_spec(options["predictor"])
        gin = predictor_class(spec).resolve({k: v for k, v in spec.items() if k != "type"}, "nb201")
        per_fit = lambda n: gin["epochs"] * math.ceil(n / gin["batch_size"])
    else:  # SemiNAS, NAO: the labelled epochs, then labelled x up_sample_ratio + pseudo-labelled
        per_fit = lambda n: (options["epochs"] * math.ceil(n / options["batch_size"]) + options["pseudo_epochs"]
                             * math.ceil((options["up_sample_ratio"] * n + options["unlabelled"]) / options["batch_size"]))
    return sum(per_fit(n) for n in n_train)


def runs(args) -> None:
    config = cfg.load(REPO / "config.yaml")
    benchmark = Benchmark.load(REPO / f"resources/tables/{BENCH}.parquet")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    new_file = not out.exists()
    with out.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new_file:
            writer.writerow(["method", "trainer", "queries", "seed", "cpu_seconds", "wall_seconds", "fits",
                             "training_steps", "best_fit_label", "optimum_at"])
        for name in args.methods:
            method = with_trainer(cfg.searcher_spec(config, name, BENCH), args.trainer)
            encoding = cfg.method_encoding(config, name, BENCH)
            features = (load_features(REPO / f"resources/encodings/{BENCH}-{encoding}.npy")
                        if cfg.uses_features(config, name, BENCH) else None)
            started, wall = time.process_time(), time.perf_counter()
            result = run_search(benchmark, features, method, args.seed, Budget(args.queries), progress=False)
            seconds, wall = time.process_time() - started, time.perf_counter() - wall
            notes = result.iterations
            fitted = notes.get("train_mae", notes.get("round"))  # set where a fit ran
            n_train = [] if fitted is None else notes.loc[fitted.notna(), "n_train"].astype(int).tolist()
            labels = benchmark.fit_labels[result.trajectory["arch_id"].to_numpy()]
            optimum = np.flatnonzero(result.trajectory["arch_id"].to_numpy() == int(np.argmax(benchmark.fit_labels)))
            writer.writerow([name, args.trainer, args.queries, args.seed,
                             round(seconds, 1), round(wall, 1), len(n_train), training_steps(method, n_train),
                             round(float(labels.max()), 3), int(optimum[0]) + 1 if len(optimum) else ""])
            handle.flush()
            print(f"{name} ({args.trainer}): {seconds:.1f} CPU s, {len(n_train)} fits", flush=True)


def agreement(args) -> None:
    import torch
    from scipy.stats import kendalltau

    from nasrepro.predictors import make_predictor
    from nasrepro.predictors.gin import GINRegressor
    from nasrepro.runner import search_space
    from nasrepro.searchers import bananas

    benchmark = Benchmark.load(REPO / f"resources/tables/{BENCH}.parquet")
    graphs = search_space(benchmark, None).graphs
    paths = torch.as_tensor(load_features(REPO / f"resources/encodings/{BENCH}-path155.npy"))
    labels = np.asarray(benchmark.fit_labels)
    initial = GINRegressor._init_parameters

    def scaled(self, *a, **k):
        params = initial(self, *a, **k)
        with torch.no_grad():
            for value in params.values():
                value.mul_(1 + 1e-6)
        return params

    class Nets:  # what Bananas._init reads
        num_layers, layer_width = 20, 20

    def bananas_fit(ways: str, ids, held_out, seed):
        members = [seed, seed + 1, seed + 2]
        weights, biases = bananas.Bananas._init(Nets(), paths.shape[1], members)
        if ways == "torch, weights x (1 + 1e-6)":
            with torch.no_grad():
                for w in weights:
                    w.mul_(1 + 1e-6)
        train = bananas.train_compiled if ways == "compiled" else bananas.train
        train(weights, biases, paths[ids], torch.as_tensor(labels[ids], dtype=torch.float32), members, epochs=500,
              batch_size=32, learning_rate=1e-3, loss="mae", l1_output=0.2)
        with torch.no_grad():
            return None, bananas.forward(weights, biases, paths[held_out].expand(3, -1, -1)).numpy().mean(0)

    def gin_fit(spec):
        def fit(ways, ids, held_out, seed):
            GINRegressor._init_parameters = scaled if ways == "torch, weights x (1 + 1e-6)" else initial
            model = make_predictor({**spec, "trainer": "auto" if ways == "compiled" else "torch"}, random_state=seed)
            model.fit(graphs[ids], labels[ids])
            GINRegressor._init_parameters = initial
            return np.asarray(model.loss_curve_), model.predict(graphs[held_out])
        return fit

    models = {"GIN, NPENAS-NP (300 epochs)": gin_fit({"type": "gin"}),
              "GIN, NPENAS-BO (1000 epochs)": gin_fit({"type": "gin", "head": "gaussian", "activation": "celu",
                                                      "epochs": 1000}),
              "BANANAS nets, NASLib (3 x 20 x 20, 500 epochs)": bananas_fit}
    print("| model | seed | loop | loss curve: largest rel. diff from torch | tau with torch | tau with labels | "
          "fit CPU s |")
    print("|---|---|---|---|---|---|---|")
    for name, fit in models.items():
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)
            ids = rng.choice(len(labels), 100, replace=False)
            held_out = rng.choice(np.setdiff1d(np.arange(len(labels)), ids), 2000, replace=False)
            results, seconds = {}, {}
            for ways in ("torch", "torch, weights x (1 + 1e-6)", "compiled"):
                started = time.process_time()
                results[ways] = fit(ways, ids, held_out, seed)
                seconds[ways] = time.process_time() - started
            reference_curve, reference = results["torch"]
            for ways, (curve, predicted) in results.items():
                gap = "" if curve is None else f"{np.max(np.abs(curve - reference_curve) / reference_curve):.3f}"
                print(f"| {name} | {seed} | {ways} | {gap} | {kendalltau(predicted, reference)[0]:.3f} | "
                      f"{kendalltau(predicted, labels[held_out])[0]:.3f} | {seconds[ways]:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("runs", help="per-run CPU seconds")
    run.add_argument("--methods", nargs="*", default=METHODS)
    run.add_argument("--trainer", choices=["auto", "torch"], default="auto")
    run.add_argument("--queries", type=int, default=1000)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--out", default=str(REPO / "results/speed/runs.csv"))
    agree = commands.add_parser("agreement", help="compiled vs torch loops, beside torch vs itself")
    agree.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    threads.limit(1)
    (runs if args.command == "runs" else agreement)(args)


if __name__ == "__main__":
    main()
