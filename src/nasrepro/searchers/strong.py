""""1 strong predictor" (WeakNAS paper Table 1 / Figure 1; protocol §3.3): every batch is uniform over
the unqueried architectures of the whole space, and after each batch one fresh predictor is fitted on
everything queried so far. Its curve at q queries is "one predictor fitted on q uniform samples": the
predictor never steers sampling, so it is WeakNAS with the pool widened to the whole unqueried space.
"""

from __future__ import annotations

import numpy as np

from .weaknas import WeakNAS

SHARED_OPTIONS = ("init_sample", "sample_each_iter", "max_sample", "predictor", "zscore")


class StrongPredictor(WeakNAS):
    options = {name: WeakNAS.options[name] for name in SHARED_OPTIONS}
    prefix_stable = True  # uniform batches: no Top-N schedule over the budget

    @classmethod
    def shares_prefix(cls, options: dict) -> bool:
        return cls.prefix_stable

    def __init__(self, space, seed: int, **options):
        for name in set(WeakNAS.options) - set(self.options):  # the sampling options it does not use
            setattr(self, name, WeakNAS.options[name].default_for(space.space))
        super().__init__(space, seed, **options)
        self.top_n = [None] * len(self.schedule)  # no Top-N

    def candidate_pool(self, top_n: int | None) -> np.ndarray:
        """Every unqueried architecture (by id, not by prediction: the draw is uniform)."""
        return np.flatnonzero(~self.queried)
