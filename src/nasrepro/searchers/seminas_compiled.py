"""SemiNAS's / NAO's training step (`SemiNAS._train`) compiled for the CPU with Numba: the encoder-predictor-
decoder's (`seminas.EPD`) forward pass, a hand-written backward pass, gradient-norm clipping and
torch.optim.Adam's update (L2 weight decay), one compiled call per step (`train_step`). The shuffles and
dropout masks stay torch's draws, made by `SemiNAS._train_compiled` from the global torch generator in the
order the torch loop makes them (per epoch the shuffle; per step the encoder's and decoder's embedding masks,
then the predictor's two; the masks by `dropout_mask`, torch's `bernoulli_` reproduced bit for bit from the
generator's state), so both loops train on the same batches with the same masks and their loss curves
agree to float32 rounding (tests/test_seminas_compiled.py).

Where a step's time goes (`benchmarks/seminas_step.py`, one core): unlike the GIN's, a SemiNAS step (batch 100,
hidden 64) is mostly arithmetic: ~2.0 GFLOP on NAS-Bench-101's 27 tokens, ~0.43 on NAS-Bench-201's 6, 80% of it
in the three LSTM layers (the encoder's two directions, the decoder). Sampled with perf (NAS-Bench-101): 72% of a
step in OpenBLAS's sgemm (51% its kernel at 80-95 GFLOP/s, 17% packing), 24% in these loops (the gates and
their backward 11%). So the gain is bounded by the step's arithmetic at this core's fp32 GEMM rate (~88-100
GFLOP/s: NAS-Bench-101 >= ~22 ms a step, NAS-Bench-201 >= ~4.9 ms), not by overhead; the torch loop takes ~52
and ~16.6 ms, so no fp32 implementation of these maths reaches 5x on one core (at most ~2.3x and ~3.4x).
The LSTMs here: one GEMM for every time step's input projection, one small GEMM per time step for the
recurrence (none from the encoder's zero initial state), large GEMMs for the weight and input gradients, the
gates in vectorized loops (each gate a view indexed from 0: indices LLVM cannot prove non-negative made it
gather, 2.2x slower).

LSTM (torch's gate order i, f, g, o): gates = x W_ih^T + b_ih + h W_hh^T + b_hh; i, f, o = sigmoid, g = tanh;
c' = f c + i g; h' = o tanh(c'). The sigmoids and tanh are float32 with Cephes' polynomials and an exp whose
2^n is built from its bits, so that their loops vectorize (within 2.4 ulp of the exact values; torch's are
within 1.9). The GEMMs are Numba's `np.dot` (scipy's OpenBLAS): the caller limits its
threads (threadpoolctl) as it limits torch's. `lstm(rnn, x, state)` runs the LSTM kernels as a
`torch.autograd.Function` in place of `rnn(x, state)[0]` (tested against `nn.LSTM`).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

_JIT = dict(cache=True, fastmath=True, error_model="numpy")  # numpy's error model: no zero-division branches,
# so the gate loops vectorize


@intrinsic
def _bits_to_float32(typingctx, bits):
    """The float32 whose bits are the int32 `bits`."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@numba.njit(inline="always", **_JIT)
def _exp(x):
    """float32 exp without a libm call (so that loops of it vectorize): x = n ln2 + r, e^r by Cephes' expf
    polynomial, 2^n from its bits; x clipped to [-87, 88] (float32's normal range)."""
    x = x if x > np.float32(-87.0) else np.float32(-87.0)
    x = x if x < np.float32(88.0) else np.float32(88.0)
    n = np.floor(x * np.float32(1.44269504088896341) + np.float32(0.5))
    r = x - n * np.float32(0.693359375) + n * np.float32(2.12194440e-4)
    p = ((((np.float32(1.9875691500e-4) * r + np.float32(1.3981999507e-3)) * r + np.float32(8.3334519073e-3)) * r
          + np.float32(4.1665795894e-2)) * r + np.float32(1.6666665459e-1)) * r + np.float32(5.0000001201e-1)
    p = p * r * r + r + np.float32(1.0)
    return p * _bits_to_float32((np.int32(n) + np.int32(127)) << np.int32(23))


@numba.njit(inline="always", **_JIT)
def _sigmoid(x):
    return np.float32(1.0) / (np.float32(1.0) + _exp(-x))


@numba.njit(inline="always", **_JIT)
def _tanh(x):
    """Cephes' tanhf: an odd polynomial below 0.625, 1 - 2 / (e^2|x| + 1) above."""
    a = abs(x)
    z = x * x
    small = ((((np.float32(-5.70498872745e-3) * z + np.float32(2.06390887954e-2)) * z
               - np.float32(5.37397155531e-2)) * z + np.float32(1.33314422036e-1)) * z
             - np.float32(3.33332819422e-1)) * z * x + x
    large = np.float32(1.0) - np.float32(2.0) / (_exp(a + a) + np.float32(1.0))
    large = large if x >= 0 else -large
    return small if a < np.float32(0.625) else large


@numba.njit(**_JIT)
def _cell(pre, recurrent, bias, c_prev, acts, c_out, tanh_c, h_out):
    """One time step's gates from their input part `pre` and recurrent part; writes the activated gates
    (into `acts`), c', tanh(c'), h'. Shapes (B, 4H) and (B, H). (Row by row; each gate a view indexed from 0,
    so that LLVM proves the indices non-negative and vectorizes without gathers.)"""
    rows, hidden = c_prev.shape
    for b in range(rows):
        p, r, a = pre[b], recurrent[b], acts[b]
        for k in range(4 * hidden):
            a[k] = p[k] + r[k] + bias[k]
        a_i, a_f, a_g, a_o = a[:hidden], a[hidden : 2 * hidden], a[2 * hidden : 3 * hidden], a[3 * hidden :]
        c, t, h, cp = c_out[b], tanh_c[b], h_out[b], c_prev[b]
        for j in range(hidden):
            i, f, g, o = _sigmoid(a_i[j]), _sigmoid(a_f[j]), _tanh(a_g[j]), _sigmoid(a_o[j])
            a_i[j], a_f[j], a_g[j], a_o[j] = i, f, g, o
            c[j] = f * cp[j] + i * g
            t[j] = _tanh(c[j])
            h[j] = o * t[j]


@numba.njit(cache=True)
def _take(arena, used, shape0, shape1, shape2):
    """A (shape0, shape1, shape2) float32 view of the arena's next free floats (`used[0]`: floats taken so far):
    the step's buffers come from one arena allocated per training phase, not from malloc at every step (whose
    large blocks the kernel would map and zero again each time)."""
    size = shape0 * shape1 * shape2
    start = used[0]
    if start + size > arena.shape[0]:
        raise ValueError("seminas_compiled: workspace too small")
    used[0] = start + size
    return arena[start : start + size].reshape(shape0, shape1, shape2)


# ------------------------------------------------------------------------------ torch's dropout draws
# torch's CPU `bernoulli_(keep)` (a float tensor, a scalar probability) draws, element by element in memory order,
# two outputs r1, r2 of the generator's mt19937 and keeps the element if ((r1 << 32 | r2) mod 2^53) 2^-53 < keep.
# The same draws here, from the generator's state (`torch.get_rng_state()`: the 624 words, `left`, `next`),
# written back after, so that the torch loop's later draws (the next epoch's shuffle) see the same state.
_MT_WORDS, _MT_SHIFT = 624, 397


@numba.njit(cache=True)
def _mt_twist(words):
    """at::mt19937's next_state."""
    for i in range(_MT_WORDS - _MT_SHIFT):
        y = (words[i] & 0x80000000) | (words[i + 1] & 0x7FFFFFFF)
        words[i] = words[i + _MT_SHIFT] ^ (y >> 1) ^ ((y & 1) * 0x9908B0DF)
    for i in range(_MT_WORDS - _MT_SHIFT, _MT_WORDS - 1):
        y = (words[i] & 0x80000000) | (words[i + 1] & 0x7FFFFFFF)
        words[i] = words[i + _MT_SHIFT - _MT_WORDS] ^ (y >> 1) ^ ((y & 1) * 0x9908B0DF)
    y = (words[_MT_WORDS - 1] & 0x80000000) | (words[0] & 0x7FFFFFFF)
    words[_MT_WORDS - 1] = words[_MT_SHIFT - 1] ^ (y >> 1) ^ ((y & 1) * 0x9908B0DF)


@numba.njit(cache=True)
def _mt_temper(words, tempered):
    """Every word's output (at::mt19937's tempering), a vectorized loop."""
    for i in range(_MT_WORDS):
        y = words[i]
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        tempered[i] = y ^ (y >> 18)


@numba.njit(cache=True)
def dropout_mask(words, position, keep, scale, out):
    """F.dropout's multipliers as torch draws them (`empty(shape).bernoulli_(keep).div_(keep)`): `scale` (torch's
    float32 1 / keep) or 0, into the float32 array `out` in memory order; `words` (int64 holding the 32-bit state)
    and `position` ([left, next]) advanced as at::mt19937 advances."""
    flat = out.reshape(-1)
    tempered = np.empty(_MT_WORDS, np.int64)
    _mt_temper(words, tempered)
    left, index = position[0], position[1]
    for i in range(flat.shape[0]):
        left -= 1
        if left == 0:
            _mt_twist(words)
            _mt_temper(words, tempered)
            left, index = _MT_WORDS, 0
        high = tempered[index] & 0x1FFFFF  # the low 53 bits of r1 << 32 | r2
        index += 1
        left -= 1
        if left == 0:
            _mt_twist(words)
            _mt_temper(words, tempered)
            left, index = _MT_WORDS, 0
        low = tempered[index]
        index += 1
        flat[i] = scale if (high * 4294967296.0 + low) * 1.1102230246251565e-16 < keep else np.float32(0.0)
    position[0], position[1] = left, index


def mt_state(state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """torch.get_rng_state()'s bytes (CPUGeneratorImplState) -> (the 624 words as int64, [left, next])."""
    raw = state.tobytes()
    left = np.frombuffer(raw, np.int32, 1, 8)[0]
    position = np.frombuffer(raw, np.uint64, 1, 16)[0]
    return np.frombuffer(raw, np.uint64, _MT_WORDS, 24).astype(np.int64), np.array([left, position], np.int64)


def with_mt_state(state: np.ndarray, words: np.ndarray, position: np.ndarray) -> np.ndarray:
    """torch.get_rng_state()'s bytes with the generator's words and [left, next] replaced."""
    raw = bytearray(state.tobytes())
    raw[8:12] = np.int32(position[0]).tobytes()
    raw[16:24] = np.uint64(position[1]).tobytes()
    raw[24 : 24 + 8 * _MT_WORDS] = words.astype(np.uint64).tobytes()
    return np.frombuffer(bytes(raw), np.uint8).copy()


def arena_size(rows: int, length: int, hidden: int, mlp_hidden: int, vocabulary: int) -> int:
    """Floats `train_step` takes from its arena for batches of `rows` sequences of `length` tokens."""
    positions = rows * length
    lstm = 3 * positions * 4 * hidden + 3 * positions * 4 * hidden + 3 * 4 * positions * hidden  # acts, pre, buffers
    return (lstm + positions * (4 * hidden + hidden) + rows * 4 * hidden  # one LSTM's backward temporaries
            + positions * (26 * hidden + 3 * vocabulary + length) + length * length
            + rows * (16 * hidden + 4 * mlp_hidden) + 1024)


@numba.njit(cache=True)
def lstm_forward(x, h0, c0, w_ih, w_hh, bias, reverse, acts, cs, tanh_cs, hs, arena, used):
    """One direction over time-major `x` (T, B, I) from state (h0, c0) (B, H); `bias` = b_ih + b_hh. Fills
    acts (T, B, 4H: the activated gates), cs, tanh_cs and hs (T, B, H: the outputs), which backward reads.
    Its temporaries come from `arena` (given back at the end)."""
    steps, rows, inputs = x.shape
    gates = acts.shape[2]
    mark = used[0]
    pre = _take(arena, used, steps, rows, gates)
    np.dot(x.reshape(steps * rows, inputs), w_ih.T, pre.reshape(steps * rows, gates))  # every step's input part
    recurrent = _take(arena, used, 1, rows, gates)[0]
    zero_start = not h0.any()  # the encoder's: no recurrent part at its first step
    h, c = h0, c0
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        if s == 0 and zero_start:
            recurrent[:] = 0
        else:
            np.dot(h, w_hh.T, recurrent)
        _cell(pre[t], recurrent, bias, c, acts[t], cs[t], tanh_cs[t], hs[t])
        h, c = hs[t], cs[t]
    used[0] = mark


@numba.njit(**_JIT)
def _cell_backward(d_out, d_h, d_c, acts, c_prev, tanh_c, d_gates):
    """Through one time step: d_h (from the step after) += d_out; d_c (from the step after) becomes the
    gradient of c_prev; d_gates the gradient of the gates' pre-activations. (Gates as views, as in `_cell`.)"""
    rows, hidden = d_c.shape
    one = np.float32(1.0)
    for b in range(rows):
        a, t, dg, dc, cp, dh, do = acts[b], tanh_c[b], d_gates[b], d_c[b], c_prev[b], d_h[b], d_out[b]
        a_i, a_f, a_g, a_o = a[:hidden], a[hidden : 2 * hidden], a[2 * hidden : 3 * hidden], a[3 * hidden :]
        d_i, d_f, d_g, d_o = dg[:hidden], dg[hidden : 2 * hidden], dg[2 * hidden : 3 * hidden], dg[3 * hidden :]
        for j in range(hidden):
            i, f, g, o = a_i[j], a_f[j], a_g[j], a_o[j]
            grad_h = do[j] + dh[j]
            grad_c = dc[j] + grad_h * o * (one - t[j] * t[j])
            d_i[j] = grad_c * g * i * (one - i)
            d_f[j] = grad_c * cp[j] * f * (one - f)
            d_g[j] = grad_c * i * (one - g * g)
            d_o[j] = grad_h * t[j] * o * (one - o)
            dc[j] = grad_c * f


@numba.njit(cache=True)
def lstm_backward(x, h0, c0, w_ih, w_hh, reverse, acts, cs, tanh_cs, hs, d_hs, d_x, d_h, d_c, d_w_ih, d_w_hh,
                  d_bias, state_grad, arena, used):
    """The gradients of one direction's x, h0, c0, w_ih, w_hh and bias (written into d_x, d_h, d_c, d_w_ih,
    d_w_hh, d_bias) from those of its outputs `d_hs` (T, B, H); the final state's gradient is zero (SemiNAS
    discards it). Without `state_grad` d_h is left unfinished (the encoder's zero initial state needs none)."""
    steps, rows, inputs = x.shape
    hidden = h0.shape[1]
    mark = used[0]
    d_gates = _take(arena, used, steps, rows, 4 * hidden)
    h_prev = _take(arena, used, steps, rows, hidden)  # each step's incoming h
    d_h[:] = 0
    d_c[:] = 0
    for s in range(steps):
        t = s if reverse else steps - 1 - s  # time steps in the reverse of the forward's order
        first = t == steps - 1 if reverse else t == 0
        before = t + 1 if reverse else t - 1
        c_prev = c0 if first else cs[before]
        h_prev[t] = h0 if first else hs[before]
        _cell_backward(d_hs[t], d_h, d_c, acts[t], c_prev, tanh_cs[t], d_gates[t])
        if s < steps - 1 or state_grad:
            np.dot(d_gates[t], w_hh, d_h)
    flat = d_gates.reshape(steps * rows, 4 * hidden)
    np.dot(flat, w_ih, d_x.reshape(steps * rows, inputs))
    np.dot(flat.T, x.reshape(steps * rows, inputs), d_w_ih)
    previous = h_prev.reshape(steps * rows, hidden)
    if h0.any():
        np.dot(flat.T, previous, d_w_hh)
    elif steps == 1:
        d_w_hh[:] = 0
    elif reverse:  # a zero initial state adds nothing: leave out the first step's rows
        np.dot(flat[: (steps - 1) * rows].T, previous[: (steps - 1) * rows], d_w_hh)
    else:
        np.dot(flat[rows:].T, previous[rows:], d_w_hh)
    d_bias[:] = 0
    for r in range(steps * rows):
        for k in range(4 * hidden):
            d_bias[k] += flat[r, k]
    used[0] = mark


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
            arena = np.empty((steps + 1) * rows * 5 * hidden, dtype=np.float32)
            lstm_forward(*arrays, bias, reverse, acts, cs, tanh_cs, hs, arena, np.zeros(1, dtype=np.int64))
            ctx.saved = (arrays, reverse, acts, cs, tanh_cs, hs)
            return torch.from_numpy(hs).transpose(0, 1)

        @staticmethod
        def backward(ctx, d_out):
            arrays, reverse, acts, cs, tanh_cs, hs = ctx.saved
            d_hs = d_out.transpose(0, 1).contiguous().numpy()
            x, h0 = arrays[0], arrays[1]
            d_x, d_h0, d_c0 = np.empty_like(x), np.empty_like(h0), np.empty_like(h0)
            d_w_ih, d_w_hh, d_bias = np.empty_like(arrays[3]), np.empty_like(arrays[4]), np.empty(len(arrays[3]), np.float32)
            arena = np.empty(x.shape[0] * x.shape[1] * 5 * h0.shape[1], dtype=np.float32)
            lstm_backward(*arrays, reverse, acts, cs, tanh_cs, hs, d_hs, d_x, d_h0, d_c0, d_w_ih, d_w_hh, d_bias, True,
                          arena, np.zeros(1, dtype=np.int64))
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


@numba.njit(cache=True)
def _set(target, values):
    """target[:] = values, element by element (a slice assignment to a view returned by another compiled
    function is not always written through)."""
    for i in range(target.shape[0]):
        target[i] = values[i]


@numba.njit(**_JIT)
def _tanh_residual(attention, x1, x2, half):
    """attention = tanh(attention); x2 = (x1 + attention) sqrt(0.5)."""
    for r in range(attention.shape[0]):
        for k in range(attention.shape[1]):
            attention[r, k] = _tanh(attention[r, k])
            x2[r, k] = (x1[r, k] + attention[r, k]) * half


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
def train_step(flat, starts, grads, exp_avg, exp_avg_sq, step, source, target, noise_encoder, noise_decoder,
               noise_mlp0, noise_mlp1, hidden, mlp_hidden, learning_rate, weight_decay, beta1, beta2, eps, trade_off,
               grad_bound, arena):
    """One step of `SemiNAS._train` on the rows `source` (C, L) with z-scored `target` (C): forward, loss,
    backward (into `grads`), gradient-norm clip, Adam (its step `step`, from 1), in place on `flat`, `exp_avg`,
    `exp_avg_sq`. The dropout multipliers (0 or 1 / (1 - p)) of the encoder's and decoder's embeddings
    (C, L, H) and of the predictor's two layers (C, M), (C, H) are torch's draws. Buffers come from `arena`
    (`arena_size` floats). Returns the loss."""
    count, length = source.shape
    rows = count * length  # batch-major rows r = c * length + t; the LSTMs run time-major (t, c)
    H, M = hidden, mlp_hidden
    vocabulary = starts[OUT_B + 1] - starts[OUT_B]
    half = np.float32(np.sqrt(0.5))
    one = np.float32(1.0)
    used = np.zeros(1, dtype=np.int64)
    zero_state = _take(arena, used, 1, count, H)[0]
    zero_state[:] = 0
    # ------------------------------------------------------------------ encoder
    e_enc = _mat(flat, starts, E_ENC, H)
    x_enc = _take(arena, used, length, count, H)
    for c in range(count):
        for t in range(length):
            for k in range(H):
                x_enc[t, c, k] = e_enc[source[c, t], k] * noise_encoder[c, t, k]
    acts = [_take(arena, used, length, count, 4 * H) for _ in range(3)]  # per LSTM: the gates
    cs = [_take(arena, used, length, count, H) for _ in range(3)]  # c, tanh(c), h, the gradient of h
    tanh_cs = [_take(arena, used, length, count, H) for _ in range(3)]
    hs = [_take(arena, used, length, count, H) for _ in range(3)]
    d_hs = [_take(arena, used, length, count, H) for _ in range(3)]
    for direction in range(2):
        w = F_IH if direction == 0 else B_IH
        bias = _vec(flat, starts, w + 2) + _vec(flat, starts, w + 3)
        lstm_forward(x_enc, zero_state, zero_state, _mat(flat, starts, w, H), _mat(flat, starts, w + 1, H), bias,
                     direction == 1, acts[direction], cs[direction], tanh_cs[direction], hs[direction], arena, used)
    both = _take(arena, used, 1, rows, 2 * H)[0]
    for c in range(count):
        for t in range(length):
            both[c * length + t, :H] = hs[0][t, c]
            both[c * length + t, H:] = hs[1][t, c]
    u = _take(arena, used, 1, rows, H)[0]
    np.dot(both, _mat(flat, starts, PROJ_W, 2 * H).T, u)
    proj_b = _vec(flat, starts, PROJ_B)
    for c in range(count):
        for t in range(length):
            for k in range(H):
                u[c * length + t, k] += proj_b[k] + x_enc[t, c, k]
    enc_out = _take(arena, used, 1, rows, H)[0]
    norms_u = _take(arena, used, 1, 1, rows)[0, 0]
    _normalize_rows(u, enc_out, norms_u)
    pooled = _take(arena, used, 1, count, H)[0]
    pooled[:] = 0
    for c in range(count):
        for t in range(length):
            for k in range(H):
                pooled[c, k] += enc_out[c * length + t, k]
    pooled /= np.float32(length)
    embedding = _take(arena, used, 1, count, H)[0]
    norms_m = _take(arena, used, 1, 1, count)[0, 0]
    _normalize_rows(pooled, embedding, norms_m)
    # ------------------------------------------------------------------ decoder (teacher forcing from token 0)
    e_dec = _mat(flat, starts, E_DEC, H)
    x_dec = _take(arena, used, length, count, H)
    for c in range(count):
        for t in range(length):
            token = 0 if t == 0 else source[c, t - 1]
            for k in range(H):
                x_dec[t, c, k] = e_dec[token, k] * noise_decoder[c, t, k]
    bias = _vec(flat, starts, D_BIH) + _vec(flat, starts, D_BHH)
    lstm_forward(x_dec, embedding, embedding, _mat(flat, starts, D_IH, H), _mat(flat, starts, D_HH, H), bias, False,
                 acts[2], cs[2], tanh_cs[2], hs[2], arena, used)
    attended = _take(arena, used, 1, rows, 2 * H)[0]  # [context, x1]
    x1 = _take(arena, used, 1, rows, H)[0]
    for c in range(count):
        for t in range(length):
            for k in range(H):
                x1[c * length + t, k] = (x_dec[t, c, k] + hs[2][t, c, k]) * half
    attended[:, H:] = x1
    query = _take(arena, used, 1, rows, H)[0]
    np.dot(x1, _mat(flat, starts, ATT_IN, H).T, query)
    scores = _take(arena, used, count, length, length)
    for c in range(count):
        block = slice(c * length, (c + 1) * length)
        np.dot(query[block], enc_out[block].T, scores[c])
        for t in range(length):
            row = scores[c, t]
            largest = row.max()
            total = np.float32(0.0)
            for j in range(length):
                row[j] = np.exp(row[j] - largest)
                total += row[j]
            for j in range(length):
                row[j] /= total
        attended[block, :H] = np.dot(scores[c], enc_out[block])
    attention = _take(arena, used, 1, rows, H)[0]
    np.dot(attended, _mat(flat, starts, ATT_OUT, 2 * H).T, attention)
    x2 = _take(arena, used, 1, rows, H)[0]
    _tanh_residual(attention, x1, x2, half)
    logits = _take(arena, used, 1, rows, vocabulary)[0]
    np.dot(x2, _mat(flat, starts, OUT_W, H).T, logits)
    out_b = _vec(flat, starts, OUT_B)
    nll = 0.0
    for r in range(rows):  # log_softmax; `logits` becomes the probabilities
        row = logits[r]
        largest = row[0] + out_b[0]
        for k in range(vocabulary):
            row[k] += out_b[k]
            largest = max(largest, row[k])
        total = np.float32(0.0)
        for k in range(vocabulary):
            total += np.exp(row[k] - largest)
        log_sum = np.float32(np.log(total))
        nll -= row[source[r // length, r % length]] - largest - log_sum
        for k in range(vocabulary):
            row[k] = np.exp(row[k] - largest - log_sum)
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
    grads[:] = 0
    # decoder output: log_softmax + NLL
    weight = np.float32((1.0 - trade_off) / rows)
    d_logits = logits
    for r in range(rows):
        for k in range(vocabulary):
            d_logits[r, k] *= weight
        d_logits[r, source[r // length, r % length]] -= weight
    np.dot(d_logits.T, x2, _mat(grads, starts, OUT_W, H))
    g_out_b = _vec(grads, starts, OUT_B)
    for r in range(rows):
        for k in range(vocabulary):
            g_out_b[k] += d_logits[r, k]
    d_x1 = _take(arena, used, 1, rows, H)[0]  # first the gradient of x2
    np.dot(d_logits, _mat(flat, starts, OUT_W, H), d_x1)
    d_attention = _take(arena, used, 1, rows, H)[0]
    for r in range(rows):
        for k in range(H):
            d_x1[r, k] *= half  # the gradient of x1 through the residual, and of tanh's output
            d_attention[r, k] = d_x1[r, k] * (one - attention[r, k] * attention[r, k])
    np.dot(d_attention.T, attended, _mat(grads, starts, ATT_OUT, 2 * H))
    d_attended = _take(arena, used, 1, rows, 2 * H)[0]
    np.dot(d_attention, _mat(flat, starts, ATT_OUT, 2 * H), d_attended)
    d_context = _take(arena, used, 1, rows, H)[0]
    for r in range(rows):
        for k in range(H):
            d_x1[r, k] += d_attended[r, H + k]
            d_context[r, k] = d_attended[r, k]
    d_enc_out = _take(arena, used, 1, rows, H)[0]
    d_query = _take(arena, used, 1, rows, H)[0]
    d_scores = _take(arena, used, 1, length, length)[0]
    for c in range(count):
        block = slice(c * length, (c + 1) * length)
        np.dot(d_context[block], enc_out[block].T, d_scores)
        np.dot(scores[c].T, d_context[block], d_enc_out[block])
        for t in range(length):  # softmax backward
            dot = np.float32(0.0)
            for j in range(length):
                dot += d_scores[t, j] * scores[c, t, j]
            for j in range(length):
                d_scores[t, j] = scores[c, t, j] * (d_scores[t, j] - dot)
        np.dot(d_scores, enc_out[block], d_query[block])
        d_enc_out[block] += np.dot(d_scores.T, query[block])
    np.dot(d_query.T, x1, _mat(grads, starts, ATT_IN, H))
    d_x1 += np.dot(d_query, _mat(flat, starts, ATT_IN, H))
    for c in range(count):
        for t in range(length):
            for k in range(H):
                d_hs[2][t, c, k] = d_x1[c * length + t, k] * half  # x1 = (x_dec + LSTM output) sqrt(0.5)
    d_x_dec = _take(arena, used, length, count, H)
    d_h0 = _take(arena, used, 1, count, H)[0]
    d_c0 = _take(arena, used, 1, count, H)[0]
    lstm_backward(x_dec, embedding, embedding, _mat(flat, starts, D_IH, H), _mat(flat, starts, D_HH, H), False,
                  acts[2], cs[2], tanh_cs[2], hs[2], d_hs[2], d_x_dec, d_h0, d_c0, _mat(grads, starts, D_IH, H),
                  _mat(grads, starts, D_HH, H), _vec(grads, starts, D_BIH), True, arena, used)
    _set(_vec(grads, starts, D_BHH), _vec(grads, starts, D_BIH))
    g_e_dec = _mat(grads, starts, E_DEC, H)
    for c in range(count):
        for t in range(length):
            token = 0 if t == 0 else source[c, t - 1]
            for k in range(H):
                g_e_dec[token, k] += (d_x_dec[t, c, k] + d_hs[2][t, c, k]) * noise_decoder[c, t, k]
    d_embedding = d_h0 + d_c0
    # predictor: MSE
    d_predicted = np.float32(2.0 * trade_off / count) * error
    _set(_vec(grads, starts, REG_W), np.dot(d_predicted, summed))
    grads[starts[REG_B]] = d_predicted.sum()
    d_summed = np.outer(d_predicted, _vec(flat, starts, REG_W)) * half
    d_embedding += d_summed
    d_z1 = d_summed * noise_mlp1 * (z1 > 0)
    np.dot(d_z1.T, a0, _mat(grads, starts, MLP1_W, M))
    _set(_vec(grads, starts, MLP1_B), d_z1.sum(axis=0))
    d_z0 = np.dot(d_z1, _mat(flat, starts, MLP1_W, M)) * noise_mlp0 * (z0 > 0)
    np.dot(d_z0.T, embedding, _mat(grads, starts, MLP0_W, H))
    _set(_vec(grads, starts, MLP0_B), d_z0.sum(axis=0))
    d_embedding += np.dot(d_z0, _mat(flat, starts, MLP0_W, H))
    # pooling, the encoder's normalization and projection
    d_pooled = _take(arena, used, 1, count, H)[0]
    _normalize_rows_backward(d_embedding, embedding, norms_m, d_pooled)
    d_pooled /= np.float32(length)
    for c in range(count):
        for t in range(length):
            for k in range(H):
                d_enc_out[c * length + t, k] += d_pooled[c, k]
    d_u = _take(arena, used, 1, rows, H)[0]
    _normalize_rows_backward(d_enc_out, enc_out, norms_u, d_u)
    np.dot(d_u.T, both, _mat(grads, starts, PROJ_W, 2 * H))
    g_proj_b = _vec(grads, starts, PROJ_B)
    for r in range(rows):
        for k in range(H):
            g_proj_b[k] += d_u[r, k]
    d_both = _take(arena, used, 1, rows, 2 * H)[0]
    np.dot(d_u, _mat(flat, starts, PROJ_W, 2 * H), d_both)
    d_x_enc = _take(arena, used, length, count, H)
    for c in range(count):
        for t in range(length):
            for k in range(H):
                d_hs[0][t, c, k] = d_both[c * length + t, k]
                d_hs[1][t, c, k] = d_both[c * length + t, H + k]
                d_x_enc[t, c, k] = d_u[c * length + t, k]
    d_x = _take(arena, used, length, count, H)
    for direction in range(2):
        w = F_IH if direction == 0 else B_IH
        lstm_backward(x_enc, zero_state, zero_state, _mat(flat, starts, w, H), _mat(flat, starts, w + 1, H),
                      direction == 1, acts[direction], cs[direction], tanh_cs[direction], hs[direction],
                      d_hs[direction], d_x, d_h0, d_c0, _mat(grads, starts, w, H), _mat(grads, starts, w + 1, H),
                      _vec(grads, starts, w + 2), False, arena, used)
        _set(_vec(grads, starts, w + 3), _vec(grads, starts, w + 2))
        d_x_enc += d_x
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
