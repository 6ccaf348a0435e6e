"""Per-run CPU seconds of the graph-predictor methods and SemiNAS / NAO at their authors' settings on
NAS-Bench-201 CIFAR-10, with the compiled training loops (`trainer: auto`, the default) or the torch loops they stand in for
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

`seminas-step`: where a SemiNAS / NAO training step's time goes, side by side in one process on one thread:
the step as `SemiNAS._train` runs it (and NAO's, the same code), torch loop and compiled, on batches of 100 NAS-Bench-201 (6 tokens)
and NAS-Bench-101 (27 tokens: random tokens where SemiNAS's sequences put connection and op tokens; a step's
cost does not depend on the token values), its three LSTM layers alone (torch's oneDNN kernels, and the
Numba kernels of `searchers/seminas_compiled.py`), the step's multiply-adds counted from the model's shapes,
and this core's one-thread fp32 GEMM rate, which bounds any implementation of the same fp32 maths.

    python benchmarks/predictor_speed.py seminas-step --repeats 3

`runs`: one search per method (config.yaml's entry, seed 0), in-process on one thread; CPU seconds are
`time.process_time` of the search alone. Also recorded: the training steps the run took (from its fits'
training-set sizes), so a run cut short can be scaled by seconds per step.
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
    return cfg.merge(method, {"trainer": trainer})  # BANANAS, SemiNAS, NAO


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


def _step_macs(length: int, vocabulary: int, hidden: int = 64, mlp_hidden: int = 16) -> int:
    """Multiply-adds of one SemiNAS training step per sequence (forward + backward = 3 x forward for every
    matrix product: the input gradient and the weight gradient each cost one forward's)."""
    lstm = 4 * hidden * (hidden + hidden)  # one direction, one position: x W_ih^T + h W_hh^T
    per_position = (3 * lstm  # the encoder's two directions, the decoder
                    + 2 * hidden * hidden  # the encoder's 128 -> 64 projection
                    + hidden * hidden + 2 * hidden * hidden  # attention: input projection, output projection
                    + 2 * length * hidden  # attention: scores, context
                    + hidden * vocabulary)  # the output layer
    predictor = hidden * mlp_hidden * 2 + hidden
    return 3 * (length * per_position + predictor)


def seminas_step(args) -> None:
    """Per-step CPU ms of SemiNAS / NAO and of their LSTM layers; see the module's docstring."""
    import scipy.linalg.cython_blas  # noqa: F401  (Numba's BLAS: load it, then limit its threads too)
    import threadpoolctl
    import torch

    from nasrepro.searchers import seminas_compiled
    from nasrepro.searchers.seminas import EPD

    threadpoolctl.threadpool_limits(1)
    torch.set_num_threads(1)
    spaces = {"NAS-Bench-201 (6 tokens, vocabulary 6)": (6, 6, "nb201"),
              "NAS-Bench-101 (27 tokens, vocabulary 7)": (27, 7, "nb101")}

    def cpu_ms(fn, count: int) -> float:
        fn()  # warm-up (and Numba's cache)
        started = time.process_time()
        fn()
        return (time.process_time() - started) / count * 1e3

    a = torch.randn(1000, 1000)
    started = time.process_time()
    for _ in range(10):
        a @ a
    gemm_rate = 10 * 2e9 / (time.process_time() - started)
    print(f"one-thread fp32 GEMM (1000^3, torch): {gemm_rate / 1e9:.0f} GFLOP/s")
    print("| space | what | CPU ms per step (median of repeats) | GFLOP/s |")
    print("|---|---|---|---|")
    for name, (length, vocabulary, space) in spaces.items():
        rng = np.random.default_rng(0)
        if space == "nb101":  # connection tokens 1-2, op tokens 3-6 where SemiNAS's sequence has them
            from nasrepro.spaces.nb101 import cells
            ops = np.zeros(length, dtype=bool)
            ops[cells.SEQUENCE_OP_POSITIONS] = True
            sequences = np.where(ops, rng.integers(3, 7, (1000, length)), rng.integers(1, 3, (1000, length)))
        else:
            sequences = rng.integers(1, vocabulary, (1000, length))
        sequences = torch.as_tensor(sequences)
        targets = torch.as_tensor(rng.normal(size=1000), dtype=torch.float32)
        flops = 2 * 100 * _step_macs(length, vocabulary)
        times: dict[str, list[float]] = {}
        for _ in range(args.repeats):
            for method in ("seminas", "nao"):
                for trainer in ("torch", "auto"):
                    searcher = object.__new__(searcher_class(method))  # `_train` reads only the options
                    searcher.__dict__.update(searcher_class(method).resolve({"trainer": trainer}, space))
                    torch.manual_seed(0)
                    model = EPD(vocabulary, searcher.hidden_size, searcher.mlp_hidden_size, searcher.dropout)
                    label = f"{method} step, {'torch loop' if trainer == 'torch' else 'compiled'}"
                    times.setdefault(label, []).append(cpu_ms(
                        lambda: searcher._train(model, sequences, targets, args.epochs), args.epochs * 10))
            model.train()
            x = torch.randn(100, length, 64, requires_grad=True)
            state = tuple(torch.randn(1, 100, 64, requires_grad=True) for _ in range(2))
            weights = torch.randn(100, length, 192)

            def lstms(run):
                def fn():
                    for _ in range(10):
                        outputs = torch.cat([run(model.encoder_rnn, x, None), run(model.decoder_rnn, x, state)], -1)
                        (outputs * weights).sum().backward()
                return fn

            times["the 3 LSTM layers, torch (oneDNN)"] = times.get("the 3 LSTM layers, torch (oneDNN)", []) + [
                cpu_ms(lstms(lambda rnn, x, state: rnn(x, state)[0]), 10)]
            times["the 3 LSTM layers, Numba kernels"] = times.get("the 3 LSTM layers, Numba kernels", []) + [
                cpu_ms(lstms(seminas_compiled.lstm), 10)]
        lstm_flops = 2 * 100 * 3 * 3 * length * 4 * 64 * 128
        for what, values in times.items():
            ms = float(np.median(values))
            rate = (lstm_flops if "LSTM" in what else flops) / (ms / 1e3) / 1e9
            print(f"| {name} | {what} | {ms:.2f} | {rate:.0f} |", flush=True)
        print(f"| {name} | arithmetic floor: {flops / 1e9:.2f} GFLOP a step at the GEMM rate | "
              f"{flops / gemm_rate * 1e3:.2f} | {gemm_rate / 1e9:.0f} |", flush=True)


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
    step = commands.add_parser("seminas-step", help="where a SemiNAS / NAO training step's time goes")
    step.add_argument("--repeats", type=int, default=3)
    step.add_argument("--epochs", type=int, default=3, help="epochs of 10 steps per measurement")
    args = parser.parse_args()
    threads.limit(1)
    {"runs": runs, "agreement": agreement, "seminas-step": seminas_step}[args.command](args)


if __name__ == "__main__":
    main()
