"""The tree predictors: LightGBM "GBRT" with XGBoost's defaults and the reference random forest."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from conftest import smooth_score
from nasrepro import encodings
from nasrepro.errors import NasReproError
from nasrepro.predictors import make_predictor, predictor_class
from nasrepro.predictors.mlp import MLPRegressor
from nasrepro.predictors.trees import (
    GBRT_PARALLEL_FIT_ROWS,
    GBRTRegressor,
    RandomForestRegressor,
    resolve_n_jobs,
)

SMALL_RF = {"n_estimators": 100}  # the default 1000 trees are measured in the report, not here


@pytest.fixture(scope="module")
def landscape():
    """All 15,625 NB201 cells as onehot30 float32 features and the smooth synthetic score."""
    ops = np.array(list(itertools.product(range(5), repeat=6)), dtype=np.int64)
    table = pd.DataFrame({f"op{e}": ops[:, e] for e in range(6)})
    X = encodings.encode("nb201", "onehot30", table)
    y = smooth_score(ops)
    return X, (y - y.mean()) / y.std()


@pytest.fixture(scope="module")
def split(landscape):
    X, y = landscape
    order = np.random.default_rng(7).permutation(len(X))
    train, held_out = order[:300], order[300:3300]
    return X[train], y[train], X[held_out], y[held_out]


def make(kind: str, random_state: int = 0, **options):
    defaults = SMALL_RF if kind == "random_forest" else {}
    return make_predictor({"type": kind, **defaults, **options}, random_state=random_state)


def test_registered():
    assert [predictor_class(name) for name in ("mlp", "gbrt", "random_forest")] == [MLPRegressor, GBRTRegressor, RandomForestRegressor]


@pytest.mark.parametrize("kind", ["gbrt", "random_forest"])
def test_fit_predict_shape_and_dtype(kind, split):
    X, y, X_test, _ = split
    assert X.dtype == np.float32
    model = make(kind)
    assert model.fit(X, y) is model
    prediction = model.predict(X_test)
    assert prediction.shape == (len(X_test),) and prediction.dtype == np.float64
    assert np.isfinite(prediction).all()
    # y as a column or a list, X as a float64 array: same model
    again = make(kind).fit(X.astype(np.float64), y.reshape(-1, 1).tolist()).predict(X_test)
    np.testing.assert_array_equal(prediction, again)
    with pytest.raises(ValueError, match="features"):
        model.predict(X_test[:, :-1])


@pytest.mark.parametrize("kind", ["gbrt", "random_forest"])
def test_deterministic_for_a_random_state_and_any_thread_count(kind, split):
    X, y, X_test, _ = split
    first = make(kind, random_state=3, n_jobs=1).fit(X, y).predict(X_test)
    again = make(kind, random_state=3, n_jobs=1).fit(X, y).predict(X_test)
    threads = make(kind, random_state=3, n_jobs=2).fit(X, y).predict(X_test)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, threads)
    # the searcher's derived seeds are uint32: above LightGBM's int32 seed range
    make(kind, random_state=2**32 - 1).fit(X[:50], y[:50]).predict(X_test[:5])


def test_random_forest_seed_matters_and_predict_matches_sklearn(split):
    X, y, X_test, _ = split
    model = RandomForestRegressor(n_estimators=50, random_state=1, n_jobs=2, predict_batch_size=256).fit(X, y)
    other = RandomForestRegressor(n_estimators=50, random_state=2, n_jobs=2).fit(X, y)
    ours = model.predict(X_test)
    assert not np.allclose(ours, other.predict(X_test))
    np.testing.assert_allclose(ours, model.forest_.predict(X_test), rtol=0, atol=1e-12)
    forest = model.forest_
    assert (forest.max_depth, forest.max_features, forest.bootstrap) == (10, 1.0, True)
    assert RandomForestRegressor().n_estimators == 1000 and RandomForestRegressor().max_depth == 10


@pytest.mark.parametrize("kind", ["gbrt", "random_forest"])
def test_learns_the_nb201_landscape_on_held_out_cells(kind, split):
    X, y, X_test, y_test = split
    prediction = make(kind).fit(X, y).predict(X_test)
    spearman = stats.spearmanr(prediction, y_test)[0]
    kendall = stats.kendalltau(prediction, y_test)[0]
    assert spearman > 0.9 and kendall > 0.7, (spearman, kendall)  # measured: 0.95-0.98 and 0.80-0.87
    # a model trained on shuffled labels fails the same bar by far (so the bar means something)
    shuffled = np.random.default_rng(0).permutation(y)
    control = make(kind).fit(X, shuffled).predict(X_test)
    assert stats.spearmanr(control, y_test)[0] < 0.5


def test_gbrt_defaults_are_xgboosts():
    model = GBRTRegressor()
    params = model.lightgbm_params(n_samples=500, n_jobs=1)
    assert model.n_estimators == 1000
    assert params["learning_rate"] == 0.3 and params["max_depth"] == 20 and params["lambda_l2"] == 1.0
    assert params["min_data_in_leaf"] == 1 and params["min_gain_to_split"] == 1e-6  # XGBoost's kRtEps
    assert params["bagging_fraction"] == 1.0 and params["feature_fraction"] == 1.0
    assert params["deterministic"] and params["min_data_in_bin"] == 1
    assert params["num_leaves"] == 500  # one row per leaf at most: never binds before max_depth
    assert GBRTRegressor(min_child_weight=2.5).lightgbm_params(500, 1)["min_data_in_leaf"] == 3
    assert GBRTRegressor(num_leaves=31).lightgbm_params(500, 1)["num_leaves"] == 31


def test_gbrt_fits_single_row_leaves():
    """XGBoost's min_child_weight 1 lets a leaf hold one row: 1000 rounds interpolate distinct rows."""
    rng = np.random.default_rng(4)
    X = np.eye(30, dtype=np.float32)[rng.permutation(30)[:12]]
    y = rng.normal(size=12)
    fitted = GBRTRegressor().fit(X, y).predict(X)
    # ~1e-3, not 0: like XGBoost, no split whose loss change is <= 1e-6 (XGBoost 3.2 leaves 1.3e-3 here)
    assert np.abs(fitted - y).max() < 5e-3
    two_rows = GBRTRegressor(min_child_samples=2).fit(X, y).predict(X)
    assert np.abs(two_rows - y).max() > 0.1


@pytest.mark.parametrize("n", [1, 2, 10])
def test_tiny_training_sets(n, split):
    """WeakNAS's first iteration fits on ~10 rows; GBRT keeps its 1000 rounds."""
    X, y, X_test, _ = split
    for model in (GBRTRegressor(), RandomForestRegressor(n_estimators=20)):
        prediction = model.fit(X[:n], y[:n]).predict(X_test)
        assert prediction.shape == (len(X_test),) and np.isfinite(prediction).all()


def test_n_jobs_follows_the_jobs_thread_limit_without_loading_torch():
    code = ("import sys, numpy as np\nfrom nasrepro import threads\nfrom nasrepro.predictors.trees import GBRTRegressor, "
            "resolve_n_jobs\nthreads.limit(3)\nrng = np.random.default_rng(0)\n"
            "GBRTRegressor(n_estimators=5).fit(rng.random((50, 4)), rng.random(50)).predict(rng.random((5, 4)))\n"
            "print(resolve_n_jobs(None), 'torch._C' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["3", "False"]


def test_n_jobs_follows_torch_threads(split):
    X, y, _, _ = split
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert resolve_n_jobs(None) == 2 and resolve_n_jobs(3) == 3
        model = GBRTRegressor(n_estimators=5).fit(X[:20], y[:20])
        assert model.booster_.params["num_threads"] == 1  # small training sets: one thread (same model)
        assert GBRTRegressor.fit_threads(GBRT_PARALLEL_FIT_ROWS, 2) == 2
        forest = RandomForestRegressor(n_estimators=5).fit(X[:20], y[:20])
        assert forest.forest_.n_jobs == 2
        assert RandomForestRegressor(n_estimators=5, n_jobs=1).fit(X[:20], y[:20]).forest_.n_jobs == 1
    finally:
        torch.set_num_threads(before)


def test_make_predictor_options_and_errors(split):
    X, y, X_test, _ = split
    model = make_predictor({"type": "gbrt", "n_estimators": 50}, random_state=0)
    assert isinstance(model, GBRTRegressor) and model.n_estimators == 50
    assert model.fit(X, y).predict(X_test).shape == (len(X_test),)
    forest = make_predictor({"type": "random_forest", "n_estimators": 10, "max_depth": None}, random_state=0)
    assert forest.max_depth is None
    assert make_predictor({"type": "random_forest", "max_features": 1}, 0).max_features == 1.0
    with pytest.raises(NasReproError, match="'gbrt'.*learning_rat"):
        make_predictor({"type": "gbrt", "learning_rat": 0.1}, random_state=0)
    with pytest.raises(NasReproError, match="'random_forest'.*n_trees"):
        make_predictor({"type": "random_forest", "n_trees": 10}, random_state=0)
    with pytest.raises(NasReproError, match="'gbrt'.*n_estimators"):
        make_predictor({"type": "gbrt", "n_estimators": 0}, random_state=0)
    with pytest.raises(NasReproError, match="'random_forest'.*max_features"):
        make_predictor({"type": "random_forest", "max_features": 2}, random_state=0)
    with pytest.raises(NasReproError, match="unknown predictor type 'xgboost'"):
        make_predictor({"type": "xgboost"}, random_state=0)
