"""The paper's per-architecture and per-iteration metrics (reference protocol §2), on true labels.

Only the runner and the analysis call these: search methods never see the labels they need.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

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


def kendall_tau_top_k(scores: np.ndarray, labels: np.ndarray, k: int = TOP_K_TAU) -> float:
    """Kendall's tau-b between predicted scores and true labels on the k truly best architectures."""
    best = top_k(labels, k)
    tau = stats.kendalltau(scores[best], labels[best]).statistic
    return float(tau)


def pool_top_k_probability(pool: np.ndarray, labels: np.ndarray, k: int = TOP_K_TAU) -> float:
    """Probability that one uniform draw from the pool is a true top-k architecture."""
    if len(pool) == 0:
        return float("nan")
    return float(np.isin(pool, top_k(labels, k)).mean())


def predicted_top_errors(scores: np.ndarray, test_labels: np.ndarray, k: int = TOP_K_EDF) -> np.ndarray:
    """Test errors (100 - accuracy) of the k architectures ranked best by the predictor (Figure 3b)."""
    best = np.argpartition(-scores, min(k, len(scores)) - 1)[:k]
    return np.sort(100.0 - test_labels[best])


def predictor_diagnostics(state, fit_labels: np.ndarray, test_labels: np.ndarray, test_ranks: np.ndarray) -> dict:
    """The per-iteration metrics of one fitted predictor (a searcher's PredictorState)."""
    scores, top1 = np.asarray(state.scores, dtype=np.float64), int(state.top1)
    row = {
        "pred_top1": top1,
        "pred_top1_fit": float(fit_labels[top1]),
        "pred_top1_test": float(test_labels[top1]),
        "pred_top1_rank": int(test_ranks[top1]),
        "kendall_tau_top50_fit": kendall_tau_top_k(scores, fit_labels),
        "kendall_tau_top50_test": kendall_tau_top_k(scores, test_labels),
        "top200_test_errors": predicted_top_errors(scores, test_labels).tolist(),
    }
    if state.pool is not None:
        row["next_pool_size"] = len(state.pool)
        row["p_top50_pool_fit"] = pool_top_k_probability(state.pool, fit_labels)
        row["p_top50_pool_test"] = pool_top_k_probability(state.pool, test_labels)
    return row
