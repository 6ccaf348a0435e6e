"""Benchmark (not a test): the MLP's CPU fast path and bf16 option against the old fit loop.

    python benchmarks/mlp_fastpath.py [--repeats 3] [--train 100 300] [--threads 1] [--agreement-seeds 3 2]

NAS-Bench-201-sized input: 15,625 architectures x 30 one-hot features (6 edges x 5 ops), the paper's
4x1000 MLP (max 100 epochs). Labels are the real validation accuracies when the NAS-Landscapes file
../shared/benchmarks/nb201/cifar10_avg.csv is there (z-scored), else a fixed random linear function.

Part 1, speed, paired: for each training size and repeat, the same rows are fitted by the old loop
(autograd L2 penalty, per-tensor Adam, out-of-place ReLU; copied below), the new fp32 fast path and
the new bf16 path, in an order that alternates between repeats; each fit then ranks all 15,625 rows.
CPU seconds are time.process_time (all threads of this process); ratios are old / new within a repeat.

Part 2, agreement: fp32 and bf16 fitted on the same 100 and 1000 rows with the same seed; Spearman rho
and top-100 overlap of their predictions over all 15,625 rows. As a yardstick, the same between two fp32
fits that differ only in the seed (what a different random_state alone changes).
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from nasrepro.predictors.mlp import MLPRegressor, bf16_supported

NB201_CSV = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "nb201" / "cifar10_avg.csv"
OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


class OldMLP(MLPRegressor):
    """The MLPRegressor fit loop and ranking before the fast path, verbatim."""

    @staticmethod
    def _forward(x, weights, biases):
        for w, b in zip(weights[:-1], biases[:-1]):
            x = torch.relu(torch.addmm(b, x, w))
        return torch.addmm(biases[-1], x, weights[-1]).squeeze(1)

    def fit(self, X, y):
        device = torch.device("cpu")
        generator = torch.Generator().manual_seed(int(self.random_state))
        X = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)
        y = torch.as_tensor(np.asarray(y, dtype=np.float32).reshape(-1), device=device)
        n = len(y)
        weights, biases = self._init_layers(X.shape[1], generator, device)
        optimizer = torch.optim.Adam(weights + biases, lr=self.learning_rate, betas=(0.9, 0.999), eps=1e-8)
        batch = min(self.batch_size, n)
        best_loss, stale = math.inf, 0
        self.loss_curve_ = []
        for _ in range(self.max_epochs):
            order = torch.randperm(n, generator=generator).to(device)
            epoch_loss = torch.zeros((), device=device)
            for start in range(0, n, batch):
                rows = order[start : start + batch]
                residual = self._forward(X[rows], weights, biases) - y[rows]
                penalty = sum((w * w).sum() for w in weights)
                loss = 0.5 * (residual * residual).mean() + 0.5 * self.alpha * penalty / len(rows)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                epoch_loss += loss.detach() * len(rows)
            epoch_loss = float(epoch_loss) / n
            self.loss_curve_.append(epoch_loss)
            stale = stale + 1 if epoch_loss > best_loss - self.tol else 0
            best_loss = min(best_loss, epoch_loss)
            if stale > self.n_iter_no_change:
                break
        self.n_epochs_ = len(self.loss_curve_)
        self.weights_ = [w.detach() for w in weights]
        self.biases_ = [b.detach() for b in biases]
        return self

    @torch.no_grad()
    def predict(self, X):
        X = np.asarray(X, dtype=np.float32)
        out = np.empty(len(X), dtype=np.float32)
        for start in range(0, len(X), self.predict_batch_size):
            chunk = torch.as_tensor(X[start : start + self.predict_batch_size])
            out[start : start + len(chunk)] = self._forward(chunk, self.weights_, self.biases_).numpy()
        return out


def nb201_problem() -> tuple[np.ndarray, np.ndarray, str]:
    if NB201_CSV.exists():
        import pandas as pd

        table = pd.read_csv(NB201_CSV, usecols=["arch_str", "valid-accuracy"])
        features = np.zeros((len(table), 30), np.float32)
        for row, arch in enumerate(table["arch_str"]):
            ops = [token.split("~")[0] for token in arch.replace("+", "").split("|") if token]
            for edge, op in enumerate(ops):
                features[row, edge * 5 + OPS.index(op)] = 1
        labels = table["valid-accuracy"].to_numpy(np.float64)
        return features, ((labels - labels.mean()) / labels.std()).astype(np.float32), f"{NB201_CSV.name} (valid-accuracy)"
    rng = np.random.default_rng(0)
    features = np.zeros((15_625, 30), np.float32)
    features[np.arange(15_625)[:, None], np.arange(6) * 5 + rng.integers(0, 5, (15_625, 6))] = 1
    return features, (features @ rng.normal(0, 1, 30)).astype(np.float32), "random one-hot, random linear labels"


def timed_fit_rank(cls, precision: str, X, y, features, seed: int) -> dict:
    model = cls(device="cpu", precision=precision, random_state=seed)
    cpu, wall = time.process_time(), time.perf_counter()
    model.fit(X, y)
    fit_cpu, fit_wall = time.process_time() - cpu, time.perf_counter() - wall
    cpu, wall = time.process_time(), time.perf_counter()
    prediction = model.predict(features)
    rank_cpu, rank_wall = time.process_time() - cpu, time.perf_counter() - wall
    return dict(fit=fit_cpu, fit_wall=fit_wall, rank=rank_cpu, rank_wall=rank_wall, epochs=model.n_epochs_,
                loss=model.loss_curve_, prediction=prediction)


def design_choices(features: np.ndarray, repeats: int = 3) -> None:
    """The alternatives the fast path chose between, timed on the 4x1000 net: Adam's implementation
    (with the L2 term as weight_decay) per training step of 100 rows, and the ranking forward route."""
    sizes = [features.shape[1], 1000, 1000, 1000, 1000, 1]
    generator = torch.Generator().manual_seed(0)
    weights = [torch.rand(a, b, generator=generator).sub_(0.5).mul_(2 * math.sqrt(6 / (a + b))) for a, b in
               zip(sizes[:-1], sizes[1:])]
    biases = [torch.rand(b, generator=generator).sub_(0.5).mul_(0.1) for b in sizes[1:]]
    X, y = torch.as_tensor(features[:100]), torch.linspace(-1, 1, 100)

    def per_step(kind: str, steps: int = 20) -> float:
        params = [w.clone().requires_grad_() for w in weights], [b.clone().requires_grad_() for b in biases]
        if kind == "old":
            optimizer = torch.optim.Adam(params[0] + params[1], lr=1e-3)
        else:
            optimizer = torch.optim.Adam([{"params": params[0], "weight_decay": 1e-6}, {"params": params[1]}],
                                         lr=1e-3, **{kind: True} if kind != "default" else {})
        started = None
        for step in range(steps + 2):
            if step == 2:
                started = time.process_time()
            if kind == "old":
                residual = OldMLP._forward(X, *params) - y
                loss = 0.5 * (residual * residual).mean() + 0.5e-6 * sum((w * w).sum() for w in params[0])
            else:
                residual = MLPRegressor._forward(X, *params) - y
                loss = 0.5 * (residual * residual).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return (time.process_time() - started) / steps

    print("\n## design choices (CPU ms; median of repeats)")
    for kind in ["old", "default", "foreach", "fused"]:
        label = "old loop (autograd L2, default Adam)" if kind == "old" else f"L2 as weight_decay, Adam {kind}"
        print(f"training step, 100 rows: {label}: {1000 * np.median([per_step(kind) for _ in range(repeats)]):.1f} ms")

    rows = torch.as_tensor(features)
    transposed = [w.t().contiguous() for w in weights]
    buffers = [torch.empty(len(rows), 1000) for _ in range(2)]

    def out_buffers(x, ws, bs):
        for layer, (w, b) in enumerate(zip(ws[:-1], bs[:-1])):
            x = torch.addmm(b, x, w, out=buffers[layer % 2]).relu_()
        return torch.addmm(bs[-1], x, ws[-1])

    def mkldnn_fused(x, ws, bs):
        for w, b in zip(transposed[:-1], bs[:-1]):
            x = torch.ops.mkldnn._linear_pointwise(x, w, b, "relu", [], "")
        return torch.nn.functional.linear(x, transposed[-1], bs[-1])

    def linear_relu_(x, ws, bs):
        for w, b in zip(transposed[:-1], bs[:-1]):
            x = torch.nn.functional.linear(x, w, b).relu_()
        return torch.nn.functional.linear(x, transposed[-1], bs[-1])

    routes = {"addmm + relu (old)": OldMLP._forward, "addmm + relu_ in place": MLPRegressor._forward,
              "F.linear + relu_": linear_relu_, "addmm(out=reused buffers) + relu_ (chosen)": out_buffers,
              "oneDNN _linear_pointwise(relu)": mkldnn_fused}
    with torch.no_grad():
        for name, route in routes.items():
            try:
                route(rows, weights, biases)
                seconds = []
                for _ in range(repeats):
                    started = time.process_time()
                    route(rows, weights, biases)
                    seconds.append(time.process_time() - started)
                print(f"ranking {len(rows)} rows, {name}: {1000 * np.median(seconds):.0f} ms")
            except RuntimeError as error:
                print(f"ranking, {name}: unavailable ({str(error).splitlines()[0]})")


def warm_up(features: np.ndarray, labels: np.ndarray, variants) -> None:
    """One short fit and ranking per variant first, so no timed run pays for oneDNN's first call."""
    for _, cls, precision in variants:
        model = cls(device="cpu", precision=precision, max_epochs=2).fit(features[:100], labels[:100])
        model.predict(features[:2000])


def top_overlap(a: np.ndarray, b: np.ndarray, k: int = 100) -> int:
    return len(set(np.argsort(-a)[:k]) & set(np.argsort(-b)[:k]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="paired repeats per training size")
    parser.add_argument("--train", type=int, nargs="+", default=[100, 300], help="training sizes to time")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--agreement-train", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--agreement-seeds", type=int, nargs="+", default=[3, 2],
                        help="seeds per agreement training size (same order as --agreement-train)")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    has_bf16 = bf16_supported(torch.device("cpu"))
    features, labels, source = nb201_problem()
    print(f"CPU: {cpu}; torch {torch.__version__}, {args.threads} thread(s), oneDNN bf16: {has_bf16}")
    print(f"input: {features.shape[0]} x {features.shape[1]}, labels: {source}; MLP 4x1000, max 100 epochs")
    variants = [("old fp32", OldMLP, "fp32"), ("new fp32", MLPRegressor, "fp32")]
    if has_bf16:
        variants.append(("new bf16", MLPRegressor, "bf16"))

    if not args.skip_speed:
        design_choices(features)
        warm_up(features, labels, variants)
        print("\n## speed (CPU seconds, process_time; paired ratios old/new per repeat)")
        for n in args.train:
            runs = {name: [] for name, _, _ in variants}
            for repeat in range(args.repeats):
                rows = np.random.default_rng(1000 + repeat).choice(len(features), n, replace=False)
                order = variants if repeat % 2 == 0 else variants[::-1]
                for name, cls, precision in order:
                    runs[name].append(timed_fit_rank(cls, precision, features[rows], labels[rows], features, repeat))
                old, new = runs["old fp32"][-1], runs["new fp32"][-1]
                same = old["epochs"] == new["epochs"] and np.allclose(old["loss"], new["loss"], rtol=1e-4)
                gap = float(np.abs(old["prediction"] - new["prediction"]).max())
                rho = stats.spearmanr(old["prediction"], new["prediction"])[0]
                top = top_overlap(old["prediction"], new["prediction"])
                print(f"n={n} repeat {repeat}: " + "; ".join(
                    f"{name} fit {r[-1]['fit']:.2f} s ({r[-1]['epochs']} ep, wall {r[-1]['fit_wall']:.2f}) "
                    f"rank {r[-1]['rank']:.3f} s" for name, r in runs.items())
                      + f"; old vs new fp32: same epochs and loss (rtol 1e-4) {same}, max |pred diff| {gap:.2e}, "
                      f"rho {rho:.6f}, top-100 overlap {top}")
            print(f"\n| n={n} | fit CPU s | s/epoch | rank CPU s | fit ratio old/new | s/epoch ratio | rank ratio |")
            print("|---|---|---|---|---|---|---|")
            old = runs["old fp32"]
            for name, results in runs.items():
                fit = np.array([r["fit"] for r in results])
                per_epoch = np.array([r["fit"] / r["epochs"] for r in results])
                rank = np.array([r["rank"] for r in results])
                fit_ratio = np.array([o["fit"] for o in old]) / fit
                epoch_ratio = np.array([o["fit"] / o["epochs"] for o in old]) / per_epoch
                rank_ratio = np.array([o["rank"] for o in old]) / rank
                print(f"| {name} | {fit.mean():.2f} (epochs {[r['epochs'] for r in results]}) | {per_epoch.mean():.4f} | "
                      f"{rank.mean():.3f} | {fit_ratio.mean():.2f} [{fit_ratio.min():.2f}-{fit_ratio.max():.2f}] | "
                      f"{epoch_ratio.mean():.2f} | {rank_ratio.mean():.2f} [{rank_ratio.min():.2f}-{rank_ratio.max():.2f}] |")

    if not has_bf16:
        print("\nno oneDNN bf16 on this CPU: agreement check skipped")
        return
    print("\n## fp32 vs bf16 agreement over all rows (same rows, same seed); yardstick: fp32 seed s vs fp32 seed s+100")
    print("| train rows | seed | rho fp32-bf16 | top-100 overlap fp32-bf16 | rho fp32-fp32' | top-100 fp32-fp32' | "
          "epochs fp32/bf16 | fit CPU s fp32/bf16 |")
    print("|---|---|---|---|---|---|---|---|")
    for n, seeds in zip(args.agreement_train, args.agreement_seeds):
        for seed in range(seeds):
            rows = np.random.default_rng(2000 + seed).choice(len(features), n, replace=False)
            full = timed_fit_rank(MLPRegressor, "fp32", features[rows], labels[rows], features, seed)
            half = timed_fit_rank(MLPRegressor, "bf16", features[rows], labels[rows], features, seed)
            other = timed_fit_rank(MLPRegressor, "fp32", features[rows], labels[rows], features, seed + 100)
            rho = stats.spearmanr(full["prediction"], half["prediction"])[0]
            rho_seed = stats.spearmanr(full["prediction"], other["prediction"])[0]
            print(f"| {n} | {seed} | {rho:.4f} | {top_overlap(full['prediction'], half['prediction'])} | "
                  f"{rho_seed:.4f} | {top_overlap(full['prediction'], other['prediction'])} | "
                  f"{full['epochs']}/{half['epochs']} | {full['fit']:.1f}/{half['fit']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
