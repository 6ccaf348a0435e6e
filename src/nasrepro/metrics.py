"""The paper's per-architecture and per-iteration metrics (reference protocol §2), on true labels.

Only the runner and the analysis call these: search methods never see the labels they need.
"""

from __future__ import annotations

import numpy as np

TOP_K_TAU = 50  # Figure 3c: Kendall tau and P(sampling a top-50 architecture)
TOP_K_EDF = 200  # Figure 3b: error EDF of the predicted top-200


def competition_ranks(labels: np.ndarray) -> np.ndarray:
    """Rank of every architecture among all of them: 1 + the number with a strictly higher label
    (ties share the better rank), so the best architecture has rank 1."""
    labels = np.asarray(labels, dtype=np.float64)
    descending = -np.sort(labels)[::-1]
    return np.searchsorted(descending, -labels, side="left") + 1


def top_k(labels: np.ndarray, k: int) -> np.ndarray:
    """Ids of the k highest labels (ties broken by id)."""
    return np.argsort(-np.asarray(labels), kind="stable")[:k]


def kendall_tau_top_k(scores: np.ndarray, labels: np.ndarray, k: int = TOP_K_TAU,
                      best: np.ndarray | None = None) -> float:
    """Kendall's tau-b between predicted scores and true labels on the k truly best architectures
    (`best`: their ids, when already known)."""
    best = top_k(labels, k) if best is None else best
    return kendall_tau_b(scores[best], labels[best])


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b over all pairs (ties corrected; NaN when either side is constant), as
    scipy.stats.kendalltau computes it, without importing scipy.stats into a search job (~1 s of CPU)."""
    upper = np.triu_indices(len(x), k=1)
    dx = np.sign(np.subtract.outer(x, x)[upper])
    dy = np.sign(np.subtract.outer(y, y)[upper])
    pairs_x, pairs_y = np.count_nonzero(dx), np.count_nonzero(dy)
    if pairs_x == 0 or pairs_y == 0:
        return float("nan")
    return float(np.dot(dx, dy) / np.sqrt(float(pairs_x) * pairs_y))


def pool_top_k_probability(pool: np.ndarray, labels: np.ndarray, k: int = TOP_K_TAU,
                           best: np.ndarray | None = None) -> float:
    """Probability that one uniform draw from the pool is a true top-k architecture."""
    if len(pool) == 0:
        return float("nan")
    return float(np.isin(pool, top_k(labels, k) if best is None else best).mean())


def predicted_top_errors(scores: np.ndarray, test_labels: np.ndarray, k: int = TOP_K_EDF) -> np.ndarray:
    """Test errors (100 - accuracy) of the k architectures ranked best by the predictor (Figure 3b)."""
    best = np.argpartition(-scores, min(k, len(scores)) - 1)[:k]
    return np.sort(100.0 - test_labels[best])


class Truth:
    """The true labels of one run, with what every predictor fit is compared against computed once."""

    def __init__(self, fit_labels: np.ndarray, test_labels: np.ndarray, test_ranks: np.ndarray):
        self.fit_labels, self.test_labels, self.test_ranks = fit_labels, test_labels, test_ranks
        self.top_fit, self.top_test = top_k(fit_labels, TOP_K_TAU), top_k(test_labels, TOP_K_TAU)


def predictor_diagnostics(state, truth: Truth) -> dict:
    """The per-iteration metrics of one fitted predictor (a searcher's PredictorState)."""
    scores, top1 = np.asarray(state.scores, dtype=np.float64), int(state.top1)
    fit, test = truth.fit_labels, truth.test_labels
    row = {
        "pred_top1": top1,
        "pred_top1_fit": float(fit[top1]),
        "pred_top1_test": float(test[top1]),
        "pred_top1_rank": int(truth.test_ranks[top1]),
        "kendall_tau_top50_fit": kendall_tau_top_k(scores, fit, best=truth.top_fit),
        "kendall_tau_top50_test": kendall_tau_top_k(scores, test, best=truth.top_test),
        "top200_test_errors": predicted_top_errors(scores, test).tolist(),
    }
    if state.pool is not None:
        row["next_pool_size"] = len(state.pool)
        row["p_top50_pool_fit"] = pool_top_k_probability(state.pool, fit, best=truth.top_fit)
        row["p_top50_pool_test"] = pool_top_k_probability(state.pool, test, best=truth.top_test)
    return row
