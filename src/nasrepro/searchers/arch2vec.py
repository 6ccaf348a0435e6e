"""arch2vec (Yan, Zheng, Ao, Zeng and Zhang, NeurIPS 2020): a variational graph autoencoder pretrained on every
cell of the space without labels, then BO with DNGO in its embedding (arch2vec-DNGO), after the authors' code
AIoT-MLSys-Lab/arch2vec: `models/model.py` (`Model`, `Decoder`, `VAEReconstructed_Loss`), `models/configs.py`
(cfg 4), `models/pretraining_nasbench201.py` / `pretraining_nasbench101.py`, `utils/utils.py`
(`preprocessing` method 4), `search_methods/dngo_search_NB201_8x8.py` and `run_scripts/run_bo_arch2vec_*.sh`.

Pretraining (`pretrain`, a workflow step: `searchers.pretrained`): the cell graph (`Operators.graphs`:
operations one-hot on the nodes; NAS-Bench-201's 8-node form, NAS-Bench-101's 7 vertices) with its adjacency
made symmetric (A + triu(A)ᵀ, method 4). The encoder: a GIN of `hops` − 1 (4) layers, each x ← ReLU(BN(MLP((1 +
ε)x + Ax))) with a 2-layer MLP (`mlps`; Linear, BN, ReLU, Linear) of width `hidden` (128), then two linear
maps to μ and log σ of width `latent` (16); z = μ + ε·exp(log σ) while training. The decoder: dropout
`dropout` (0.3) on z, ops = sigmoid(Wz), adjacency = sigmoid(zzᵀ) (the authors' `Decoder` applies its
adjacency activation, the sigmoid, to both). The loss: BCE of the reconstructed ops and of the upper triangle
of the adjacency, plus the authors' KL term −0.5/(N·V) mean Σ(1 + 2 log σ − μ² − σ²). Adam lr 1e-3, batches of
32 in the benchmark's order, gradient norm clipped at 5, `pretrain_epochs` epochs (NAS-Bench-201 10, seed 3;
NAS-Bench-101 8, seed 1: the scripts' defaults). The embedding of a cell: the mean over its nodes of μ (eval
mode). Deviation: the authors train on 90% of the cells and keep 10% to check reconstruction; here every cell
(no label is read either way).

Search: `pretrained.EmbeddingBO` with the authors' settings: 16 initial, batch 1 (`--batch_size 1`), DNGO of 100
epochs, their EI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from .. import lazy

torch = lazy.module("torch")  # loaded on first use (nasrepro.lazy)

from ..plugins import option
from ..spaces import get_space
from .pretrained import EmbeddingBO

GRAD_CLIP = 5.0


def pretrain(space: str, cells: pd.DataFrame, spec: dict) -> np.ndarray:
    graphs = get_space(space).operators(cells).graphs()
    adjacency = torch.as_tensor(np.array(graphs.adjacency, dtype=np.float32))
    ops = torch.as_tensor(np.asarray(graphs.ops, dtype=np.float32))
    symmetric = adjacency + adjacency.triu(1).transpose(1, 2)
    target = adjacency.triu(1)
    with torch.random.fork_rng():
        torch.manual_seed(spec["pretrain_seed"])
        from .arch2vec_encoder import Encoder

        model = Encoder(ops.shape[-1], spec["hidden"], spec["latent"], spec["hops"], spec["mlps"], spec["dropout"])
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
        model.train()
        for _ in range(spec["pretrain_epochs"]):
            for start in range(0, len(ops), spec["pretrain_batch"]):
                rows = slice(start, start + spec["pretrain_batch"])
                ops_recon, adj_recon, mu, logvar = model(ops[rows], symmetric[rows])
                bce = torch.nn.functional.binary_cross_entropy
                kl = -0.5 / (ops[rows].shape[0] * ops.shape[1]) * torch.mean(
                    torch.sum(1 + 2 * logvar - mu**2 - logvar.exp() ** 2, 2))
                loss = bce(ops_recon, ops[rows]) + bce(adj_recon.triu(1), target[rows]) + kl
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
                optimizer.step()
        model.eval()
        embedding = np.empty((len(ops), spec["latent"]), dtype=np.float32)
        present = (ops.sum(-1) > 0).float()
        with torch.no_grad():
            for start in range(0, len(ops), 8192):
                rows = slice(start, start + 8192)
                mu, _ = model.encode(ops[rows], symmetric[rows])
                mean = (mu * present[rows, :, None]).sum(1) / present[rows].sum(1, keepdim=True)
                embedding[rows] = mean.numpy()
    return embedding


class Arch2vec(EmbeddingBO):
    model = "arch2vec"
    pretraining_options = ("pretrain_seed", "pretrain_epochs", "pretrain_batch", "hidden", "latent", "hops", "mlps",
                           "dropout")
    embedding_option = "latent"
    options = {
        **EmbeddingBO.BO_OPTIONS,
        "pretrain_seed": option(3, "Seed of the pretraining (the authors' script default).", by_space={"nb101": 1},
                                type="integer", minimum=0),
        "pretrain_epochs": option(10, "Pretraining epochs.", by_space={"nb101": 8}, type="integer", minimum=1),
        "pretrain_batch": option(32, "Pretraining batch size.", type="integer", minimum=1),
        "hidden": option(128, "Width of the GIN layers.", type="integer", minimum=1),
        "latent": option(16, "Embedding dimensions.", type="integer", minimum=1),
        "hops": option(5, "GIN hops (hops - 1 layers).", type="integer", minimum=2),
        "mlps": option(2, "Layers of each GIN MLP.", type="integer", minimum=1),
        "dropout": option(0.3, "Decoder dropout.", type="number", minimum=0, exclusiveMaximum=1),
    }

    def ask(self, max_queries: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, self.iteration])
        if len(self.ids) < self.num_init:
            return self.initial(rng, min(self.num_init - len(self.ids), max_queries))
        return self.by_ei(rng, min(self.k, max_queries))
