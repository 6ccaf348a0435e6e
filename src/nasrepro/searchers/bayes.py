"""Bayesian pieces the BO baselines share: Bayesian linear regression on basis functions with its two
precisions fitted by the evidence (pybnn's `BayesianLinearRegression` and DNGO's `marginal_log_likelihood`,
as copied into arch2vec's and CATE's repositories; BONAS's `alpha_beta.fit`), DNGO (a one-hidden-layer tanh
net whose hidden units are the basis), expected improvement on a mean and a spread, and BONAS's UCB of a
Bayesian sigmoid regression.

Everything is numpy: the nets are tiny and are refitted at every query, so torch's per-step overhead would
dominate (the DNGO net is trained with its closed-form gradients and Adam, the same update as torch's).
"""

from __future__ import annotations

import math

import numpy as np

from .. import lazy

scipy = lazy.module("scipy")  # loaded on first use (nasrepro.lazy): validating a config imports this module

LOG_BOUND = 10.0  # pybnn: theta outside [-10, 10] has likelihood -inf


class BayesianLinearRegression:
    """y = Φ w + ε, w ~ N(0, 1/α), ε ~ N(0, 1/β). `fit` maximises the log evidence over (log α, log 1/β) with
    Nelder-Mead from (log `alpha`, log 1/`beta`) (pybnn's `optimize.fmin(negative_mll, p0)`; pybnn starts from a
    prior draw, this class from its constructor's values so that a run depends on its seed only)."""

    def __init__(self, alpha: float = 1.0, beta: float = 1000.0, optimize_hypers: bool = True):
        self.alpha, self.beta, self.optimize_hypers = alpha, beta, optimize_hypers

    def _posterior(self, alpha: float, beta: float):
        """(eigenvalues of A = βΦᵀΦ + αI, posterior mean m = βA⁻¹Φᵀy), through ΦᵀΦ's eigendecomposition."""
        eigen = beta * self.s + alpha
        return eigen, beta * self.V @ (self.Vty / eigen)

    def log_evidence(self, theta) -> float:
        if np.any(np.abs(theta) > LOG_BOUND) or not np.all(np.isfinite(theta)):
            return -np.inf
        alpha, beta = math.exp(theta[0]), 1.0 / math.exp(theta[1])
        eigen, m = self._posterior(alpha, beta)
        n, d = self.Phi.shape
        residual = self.y - self.Phi @ m
        value = (d / 2 * math.log(alpha) + n / 2 * math.log(beta) - n / 2 * math.log(2 * math.pi)
                 - beta / 2 * residual @ residual - alpha / 2 * m @ m - 0.5 * np.log(eigen).sum())
        return float(value) if np.isfinite(value) else -1e25

    def fit(self, Phi: np.ndarray, y: np.ndarray) -> "BayesianLinearRegression":
        self.Phi, self.y = np.asarray(Phi, dtype=np.float64), np.asarray(y, dtype=np.float64)
        s, self.V = np.linalg.eigh(self.Phi.T @ self.Phi)
        self.s, self.Vty = np.maximum(s, 0.0), self.V.T @ (self.Phi.T @ self.y)
        if self.optimize_hypers:
            start = np.array([math.log(self.alpha), math.log(1.0 / self.beta)])
            theta = scipy.optimize.fmin(lambda t: -self.log_evidence(t), start, disp=False)
            self.alpha, self.beta = math.exp(theta[0]), 1.0 / math.exp(theta[1])
        eigen, self.m = self._posterior(self.alpha, self.beta)
        self.A_inv = (self.V / eigen) @ self.V.T
        return self

    def predict(self, Phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, predictive variance 1/β + φᵀA⁻¹φ) per row."""
        Phi = np.asarray(Phi, dtype=np.float64)
        return Phi @ self.m, ((Phi @ self.A_inv) * Phi).sum(axis=1) + 1.0 / self.beta


class DNGO:
    """Snoek et al.'s DNGO as pybnn builds it for arch2vec and CATE (`DNGO(num_epochs, n_units=128,
    do_mcmc=False, normalize_output=False)`): inputs standardised, one tanh layer of `units`, a linear
    output, MSE, Adam (lr `learning_rate`), batches of `batch_size` reshuffled each epoch (pybnn drops the
    last partial batch; a training set no larger than one batch is one batch), `epochs` epochs; then a
    Bayesian linear regression on the hidden units. Weights: PyTorch's Linear initialisation."""

    def __init__(self, units=128, epochs=100, batch_size=10, learning_rate=0.01, seed=0):
        self.units, self.epochs, self.batch_size, self.learning_rate = units, epochs, batch_size, learning_rate
        self.rng = np.random.default_rng(seed)

    def basis(self, X: np.ndarray) -> np.ndarray:
        return np.tanh(((X - self.x_mean) / self.x_std) @ self.W1 + self.b1)

    def fit(self, X: np.ndarray, y: np.ndarray) -> "DNGO":
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
        self.x_mean, self.x_std = X.mean(axis=0), X.std(axis=0)
        self.x_std[self.x_std == 0] = 1.0
        Z = (X - self.x_mean) / self.x_std
        n, d = Z.shape
        rng = self.rng
        bound1, bound2 = 1 / math.sqrt(d), 1 / math.sqrt(self.units)
        params = [rng.uniform(-bound1, bound1, (d, self.units)), rng.uniform(-bound1, bound1, self.units),
                  rng.uniform(-bound2, bound2, self.units), rng.uniform(-bound2, bound2)]
        moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
        batch = n if n <= self.batch_size else self.batch_size
        step = 0
        for _ in range(self.epochs):
            order = rng.permutation(n)
            for start in range(0, n - batch + 1, batch):
                rows = order[start:start + batch]
                W1, b1, w2, b2 = params
                h = np.tanh(Z[rows] @ W1 + b1)
                error = h @ w2 + b2 - y[rows]
                g_out = 2 * error / len(rows)
                g_h = np.outer(g_out, w2) * (1 - h * h)
                grads = [Z[rows].T @ g_h, g_h.sum(axis=0), h.T @ g_out, g_out.sum()]
                step += 1
                for k, (p, g) in enumerate(zip(params, grads)):  # Adam, torch's defaults
                    m, v = moments[k]
                    m = 0.9 * m + 0.1 * g
                    v = 0.999 * v + 0.001 * g * g
                    moments[k] = [m, v]
                    params[k] = p - self.learning_rate * (m / (1 - 0.9**step)) / (
                        np.sqrt(v / (1 - 0.999**step)) + 1e-8)
        self.W1, self.b1 = params[0], params[1]
        self.blr = BayesianLinearRegression().fit(self.basis(X), y)
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, predictive variance)."""
        return self.blr.predict(self.basis(np.asarray(X, dtype=np.float64)))


def expected_improvement(mean: np.ndarray, spread: np.ndarray, incumbent: float) -> np.ndarray:
    """EI of maximisation over `incumbent`: s(uΦ(u) + φ(u)), u = (mean − incumbent)/s (0 where s = 0)."""
    mean, spread = np.asarray(mean, dtype=np.float64), np.asarray(spread, dtype=np.float64)
    u = np.divide(mean - incumbent, spread, out=np.zeros_like(mean), where=spread > 0)
    return np.where(spread > 0, spread * (u * scipy.special.ndtr(u) + np.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)),
                    np.maximum(mean - incumbent, 0.0))


def sigmoid_ucb(mean: np.ndarray, sd: np.ndarray, explore: float = 0.5) -> np.ndarray:
    """BONAS's UCB of a Bayesian sigmoid regression (BO_tools/optimizer_gcn.py `get_ucb`): with the logit's
    posterior N(μ, σ²), E = sigmoid(μ / sqrt(1 + πσ²/8)), SD = sqrt(sigmoid(a(μ + b) / sqrt(1 + πa²σ²/8)) − E²)
    (a = 4 − 2√2, b = −log(√2 + 1)), UCB = E + `explore`·SD. The authors write σ^2 with Python's `^`;
    the square is meant and used here."""
    gamma, a, b = math.pi / 8, 4 - 2 * math.sqrt(2), -math.log(math.sqrt(2) + 1)
    expit = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    expected = expit(mean / np.sqrt(1 + gamma * sd**2))
    second = expit(a * (mean + b) / np.sqrt(1 + gamma * a**2 * sd**2))
    return expected + explore * np.sqrt(np.maximum(second - expected**2, 0.0))
