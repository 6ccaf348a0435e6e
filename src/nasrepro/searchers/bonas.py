"""BONAS: Bayesian optimisation with a graph convolutional network (Shi, Pi, Xu, Li, Kwok and Zhang, NeurIPS 2020),
its BO after the authors' code pipilurj/BONAS (DARTS only: `BO_tools/optimizer_gcn.py`, `linear_regressor.py`,
`settings.py`), its GCN after NASLib's NAS-benchmark port (`naslib/predictors/bonas.py`), its loop the
predictor-based BO of naszilla's and NASLib's `bonas` (10 initial, k 10 per iteration).

One run: `num_init` (10) uniform random architectures, then iterations of `k` (10) queries. Each iteration
trains a fresh GCN on every queried architecture and takes, as the architecture's embedding, the hidden
state of a global node; a Bayesian linear regression (no intercept, precisions fitted by the evidence) on the
embeddings models the logit of the accuracy (`ifTransformSigmoid`: labels as fractions), and each candidate
is scored by the UCB of the implied Bayesian sigmoid regression, E + 0.5 SD (`get_ucb`, see
`bayes.sigmoid_ucb`); the `k` best candidates are queried (`select_multiple`; a UCB is never <= 0, so the
authors' exploration fill never applies). Candidates: `candidates: mutation` (the default: naszilla's bonas
runs in its BANANAS loop, `get_candidates`: `num_candidates` (100) distinct unqueried children of the best
`num_best` (1) queried architectures, up to `patience_factor` (5) x `num_best` parents); `random` (the
DARTS code's `sample_method`) draws `num_candidates` (its `generate_num` 100) uniform unqueried ones.

The GCN (NASLib's `GCN`, `add_global_node`): the cell's operations one-hot plus a global-node flag; the
adjacency with self-loops and an edge from every vertex to the global node, transposed (a vertex gathers from
its predecessors) and row-normalised; `layers` (4) graph convolutions of width `hidden` (64), each followed
by batch normalisation (over the batch and the vertices) and ReLU; weights U(-0.05, 0.05), biases U(±1/sqrt
(hidden)); a linear head on the global node with a sigmoid (`ifsigmoid`: the label is a fraction). Training:
`loss: weighted` (the default: the authors' `loss_num=3` of `settings.py` and `runner.py`, `weighted_exp` of
`opendomain_utils/loss_function.py`: the mean of exp(y - 1) (p - y)^2, y the accuracy as a fraction, their
`trainer.py`'s top1 / 100, p the GCN's sigmoid output) or `loss: mse` (NASLib's port, (p - y)^2); Adam lr
`learning_rate` (the authors' `gcn_lr` 1e-3; NASLib 1e-4), `epochs` (100) epochs, batches of `batch_size` (128)
reshuffled each epoch, the learning rate cosine-annealed to 0 (NASLib), gradients zeroed
before each step (NASLib's port never zeroes them; ultmaster's and the authors' code do).

Seeds: iteration i draws from `numpy.random.default_rng([seed, i])`; the GCN from a torch generator seeded by
`derived_seed(seed, i)`.
"""

from __future__ import annotations

import math
import time

import numpy as np
from .. import lazy

torch = lazy.module("torch")  # loaded on first use (nasrepro.lazy)

from ..errors import NasReproError
from ..plugins import option

from .base import MUTATION, SearchSpace
from .batched import BatchedSearcher
from .candidates import mutated_children
from .bayes import BayesianLinearRegression, sigmoid_ucb
from .weaknas import derived_seed, top_by_acquisition

LABEL_SCALE = 0.01  # percent -> the authors' fractions
LOGIT_CLIP = 1e-6


def global_node_graphs(adjacency: np.ndarray, ops: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """NASLib's `add_global_node` then `normalize_adj`: (row-normalised transposed adjacency, features)."""
    n, v, _ = adjacency.shape
    big = np.zeros((n, v + 1, v + 1), dtype=np.float32)
    big[:, :v, :v] = adjacency
    big[:, :v, v] = 1.0
    big[:, np.arange(v + 1), np.arange(v + 1)] = 1.0
    big = big.transpose(0, 2, 1)
    features = np.zeros((n, v + 1, ops.shape[2] + 1), dtype=np.float32)
    features[:, :v, :-1] = ops
    features[:, v, -1] = 1.0
    return torch.as_tensor(big / big.sum(-1, keepdims=True)), torch.as_tensor(features)


def gcn_loss(predicted: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """`weighted`: the authors' `weighted_exp`, mean of exp(y - 1) (p - y)^2; `mse`: mean of (p - y)^2."""
    squared = (predicted - target) ** 2
    return torch.mean(torch.exp(target - 1) * squared if kind == "weighted" else squared)


class BONAS(BatchedSearcher):
    needs = frozenset({"graphs", "mutation"})
    prefix_stable = True
    options = {
        "num_init": option(10, "Uniform random architectures before the first GCN.", type="integer", minimum=1),
        "k": option(10, "Architectures queried per iteration (the best by UCB).", type="integer", minimum=1),
        "candidates": option("mutation", "mutation (naszilla's get_candidates, as its bonas) or random (the DARTS "
                             "code's sampler).",
                             enum=["random", "mutation"]),
        "num_candidates": option(100, "Candidates scored per iteration (the authors' generate_num).", type="integer",
                                 minimum=1),
        "num_best": option(1, "candidates: mutation: best queried architectures mutated.", type="integer", minimum=1),
        "patience_factor": option(5, "candidates: mutation: up to patience_factor x num_best parents.",
                                  type="integer", minimum=1),
        "mutation": MUTATION,
        "hidden": option(64, "Width of the graph convolutions.", type="integer", minimum=1),
        "layers": option(4, "Graph convolutions.", type="integer", minimum=1),
        "epochs": option(100, "GCN training epochs.", type="integer", minimum=1),
        "batch_size": option(128, "GCN mini-batch size.", type="integer", minimum=1),
        "learning_rate": option(1e-3, "Adam's initial learning rate (cosine-annealed to 0).", type="number",
                                exclusiveMinimum=0),
        "explore": option(0.5, "UCB = E + explore x SD.", type="number", minimum=0),
        "loss": option("weighted", "GCN loss: weighted (exp(y - 1) (p - y)^2, the authors' loss_num 3) or mse "
                       "(NASLib's port).", enum=["weighted", "mse"]),
    }

    @classmethod
    def input_needed(cls, options: dict) -> str:
        return "graph"

    @classmethod
    def protocol_notes(cls, options: dict) -> list[str]:
        if options.get("loss") != "mse":
            return []
        return ["BONAS's GCN trained with MSE (NASLib's port; the authors' loss_num 3 weights each squared error "
                "by exp(accuracy - 1))."]

    def __init__(self, space: SearchSpace, seed: int, **options):
        super().__init__(space, seed, **options)

    def choose(self, rng: np.random.Generator, count: int) -> np.ndarray:
        free = np.flatnonzero(~self.queried)
        started = time.perf_counter()
        if self.candidates == "random":
            candidates = rng.choice(free, size=min(self.num_candidates, len(free)), replace=False)
        else:
            candidates = mutated_children(self.space.operators, self.ids, self.labels, rng, self.mutation_name,
                                          self.num_best * self.patience_factor,
                                          max(self.num_candidates // self.num_best, 1), self.num_candidates)
        chosen = np.empty(0, dtype=np.int64)
        if len(candidates):
            mean, sd = self.fit_predict(candidates)
            ucb = sigmoid_ucb(mean, sd, self.explore)
            chosen = candidates[top_by_acquisition(np.arange(len(candidates)), ucb, mean, min(count, len(candidates)))]
        if count > len(chosen):
            rest = free[~np.isin(free, chosen)]
            chosen = np.concatenate([chosen, rng.choice(rest, size=count - len(chosen), replace=False)])
        self._note(n_train=len(self.ids), n_candidates=len(candidates), seconds=time.perf_counter() - started)
        return chosen

    def fit_predict(self, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The GCN trained on the queried architectures; the BLR's (mean, SD) of the candidates' logits."""
        graphs = self.space.graphs
        rows = np.concatenate([np.asarray(self.ids), candidates])
        adjacency, x = global_node_graphs(np.asarray(graphs.adjacency[rows]), np.asarray(graphs.ops[rows]))
        n = len(self.ids)
        y = np.clip(np.asarray(self.labels) * LABEL_SCALE, LOGIT_CLIP, 1 - LOGIT_CLIP)
        generator = torch.Generator().manual_seed(derived_seed(self.seed, self.iteration))
        from .bonas_gcn import GCN

        model = GCN(x.shape[-1], self.hidden, self.layers, generator)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.learning_rate)
        target = torch.as_tensor(y, dtype=torch.float32)
        model.train()
        for epoch in range(self.epochs):
            for group in optimizer.param_groups:
                group["lr"] = self.learning_rate * (1 + math.cos(math.pi * epoch / self.epochs)) / 2
            order = torch.randperm(n, generator=generator)
            for start in range(0, n, self.batch_size):
                batch = order[start:start + self.batch_size]
                if len(batch) < 2:  # batch normalisation needs two graphs (a lone last row is skipped)
                    continue
                loss = gcn_loss(model(adjacency[batch], x[batch]), target[batch], self.loss)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        model.eval()
        with torch.no_grad():
            embeddings = model.embed(adjacency, x).double().numpy()
        if not np.isfinite(embeddings).all():
            raise NasReproError("bonas: the GCN's embeddings are not finite")
        blr = BayesianLinearRegression().fit(embeddings[:n], np.log(y / (1 - y)))
        mean, variance = blr.predict(embeddings[n:])
        return mean, np.sqrt(variance)

