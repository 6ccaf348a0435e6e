"""BANANAS: Bayesian optimization with neural architectures for NAS (White, Neiswanger and Savani,
AAAI 2021), after naszilla's `bananas` (naszilla/nas_algorithms.py) with its meta neural network
(naszilla/meta_neural_net.py), candidate generation (`get_candidates`, naszilla/nas_benchmarks.py) and
acquisition functions (naszilla/acquisition_functions.py).

One run: `num_init` uniform random architectures, then iterations of `k` queries. Each iteration
trains an ensemble of `num_ensemble` feed-forward nets on the path encoding of everything queried
(this method reads `space.features`: config.yaml's `bananas` sets naszilla's default on NAS-Bench-201, the
truncated path encoding `truncpath30` (`predictor_encoding='trunc_path'`, `cutoff=0`: the 30 paths of length
1 and 2; naszilla/bananas' cutoff 40 is `truncpath40`), and `path364` on NAS-Bench-101; `bananas_path155`
keeps the full 155-path encoding with AutoDL's mutation, the set this class ran before; the benchmark's
default encoding is used
otherwise). Candidates: the best `num_best` queried architectures are each mutated
`num_candidates / num_best` times by the space's mutation (`mutation`; NAS-Bench-201: naszilla's
`naszilla`, each of the six ops changed with probability 1/4, `cell_201.py` `mutate` with mutate_encoding
'adj'; NAS-Bench-101: the space's first, the colab's), children already queried or already candidates dropped; while fewer than
`num_candidates` are found the next best queried architectures are mutated too, up to
`patience_factor × num_best` parents (naszilla's `patience_factor` 5). The acquisition ranks the
candidates: `its` (independent Thompson sampling: one draw from N(mean, SD) of the ensemble per
candidate), `ucb` (mean + 0.5 SD) or `ei` (expected improvement over the best queried label, the SD
divided by 5), all on the accuracy scale with the ensemble's population SD as naszilla computes it.
The `k` best candidates are queried; where fewer than `k` candidates exist the batch is filled with
uniform unqueried architectures (naszilla would query fewer and still count `k`).

The nets (naszilla's `MetaNeuralnet`, Keras): `num_layers` ReLU layers of `layer_width`, a linear
output, Glorot-uniform weights and zero biases, Adam (lr `learning_rate`, betas 0.9/0.99, eps 1e-7),
`loss` mae on `target` "error" (naszilla's val_loss, 100 − the fitting label in percent; "accuracy":
the label itself, as NASLib trains), batch `batch_size` reshuffled every epoch (the last batch
partial), `epochs` passes, an optional L1 penalty `l1_output` on the output weights (naszilla's
`regularization`, NASLib's 0.2). Each member has its own initialization, shuffling and Adam state:
`trainer: auto` trains them one after another in a loop compiled with Numba (`bananas_compiled.py`, about
10x faster on one core), `trainer: torch` side by side as one batched torch model (the same maths).

Two named option sets:
- The defaults are naszilla's (`naszilla/params.py`, `meta_neuralnet_params('standard')`, and
  `bananas`' arguments): 10 initial, k 10, 5 nets of 10 layers × 20, 150 epochs, batch 32, lr 0.01,
  MAE on the error, no regularization, 100 candidates from the best 1 (patience factor 5), its.
- NASLib's (`naslib/optimizers/discrete/bananas/optimizer.py`, `naslib/runners/nas/discrete_config.yaml`,
  `naslib/predictors/mlp.py`), `bananas_naslib` in config.yaml: num_ensemble 3, num_layers 20,
  layer_width 20, epochs 500, learning_rate 0.001, batch 32, l1_output 0.2, target accuracy, 200
  candidates from the best 5 (num_best 5, patience_factor 1: NASLib mutates each of the 5 best 40
  times; it keeps duplicates, this class drops them), its, and NASLib's mutation (`mutation: naslib`).

Seeds: iteration i draws from `numpy.random.default_rng([seed, i])`; the nets from torch generators
seeded by (seed, iteration, member). The nets train on the CPU (they are tiny; NASLib: "faster on CPU").
"""

from __future__ import annotations

import math
from dataclasses import replace
import time

import numpy as np
from .. import lazy

torch = lazy.module("torch")  # loaded on first use (nasrepro.lazy)

from ..errors import NasReproError
from ..plugins import option

from .base import MUTATION, SearchSpace
from .batched import BatchedSearcher
from .candidates import mutated_children
from .weaknas import derived_seed, expected_improvement, top_by_acquisition

ACQUISITIONS = ("its", "ucb", "ei")
UCB_EXPLORE_FACTOR = 0.5  # naszilla's acq_fn
EI_CALIBRATION = 5.0  # naszilla's acq_fn
KERAS_ADAM = {"betas": (0.9, 0.99), "eps": 1e-7}  # naszilla's Adam(lr, beta_1=.9, beta_2=.99), Keras' epsilon


class Bananas(BatchedSearcher):
    needs = frozenset({"mutation"})
    prefix_stable = True
    options = {
        "num_init": option(10, "Uniform random architectures before the first ensemble.", type="integer", minimum=1),
        "k": option(10, "Architectures queried per iteration (the best k candidates by acquisition).",
                    type="integer", minimum=1),
        "num_ensemble": option(5, "Feed-forward nets in the ensemble.", type="integer", minimum=1),
        "num_layers": option(10, "Hidden layers per net.", type="integer", minimum=1),
        "layer_width": option(20, "Units per hidden layer.", type="integer", minimum=1),
        "epochs": option(150, "Training epochs per net.", type="integer", minimum=1),
        "batch_size": option(32, "Mini-batch size.", type="integer", minimum=1),
        "learning_rate": option(0.01, "Adam learning rate.", type="number", exclusiveMinimum=0),
        "loss": option("mae", "Training loss: mae (naszilla, NASLib) or mse.", enum=["mae", "mse"]),
        "l1_output": option(0.0, "L1 penalty on the output layer's weights (naszilla 0, NASLib 0.2).",
                            type="number", minimum=0),
        "target": option("error", "What the nets fit: error (100 - label, naszilla's val_loss) or accuracy "
                         "(the label, NASLib).", enum=["error", "accuracy"]),
        "num_candidates": option(100, "Candidates generated by mutation per iteration.", type="integer", minimum=1),
        "num_best": option(1, "Best queried architectures mutated (naszilla num_arches_to_mutate, NASLib 5).",
                           type="integer", minimum=1),
        "patience_factor": option(5, "Up to patience_factor x num_best parents are mutated while fewer than "
                                  "num_candidates distinct new children are found (naszilla 5).",
                                  type="integer", minimum=1),
        "mutation": replace(MUTATION, by_space={"nb201": "naszilla"}),
        "acquisition": option("its", "its (independent Thompson sampling), ucb or ei.", enum=list(ACQUISITIONS)),
        "trainer": option("auto", "auto: each net's training loop compiled with Numba (same maths, same "
                          "shuffles); torch: the batched torch loop (the reference).", enum=["auto", "torch"]),
    }

    @classmethod
    def input_needed(cls, options: dict) -> str:
        return "features"

    def __init__(self, space: SearchSpace, seed: int, **options):
        super().__init__(space, seed, **options)
        if space.features.ndim != 2 or space.features.shape[1] == 0:
            raise NasReproError("bananas reads the path encoding: give it features (encoding: path155 on nb201, "
                                "path364 on nb101)")

    # ------------------------------------------------------------------------------------ ask
    def choose(self, rng: np.random.Generator, count: int) -> np.ndarray:
        started = time.perf_counter()
        candidates = self.candidates(rng)
        chosen = np.empty(0, dtype=np.int64)
        if len(candidates):
            predictions, train_mae = self.fit_predict(candidates)
            chosen = candidates[self.select(predictions, rng, min(count, len(candidates)))]
        filled = count - len(chosen)
        if filled:
            free = np.flatnonzero(~self.queried)
            free = free[~np.isin(free, chosen)]
            chosen = np.concatenate([chosen, rng.choice(free, size=filled, replace=False)])
        self._note(n_train=len(self.ids), n_candidates=len(candidates), filled_uniform=filled,
                   train_mae=train_mae if len(candidates) else None, seconds=time.perf_counter() - started)
        return chosen

    def candidates(self, rng: np.random.Generator) -> np.ndarray:
        """Distinct unqueried children of the best queried architectures, in the order generated."""
        return mutated_children(self.space.operators, self.ids, self.labels, rng, self.mutation_name,
                                self.num_best * self.patience_factor, max(self.num_candidates // self.num_best, 1),
                                self.num_candidates)

    def select(self, predictions: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
        """Positions of the `count` best candidates by the acquisition (predictions: members x candidates,
        on the accuracy scale)."""
        mean = predictions.mean(axis=0)
        std = predictions.std(axis=0)  # population SD, as naszilla's sqrt(var)
        if self.acquisition == "its":
            value = rng.normal(mean, std)
        elif self.acquisition == "ucb":
            value = mean + UCB_EXPLORE_FACTOR * std
        else:
            value = expected_improvement(predictions, -max(self.labels), EI_CALIBRATION)
        return top_by_acquisition(np.arange(len(mean)), value, mean, count)

    # --------------------------------------------------------------------------- the ensemble
    def fit_predict(self, candidates: np.ndarray) -> tuple[np.ndarray, float]:
        """Train the ensemble on every queried architecture; (predicted accuracy, members x candidates;
        the ensemble's mean absolute training error on the label scale)."""
        features = torch.as_tensor(np.asarray(self.space.features, dtype=np.float32))
        labels = np.asarray(self.labels, dtype=np.float64)
        target = 100.0 - labels if self.target == "error" else labels
        X = features[np.asarray(self.ids)]
        y = torch.as_tensor(target, dtype=torch.float32)
        members = [derived_seed(self.seed, self.iteration, member) for member in range(self.num_ensemble)]
        weights, biases = self._init(X.shape[1], members)
        fit = train_compiled if self.trainer == "auto" else train
        fit(weights, biases, X, y, members, epochs=self.epochs, batch_size=self.batch_size,
            learning_rate=self.learning_rate, loss=self.loss, l1_output=self.l1_output)
        with torch.no_grad():
            fitted = forward(weights, biases, X.expand(len(members), *X.shape)).numpy().astype(np.float64)
            predicted = forward(weights, biases, features[candidates].expand(len(members), len(candidates), -1))
            predicted = predicted.numpy().astype(np.float64)
        if self.target == "error":
            fitted, predicted = 100.0 - fitted, 100.0 - predicted
        return predicted, float(np.abs(fitted.mean(axis=0) - labels).mean())

    def _init(self, n_features: int, members: list[int]):
        """Glorot-uniform weights and zero biases (Keras' Dense), one generator per member."""
        sizes = [n_features, *[self.layer_width] * self.num_layers, 1]
        generators = [torch.Generator().manual_seed(seed) for seed in members]
        weights, biases = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            w = torch.stack([(torch.rand(fan_in, fan_out, generator=g, dtype=torch.float64) * 2 - 1) * bound
                             for g in generators])
            weights.append(w.float().requires_grad_())
            biases.append(torch.zeros(len(members), 1, fan_out, requires_grad=True))
        return weights, biases

    # ------------------------------------------------------------------------------------ tell



def forward(weights, biases, x: torch.Tensor) -> torch.Tensor:
    """Every member's prediction: x (members, rows, features) -> (members, rows)."""
    for w, b in zip(weights[:-1], biases[:-1]):
        x = torch.baddbmm(b, x, w).relu()
    return torch.baddbmm(biases[-1], x, weights[-1]).squeeze(-1)


def train(weights, biases, X: torch.Tensor, y: torch.Tensor, members: list[int], epochs: int, batch_size: int,
          learning_rate: float, loss: str, l1_output: float) -> None:
    """Train the members side by side: each reshuffles the rows every epoch with its own generator; the
    summed loss gives each member its own gradient, and Adam is element-wise, so this is E separate fits."""
    optimizer = torch.optim.Adam([*weights, *biases], lr=learning_rate, **KERAS_ADAM)
    generators = [torch.Generator().manual_seed(seed + 1) for seed in members]
    n = len(y)
    for _ in range(epochs):
        orders = torch.stack([torch.randperm(n, generator=g) for g in generators])
        for start in range(0, n, batch_size):
            rows = orders[:, start : start + batch_size]  # (members, batch)
            error = forward(weights, biases, X[rows]) - y[rows]
            per_member = error.abs().mean(dim=1) if loss == "mae" else (error * error).mean(dim=1)
            total = per_member.sum()
            if l1_output:
                total = total + l1_output * weights[-1].abs().sum()
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()


def train_compiled(weights, biases, X: torch.Tensor, y: torch.Tensor, members: list[int], epochs: int,
                   batch_size: int, learning_rate: float, loss: str, l1_output: float) -> None:
    """`train`'s maths member by member in the compiled loop (`bananas_compiled.train_member`), each on the
    shuffles its own generator draws; the trained values are written back into `weights` and `biases`."""
    from ..compiled import denormals_flushed
    from . import bananas_compiled

    sizes = [size for w in weights for size in (w[0].numel(), w.shape[2])]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = len(y)
    with torch.no_grad(), denormals_flushed():
        for member, seed in enumerate(members):
            generator = torch.Generator().manual_seed(seed + 1)
            orders = torch.stack([torch.randperm(n, generator=generator) for _ in range(epochs)]).numpy()
            flat = torch.cat([t[member].reshape(-1) for pair in zip(weights, biases) for t in pair]).numpy().copy()
            bananas_compiled.train_member(X.numpy(), y.numpy(), flat, starts, orders, batch_size, learning_rate,
                                          *KERAS_ADAM["betas"], KERAS_ADAM["eps"], loss == "mae", l1_output)
            trained = iter(torch.from_numpy(flat).split(sizes))
            for w, b in zip(weights, biases):
                w[member].copy_(next(trained).reshape(w[member].shape))
                b[member].copy_(next(trained).reshape(b[member].shape))
