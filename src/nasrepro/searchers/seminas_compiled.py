"""SemiNAS's / NAO's training step (`SemiNAS._train`) compiled for the CPU with Numba: the encoder-predictor-
decoder's (`seminas.EPD`) forward pass, a hand-written backward pass, gradient-norm clipping and
torch.optim.Adam's update (L2 weight decay), one compiled call per step (`train_step`). The shuffles and
dropout masks stay torch's draws, made by `SemiNAS._train_compiled` from the global torch generator in the
order the torch loop makes them (per epoch the shuffle; per step the encoder's and decoder's embedding masks,
then the predictor's two), so both loops train on the same batches with the same masks and their loss curves
agree to float32 rounding (tests/test_seminas_compiled.py).

Where a step's time goes (`benchmarks/predictor_speed.py seminas-step`): unlike the GIN's, a SemiNAS step
(batch 100, hidden 64) is mostly arithmetic: ~2.0 GFLOP on NAS-Bench-101's 27 tokens, ~0.43 on
NAS-Bench-201's 6, 80% of it in the three LSTM layers (the encoder's two directions, the decoder). So the
gain is bounded by the step's arithmetic floor at this core's fp32 GEMM rate, not by removing overhead.
The LSTMs here: one GEMM for every time step's input projection, one small GEMM per time step for the
recurrence, large GEMMs for the weight and input gradients, the gates in vectorized loops.

LSTM (torch's gate order i, f, g, o): gates = x W_ih^T + b_ih + h W_hh^T + b_hh; i, f, o = sigmoid, g = tanh;
c' = f c + i g; h' = o tanh(c'). The sigmoids and tanh are computed in float64 with an exp that LLVM can
vectorize (a degree-9 Taylor polynomial of x / 256, squared 8 times: relative error below 1e-9), then rounded
to float32, within an ulp of torch's. The GEMMs are Numba's `np.dot` (scipy's OpenBLAS): the caller limits its
threads (threadpoolctl) as it limits torch's. `lstm(rnn, x, state)` runs the LSTM kernels as a
`torch.autograd.Function` in place of `rnn(x, state)[0]` (tested against `nn.LSTM`).
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


# ------------------------------------------------------------------------------ the whole training step
# The EPD's parameters travel as one flat float32 vector in `model.parameters()` order (PARAMETERS), `starts`
# marking where each begins.
PARAMETERS = (
    "encoder_embedding.weight",
    "encoder_rnn.weight_ih_l0", "encoder_rnn.weight_hh_l0", "encoder_rnn.bias_ih_l0", "encoder_rnn.bias_hh_l0",
    "encoder_rnn.weight_ih_l0_reverse", "encoder_rnn.weight_hh_l0_reverse", "encoder_rnn.bias_ih_l0_reverse",
    "encoder_rnn.bias_hh_l0_reverse",
    "encoder_projection.weight", "encoder_projection.bias",
    "mlp.0.weight", "mlp.0.bias", "mlp.1.weight", "mlp.1.bias", "regressor.weight", "regressor.bias",
    "decoder_embedding.weight",
    "decoder_rnn.weight_ih_l0", "decoder_rnn.weight_hh_l0", "decoder_rnn.bias_ih_l0", "decoder_rnn.bias_hh_l0",
    "attention_input.weight", "attention_output.weight", "out.weight", "out.bias",
)
(E_ENC, F_IH, F_HH, F_BIH, F_BHH, B_IH, B_HH, B_BIH, B_BHH, PROJ_W, PROJ_B, MLP0_W, MLP0_B, MLP1_W, MLP1_B, REG_W,
 REG_B, E_DEC, D_IH, D_HH, D_BIH, D_BHH, ATT_IN, ATT_OUT, OUT_W, OUT_B) = range(len(PARAMETERS))
NORM_EPS = 1e-12  # F.normalize's


@numba.njit(cache=True)
def _mat(flat, starts, index, columns):
    return flat[starts[index] : starts[index + 1]].reshape(-1, columns)


@numba.njit(cache=True)
def _vec(flat, starts, index):
    return flat[starts[index] : starts[index + 1]]


@numba.njit(**_JIT)
def _normalize_rows(u, out, norms):
    """out = u / max(|u|, 1e-12) row by row (F.normalize); norms = |u|."""
    for r in range(u.shape[0]):
        total = np.float32(0.0)
        for k in range(u.shape[1]):
            total += u[r, k] * u[r, k]
        norms[r] = np.sqrt(total)
        scale = np.float32(1.0) / max(norms[r], np.float32(NORM_EPS))
        for k in range(u.shape[1]):
            out[r, k] = u[r, k] * scale


@numba.njit(**_JIT)
def _normalize_rows_backward(d_out, out, norms, d_u):
    """The gradient of u from that of out = u / max(|u|, eps): (d_out - out (out . d_out)) / |u|."""
    for r in range(d_out.shape[0]):
        if norms[r] > NORM_EPS:
            dot = np.float32(0.0)
            for k in range(d_out.shape[1]):
                dot += out[r, k] * d_out[r, k]
            for k in range(d_out.shape[1]):
                d_u[r, k] = (d_out[r, k] - out[r, k] * dot) / norms[r]
        else:
            for k in range(d_out.shape[1]):
                d_u[r, k] = d_out[r, k] / np.float32(NORM_EPS)


@numba.njit(**_JIT)
def _adam(flat, grads, exp_avg, exp_avg_sq, step, learning_rate, weight_decay, beta1, beta2, eps):
    """torch.optim.Adam's single-tensor update with L2 weight decay (step counted from 1)."""
    step_size = np.float32(learning_rate / (1.0 - beta1**step))
    correction2_sqrt = np.float32(np.sqrt(1.0 - beta2**step))
    b1, b2, e, wd = np.float32(beta1), np.float32(beta2), np.float32(eps), np.float32(weight_decay)
    for i in range(flat.shape[0]):
        g = grads[i] + wd * flat[i]
        exp_avg[i] += (g - exp_avg[i]) * (np.float32(1.0) - b1)
        exp_avg_sq[i] = b2 * exp_avg_sq[i] + (np.float32(1.0) - b2) * g * g
        flat[i] -= step_size * exp_avg[i] / (np.sqrt(exp_avg_sq[i]) / correction2_sqrt + e)


@numba.njit(cache=True)
def train_step(flat, starts, exp_avg, exp_avg_sq, step, source, target, noise_encoder, noise_decoder, noise_mlp0,
               noise_mlp1, hidden, mlp_hidden, learning_rate, weight_decay, beta1, beta2, eps, trade_off, grad_bound):
    """One step of `SemiNAS._train` on the rows `source` (C, L) with z-scored `target` (C): forward, loss,
    backward, gradient-norm clip, Adam (its step `step`, from 1), in place on `flat`, `exp_avg`, `exp_avg_sq`.
    The dropout multipliers (0 or 1 / (1 - p)) of the encoder's and decoder's embeddings (C, L, H) and of the
    predictor's two layers (C, M), (C, H) are torch's draws. Returns the loss."""
    count, length = source.shape
    rows = count * length  # batch-major rows r = c * length + t; the LSTMs run time-major (t, c)
    H, M = hidden, mlp_hidden
    vocabulary = starts[OUT_B + 1] - starts[OUT_B]
    half = np.float32(np.sqrt(0.5))
    zero_state = np.zeros((count, H), dtype=np.float32)
    # ------------------------------------------------------------------ encoder
    e_enc = _mat(flat, starts, E_ENC, H)
    x_enc = np.empty((length, count, H), dtype=np.float32)
    for c in range(count):
        for t in range(length):
            for k in range(H):
                x_enc[t, c, k] = e_enc[source[c, t], k] * noise_encoder[c, t, k]
    lstm_buffers = np.empty((3, 4, length, count, H), dtype=np.float32)  # per LSTM: cs, tanh_cs, hs, d_hs
    acts = np.empty((3, length, count, 4 * H), dtype=np.float32)
    for direction in range(2):
        w = F_IH if direction == 0 else B_IH
        bias = _vec(flat, starts, w + 2) + _vec(flat, starts, w + 3)
        lstm_forward(x_enc, zero_state, zero_state, _mat(flat, starts, w, H), _mat(flat, starts, w + 1, H), bias,
                     direction == 1, acts[direction], lstm_buffers[direction, 0], lstm_buffers[direction, 1],
                     lstm_buffers[direction, 2])
    both = np.empty((rows, 2 * H), dtype=np.float32)
    for c in range(count):
        for t in range(length):
            both[c * length + t, :H] = lstm_buffers[0, 2, t, c]
            both[c * length + t, H:] = lstm_buffers[1, 2, t, c]
    u = np.dot(both, _mat(flat, starts, PROJ_W, 2 * H).T)
    proj_b = _vec(flat, starts, PROJ_B)
    for c in range(count):
        for t in range(length):
            u[c * length + t] += proj_b + x_enc[t, c]
    enc_out = np.empty((rows, H), dtype=np.float32)
    norms_u = np.empty(rows, dtype=np.float32)
    _normalize_rows(u, enc_out, norms_u)
    pooled = np.zeros((count, H), dtype=np.float32)
    for c in range(count):
        for t in range(length):
            pooled[c] += enc_out[c * length + t]
    pooled /= np.float32(length)
    embedding = np.empty((count, H), dtype=np.float32)
    norms_m = np.empty(count, dtype=np.float32)
    _normalize_rows(pooled, embedding, norms_m)
    # ------------------------------------------------------------------ decoder (teacher forcing from token 0)
    e_dec = _mat(flat, starts, E_DEC, H)
    x_dec = np.empty((length, count, H), dtype=np.float32)
    for c in range(count):
        for t in range(length):
            token = 0 if t == 0 else source[c, t - 1]
            for k in range(H):
                x_dec[t, c, k] = e_dec[token, k] * noise_decoder[c, t, k]
    bias = _vec(flat, starts, D_BIH) + _vec(flat, starts, D_BHH)
    lstm_forward(x_dec, embedding, embedding, _mat(flat, starts, D_IH, H), _mat(flat, starts, D_HH, H), bias, False,
                 acts[2], lstm_buffers[2, 0], lstm_buffers[2, 1], lstm_buffers[2, 2])
    attended = np.empty((rows, 2 * H), dtype=np.float32)  # [context, x1]
    for c in range(count):
        for t in range(length):
            attended[c * length + t, H:] = (x_dec[t, c] + lstm_buffers[2, 2, t, c]) * half
    x1 = attended[:, H:].copy()
    query = np.dot(x1, _mat(flat, starts, ATT_IN, H).T)
    scores = np.empty((count, length, length), dtype=np.float32)
    for c in range(count):
        block = slice(c * length, (c + 1) * length)
        np.dot(query[block], enc_out[block].T, scores[c])
        for t in range(length):
            row = scores[c, t]
            row[:] = np.exp(row - row.max())
            row /= row.sum()
        attended[block, :H] = np.dot(scores[c], enc_out[block])
    attention = np.dot(attended, _mat(flat, starts, ATT_OUT, 2 * H).T)
    x2 = np.empty((rows, H), dtype=np.float32)
    for r in range(rows):
        for k in range(H):
            attention[r, k] = _tanh(attention[r, k])
            x2[r, k] = (x1[r, k] + attention[r, k]) * half
    logits = np.dot(x2, _mat(flat, starts, OUT_W, H).T) + _vec(flat, starts, OUT_B)
    nll = 0.0
    probabilities = np.empty((rows, vocabulary), dtype=np.float32)
    for r in range(rows):
        row = logits[r] - logits[r].max()
        log_sum = np.float32(np.log(np.exp(row).sum()))
        probabilities[r] = np.exp(row - log_sum)
        nll -= row[source[r // length, r % length]] - log_sum
    nll /= rows
    # ------------------------------------------------------------------ predictor
    z0 = np.dot(embedding, _mat(flat, starts, MLP0_W, H).T) + _vec(flat, starts, MLP0_B)
    a0 = np.maximum(z0, np.float32(0.0)) * noise_mlp0
    z1 = np.dot(a0, _mat(flat, starts, MLP1_W, M).T) + _vec(flat, starts, MLP1_B)
    a1 = np.maximum(z1, np.float32(0.0)) * noise_mlp1
    summed = (embedding + a1) * half
    predicted = np.dot(summed, _vec(flat, starts, REG_W)) + flat[starts[REG_B]]
    error = predicted - target
    mse = (error * error).mean()
    loss = np.float32(trade_off) * mse + np.float32(1.0 - trade_off) * np.float32(nll)
    # ------------------------------------------------------------------ backward
    grads = np.zeros_like(flat)
    # decoder output: log_softmax + NLL
    weight = np.float32((1.0 - trade_off) / rows)
    d_logits = probabilities * weight
    for r in range(rows):
        d_logits[r, source[r // length, r % length]] -= weight
    np.dot(d_logits.T, x2, _mat(grads, starts, OUT_W, H))
    _vec(grads, starts, OUT_B)[:] = d_logits.sum(axis=0)
    d_x2 = np.dot(d_logits, _mat(flat, starts, OUT_W, H))
    d_attention = np.empty((rows, H), dtype=np.float32)
    for r in range(rows):
        for k in range(H):
            d_x2[r, k] *= half  # now the gradient of x1 through the residual, and of tanh's output
            d_attention[r, k] = d_x2[r, k] * (np.float32(1.0) - attention[r, k] * attention[r, k])
    np.dot(d_attention.T, attended, _mat(grads, starts, ATT_OUT, 2 * H))
    d_attended = np.dot(d_attention, _mat(flat, starts, ATT_OUT, 2 * H))
    d_x1 = d_x2 + d_attended[:, H:]
    d_context = d_attended[:, :H].copy()
    d_enc_out = np.zeros((rows, H), dtype=np.float32)
    d_query = np.empty((rows, H), dtype=np.float32)
    for c in range(count):
        block = slice(c * length, (c + 1) * length)
        d_scores = np.dot(d_context[block], enc_out[block].T)
        d_enc_out[block] += np.dot(scores[c].T, d_context[block])
        for t in range(length):  # softmax backward
            d_scores[t] = scores[c, t] * (d_scores[t] - (d_scores[t] * scores[c, t]).sum())
        d_query[block] = np.dot(d_scores, enc_out[block])
        d_enc_out[block] += np.dot(d_scores.T, query[block])
    np.dot(d_query.T, x1, _mat(grads, starts, ATT_IN, H))
    d_x1 += np.dot(d_query, _mat(flat, starts, ATT_IN, H))
    d_hs = lstm_buffers[2, 3]
    for c in range(count):
        for t in range(length):
            d_hs[t, c] = d_x1[c * length + t] * half  # x1 = (x_dec + LSTM output) sqrt(0.5)
    d_x_dec, d_h0, d_c0, d_w_ih, d_w_hh, d_bias = lstm_backward(
        x_dec, embedding, embedding, _mat(flat, starts, D_IH, H), _mat(flat, starts, D_HH, H), False, acts[2],
        lstm_buffers[2, 0], lstm_buffers[2, 1], lstm_buffers[2, 2], d_hs)
    _mat(grads, starts, D_IH, H)[:] = d_w_ih
    _mat(grads, starts, D_HH, H)[:] = d_w_hh
    _vec(grads, starts, D_BIH)[:] = d_bias
    _vec(grads, starts, D_BHH)[:] = d_bias
    g_e_dec = _mat(grads, starts, E_DEC, H)
    for c in range(count):
        for t in range(length):
            token = 0 if t == 0 else source[c, t - 1]
            for k in range(H):
                g_e_dec[token, k] += (d_x_dec[t, c, k] + d_hs[t, c, k]) * noise_decoder[c, t, k]
    d_embedding = d_h0 + d_c0
    # predictor: MSE
    d_predicted = np.float32(2.0 * trade_off / count) * error
    _vec(grads, starts, REG_W)[:] = np.dot(d_predicted, summed)
    grads[starts[REG_B]] = d_predicted.sum()
    d_summed = np.outer(d_predicted, _vec(flat, starts, REG_W)) * half
    d_embedding += d_summed
    d_z1 = d_summed * noise_mlp1 * (z1 > 0)
    np.dot(d_z1.T, a0, _mat(grads, starts, MLP1_W, M))
    _vec(grads, starts, MLP1_B)[:] = d_z1.sum(axis=0)
    d_z0 = np.dot(d_z1, _mat(flat, starts, MLP1_W, M)) * noise_mlp0 * (z0 > 0)
    np.dot(d_z0.T, embedding, _mat(grads, starts, MLP0_W, H))
    _vec(grads, starts, MLP0_B)[:] = d_z0.sum(axis=0)
    d_embedding += np.dot(d_z0, _mat(flat, starts, MLP0_W, H))
    # pooling, the encoder's normalization and projection
    d_pooled = np.empty((count, H), dtype=np.float32)
    _normalize_rows_backward(d_embedding, embedding, norms_m, d_pooled)
    d_pooled /= np.float32(length)
    for c in range(count):
        for t in range(length):
            d_enc_out[c * length + t] += d_pooled[c]
    d_u = np.empty((rows, H), dtype=np.float32)
    _normalize_rows_backward(d_enc_out, enc_out, norms_u, d_u)
    np.dot(d_u.T, both, _mat(grads, starts, PROJ_W, 2 * H))
    _vec(grads, starts, PROJ_B)[:] = d_u.sum(axis=0)
    d_both = np.dot(d_u, _mat(flat, starts, PROJ_W, 2 * H))
    d_x_enc = np.empty((length, count, H), dtype=np.float32)
    for c in range(count):
        for t in range(length):
            lstm_buffers[0, 3, t, c] = d_both[c * length + t, :H]
            lstm_buffers[1, 3, t, c] = d_both[c * length + t, H:]
            d_x_enc[t, c] = d_u[c * length + t]
    for direction in range(2):
        w = F_IH if direction == 0 else B_IH
        d_x, d_h0, d_c0, d_w_ih, d_w_hh, d_bias = lstm_backward(
            x_enc, zero_state, zero_state, _mat(flat, starts, w, H), _mat(flat, starts, w + 1, H), direction == 1,
            acts[direction], lstm_buffers[direction, 0], lstm_buffers[direction, 1], lstm_buffers[direction, 2],
            lstm_buffers[direction, 3])
        d_x_enc += d_x
        _mat(grads, starts, w, H)[:] = d_w_ih
        _mat(grads, starts, w + 1, H)[:] = d_w_hh
        _vec(grads, starts, w + 2)[:] = d_bias
        _vec(grads, starts, w + 3)[:] = d_bias
    g_e_enc = _mat(grads, starts, E_ENC, H)
    for c in range(count):
        for t in range(length):
            for k in range(H):
                g_e_enc[source[c, t], k] += d_x_enc[t, c, k] * noise_encoder[c, t, k]
    # ------------------------------------------------------------------ clip, Adam
    total = 0.0
    for i in range(grads.shape[0]):
        total += np.float64(grads[i]) * grads[i]
    coefficient = np.float32(grad_bound / (np.sqrt(total) + 1e-6))
    if coefficient < 1:
        grads *= coefficient
    _adam(flat, grads, exp_avg, exp_avg_sq, step, learning_rate, weight_decay, beta1, beta2, eps)
    return loss
