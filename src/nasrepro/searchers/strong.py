""""1 strong predictor" (WeakNAS paper Table 1 / Figure 1; protocol §3.3): every batch is uniform over
the unqueried architectures of the whole space, and after each batch one fresh predictor is fitted on
everything queried so far. Its curve at q queries is "one predictor fitted on q uniform samples": the
predictor never steers sampling, so it is WeakNAS with the pool widened to the whole unqueried space.
"""

from __future__ import annotations

import numpy as np

from .base import SearchSpace
from .weaknas import WeakNAS


class StrongPredictor(WeakNAS):
    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        init_sample: int = 10,
        sample_each_iter: int = 10,
        max_sample: int | None = None,
        predictor: dict | None = None,
        zscore: str = "benchmark",
    ):
        super().__init__(space, seed, init_sample=init_sample, sample_each_iter=sample_each_iter,
                         max_sample=max_sample, predictor=predictor, zscore=zscore)
        self.top_n = [None] * len(self.schedule)  # no Top-N

    def candidate_pool(self, top_n: int | None) -> np.ndarray:
        """Every unqueried architecture (by id, not by prediction: the draw is uniform)."""
        return np.flatnonzero(~self.queried)
