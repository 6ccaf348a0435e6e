"""Random search: uniform sampling without replacement over the benchmark's architectures."""

from __future__ import annotations

import numpy as np

from .base import Searcher, SearchSpace


class RandomSearch(Searcher):
    def __init__(self, space: SearchSpace, seed: int, batch_size: int = 1):
        super().__init__(space, seed)
        self.order = np.random.default_rng(seed).permutation(space.size)
        self.batch_size = batch_size
        self.position = 0

    def ask(self, max_queries: int) -> np.ndarray:
        count = min(self.batch_size, max_queries)
        ids = self.order[self.position : self.position + count]
        self.position += len(ids)
        return ids

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        pass
