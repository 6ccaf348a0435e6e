"""The torch re-build of scikit-learn's MLPRegressor used by WeakNAS."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from nasrepro.errors import NasReproError
from nasrepro.predictors import make_predictor
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
    assert model.hidden_layer_sizes == (1000, 1000, 1000, 1000)
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
