"""The reference code's tree predictors, with the scikit-learn shape of the MLP.

`GBRTRegressor` stands in for the reference code's XGBoost "GBRT" and is built on LightGBM;
`RandomForestRegressor` is the reference code's scikit-learn random forest. Both take
hyper-parameters in the constructor, `fit(X, y) -> self` and `predict(X) -> float64 1-D array`,
accept float32 X, and give the same predictions for the same `random_state` whatever `n_jobs` is.

`n_jobs=None` means "the job's threads" (`nasrepro.threads.current()`, read at fit and predict time), so the
workflow's per-rule `threads` (which `smk.start` sets) govern it, without loading torch.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import threads
from ..plugins import option
from .base import Predictor

LIGHTGBM_MAX_LEAVES = 131072  # LightGBM refuses num_leaves above this
XGBOOST_MIN_LOSS_CHANGE = 1e-6  # XGBoost's kRtEps: no split unless loss_chg > 1e-6, even with gamma 0
# LightGBM fits training sets smaller than this on one thread: WeakNAS's (10..~2,000 rows) take
# 0.02-1.5 s on one thread and gain nothing from two, while OpenMP barriers on a busy machine made
# two-thread fits 5-50x slower in measurements. The model is the same (see force_col_wise).
GBRT_PARALLEL_FIT_ROWS = 20_000


def resolve_n_jobs(n_jobs: int | None) -> int:
    """An explicit thread count, or the job's when `n_jobs` is None."""
    return threads.current() if n_jobs is None else int(n_jobs)


def _as_xy(X, y=None):
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}")
    if y is None:
        return X
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} values")
    if len(y) == 0:
        raise ValueError("cannot fit on an empty training set")
    return X, y


class GBRTRegressor(Predictor):
    """The reference code's "GBRT" (XGBoost `xgb.train`, gbtree, reg:squarederror, max_depth 20,
    1000 rounds, everything else default) re-built on LightGBM with XGBoost's defaults.

    XGBoost setting (reference)              -> LightGBM parameter used here
    -------------------------------------------------------------------------------------------------
    booster gbtree                           -> boosting "gbdt"
    objective reg:squarederror               -> objective "regression" (L2); gradient y_hat - y,
                                                hessian 1 in both
    num_boost_round 1000                     -> num_boost_round = n_estimators (1000)
    eta 0.3                                  -> learning_rate 0.3
    max_depth 20 (refactored code; old 10)   -> max_depth 20
    grow_policy depthwise, max_leaves 0      -> num_leaves = n_train // min rows per leaf (capped at
                                                2**max_depth and LightGBM's 131072) when None: a leaf
                                                holds >= min_child_samples rows, so a tree can never
                                                reach this many leaves and the limit never binds
    min_child_weight 1                       -> min_data_in_leaf = max(min_child_samples (1),
                                                ceil(min_child_weight) (1)): the squared-error hessian
                                                is 1 per row, so a child's hessian sum is its row
                                                count; min_sum_hessian_in_leaf is 0 because LightGBM's
                                                hessian sums carry rounding (a 1-row leaf can weigh
                                                0.9999999999999997) and a hessian bound of 1.0 would
                                                wrongly forbid some 1-row leaves that XGBoost makes
    lambda 1                                 -> lambda_l2 = reg_lambda (1.0)
    alpha 0                                  -> lambda_l1 0
    gamma 0, and XGBoost's rule that a split -> min_gain_to_split 1e-6. Both report the same gain,
      needs loss_chg > kRtEps = 1e-6           G_L^2/(H_L+l) + G_R^2/(H_R+l) - G^2/(H+l), and both
                                                refuse a split whose gain is <= the bound. Without it
                                                LightGBM keeps splitting float32 noise once the
                                                training rows are fitted, ~20x slower for nothing
    max_delta_step 0                         -> max_delta_step 0 (no clipping of leaf values)
    subsample 1                              -> bagging_fraction 1, bagging_freq 0 (no bagging)
    colsample_bytree/bylevel/bynode 1        -> feature_fraction 1, feature_fraction_bynode 1
    tree_method hist, max_bin 256            -> max_bin 255 (LightGBM's default)
    seed                                     -> seed = random_state mod 2**31 (nothing is random
                                                once bagging and feature subsampling are off)
    (implementation details)                 -> min_data_in_bin 1 and feature_pre_filter False so a
                                                0/1 feature seen once or twice in a tiny training
                                                set still gets its own bin; deterministic True and
                                                force_col_wise True (each feature's histogram is
                                                summed by one thread in row order, so the model does
                                                not depend on the thread count); verbosity -1; no
                                                metric. n_jobs threads rank the space in `predict`;
                                                fits on fewer than 20,000 rows use one thread
                                                (GBRT_PARALLEL_FIT_ROWS: no gain from more, and
                                                OpenMP barriers stall on a busy machine).

    Where they cannot match exactly:
      * Growth order. XGBoost grows depth-wise, LightGBM leaf-wise (best leaf first). The split
        chosen at a node depends only on the rows in it, so with num_leaves not binding (the
        default) the order alone changes nothing.
      * Feature pruning. LightGBM stops looking at a feature for a node's whole subtree once that
        feature had no split with gain above the bound at the node (`is_splittable` is inherited
        by the children; no parameter turns this off). XGBoost tries every feature at every node.
        So LightGBM cannot learn a pure interaction: for y = 3*x1 + (x0 if x1 else -x0) on the
        four 0/1 points, x0 has zero gain at every root, and even 1000 rounds never split on it
        (XGBoost's first tree does). With one-hot inputs LightGBM's trees differ from XGBoost's
        (often fewer leaves): this, not binning, is the main difference. On NAS-Bench-201 it is
        not a quality loss (measurements below).
      * Histogram binning. Both bin features (XGBoost hist: quantile sketch, 256 bins; LightGBM:
        its own bin finder, 255 bins, built on the training rows). For WeakNAS's encodings (0/1
        one-hots, small integers: far fewer than 255 distinct values) every distinct value gets a
        bin in both, so the candidate splits are the same (XGBoost 3.2's exact and hist methods
        gave identical predictions on onehot30).
      * Starting score. XGBoost >= 2.0 starts from an estimated base_score (the label mean for
        squared error, as LightGBM's boost_from_average does); XGBoost 1.x (the 2021 reference)
        started from 0.5, which on its own moves XGBoost's ranking about as much as switching to
        LightGBM does.
      * Split tie-breaks (one-hot features that split a node's rows the same way; which wins
        depends on float rounding in either library) and float32 gradient rounding.

    Measured against XGBoost 3.2 (`xgb.train`, the reference settings), real NAS-Bench-201
    cifar10-valid x-valid labels, onehot30, 5 random training sets each, Spearman rho with the
    true accuracy over all 15,625 cells (LightGBM / XGBoost / XGBoost with base_score 0.5):
    10 rows 0.220 / 0.217 / 0.227, 100 rows 0.617 / 0.566 / 0.568, 1000 rows 0.904 / 0.896 / 0.884;
    rho between the LightGBM and XGBoost predictions 0.92, 0.84, 0.94.
    """

    title = "GBRT"
    options = {
        "n_estimators": option(1000, "Boosting rounds (XGBoost's num_boost_round).", type="integer", minimum=1),
        "max_depth": option(20, "Tree depth (the refactored reference; the old code used 10).", type="integer", minimum=1),
        "learning_rate": option(0.3, "Shrinkage (XGBoost's eta).", type="number", exclusiveMinimum=0),
        "num_leaves": option(None, "Leaves per tree (null: training rows / rows per leaf, so it never binds).",
                             type=["integer", "null"], minimum=2, maximum=LIGHTGBM_MAX_LEAVES),
        "min_child_samples": option(1, "Rows per leaf at least (XGBoost's min_child_weight 1).", type="integer", minimum=1),
        "min_child_weight": option(1.0, "XGBoost's min_child_weight; with squared error at least ceil(w) rows per leaf.",
                                   type="number", minimum=0),
        "reg_lambda": option(1.0, "L2 penalty on leaf values (XGBoost's lambda).", type="number", minimum=0),
        "n_jobs": option(None, "Threads (null: the job's threads; fits on under 20,000 rows use one).",
                         type=["integer", "null"], minimum=1),
    }

    @property
    def min_rows_in_leaf(self) -> int:
        """Rows a leaf needs: min_child_samples, and min_child_weight in rows (squared error: hessian 1 per row)."""
        return max(self.min_child_samples, math.ceil(self.min_child_weight))

    def leaf_budget(self, n_samples: int) -> int:
        """num_leaves for a training set of `n_samples` rows (the explicit value when one was given)."""
        if self.num_leaves is not None:
            return self.num_leaves
        most = n_samples // self.min_rows_in_leaf
        return int(max(2, min(most, 2 ** min(self.max_depth, 17), LIGHTGBM_MAX_LEAVES)))

    @staticmethod
    def fit_threads(n_samples: int, n_jobs: int) -> int:
        """Threads for fitting: one below GBRT_PARALLEL_FIT_ROWS training rows, else n_jobs."""
        return n_jobs if n_samples >= GBRT_PARALLEL_FIT_ROWS else 1

    def lightgbm_params(self, n_samples: int, n_jobs: int) -> dict:
        return {
            "objective": "regression",
            "boosting": "gbdt",
            "learning_rate": self.learning_rate,
            "max_depth": self.max_depth,
            "num_leaves": self.leaf_budget(n_samples),
            "min_data_in_leaf": self.min_rows_in_leaf,
            "min_sum_hessian_in_leaf": 0.0,
            "lambda_l2": self.reg_lambda,
            "lambda_l1": 0.0,
            "min_gain_to_split": XGBOOST_MIN_LOSS_CHANGE,
            "max_delta_step": 0.0,
            "bagging_fraction": 1.0,
            "bagging_freq": 0,
            "feature_fraction": 1.0,
            "feature_fraction_bynode": 1.0,
            "extra_trees": False,
            "path_smooth": 0.0,
            "boost_from_average": True,
            "max_bin": 255,
            "min_data_in_bin": 1,
            "feature_pre_filter": False,
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": n_jobs,
            "seed": self.random_state % 2**31,
            "metric": "None",
            "verbosity": -1,
        }

    def fit(self, X, y) -> "GBRTRegressor":
        import lightgbm

        X, y = _as_xy(X, y)
        params = self.lightgbm_params(len(X), self.fit_threads(len(X), resolve_n_jobs(self.n_jobs)))
        dataset = lightgbm.Dataset(X, label=y, params=params, free_raw_data=True)
        self.booster_ = lightgbm.train(params, dataset, num_boost_round=self.n_estimators)
        self.n_features_in_ = X.shape[1]
        self.n_trees_ = self.booster_.num_trees()  # < n_estimators when no leaf could be split any more
        return self

    def predict(self, X) -> np.ndarray:
        X = _as_xy(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, the model was fitted on {self.n_features_in_}")
        out = self.booster_.predict(X, num_threads=resolve_n_jobs(self.n_jobs))
        return np.asarray(out, dtype=np.float64).reshape(-1)


class RandomForestRegressor(Predictor):
    """The reference code's random forest: scikit-learn `RandomForestRegressor(n_estimators=1000,
    max_depth=10)` with every other setting the library default (bootstrap on, squared error, all
    features tried at each split: max_features 1.0, min_samples_split 2, min_samples_leaf 1).
    The old (pre-refactor) code used 500 trees of unlimited depth: `n_estimators=500, max_depth=None`.

    `max_features` is a fraction of the features (an int 1 from a YAML file means 1.0, all features,
    not one feature). Trees are fitted in `n_jobs` threads with seeds drawn up front from
    `random_state` (mod 2**32); `predict` averages the trees in a fixed order over row blocks, so the
    output is bit-identical for any `n_jobs` (scikit-learn's own predict adds trees in thread order).
    """

    title = "Random forest"
    options = {
        "n_estimators": option(1000, "Trees (1000, the refactored reference; the old code used 500).", type="integer", minimum=1),
        "max_depth": option(10, "Tree depth (null: unlimited, the old code).", type=["integer", "null"], minimum=1),
        "max_features": option(1.0, "Fraction of the features tried per split.", type="number", exclusiveMinimum=0, maximum=1),
        "bootstrap": option(True, "Bootstrap samples per tree.", type="boolean"),
        "predict_batch_size": option(16384, "Rows per batch when ranking the space.", type="integer", minimum=1),
        "n_jobs": option(None, "Threads (null: the job's threads).", type=["integer", "null"], minimum=1),
    }

    def __init__(self, random_state: int = 0, **options):
        super().__init__(random_state, **options)
        self.max_features = float(self.max_features)  # a YAML 1 means all features, not one

    def fit(self, X, y) -> "RandomForestRegressor":
        from sklearn.ensemble import RandomForestRegressor as SklearnForest

        X, y = _as_xy(X, y)
        self.forest_ = SklearnForest(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            max_features=self.max_features,
            bootstrap=self.bootstrap,
            n_jobs=resolve_n_jobs(self.n_jobs),
            random_state=self.random_state % 2**32,
        ).fit(X, y)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X) -> np.ndarray:
        X = _as_xy(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, the model was fitted on {self.n_features_in_}")
        trees = self.forest_.estimators_
        out = np.zeros(len(X), dtype=np.float64)

        def block(start: int) -> None:
            rows = X[start : start + self.predict_batch_size]
            total = np.zeros(len(rows), dtype=np.float64)
            for tree in trees:  # fixed order: the sum does not depend on the threads
                total += tree.predict(rows, check_input=False)
            out[start : start + len(rows)] = total / len(trees)

        starts = range(0, len(X), self.predict_batch_size)
        n_jobs = min(resolve_n_jobs(self.n_jobs), len(starts))
        if n_jobs <= 1:
            for start in starts:
                block(start)
        else:
            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                list(pool.map(block, starts))
        return out
