"""BANANAS' ensemble training (`bananas.train`) compiled for the CPU with Numba: each member's
feed-forward net trained with the same forward pass, hand-written backward pass and torch.optim.Adam
update, one compiled call per member.

Why: the nets are 10-20 layers of 20 units trained on batches of 32 for 150-500 epochs, so in torch each
step is ~100 tiny kernels plus autograd's bookkeeping, bound by per-call overhead. Each epoch's shuffle
is still drawn from the member's torch generator up front, so both loops train on the same batches.

A member's parameters travel as one flat float32 vector: per layer its weight (fan_in x fan_out) then
its bias, `starts` marking where each begins.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def _weight(flat, starts, layer):
    fan_out = starts[2 * layer + 2] - starts[2 * layer + 1]
    return flat[starts[2 * layer] : starts[2 * layer + 1]].reshape(-1, fan_out)


@numba.njit(cache=True)
def _bias(flat, starts, layer):
    return flat[starts[2 * layer + 1] : starts[2 * layer + 2]]


@numba.njit(cache=True)
def forward(flat, starts, x, activations):
    """Every layer's output for the rows `x` into `activations[layer]` (ReLU hidden layers, a linear output)."""
    layers = (starts.shape[0] - 1) // 2
    rows = x.shape[0]
    inputs = x
    for layer in range(layers):
        out = activations[layer][:rows]
        np.dot(inputs, _weight(flat, starts, layer), out)
        bias = _bias(flat, starts, layer)
        for i in range(rows):
            for j in range(out.shape[1]):
                value = out[i, j] + bias[j]
                out[i, j] = max(value, np.float32(0.0)) if layer < layers - 1 else value
        inputs = out
    return inputs[:, 0]


@numba.njit(cache=True)
def train_member(X, y, flat, starts, orders, batch_size, learning_rate, beta1, beta2, eps, mae, l1_output):
    """Train one member in place (`flat`), Adam with torch's bias corrections."""
    layers = (starts.shape[0] - 1) // 2
    epochs, n = orders.shape
    cap = min(batch_size, n)
    widths = [_bias(flat, starts, layer).shape[0] for layer in range(layers)]
    activations = [np.empty((cap, width), dtype=np.float32) for width in widths]
    deltas = [np.empty((cap, width), dtype=np.float32) for width in widths]
    grads = np.zeros_like(flat)
    exp_avg = np.zeros_like(flat)
    exp_avg_sq = np.zeros_like(flat)
    x = np.empty((cap, X.shape[1]), dtype=np.float32)
    out_weight = _weight(flat, starts, layers - 1)
    step = 0
    for epoch in range(epochs):
        for start in range(0, n, batch_size):
            rows = orders[epoch, start : start + batch_size]
            count = rows.shape[0]
            for i in range(count):
                x[i] = X[rows[i]]
            predicted = forward(flat, starts, x[:count], activations)
            # the loss' gradient with respect to the output, then back through the layers
            delta = deltas[layers - 1][:count]
            for i in range(count):
                error = predicted[i] - y[rows[i]]
                if mae:
                    delta[i, 0] = np.sign(error) / np.float32(count)
                else:
                    delta[i, 0] = np.float32(2.0) * error / np.float32(count)
            for layer in range(layers - 1, -1, -1):
                delta = deltas[layer][:count]
                inputs = x[:count] if layer == 0 else activations[layer - 1][:count]
                np.dot(inputs.T, delta, _weight(grads, starts, layer))
                bias_grad = _bias(grads, starts, layer)
                for j in range(delta.shape[1]):
                    bias_grad[j] = delta[:, j].sum()
                if layer > 0:
                    below = deltas[layer - 1][:count]
                    np.dot(delta, _weight(flat, starts, layer).T, below)
                    hidden = activations[layer - 1][:count]
                    for i in range(count):
                        for j in range(below.shape[1]):
                            if hidden[i, j] <= 0:
                                below[i, j] = 0
            if l1_output:
                out_grad = _weight(grads, starts, layers - 1)
                for k in range(out_grad.shape[0]):
                    out_grad[k, 0] += np.float32(l1_output) * np.sign(out_weight[k, 0])
            step += 1
            _adam(flat, grads, exp_avg, exp_avg_sq, step, learning_rate, beta1, beta2, eps)


@numba.njit(cache=True)
def _adam(flat, grads, exp_avg, exp_avg_sq, step, learning_rate, beta1, beta2, eps):
    """torch.optim.Adam's single-tensor update (no weight decay)."""
    step_size = np.float32(learning_rate / (1.0 - beta1**step))
    correction2_sqrt = np.float32(math.sqrt(1.0 - beta2**step))
    b1, b2, e = np.float32(beta1), np.float32(beta2), np.float32(eps)
    for i in range(flat.shape[0]):
        g = grads[i]
        exp_avg[i] += (g - exp_avg[i]) * (np.float32(1.0) - b1)
        exp_avg_sq[i] = b2 * exp_avg_sq[i] + (np.float32(1.0) - b2) * g * g
        flat[i] -= step_size * exp_avg[i] / (np.sqrt(exp_avg_sq[i]) / correction2_sqrt + e)
