"""The torch re-build of scikit-learn's MLPRegressor used by WeakNAS."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

import math

from nasrepro.errors import NasReproError
from nasrepro.predictors import make_predictor
from nasrepro.predictors import mlp
from nasrepro.predictors.mlp import MLPRegressor


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(400, 6)).astype(np.float32)
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] - X[:, 4] ** 2
    return X, y


def r_squared(y, prediction) -> float:
    return 1 - np.sum((y - prediction) ** 2) / np.sum((y - y.mean()) ** 2)


def test_fits_a_simple_function(problem):
    X, y = problem
    model = MLPRegressor(hidden_layer_sizes=[32, 32], max_epochs=300, device="cpu", random_state=0).fit(X, y)
    prediction = model.predict(X)
    assert prediction.shape == (400,) and prediction.dtype == np.float32
    assert r_squared(y, prediction) > 0.9
    assert stats.spearmanr(y, prediction)[0] > 0.95
    assert model.loss_curve_[-1] < model.loss_curve_[0] / 5


def test_generalises_to_held_out_points(problem):
    X, y = problem
    model = MLPRegressor(hidden_layer_sizes=[32, 32], max_epochs=300, device="cpu").fit(X[:300], y[:300])
    assert stats.spearmanr(y[300:], model.predict(X[300:]))[0] > 0.8


def test_same_random_state_same_predictions(problem):
    X, y = problem
    first = MLPRegressor(hidden_layer_sizes=[16], max_epochs=20, device="cpu", random_state=5).fit(X, y).predict(X)
    again = MLPRegressor(hidden_layer_sizes=[16], max_epochs=20, device="cpu", random_state=5).fit(X, y).predict(X)
    other = MLPRegressor(hidden_layer_sizes=[16], max_epochs=20, device="cpu", random_state=6).fit(X, y).predict(X)
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)


def test_fit_does_not_depend_on_the_global_torch_seed(problem):
    X, y = problem
    torch.manual_seed(1)
    first = MLPRegressor(hidden_layer_sizes=[16], max_epochs=10, device="cpu").fit(X, y).predict(X)
    torch.manual_seed(2)
    again = MLPRegressor(hidden_layer_sizes=[16], max_epochs=10, device="cpu").fit(X, y).predict(X)
    assert np.array_equal(first, again)


def test_early_stopping_triggers_on_an_easy_problem():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(300, 4)).astype(np.float32)
    y = X @ np.array([0.5, -0.2, 0.1, 0.3])
    model = MLPRegressor(hidden_layer_sizes=[16], max_epochs=2000, tol=1e-4, n_iter_no_change=10,
                         device="cpu").fit(X, y)
    assert model.n_epochs_ < 2000
    assert len(model.loss_curve_) == model.n_epochs_
    curve = np.array(model.loss_curve_)
    # sklearn's rule: stop once the loss failed to improve on the best by tol for n_iter_no_change + 1 epochs
    last = curve[-11:]
    best_before = curve[:-11].min()
    running_best = np.minimum.accumulate(np.r_[best_before, last])[:-1]
    assert (last > running_best - 1e-4).all()


def test_max_epochs_caps_training(problem):
    X, y = problem
    model = MLPRegressor(hidden_layer_sizes=[8], max_epochs=3, device="cpu").fit(X, y)
    assert model.n_epochs_ == 3


def test_predict_batch_size_chunking_gives_the_same_predictions(problem):
    X, y = problem
    model = MLPRegressor(hidden_layer_sizes=[32, 32], max_epochs=20, device="cpu").fit(X, y)
    whole = model.predict(X)
    model.predict_batch_size = 7  # 400 rows in 58 chunks, the last one short
    chunked = model.predict(X)
    np.testing.assert_allclose(chunked, whole, rtol=1e-6, atol=1e-6)
    model.predict_batch_size = 1
    np.testing.assert_allclose(model.predict(X[:50]), whole[:50], rtol=1e-6, atol=1e-6)


def test_weight_decay_shrinks_the_weights(problem):
    X, y = problem
    plain = MLPRegressor(hidden_layer_sizes=[16], max_epochs=50, alpha=0.0, device="cpu").fit(X, y)
    decayed = MLPRegressor(hidden_layer_sizes=[16], max_epochs=50, alpha=10.0, device="cpu").fit(X, y)
    norm = lambda m: sum(float((w * w).sum()) for w in m.weights_)  # noqa: E731
    assert norm(decayed) < norm(plain)


def test_defaults_follow_scikit_learn_and_the_reference():
    model = MLPRegressor()
    assert list(model.hidden_layer_sizes) == [1000, 1000, 1000, 1000]
    assert model.precision == "fp32"
    assert (model.learning_rate, model.alpha, model.batch_size, model.tol, model.n_iter_no_change) == (
        1e-3, 1e-4, 200, 1e-4, 10)


def test_make_predictor_errors():
    assert isinstance(make_predictor({"type": "mlp", "hidden_layer_sizes": [4]}, random_state=0), MLPRegressor)
    with pytest.raises(NasReproError, match="unknown predictor type 'xgboost'"):
        make_predictor({"type": "xgboost"}, random_state=0)
    with pytest.raises(NasReproError, match="predictor 'mlp'"):
        make_predictor({"type": "mlp", "n_trees": 5}, random_state=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: GPU-vs-CPU agreement needs a GPU")
def test_gpu_and_cpu_agree(problem):
    X, y = problem
    options = dict(hidden_layer_sizes=[64, 64], max_epochs=30, random_state=3)
    cpu = MLPRegressor(device="cpu", **options).fit(X, y)
    gpu = MLPRegressor(device="cuda", **options).fit(X, y)
    assert gpu.weights_[0].device.type == "cuda"
    on_cpu, on_gpu = cpu.predict(X), gpu.predict(X)
    assert np.abs(on_cpu - on_gpu).max() < 1e-2 * max(1.0, np.abs(on_cpu).max())
    assert stats.spearmanr(on_cpu, on_gpu)[0] > 0.999
    np.testing.assert_allclose(cpu.loss_curve_, gpu.loss_curve_, rtol=1e-3)


# --- the fit loop before the CPU fast path (autograd L2 penalty, per-tensor Adam), kept as the reference ---

def _reference_forward(x, weights, biases):
    for w, b in zip(weights[:-1], biases[:-1]):
        x = torch.relu(torch.addmm(b, x, w))
    return torch.addmm(biases[-1], x, weights[-1]).squeeze(1)


def reference_fit(model: MLPRegressor, X, y):
    """The old `MLPRegressor.fit`, verbatim but for returning (loss_curve, n_epochs, weights, biases)."""
    device = torch.device("cpu")
    generator = torch.Generator().manual_seed(int(model.random_state))
    X = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)
    y = torch.as_tensor(np.asarray(y, dtype=np.float32).reshape(-1), device=device)
    n = len(y)
    weights, biases = model._init_layers(X.shape[1], generator, device)
    optimizer = torch.optim.Adam(weights + biases, lr=model.learning_rate, betas=(0.9, 0.999), eps=1e-8)
    batch = min(model.batch_size, n)
    best_loss, stale = math.inf, 0
    loss_curve = []
    for _ in range(model.max_epochs):
        order = torch.randperm(n, generator=generator).to(device)
        epoch_loss = torch.zeros((), device=device)
        for start in range(0, n, batch):
            rows = order[start : start + batch]
            residual = _reference_forward(X[rows], weights, biases) - y[rows]
            penalty = sum((w * w).sum() for w in weights)
            loss = 0.5 * (residual * residual).mean() + 0.5 * model.alpha * penalty / len(rows)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            epoch_loss += loss.detach() * len(rows)
        epoch_loss = float(epoch_loss) / n
        loss_curve.append(epoch_loss)
        stale = stale + 1 if epoch_loss > best_loss - model.tol else 0
        best_loss = min(best_loss, epoch_loss)
        if stale > model.n_iter_no_change:
            break
    return loss_curve, len(loss_curve), [w.detach() for w in weights], [b.detach() for b in biases]


@pytest.mark.parametrize("options", [
    # 150 rows in batches of 64: the last batch (22 rows) gets weight_decay alpha / 22, not alpha / 64
    dict(hidden_layer_sizes=[48, 48], max_epochs=25, batch_size=64, alpha=0.05, random_state=2),
    # early stopping: the epoch count must come out the same
    dict(hidden_layer_sizes=[32], max_epochs=500, batch_size=200, alpha=1e-4, tol=1e-3, n_iter_no_change=3,
         random_state=1),
], ids=["short-last-batch", "early-stop"])
def test_fast_path_matches_the_old_fit_loop(problem, options):
    X, y = problem[0][:150], problem[1][:150]
    model = MLPRegressor(device="cpu", **options).fit(X, y)
    loss_curve, n_epochs, weights, biases = reference_fit(MLPRegressor(device="cpu", **options), X, y)
    assert model.n_epochs_ == n_epochs and len(model.loss_curve_) == n_epochs
    if options["max_epochs"] == 500:
        assert n_epochs < 500  # the early-stop case really stopped early
    np.testing.assert_allclose(model.loss_curve_, loss_curve, rtol=1e-4, atol=1e-7)
    for new, old in zip(model.weights_ + model.biases_, weights + biases):
        np.testing.assert_allclose(new.numpy(), old.numpy(), rtol=1e-3, atol=1e-5)
    with torch.no_grad():
        expected = _reference_forward(torch.as_tensor(problem[0]), weights, biases).numpy()
    np.testing.assert_allclose(model.predict(problem[0]), expected, rtol=1e-4, atol=1e-5)


def test_fast_path_matches_the_old_loop_with_the_papers_depth():
    """Four hidden layers, 250 rows in batches of 200 (a 50-row tail), the default alpha."""
    rng = np.random.default_rng(3)
    X = (rng.random((250, 30)) < 0.2).astype(np.float32)
    y = X @ rng.normal(0, 1, 30)
    options = dict(hidden_layer_sizes=[64, 64, 64, 64], max_epochs=15, device="cpu", random_state=4)
    model = MLPRegressor(**options).fit(X, y)
    loss_curve, n_epochs, weights, biases = reference_fit(MLPRegressor(**options), X, y)
    assert model.n_epochs_ == n_epochs == 15
    np.testing.assert_allclose(model.loss_curve_, loss_curve, rtol=1e-4)
    with torch.no_grad():
        expected = _reference_forward(torch.as_tensor(X), weights, biases).numpy()
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-4, atol=1e-5)


needs_bf16 = pytest.mark.skipif(not mlp.bf16_supported(torch.device("cpu")),
                                reason="this CPU has neither AVX512_BF16 nor AMX")


@needs_bf16
def test_bf16_precision_trains_and_ranks_close_to_fp32(problem):
    X, y = problem
    options = dict(hidden_layer_sizes=[64, 64], max_epochs=60, device="cpu", random_state=0)
    full = MLPRegressor(**options).fit(X, y)
    half = MLPRegressor(precision="bf16", **options).fit(X, y)
    assert all(w.dtype == torch.float32 for w in half.weights_)  # master weights stay fp32
    assert half.n_epochs_ == 60 and np.isfinite(half.loss_curve_).all()
    assert half.loss_curve_[-1] < half.loss_curve_[0] / 3
    on_full, on_half = full.predict(X), half.predict(X)
    assert on_half.dtype == np.float32 and on_half.shape == (400,)
    assert not np.array_equal(on_full, on_half)  # bf16 really ran
    assert stats.spearmanr(on_full, on_half)[0] > 0.98
    assert r_squared(y, on_half) > 0.8


@needs_bf16
def test_bf16_ranking_chunks_agree_and_match_autocast(problem):
    X, y = problem
    model = MLPRegressor(hidden_layer_sizes=[32, 32], max_epochs=5, device="cpu", precision="bf16").fit(X, y)
    whole = model.predict(X)
    model.predict_batch_size = 7
    np.testing.assert_array_equal(model.predict(X), whole)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        expected = _reference_forward(torch.as_tensor(X), model.weights_, model.biases_).float().numpy()
    np.testing.assert_allclose(whole, expected, rtol=1e-2, atol=1e-2)


def test_unknown_precision_is_rejected(problem):
    with pytest.raises(NasReproError, match="precision"):
        MLPRegressor(precision="fp16")
    with pytest.raises(NasReproError, match="predictor 'mlp'.*precision"):
        make_predictor({"type": "mlp", "precision": "float64"}, random_state=0)
    model = MLPRegressor(hidden_layer_sizes=[4], max_epochs=1, device="cpu")
    model.precision = "fp8"
    with pytest.raises(NasReproError, match="precision 'fp8'"):
        model.fit(*problem)


def test_bf16_where_unsupported_is_a_clear_error(problem, monkeypatch):
    monkeypatch.setattr(mlp, "bf16_supported", lambda device: False)
    model = MLPRegressor(hidden_layer_sizes=[4], max_epochs=1, device="cpu")
    model.precision = "bf16"  # past validation (which refuses it on such a CPU: tests/test_scoring.py): the job checks
    with pytest.raises(NasReproError, match="'bf16' is not supported.*use precision: fp32"):
        model.fit(*problem)
