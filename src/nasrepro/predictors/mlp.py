"""The WeakNAS predictor: scikit-learn's MLPRegressor (as the reference code uses it) re-built in torch.

Mirrors sklearn's defaults: ReLU, Glorot-uniform weights and biases, Adam (1e-3, 0.9, 0.999, 1e-8),
loss = half mean squared error + 0.5 * alpha * ||W||^2 / batch (weights only), batch min(200, n),
reshuffled every epoch, and stop once the epoch loss fails to improve by `tol` for more than
`n_iter_no_change` consecutive epochs. Runs on the GPU when one is present.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class MLPRegressor:
    def __init__(
        self,
        hidden_layer_sizes=(1000, 1000, 1000, 1000),
        max_epochs: int = 100,
        learning_rate: float = 1e-3,
        alpha: float = 1e-4,
        batch_size: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        predict_batch_size: int = 65536,
        device: str = "auto",
        random_state: int = 0,
    ):
        self.hidden_layer_sizes = tuple(hidden_layer_sizes)
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.batch_size = batch_size
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.predict_batch_size = predict_batch_size
        self.device = device
        self.random_state = random_state

    def _init_layers(self, n_features: int, generator: torch.Generator, device: torch.device):
        sizes = [n_features, *self.hidden_layer_sizes, 1]
        weights, biases = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            w = (torch.rand(fan_in, fan_out, generator=generator, dtype=torch.float64) * 2 - 1) * bound
            b = (torch.rand(fan_out, generator=generator, dtype=torch.float64) * 2 - 1) * bound
            weights.append(w.float().to(device).requires_grad_())
            biases.append(b.float().to(device).requires_grad_())
        return weights, biases

    @staticmethod
    def _forward(x: torch.Tensor, weights, biases) -> torch.Tensor:
        for w, b in zip(weights[:-1], biases[:-1]):
            x = torch.relu(torch.addmm(b, x, w))
        return torch.addmm(biases[-1], x, weights[-1]).squeeze(1)

    def fit(self, X, y) -> "MLPRegressor":
        device = resolve_device(self.device)
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
    def predict(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        device = self.weights_[0].device
        out = np.empty(len(X), dtype=np.float32)
        for start in range(0, len(X), self.predict_batch_size):
            chunk = torch.as_tensor(X[start : start + self.predict_batch_size], device=device)
            out[start : start + len(chunk)] = self._forward(chunk, self.weights_, self.biases_).cpu().numpy()
        return out
