"""The ask/tell contract every search method follows, and what a method may see of the benchmark."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SearchSpace:
    """Everything a method may read: architecture descriptions, never accuracies.

    `fit_label_mean`/`fit_label_std` are the whole-benchmark statistics of the fitting label that the
    reference WeakNAS code z-scores with; methods that do not follow that protocol ignore them.
    """

    space: str
    size: int
    ops: np.ndarray  # one row of op indices per architecture (the cell description)
    features: np.ndarray  # encoded architectures, float32, one row per architecture
    fit_label_mean: float
    fit_label_std: float
    cells: pd.DataFrame | None = None  # the table's cell-description columns (see Benchmark.cells), no labels


@dataclass(frozen=True)
class PredictorState:
    """What a predictor-based method believed after its last fit, for the runner's diagnostics.

    `scores`: one value per architecture, higher = predicted better (an ensemble's mean);
    `top1`: the architecture the method reports as its predicted best; `pool`: the ids the next batch
    is drawn from (None when the next batch is not drawn from a pool, e.g. EI's top-M).
    """

    scores: np.ndarray
    top1: int
    pool: np.ndarray | None


class Searcher:
    """Ask for architecture ids, be told their fitting labels. One instance is one seeded run."""

    uses_features = False  # True when the method reads SearchSpace.features (an encoding job is then needed)

    def __init__(self, space: SearchSpace, seed: int):
        self.space = space
        self.seed = seed
        self.iterations: list[dict] = []  # per-iteration diagnostics written next to the trajectory
        self.predictor_state: PredictorState | None = None  # set after each tell by predictor-based methods

    def ask(self, max_queries: int) -> np.ndarray:
        """Return at most `max_queries` architecture ids to query next (empty: nothing left to ask)."""
        raise NotImplementedError

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        """Receive the fitting labels of the ids returned by the last `ask`."""
        raise NotImplementedError
