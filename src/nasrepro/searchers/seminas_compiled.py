"""LSTM kernels for SemiNAS's / NAO's encoder-predictor-decoder (`seminas.EPD`) compiled for the CPU with
Numba: torch's `nn.LSTM` equations, forward and a hand-written backward pass, as a `torch.autograd.Function`
(`lstm(rnn, x, state)` stands in for `rnn(x, state)[0]`), matching torch to float32 rounding
(tests/test_seminas_compiled.py).

Not used by the searchers (yet): measured, they do not beat torch. A SemiNAS training step (batch 100, hidden
64) is arithmetic, not per-call overhead: ~2.0 GFLOP on NAS-Bench-101's 27 tokens, ~0.43 on NAS-Bench-201's 6
(`benchmarks/predictor_speed.py seminas-step`), 80% of it in the three LSTM layers (the encoder's two
directions, the decoder), which torch runs through oneDNN at 45-55 GFLOP/s on one core, about 60% of the
core's one-thread fp32 GEMM rate. These kernels (one large GEMM for every time step's input projection, one
small GEMM per time step for the recurrence, one large GEMM each for the weight and input gradients; the gates
in vectorized loops) run at 42-43 GFLOP/s here, their GEMMs going through scipy's OpenBLAS, which is ~1.5x
slower than MKL / oneDNN on this CPU. So a compiled SemiNAS loop can gain at most the step's arithmetic floor
(2.4x on NAS-Bench-101, ~3x on NAS-Bench-201: benchmarks/RESULTS-predictor-speed.md), not the 10x of the
overhead-bound GIN; these kernels are the part such a loop would need, kept with their test.

LSTM (torch's gate order i, f, g, o): gates = x W_ih^T + b_ih + h W_hh^T + b_hh; i, f, o = sigmoid, g = tanh;
c' = f c + i g; h' = o tanh(c'). The sigmoids and tanh are computed in float64 with an exp that LLVM can
vectorize (a degree-9 Taylor polynomial of x / 256, squared 8 times: relative error below 1e-9), then rounded
to float32, within an ulp of torch's. The GEMMs are Numba's `np.dot` (scipy's OpenBLAS): limit its threads
(threadpoolctl) as the caller limits torch's.
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = dict(cache=True, fastmath=True, error_model="numpy")  # numpy's error model: no zero-division branches,
# so the gate loops vectorize


@numba.njit(inline="always", **_JIT)
def _exp(x):
    """exp(x) in float64 for |x| <= 88 (clipped there: float32's range), vectorizable (no libm call)."""
    x = x if x > -88.0 else -88.0
    x = x if x < 88.0 else 88.0
    y = x * (1.0 / 256.0)
    p = 1.0 + y * (1.0 + y * (1.0 / 2 + y * (1.0 / 6 + y * (1.0 / 24 + y * (1.0 / 120 + y * (1.0 / 720 + y * (
        1.0 / 5040 + y * (1.0 / 40320 + y * (1.0 / 362880)))))))))
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p * p


@numba.njit(inline="always", **_JIT)
def _sigmoid(x):
    return np.float32(1.0 / (1.0 + _exp(-np.float64(x))))


@numba.njit(inline="always", **_JIT)
def _tanh(x):
    return np.float32(2.0 / (1.0 + _exp(-2.0 * np.float64(x))) - 1.0)


@numba.njit(**_JIT)
def _cell(pre, recurrent, bias, c_prev, acts, c_out, tanh_c, h_out):
    """One time step's gates from their input part `pre` and recurrent part; writes the activated gates
    (into `acts`), c', tanh(c'), h'. Shapes (B, 4H) and (B, H). (Row by row, gate by gate: loops LLVM
    vectorizes.)"""
    rows, hidden = c_prev.shape
    for b in range(rows):
        p, r, a = pre[b], recurrent[b], acts[b]
        for k in range(2 * hidden):  # i, f
            a[k] = _sigmoid(p[k] + r[k] + bias[k])
        for k in range(2 * hidden, 3 * hidden):  # g
            a[k] = _tanh(p[k] + r[k] + bias[k])
        for k in range(3 * hidden, 4 * hidden):  # o
            a[k] = _sigmoid(p[k] + r[k] + bias[k])
        c, t, h, cp = c_out[b], tanh_c[b], h_out[b], c_prev[b]
        for j in range(hidden):
            c[j] = a[hidden + j] * cp[j] + a[j] * a[2 * hidden + j]
        for j in range(hidden):
            t[j] = _tanh(c[j])
        for j in range(hidden):
            h[j] = a[3 * hidden + j] * t[j]


@numba.njit(cache=True)
def lstm_forward(x, h0, c0, w_ih, w_hh, bias, reverse, acts, cs, tanh_cs, hs):
    """One direction over time-major `x` (T, B, I) from state (h0, c0) (B, H); `bias` = b_ih + b_hh. Fills
    acts (T, B, 4H: the activated gates), cs, tanh_cs and hs (T, B, H: the outputs), which backward reads."""
    steps, rows, inputs = x.shape
    gates = acts.shape[2]
    pre = np.empty((steps, rows, gates), dtype=np.float32)
    np.dot(x.reshape(steps * rows, inputs), w_ih.T, pre.reshape(steps * rows, gates))  # every step's input part
    recurrent = np.empty((rows, gates), dtype=np.float32)
    h, c = h0, c0
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        np.dot(h, w_hh.T, recurrent)
        _cell(pre[t], recurrent, bias, c, acts[t], cs[t], tanh_cs[t], hs[t])
        h, c = hs[t], cs[t]


@numba.njit(**_JIT)
def _cell_backward(d_out, d_h, d_c, acts, c_prev, tanh_c, d_gates):
    """Through one time step: d_h (from the step after) += d_out; d_c (from the step after) becomes the
    gradient of c_prev; d_gates the gradient of the gates' pre-activations."""
    rows, hidden = d_c.shape
    one = np.float32(1.0)
    for b in range(rows):
        a, t, dg, dc, cp, dh = acts[b], tanh_c[b], d_gates[b], d_c[b], c_prev[b], d_h[b]
        do = d_out[b]
        for j in range(hidden):
            i, f, g, o = a[j], a[hidden + j], a[2 * hidden + j], a[3 * hidden + j]
            grad_h = do[j] + dh[j]
            grad_c = dc[j] + grad_h * o * (one - t[j] * t[j])
            dg[j] = grad_c * g * i * (one - i)
            dg[hidden + j] = grad_c * cp[j] * f * (one - f)
            dg[2 * hidden + j] = grad_c * i * (one - g * g)
            dg[3 * hidden + j] = grad_h * t[j] * o * (one - o)
            dc[j] = grad_c * f


@numba.njit(cache=True)
def lstm_backward(x, h0, c0, w_ih, w_hh, reverse, acts, cs, tanh_cs, hs, d_hs):
    """The gradients of one direction's (x, h0, c0, w_ih, w_hh, bias) from those of its outputs `d_hs`
    (T, B, H) (the final state's gradient is zero: SemiNAS discards it)."""
    steps, rows, inputs = x.shape
    hidden = h0.shape[1]
    d_gates = np.empty((steps, rows, 4 * hidden), dtype=np.float32)
    d_h = np.zeros((rows, hidden), dtype=np.float32)
    d_c = np.zeros((rows, hidden), dtype=np.float32)
    h_prev = np.empty((steps, rows, hidden), dtype=np.float32)  # each step's incoming h
    for s in range(steps):
        t = s if reverse else steps - 1 - s  # time steps in the reverse of the forward's order
        first = t == steps - 1 if reverse else t == 0
        before = t + 1 if reverse else t - 1
        c_prev = c0 if first else cs[before]
        h_prev[t] = h0 if first else hs[before]
        _cell_backward(d_hs[t], d_h, d_c, acts[t], c_prev, tanh_cs[t], d_gates[t])
        np.dot(d_gates[t], w_hh, d_h)
    flat = d_gates.reshape(steps * rows, 4 * hidden)
    d_x = np.dot(flat, w_ih).reshape(steps, rows, inputs)
    d_w_ih = np.dot(flat.T, x.reshape(steps * rows, inputs))
    d_w_hh = np.dot(flat.T, h_prev.reshape(steps * rows, hidden))
    d_bias = np.zeros(4 * hidden, dtype=np.float32)
    for r in range(steps * rows):
        for k in range(4 * hidden):
            d_bias[k] += flat[r, k]
    return d_x, d_h, d_c, d_w_ih, d_w_hh, d_bias


def _function():
    """The autograd Function (built lazily so that importing this module does not import torch)."""
    import torch

    class CompiledLSTM(torch.autograd.Function):
        """One direction of a 1-layer batch-first LSTM: (x (B, T, I), h0, c0 (B, H), w_ih, w_hh, b_ih, b_hh)
        -> outputs (B, T, H)."""

        @staticmethod
        def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
            steps, rows, hidden = x.shape[1], x.shape[0], w_hh.shape[1]
            arrays = (x.detach().transpose(0, 1).contiguous().numpy(), h0.detach().contiguous().numpy(),
                      c0.detach().contiguous().numpy(), w_ih.detach().numpy(), w_hh.detach().numpy())
            bias = (b_ih.detach() + b_hh.detach()).numpy()
            acts = np.empty((steps, rows, 4 * hidden), dtype=np.float32)
            cs, tanh_cs, hs = (np.empty((steps, rows, hidden), dtype=np.float32) for _ in range(3))
            lstm_forward(*arrays, bias, reverse, acts, cs, tanh_cs, hs)
            ctx.saved = (arrays, reverse, acts, cs, tanh_cs, hs)
            return torch.from_numpy(hs).transpose(0, 1)

        @staticmethod
        def backward(ctx, d_out):
            arrays, reverse, acts, cs, tanh_cs, hs = ctx.saved
            d_hs = d_out.transpose(0, 1).contiguous().numpy()
            d_x, d_h0, d_c0, d_w_ih, d_w_hh, d_bias = lstm_backward(*arrays, reverse, acts, cs, tanh_cs, hs, d_hs)
            d_bias = torch.from_numpy(d_bias)
            return (torch.from_numpy(d_x).transpose(0, 1), torch.from_numpy(d_h0), torch.from_numpy(d_c0),
                    torch.from_numpy(d_w_ih), torch.from_numpy(d_w_hh), d_bias, d_bias.clone(), None)

    return CompiledLSTM


_CompiledLSTM = None


def lstm(rnn, x, state=None):
    """`rnn(x, state)[0]` (a 1-layer batch-first `nn.LSTM`, one or both directions, float32 on the CPU)
    through the compiled LSTM: the outputs (B, T, H or 2H); state (h0, c0) of shape (1, B, H), or zeros."""
    import torch

    global _CompiledLSTM
    if _CompiledLSTM is None:
        _CompiledLSTM = _function()
    rows, hidden = x.shape[0], rnn.hidden_size
    if state is None:
        zeros = x.new_zeros(rows, hidden)
        h0 = c0 = zeros
    else:
        h0, c0 = state[0][0], state[1][0]
    outputs = [_CompiledLSTM.apply(x, h0, c0, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0,
                                   False)]
    if rnn.bidirectional:
        outputs.append(_CompiledLSTM.apply(x, h0, c0, rnn.weight_ih_l0_reverse, rnn.weight_hh_l0_reverse,
                                           rnn.bias_ih_l0_reverse, rnn.bias_hh_l0_reverse, True))
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)
