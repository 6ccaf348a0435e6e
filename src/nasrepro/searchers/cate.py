"""CATE: computation-aware transformer encodings (Yan, Song, Liu and Zhang, ICML 2021), pretrained without labels on
pairs of cells of similar computation, then BO with DNGO and local search in its embedding (cate-DNGO-LS), after
the authors' code AIoT-MLSys-Lab/CATE: `preprocessing/data_generate.py` (`sample_from_data`), `utils/utils.py`
(`sequence_corruption`, `prepare_graph`, `createCrossMask`), `layers/graphEncoder.py`, `run.py`,
`parameterLoader.py`, `search_methods/dngo_ls_nasbench101.py` and `run_scripts/*nasbench101.sh`.

Pretraining (`pretrain`, a workflow step: `searchers.pretrained`): each cell is its node operations as tokens
(op + 2; 0 pad, 1 mask) with an attention mask from its graph: a node attends to itself and to every node it
reaches (`floyed`, the transitive closure). Pairs: the cells sorted by their computation, each paired with up to
`pairs_per_cell` (K 2) cells drawn among the earlier ones within `pair_distance` (`sample_from_data`). The
computation is the space's measure (`Operators.computation`: NAS-Bench-101's is the cell's trainable parameters,
`params`, distance 2e6 as the authors'; NAS-Bench-201 and TransNAS-Bench-101 micro, which CATE never ran, have the
cell's convolution cost in 1 x 1-convolution units, 9 per 3 x 3 and 1 per 1 x 1, distance 1). Each token of both cells is corrupted with probability 0.2 (then 80% the mask token, 20% a random
token), the two cells go through the shared graph encoder (`graph_layers` 12 pre-norm transformer layers of
d_model `d_model` 64, 8 heads, feed-forward 128, dropout 0.1), their outputs plus a segment embedding through a
cross-attention encoder over both (`pair_layers` 24, feed-forward 256), and a head (tanh linear, dropout, linear,
log-softmax) predicts the corrupted tokens: NLL with label smoothing 0.1, AdamW (lr 1e-3, weight decay 0.01 but
not on biases and norms, eps 1e-8), a linear warm-up of 100 steps then linear decay, batches of
`pretrain_batch` (1024) pairs, `pretrain_epochs` (10) epochs, seed `pretrain_seed` (4). The embedding of a cell:
the graph encoder's output at its output node (`get_embeddings`: h[:, -1]), 64 dimensions. Deviations: the
authors' tokens are the op indices themselves, which collide with their pad and mask indices 0 and 1; here
shifted by 2. Their pairs split 95/5 for a validation loss; here all pairs train.

Search (cate-DNGO-LS, `EmbeddingBO`): 16 initial, then per iteration a DNGO of `dngo_epochs` (30) epochs and the
`k` (5, `--topk`) unqueried architectures of largest EI, where the authors' EI adds the spread once more
(σ(uΦ(u) + 1 + φ(u))); then the local search step: for each of the `k` best queried architectures except
those just proposed, its nearest unqueried architecture in the embedding (Euclidean) is queried. When the best
label has not improved for `rounds` (20) iterations, `num_init` more uniform architectures are queried.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from .. import lazy

torch = lazy.module("torch")  # loaded on first use (nasrepro.lazy)

from ..plugins import option
from ..spaces import Graphs, get_space
from .pretrained import EmbeddingBO

PAD, MASK, OFFSET = 0, 1, 2
CORRUPTION, KEEP_MASK = 0.2, 0.8
SMOOTHING, WARMUP, WEIGHT_DECAY = 0.1, 100, 0.01


def pairs(metric: np.ndarray, k: int, distance: float, rng: np.random.Generator) -> np.ndarray:
    order = np.argsort(metric, kind="stable")
    found, head = [], 0
    for i, arch in enumerate(order):
        while head < i and metric[order[head]] + distance < metric[arch]:
            head += 1
        for j in rng.permutation(np.arange(head, i))[:k]:
            found.append((arch, order[j]))
    return np.array(found, dtype=np.int64).reshape(-1, 2)


def graph_inputs(graphs: Graphs):
    """(tokens, blocked attention, pad flags, index of the output node) of every cell."""
    ops = np.asarray(graphs.ops)
    present = ops.sum(-1) > 0
    tokens = np.where(present, ops.argmax(-1) + OFFSET, PAD)
    reach = np.asarray(graphs.adjacency, dtype=bool) | np.eye(ops.shape[1], dtype=bool)
    for k in range(ops.shape[1]):  # Floyd-Warshall closure
        reach = reach | (reach[:, :, k:k + 1] & reach[:, k:k + 1, :])
    return (torch.as_tensor(tokens), torch.as_tensor(~reach), torch.as_tensor(~present),
            torch.as_tensor(present.sum(1) - 1), int(ops.shape[-1]) + OFFSET)


def pretrain(space: str, cells: pd.DataFrame, spec: dict) -> np.ndarray:
    operators = get_space(space).operators(cells)
    tokens, blocked, pad, last, vocab = graph_inputs(operators.graphs())
    rng = np.random.default_rng(spec["pretrain_seed"])
    pair_ids = pairs(operators.computation(), spec["pairs_per_cell"], spec["pair_distance"], rng)
    with torch.random.fork_rng():
        torch.manual_seed(spec["pretrain_seed"])
        from .cate_model import PairModel

        model = PairModel(vocab, spec["d_model"], spec["graph_layers"], spec["pair_layers"])
        decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "norm" in n)]
        rest = [p for n, p in model.named_parameters() if n.endswith("bias") or "norm" in n]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                                       {"params": rest, "weight_decay": 0.0}], lr=1e-3, eps=1e-8)
        steps = spec["pretrain_epochs"] * math.ceil(len(pair_ids) / spec["pretrain_batch"])
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: s / WARMUP if s < WARMUP else max(0.0, (steps - s) / max(1, steps - WARMUP)))
        model.train()
        for _ in range(spec["pretrain_epochs"]):
            shuffled = pair_ids[rng.permutation(len(pair_ids))]
            for start in range(0, len(shuffled), spec["pretrain_batch"]):
                batch = torch.as_tensor(shuffled[start:start + spec["pretrain_batch"]])
                sides = [batch[:, 0], batch[:, 1]]
                inputs, labels = [], []
                for side in sides:
                    original = tokens[side]
                    draw = torch.as_tensor(rng.random(original.shape))
                    corrupt = (draw < CORRUPTION) & ~pad[side]
                    swap = torch.as_tensor(rng.random(original.shape) < KEEP_MASK)
                    noise = torch.as_tensor(rng.integers(0, vocab, original.shape))
                    inputs.append(torch.where(corrupt, torch.where(swap, MASK, noise), original))
                    labels.append(torch.where(corrupt, original, PAD))
                log_p = model(inputs[0], blocked[sides[0]], inputs[1], blocked[sides[1]],
                              (pad[sides[0]], pad[sides[1]]))
                target = torch.cat(labels, 1)
                chosen = target != PAD
                if not chosen.any():
                    continue
                picked = log_p[chosen]
                loss = -((1 - SMOOTHING) * picked.gather(1, target[chosen][:, None]).squeeze(1)
                         + SMOOTHING * picked.mean(1)).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
        model.eval()
        embedding = np.empty((len(tokens), spec["d_model"]), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(tokens), 4096):
                rows = slice(start, start + 4096)
                h = model.encode(tokens[rows], blocked[rows])
                embedding[rows] = h[torch.arange(h.shape[0]), last[rows]].numpy()
    return embedding


class CATE(EmbeddingBO):
    model = "cate"
    needs = frozenset({"graphs", "computation"})
    pretraining_options = ("pretrain_seed", "pretrain_epochs", "pretrain_batch", "d_model", "graph_layers",
                           "pair_layers", "pairs_per_cell", "pair_distance")
    embedding_option = "d_model"
    options = {
        **EmbeddingBO.BO_OPTIONS,
        "k": option(5, "Architectures queried by EI per iteration, and best ones expanded by local search (topk).",
                    type="integer", minimum=1),
        "dngo_epochs": option(30, "DNGO training epochs.", type="integer", minimum=1),
        "rounds": option(20, "Iterations without improvement before num_init uniform architectures are added.",
                         type="integer", minimum=1),
        "pretrain_seed": option(4, "Seed of the pretraining (the authors' default).", type="integer", minimum=0),
        "pretrain_epochs": option(10, "Pretraining epochs.", type="integer", minimum=1),
        "pretrain_batch": option(1024, "Pairs per pretraining batch.", type="integer", minimum=1),
        "d_model": option(64, "Transformer width (the embedding's dimensions).", type="integer", minimum=8,
                          multipleOf=8),
        "graph_layers": option(12, "Layers of the graph encoder.", type="integer", minimum=1),
        "pair_layers": option(24, "Layers of the cross-attention encoder.", type="integer", minimum=1),
        "pairs_per_cell": option(2, "Partners drawn per cell (K).", type="integer", minimum=1),
        "pair_distance": option(1.0, "Largest computation difference within a pair.", by_space={"nb101": 2e6},
                                type="number", minimum=0),
    }

    def __init__(self, space, seed, **options):
        super().__init__(space, seed, **options)
        self.phase, self.proposed, self.best, self.stale = "init", [], -math.inf, 0

    def ask(self, max_queries: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, self.iteration])
        if len(self.ids) < self.num_init or self.phase == "restart":
            wanted = self.num_init - len(self.ids) if len(self.ids) < self.num_init else self.num_init
            self.phase = "init"
            return self.initial(rng, min(wanted, max_queries))
        if self.phase == "ei":
            chosen = self.local_search(max_queries)
            if len(chosen):
                self.phase = "ls"
                return chosen
            self.end_iteration()  # every one of the k best was just proposed: no local-search step this time
        if self.phase == "restart":
            return self.ask(max_queries)
        self.phase, self.proposed = "ei", self.by_ei(rng, min(self.k, max_queries), plus_spread=True).tolist()
        return np.asarray(self.proposed)

    def local_search(self, max_queries: int) -> np.ndarray:
        ranked = np.asarray(self.ids)[np.argsort(np.asarray(self.labels), kind="stable")][::-1]
        chosen: list[int] = []
        free = ~self.queried
        for parent in [a for a in ranked[: self.k] if a not in self.proposed][:max_queries]:
            distance = np.linalg.norm(self.embedding - self.embedding[parent], axis=1)
            distance[~free] = np.inf
            if np.isinf(distance.min()):
                break
            chosen.append(int(np.argmin(distance)))
            free[chosen[-1]] = False
        return np.asarray(chosen, dtype=np.int64)

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        super().tell(ids, labels)
        if self.phase == "ls":
            self.end_iteration()

    def end_iteration(self) -> None:
        """One iteration (EI, then local search) done: the authors' round counter."""
        best = max(self.labels)
        self.stale = 0 if best > self.best else self.stale + 1
        self.best = best
        self.phase = "restart" if self.stale == self.rounds else "done"
        if self.phase == "restart":
            self.stale = 0
