"""`GINRegressor`'s training loop compiled for the CPU with Numba: the same forward pass, hand-written
backward pass, Adam update, cosine schedule and BatchNorm running statistics as its torch loop, one
compiled call per fit.

Why: the authors train on batches of 10 graphs of 8 vertices for 300-1000 epochs. In torch each step is
about a hundred tiny kernels plus autograd's bookkeeping, bound by per-call overhead rather than
arithmetic (~1.2 ms a step on one core); compiled, a step is a few small BLAS calls and loops. The random
draws (each epoch's shuffle, the dropout masks) are drawn up front from the same torch generators in the
order the torch loop draws them, so both loops train on the same batches with the same masks and their
loss curves agree to float32 rounding (tests/test_predictor_speed.py).

The parameters travel as one flat float32 vector in `GINRegressor._init_parameters`' order (per
convolution w1, bias1, w2, bias2, BatchNorm weight, bias; then the head's before, mean and, for the
Gaussian head, before_std, std, each weight then bias), with per-element learning rates and decays.
"""

from __future__ import annotations

import math

import numba
import numpy as np

BN_MOMENTUM, BN_EPS = np.float32(0.1), np.float32(1e-5)


@numba.njit(cache=True)
def _activate(x, celu):
    if celu:
        return np.where(x > 0, x, np.expm1(x))
    return np.maximum(x, np.float32(0.0))


@numba.njit(cache=True)
def _activation_slope(x, celu):
    if celu:
        return np.where(x > 0, np.float32(1.0), np.exp(x))
    return (x > 0).astype(np.float32)


@numba.njit(cache=True)
def _add_bias_relu(z, bias, out):
    for i in range(z.shape[0]):
        for c in range(z.shape[1]):
            z[i, c] += bias[c]
            out[i, c] = max(z[i, c], np.float32(0.0))


@numba.njit(cache=True)
def _relu_backward(d_z, z, g_bias):
    """d_z *= relu'(z) in place; g_bias = its column sums."""
    g_bias[:] = 0
    for i in range(d_z.shape[0]):
        for c in range(d_z.shape[1]):
            if z[i, c] <= 0:
                d_z[i, c] = 0
            g_bias[c] += d_z[i, c]


@numba.njit(cache=True)
def _batch_norm(z, bias, gamma, beta, celu, activated, normalized, y, inv_std, running_mean, running_var):
    """z += bias; `activated` = its activation; BatchNorm over the rows (training mode: batch statistics, running ones
    updated with momentum 0.1 and the unbiased variance)."""
    rows, columns = z.shape
    mean = np.zeros(columns, dtype=np.float32)
    for i in range(rows):
        for c in range(columns):
            z[i, c] += bias[c]
            value = z[i, c]
            if value <= 0:
                value = np.expm1(value) if celu else np.float32(0.0)
            activated[i, c] = value
            mean[c] += value
    mean /= np.float32(rows)
    var = np.zeros(columns, dtype=np.float32)
    for i in range(rows):
        for c in range(columns):
            centred = activated[i, c] - mean[c]
            var[c] += centred * centred
    var /= np.float32(rows)
    for c in range(columns):
        inv_std[c] = np.float32(1.0) / np.sqrt(var[c] + BN_EPS)
        running_mean[c] = (1 - BN_MOMENTUM) * running_mean[c] + BN_MOMENTUM * mean[c]
        running_var[c] = (1 - BN_MOMENTUM) * running_var[c] + BN_MOMENTUM * var[c] * np.float32(rows / (rows - 1))
    for i in range(rows):
        for c in range(columns):
            normalized[i, c] = (activated[i, c] - mean[c]) * inv_std[c]
            y[i, c] = normalized[i, c] * gamma[c] + beta[c]


@numba.njit(cache=True)
def _batch_norm_backward(d_y, normalized, z, activated, gamma, inv_std, celu, d_z, g_gamma, g_beta, g_bias):
    """Through BatchNorm and the activation: d_z; the gradients of gamma, beta and the bias before them."""
    rows, columns = d_y.shape
    g_gamma[:] = 0
    g_beta[:] = 0
    for i in range(rows):
        for c in range(columns):
            g_gamma[c] += d_y[i, c] * normalized[i, c]
            g_beta[c] += d_y[i, c]
    g_bias[:] = 0
    for i in range(rows):
        for c in range(columns):
            # d_xhat = d_y gamma; mean(d_xhat) = g_beta gamma / rows; mean(d_xhat xhat) = g_gamma gamma / rows
            d = inv_std[c] * gamma[c] * (d_y[i, c] - (g_beta[c] + normalized[i, c] * g_gamma[c]) / np.float32(rows))
            if z[i, c] <= 0:
                d = d * (activated[i, c] + 1) if celu else np.float32(0.0)  # celu'(z) = exp(z)
            d_z[i, c] = d
            g_bias[c] += d


@numba.njit(cache=True)
def _adam_step(flat, grads, square_avg, learning_rates, decays, step, total_steps, beta2, eps):
    """Adam with betas (0, beta2) and L2 decay, the learning rate scaled by the authors' CosineLR."""
    factor = np.float32(0.5 * (1 + math.cos(math.pi * (step + 2) / total_steps)))
    correction = np.float32(1.0 - beta2 ** (step + 1))
    beta2, eps = np.float32(beta2), np.float32(eps)
    for i in range(flat.shape[0]):
        g = grads[i] + decays[i] * flat[i]
        square_avg[i] = beta2 * square_avg[i] + (np.float32(1.0) - beta2) * g * g
        flat[i] -= learning_rates[i] * factor * g / (np.sqrt(square_avg[i] / correction) + eps)


@numba.njit(cache=True)
def _aggregate(x, adjacency_t, rows, vertices, out, transpose):
    """out = x + Aᵀx per graph: each vertex adds its predecessors' features; `transpose`: out = x + Ax, its
    backward pass."""
    out[:] = x
    for b in range(rows.shape[0]):
        graph = adjacency_t[rows[b]]
        for i in range(vertices):
            for j in range(vertices):
                weight = graph[i, j]
                if weight != 0:
                    to, source = (j, i) if transpose else (i, j)
                    for c in range(x.shape[1]):
                        out[b * vertices + to, c] += weight * x[b * vertices + source, c]


@numba.njit(cache=True)
def _view(flat, starts, index, columns):
    return flat[starts[index] : starts[index + 1]].reshape(-1, columns)


@numba.njit(cache=True)
def _head(pooled, flat, grads, starts, head, head_hidden, target, keep, gaussian, celu, rate, log_sqrt_2pi):
    """The head on the pooled batch: forward, the loss, and backward (its gradients into `grads`); returns
    (loss, gradient of the pooled batch). `keep`: the dropout mask scaled by 1 / (1 - p), or empty."""
    count = pooled.shape[0]
    before = np.dot(pooled, _view(flat, starts, head, head_hidden)) + flat[starts[head + 1] : starts[head + 2]]
    embedding = _activate(before, celu)
    if keep.size:
        embedding = embedding * keep
    mean_w = flat[starts[head + 2] : starts[head + 3]]
    mean_out = np.dot(embedding, mean_w) + flat[starts[head + 3]]
    if gaussian:
        before_std = (np.dot(pooled, _view(flat, starts, head + 4, head_hidden))
                      + flat[starts[head + 5] : starts[head + 6]])
        spread = _activate(before_std, celu)
        std_pre = np.dot(spread, flat[starts[head + 6] : starts[head + 7]]) + flat[starts[head + 7]]
        sigma = np.exp(_activate(std_pre, celu) / np.float32(2.0))
        diff = target - mean_out
        scaled = np.float32(0.5) * diff * diff / (sigma * sigma)
        loss = (scaled + np.float32(log_sqrt_2pi) + np.log(sigma)).mean()
        d_mean = -diff / (sigma * sigma) / np.float32(count)
        d_std_pre = (np.float32(0.5) - scaled) / np.float32(count) * _activation_slope(std_pre, celu)
        grads[starts[head + 6] : starts[head + 7]] = np.dot(spread.T, d_std_pre)
        grads[starts[head + 7]] = d_std_pre.sum()
        d_spread = np.outer(d_std_pre, flat[starts[head + 6] : starts[head + 7]]) * _activation_slope(before_std, celu)
        np.dot(pooled.T, d_spread, _view(grads, starts, head + 4, head_hidden))
        grads[starts[head + 5] : starts[head + 6]] = d_spread.sum(axis=0)
        d_pooled = np.dot(d_spread, _view(flat, starts, head + 4, head_hidden).T)
    else:
        out = sig = mean_out
        if rate > 0:
            sig = np.float32(1.0) / (np.float32(1.0) + np.exp(-mean_out))
            out = sig * np.float32(rate)
        diff = out - target
        loss = (diff * diff).mean()
        d_mean = np.float32(2.0) * diff / np.float32(count)
        if rate > 0:
            d_mean = d_mean * np.float32(rate) * sig * (np.float32(1.0) - sig)
        d_pooled = np.zeros_like(pooled)
    grads[starts[head + 2] : starts[head + 3]] = np.dot(embedding.T, d_mean)
    grads[starts[head + 3]] = d_mean.sum()
    d_before = np.outer(d_mean, mean_w)
    if keep.size:
        d_before = d_before * keep
    d_before = d_before * _activation_slope(before, celu)
    np.dot(pooled.T, d_before, _view(grads, starts, head, head_hidden))
    grads[starts[head + 1] : starts[head + 2]] = d_before.sum(axis=0)
    d_pooled += np.dot(d_before, _view(flat, starts, head, head_hidden).T)
    return loss, d_pooled


@numba.njit(cache=True)
def train(ops, adjacency_t, target, flat, starts, learning_rates, decays, orders, dropout_draws, layers, hidden,
          head_hidden, gaussian, celu, rate, dropout, batch_size, total_steps, beta2, eps, log_sqrt_2pi):
    """Train in place (`flat`); returns (loss per epoch, running means, running variances)."""
    n, vertices, n_ops = ops.shape
    epochs = orders.shape[0]
    grads = np.zeros_like(flat)
    square_avg = np.zeros_like(flat)
    running_mean = np.zeros((layers, hidden), dtype=np.float32)
    running_var = np.ones((layers, hidden), dtype=np.float32)
    cap = min(batch_size, n) * vertices
    x0 = np.empty((cap, n_ops), dtype=np.float32)
    aggregated0 = np.empty((cap, n_ops), dtype=np.float32)
    # per convolution: its aggregated input (the first's in aggregated0), pre-activations, outputs
    buffers = np.empty((7, layers, cap, hidden), dtype=np.float32)
    aggregated, z1, h1, z2 = buffers[0], buffers[1], buffers[2], buffers[3]
    activated, normalized, y = buffers[4], buffers[5], buffers[6]
    inv_std = np.empty((layers, hidden), dtype=np.float32)
    d_y = np.empty((cap, hidden), dtype=np.float32)
    d_hidden = np.empty((cap, hidden), dtype=np.float32)
    d_z1 = np.empty((cap, hidden), dtype=np.float32)
    losses = np.zeros(epochs, dtype=np.float64)
    no_dropout = np.empty((0, 0), dtype=np.float32)
    head = 6 * layers  # index of the head's first parameter in `starts`
    step = 0
    draw = 0
    for epoch in range(epochs):
        epoch_loss = np.float32(0.0)
        batches = 0
        for start in range(0, n, batch_size):
            rows = orders[epoch, start : start + batch_size]
            count = rows.shape[0]
            r = count * vertices
            for b in range(count):
                x0[b * vertices : (b + 1) * vertices] = ops[rows[b]]
            # ------------------------------------------------------------------ forward
            for layer in range(layers):
                p = 6 * layer
                inputs = aggregated0[:r] if layer == 0 else aggregated[layer, :r]
                _aggregate(x0[:r] if layer == 0 else y[layer - 1, :r], adjacency_t, rows, vertices, inputs, False)
                np.dot(inputs, _view(flat, starts, p, hidden), z1[layer, :r])
                _add_bias_relu(z1[layer, :r], flat[starts[p + 1] : starts[p + 2]], h1[layer, :r])
                np.dot(h1[layer, :r], _view(flat, starts, p + 2, hidden), z2[layer, :r])
                _batch_norm(z2[layer, :r], flat[starts[p + 3] : starts[p + 4]], flat[starts[p + 4] : starts[p + 5]],
                            flat[starts[p + 5] : starts[p + 6]], celu, activated[layer, :r], normalized[layer, :r],
                            y[layer, :r], inv_std[layer], running_mean[layer], running_var[layer])
            pooled = np.empty((count, hidden), dtype=np.float32)
            for b in range(count):
                for c in range(hidden):
                    pooled[b, c] = y[layers - 1, b * vertices : (b + 1) * vertices, c].mean()
            keep = no_dropout
            if dropout > 0:
                keep = (dropout_draws[draw : draw + count * head_hidden].reshape(count, head_hidden)
                        >= dropout).astype(np.float32) / np.float32(1.0 - dropout)
                draw += count * head_hidden
            # ------------------------------------------------------- head (forward, loss, backward)
            grads[:] = 0
            loss, d_pooled = _head(pooled, flat, grads, starts, head, head_hidden, target[rows], keep, gaussian, celu,
                                   rate, log_sqrt_2pi)
            epoch_loss += loss
            # ----------------------------------------------------------------- backward
            for b in range(count):
                d_y[b * vertices : (b + 1) * vertices] = d_pooled[b] / np.float32(vertices)
            for layer in range(layers - 1, -1, -1):
                p = 6 * layer
                _batch_norm_backward(d_y[:r], normalized[layer, :r], z2[layer, :r], activated[layer, :r],
                                     flat[starts[p + 4] : starts[p + 5]], inv_std[layer], celu, d_hidden[:r],
                                     grads[starts[p + 4] : starts[p + 5]], grads[starts[p + 5] : starts[p + 6]],
                                     grads[starts[p + 3] : starts[p + 4]])
                np.dot(h1[layer, :r].T, d_hidden[:r], _view(grads, starts, p + 2, hidden))
                np.dot(d_hidden[:r], _view(flat, starts, p + 2, hidden).T, d_z1[:r])
                _relu_backward(d_z1[:r], z1[layer, :r], grads[starts[p + 1] : starts[p + 2]])
                inputs = aggregated0[:r] if layer == 0 else aggregated[layer, :r]
                np.dot(inputs.T, d_z1[:r], _view(grads, starts, p, hidden))
                if layer > 0:
                    np.dot(d_z1[:r], _view(flat, starts, p, hidden).T, d_hidden[:r])
                    _aggregate(d_hidden[:r], adjacency_t, rows, vertices, d_y[:r], True)
            _adam_step(flat, grads, square_avg, learning_rates, decays, step, total_steps, beta2, eps)
            batches += 1
            step += 1
        losses[epoch] = epoch_loss / batches
    return losses, running_mean, running_var
