"""The loop the predictor-based methods of naszilla's shape share (BANANAS, NPENAS, BONAS, NASBOWL, arch2vec,
CATE): `num_init` uniform architectures, then one batch per iteration that the method's `choose` picks; every
queried id and fitting label kept in query order."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..spaces import Space, get_space
from .base import Searcher, mutation_of


class BatchedSearcher(Searcher):
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
        self.queried = np.zeros(space.size, dtype=bool)
        self.ids: list[int] = []  # every queried id, in query order
        self.labels: list[float] = []

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

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        self.queried[ids] = True
        self.ids += ids.tolist()
        self.labels += np.asarray(labels, dtype=np.float64).tolist()
        self.iteration += 1
