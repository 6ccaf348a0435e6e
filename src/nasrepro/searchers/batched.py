"""What the predictor-based methods share: the log of every queried id and fitting label (`QueryLog`: BANANAS,
NPENAS, BONAS, NASBOWL, arch2vec, CATE), and naszilla's loop (`BatchedSearcher`: `num_init` uniform architectures,
then one batch per iteration that the method's `choose` picks)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..spaces import Space, get_space
from .base import Searcher, mutation_of


class QueryLog(Searcher):
    """A method that keeps every queried id and its fitting label, in query order (`queried`, `ids`, `labels`)."""

    def __init__(self, space, seed: int, **options):
        super().__init__(space, seed, **options)
        self.queried = np.zeros(space.size, dtype=bool)
        self.ids: list[int] = []
        self.labels: list[float] = []

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        self.queried[ids] = True
        self.ids += ids.tolist()
        self.labels += np.asarray(labels, dtype=np.float64).tolist()
        self.iteration += 1


class BatchedSearcher(QueryLog):
    """Subclasses declare the options `num_init` and the one `batch_option` names, and implement `choose`;
    one that declares a `mutation` option gets it checked and resolved (`mutation_name`)."""

    batch_option: ClassVar[str] = "k"

    @classmethod
    def check_options(cls, options: dict, space: Space) -> None:
        if "mutation" in cls.options:
            mutation_of(options, space)

    def __init__(self, space, seed: int, **options):
        super().__init__(space, seed, **options)
        if "mutation" in self.options:
            self.mutation_name = mutation_of({"mutation": self.mutation}, get_space(space.space))

    def ask(self, max_queries: int) -> np.ndarray:
        initial = len(self.ids) < self.num_init
        wanted = self.num_init - len(self.ids) if initial else getattr(self, self.batch_option)
        count = min(max_queries, int(self.space.size - self.queried.sum()), wanted)
        if count < 1:
            return np.empty(0, dtype=np.int64)
        rng = np.random.default_rng([self.seed, self.iteration])
        if initial:
            return rng.choice(np.flatnonzero(~self.queried), size=count, replace=False)
        return self.choose(rng, count)

    def choose(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """The next batch: at most `count` unqueried ids."""
        raise NotImplementedError
