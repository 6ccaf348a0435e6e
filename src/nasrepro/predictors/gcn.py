"""The Neural Predictor's graph convolutional network (Wen et al., ECCV 2020), as the public
re-implementations train it: ultmaster/neuralpredictor.pytorch (`model.py`, `train.py`), copied into
naszilla (`naszilla/gcn/model.py`, `train_gcn.py`) and NASLib (`naslib/predictors/gcn.py`).

The model (the defaults): the node operations (one-hot) go through `layers` = 4 bidirectional graph
convolutions of width `hidden` = 144. Each convolution averages two ReLU branches, one over the
row-normalized adjacency with self-loops Â = rownorm(A + I) (a node gathers from its successors), one
over rownorm(Âᵀ) (from its predecessors), each with its own weight matrix (Glorot-uniform, no bias),
then dropout 0.1. Global mean pooling over the cell's vertices (those with an operation; padding
vertices stay zero, the layers have no bias), then the head: a 144 → 128 linear map, dropout 0.1, and
128 → 1, both without bias (`linear_hidden`; the head is linear, as in the reference).

Training (the defaults are naszilla's and NASLib's settings): labels z-scored with the training set's
mean and SD (NASLib; ultmaster used fixed NAS-Bench-101 constants), MSE loss, Adam lr 1e-4 with L2
weight decay 3e-4, batch 7 reshuffled every epoch with the last incomplete batch dropped (a training
set smaller than one batch is a single batch), 300 epochs, the learning rate annealed by a cosine to 0
over the epochs (CosineAnnealingLR stepped per epoch). Gradients are zeroed before each step as in
ultmaster's `train.py`; `zero_grad: false` reproduces naszilla's and NASLib's copies, which never
call `optimizer.zero_grad()` and so step on the running sum of every gradient so far.

Determinism: initialization, shuffling and dropout masks come from generators seeded with
`random_state`, never from torch's global seed. Runs on CUDA when present (`device: auto`).
"""

from __future__ import annotations

import math

import numpy as np
from .. import lazy

torch = lazy.module("torch")  # loaded on first use (nasrepro.lazy)

from ..plugins import option
from ..spaces import Graphs
from .base import Predictor
from .mlp import resolve_device


def normalized_adjacencies(adjacency: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(rownorm(A + I), rownorm(rownorm(A + I)ᵀ)) for a batch (N, V, V) of 0/1 adjacency matrices."""
    eye = torch.eye(adjacency.shape[-1], dtype=adjacency.dtype, device=adjacency.device)
    forward = adjacency + eye
    forward = forward / forward.sum(-1, keepdim=True)
    backward = forward.transpose(1, 2)
    return forward, backward / backward.sum(-1, keepdim=True)


class GCNRegressor(Predictor):
    input = "graph"
    wants_gpu = True
    title = "GCN"
    options = {
        "hidden": option(144, "Width of every graph convolution.", type="integer", minimum=1),
        "layers": option(4, "Number of bidirectional graph convolutions.", type="integer", minimum=1),
        "linear_hidden": option(128, "Width of the head's first (linear, bias-free) layer.", type="integer",
                                minimum=1),
        "dropout": option(0.1, "Dropout after every convolution and in the head.", type="number", minimum=0,
                          exclusiveMaximum=1),
        "epochs": option(300, "Training epochs.", type="integer", minimum=1),
        "batch_size": option(7, "Mini-batch size (the last incomplete batch is dropped).", type="integer",
                             minimum=1),
        "learning_rate": option(1e-4, "Adam's initial learning rate (cosine-annealed to 0).", type="number",
                                exclusiveMinimum=0),
        "weight_decay": option(3e-4, "Adam's L2 weight decay.", type="number", minimum=0),
        "zero_grad": option(True, "Zero the gradients before each step (ultmaster's train.py); false: never "
                            "(naszilla's and NASLib's copies).", type="boolean"),
        "predict_batch_size": option(8192, "Graphs per batch when predicting.", type="integer", minimum=1),
        "device": option("auto", "auto (GPU when present), cpu, or cuda.", enum=["auto", "cpu", "cuda"]),
    }

    # ------------------------------------------------------------------------------ parameters
    def _init_parameters(self, n_ops: int, generator: torch.Generator, device: torch.device) -> list[torch.Tensor]:
        def uniform(shape, bound):
            values = (torch.rand(*shape, generator=generator, dtype=torch.float64) * 2 - 1) * bound
            return values.float().to(device).requires_grad_()

        params = []
        for layer in range(self.layers):
            fan_in = n_ops if layer == 0 else self.hidden
            glorot = math.sqrt(6.0 / (fan_in + self.hidden))
            params += [uniform((fan_in, self.hidden), glorot), uniform((fan_in, self.hidden), glorot)]
        # torch.nn.Linear's default initialization, U(±1/sqrt(fan_in)), for the bias-free head
        params.append(uniform((self.hidden, self.linear_hidden), 1 / math.sqrt(self.hidden)))
        params.append(uniform((self.linear_hidden, 1), 1 / math.sqrt(self.linear_hidden)))
        return params

    def _dropout(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if generator is None or self.dropout == 0:
            return x
        keep = torch.rand(x.shape, generator=generator, device=x.device) >= self.dropout
        return x * keep / (1 - self.dropout)

    def _forward(self, params, ops, forward_adj, backward_adj, vertices, generator=None) -> torch.Tensor:
        x = ops
        for layer in range(self.layers):
            w_forward, w_backward = params[2 * layer], params[2 * layer + 1]
            out = torch.relu(forward_adj @ (x @ w_forward)) + torch.relu(backward_adj @ (x @ w_backward))
            x = self._dropout(out / 2, generator)
        pooled = x.sum(1) / vertices.unsqueeze(-1)
        hidden = self._dropout(pooled @ params[-2], generator)
        return (hidden @ params[-1]).squeeze(-1)

    @staticmethod
    def _tensors(graphs: Graphs, device: torch.device):
        adjacency, ops = (np.asarray(a, dtype=np.float32) for a in (graphs.adjacency, graphs.ops))
        adjacency, ops = (a if a.flags.writeable else a.copy() for a in (adjacency, ops))  # broadcast views
        adjacency, ops = torch.as_tensor(adjacency, device=device), torch.as_tensor(ops, device=device)
        vertices = (ops.sum(-1) > 0).sum(-1).clamp(min=1).float()
        return (ops, *normalized_adjacencies(adjacency), vertices)

    # ------------------------------------------------------------------------------- fit/predict
    def fit(self, X: Graphs, y) -> "GCNRegressor":
        device = resolve_device(self.device)
        generator = torch.Generator().manual_seed(int(self.random_state))
        device_generator = torch.Generator(device=device).manual_seed(int(self.random_state) + 1)
        ops, forward_adj, backward_adj, vertices = self._tensors(X, device)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        self.y_mean_ = float(y.mean())
        self.y_std_ = float(y.std()) or 1.0
        target = torch.as_tensor((y - self.y_mean_) / self.y_std_, dtype=torch.float32, device=device)
        params = self._init_parameters(ops.shape[-1], generator, device)
        optimizer = torch.optim.Adam(params, lr=self.learning_rate, weight_decay=self.weight_decay)
        n = len(target)
        batch = min(self.batch_size, n)
        steps = n // batch  # drop_last
        self.loss_curve_ = []
        for epoch in range(self.epochs):
            for group in optimizer.param_groups:  # CosineAnnealingLR(T_max=epochs, eta_min=0), per epoch
                group["lr"] = self.learning_rate * (1 + math.cos(math.pi * epoch / self.epochs)) / 2
            order = torch.randperm(n, generator=generator).to(device)
            epoch_loss = torch.zeros((), device=device)
            for step in range(steps):
                rows = order[step * batch : (step + 1) * batch]
                prediction = self._forward(params, ops[rows], forward_adj[rows], backward_adj[rows], vertices[rows],
                                           device_generator)
                loss = torch.mean((prediction - target[rows]) ** 2)
                if self.zero_grad:
                    optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                epoch_loss += loss.detach()
            self.loss_curve_.append(float(epoch_loss) / steps)
        self.n_epochs_ = self.epochs
        self.params_ = [p.detach() for p in params]
        return self

    @lazy.no_grad
    def predict(self, X: Graphs) -> np.ndarray:
        device = self.params_[0].device
        out = np.empty(len(X), dtype=np.float32)
        for start in range(0, len(X), self.predict_batch_size):
            part = X[start : start + self.predict_batch_size]
            prediction = self._forward(self.params_, *self._tensors(part, device))
            out[start : start + len(part)] = prediction.float().cpu().numpy()
        return out * np.float32(self.y_std_) + np.float32(self.y_mean_)
