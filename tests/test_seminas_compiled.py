"""SemiNAS's and NAO's compiled training step (`searchers/seminas_compiled.py`, `trainer: auto` on the CPU)
against their torch loop (`trainer: torch`): both draw the same shuffles and dropout masks from torch's
generator in the same order and make the same updates, so their loss curves agree to float32 rounding over
the first epochs, on NAS-Bench-201's 6-token and NAS-Bench-101's 27-token sequences; the LSTM kernels match
`nn.LSTM` (outputs and every gradient)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasrepro.errors import NasReproError
from nasrepro.runner import search_space
from nasrepro.searchers import searcher_class, seminas_compiled
from nasrepro.searchers.seminas import EPD

from test_searchers_nb101 import cells, small_nb101  # noqa: F401  (the synthetic NAS-Bench-101 fixtures)
from test_seminas_lanas import METHODS, run


@pytest.mark.parametrize("bidirectional, state, length", [(True, None, 27), (False, "random", 6), (True, None, 1),
                                                          (False, "zero", 6), (False, "zero", 1)])
def test_compiled_lstm_follows_torch(bidirectional, state, length):
    """Outputs and every gradient; a zero initial state (the encoder's: its first recurrent product and weight
    gradient rows are left out) and its gradient too."""
    torch.manual_seed(0)
    rnn = torch.nn.LSTM(16, 16, 1, batch_first=True, bidirectional=bidirectional)
    with torch.no_grad():
        for p in rnn.parameters():
            p.mul_(4)  # saturate some gates too
    x = torch.randn(5, length, 16, requires_grad=True)
    if state is not None:
        make = torch.randn if state == "random" else torch.zeros
        state = tuple(make(1, 5, 16, requires_grad=True) for _ in range(2))
    weights = torch.randn(5, length, 32 if bidirectional else 16)
    leaves = [x, *rnn.parameters(), *(state or ())]
    results = {}
    for name, run_lstm in (("torch", lambda: rnn(x, state)[0]),
                           ("compiled", lambda: seminas_compiled.lstm(rnn, x, state))):
        for leaf in leaves:
            leaf.grad = None
        outputs = run_lstm()
        (outputs * weights).sum().backward()
        results[name] = [outputs.detach()] + [leaf.grad.clone() for leaf in leaves]
    for got, expected in zip(results["compiled"], results["torch"]):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5 * float(expected.abs().max()))


@pytest.fixture(scope="module")
def spaces(nb201_synthetic, small_nb101):
    return {"nb201": search_space(nb201_synthetic, None), "nb101": search_space(small_nb101, None)}


@pytest.mark.parametrize("method", ["seminas", "nao"])
@pytest.mark.parametrize("space_name", ["nb201", "nb101"])
def test_compiled_training_follows_the_torch_loop(spaces, space_name, method):
    """Three epochs of two full batches and a partial one at the authors' model size; a fresh Adam per call
    of `_train` as each training phase has."""
    space = spaces[space_name]
    rng = np.random.default_rng(0)
    ids = rng.choice(space.size, 45, replace=False)
    held_out = rng.choice(space.size, 200, replace=False)
    sequences = torch.as_tensor(np.asarray(space.operators.sequences())[ids])
    targets = torch.as_tensor(rng.normal(size=45), dtype=torch.float32)
    curves, predictions = {}, {}
    for trainer in ("torch", "auto"):
        searcher = searcher_class(method)(space, 0, batch_size=20, device="cpu", trainer=trainer)
        torch.manual_seed(5)
        model = EPD(searcher.allowed.shape[1], 64, 16, 0.1)
        curves[trainer] = [searcher._train(model, sequences, targets, 1) for _ in range(3)]
        predictions[trainer] = model.predict(torch.as_tensor(np.asarray(space.operators.sequences())[held_out]))
    assert sequences.shape[1] == {"nb201": 6, "nb101": 27}[space_name]
    np.testing.assert_allclose(curves["auto"], curves["torch"], rtol=1e-5)
    torch.testing.assert_close(predictions["auto"], predictions["torch"], rtol=0, atol=1e-3)
    assert (torch.tensor([1e-40]) * 1.0).item() != 0  # denormals flushed while compiled, restored after


@pytest.mark.parametrize("method", ["seminas", "nao"])
def test_a_compiled_round_follows_the_torch_round(nb201_synthetic, method):
    """A whole first round (labelled epochs, pseudo-labels, the pseudo epochs, generation) either way."""
    notes = {trainer: run(nb201_synthetic, {**METHODS[method], "rounds": 1, "trainer": trainer}, 0, 30).iterations
             for trainer in ("torch", "auto")}
    rounds = {trainer: frame.dropna(subset=["round"]).iloc[0] for trainer, frame in notes.items()}
    for column in ("loss_labelled", "loss_all"):
        assert rounds["auto"][column] == pytest.approx(rounds["torch"][column], rel=1e-5)


def test_trainer_option():
    for method in ("seminas", "nao"):
        assert searcher_class(method).resolve({}, "nb201")["trainer"] == "auto"
        assert searcher_class(method).resolve({"trainer": "torch"}, "nb101")["trainer"] == "torch"
        with pytest.raises(NasReproError, match="trainer"):
            searcher_class(method).resolve({"trainer": "numba"}, "nb201")


@pytest.mark.parametrize("seed", [0, 7])
def test_dropout_masks_are_torchs_draws(seed):
    """`dropout_mask` gives torch's `bernoulli_(keep).div_(keep)` bit for bit and leaves torch's generator where
    torch's own draws leave it (across a twist of the 624-word state, and for a shape of odd size)."""
    torch.manual_seed(seed)
    torch.rand(seed + 3)
    state = torch.get_rng_state().numpy()
    words, position = seminas_compiled.mt_state(state)
    scale = np.float32(torch.ones(1).div_(0.9).item())
    shapes = [(100, 6, 64), (3, 5), (100, 16)]
    ours = []
    for shape in shapes:
        ours.append(np.empty(shape, dtype=np.float32))
        seminas_compiled.dropout_mask(words, position, 0.9, scale, ours[-1])
    after = seminas_compiled.with_mt_state(state, words, position)
    for shape, mask in zip(shapes, ours):
        np.testing.assert_array_equal(mask, torch.empty(shape).bernoulli_(0.9).div_(0.9).numpy())
    np.testing.assert_array_equal(after, torch.get_rng_state().numpy())
    assert 0 < (ours[0] == 0).mean() < 0.2
