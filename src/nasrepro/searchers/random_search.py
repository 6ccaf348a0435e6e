"""Random search: uniform sampling without replacement over the benchmark's architectures."""

from __future__ import annotations

import numpy as np

from ..plugins import option
from .base import Searcher, SearchSpace


class RandomSearch(Searcher):
    prefix_stable = True
    options = {"batch_size": option(1, "Architectures asked per step.", type="integer", minimum=1)}

    def __init__(self, space: SearchSpace, seed: int, **options):
        super().__init__(space, seed, **options)
        self.order = np.random.default_rng(seed).permutation(space.size)
        self.position = 0

    def ask(self, max_queries: int) -> np.ndarray:
        count = min(self.batch_size, max_queries)
        ids = self.order[self.position : self.position + count]
        self.position += len(ids)
        return ids

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        pass
