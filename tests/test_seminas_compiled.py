"""The Numba LSTM kernels of `searchers/seminas_compiled.py` against torch's `nn.LSTM`: outputs and every
gradient (input, initial state, weights, biases) to float32 rounding, one or both directions, from zeros or
a given state. (The kernels are not wired into SemiNAS's training loop: on this project's CPUs oneDNN's LSTM
is as fast: benchmarks/RESULTS-predictor-speed.md.)"""

from __future__ import annotations

import pytest
import torch

from nasrepro.searchers import seminas_compiled


@pytest.mark.parametrize("bidirectional, with_state, length", [(True, False, 27), (False, True, 6), (True, False, 1)])
def test_compiled_lstm_follows_torch(bidirectional, with_state, length):
    torch.manual_seed(0)
    rnn = torch.nn.LSTM(16, 16, 1, batch_first=True, bidirectional=bidirectional)
    with torch.no_grad():
        for p in rnn.parameters():
            p.mul_(4)  # saturate some gates too
    x = torch.randn(5, length, 16, requires_grad=True)
    state = tuple(torch.randn(1, 5, 16, requires_grad=True) for _ in range(2)) if with_state else None
    weights = torch.randn(5, length, 32 if bidirectional else 16)
    leaves = [x, *rnn.parameters(), *(state or ())]
    results = {}
    for name, run in (("torch", lambda: rnn(x, state)[0]), ("compiled", lambda: seminas_compiled.lstm(rnn, x, state))):
        for leaf in leaves:
            leaf.grad = None
        outputs = run()
        (outputs * weights).sum().backward()
        results[name] = [outputs.detach()] + [leaf.grad.clone() for leaf in leaves]
    for got, expected in zip(results["compiled"], results["torch"]):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5 * float(expected.abs().max()))
