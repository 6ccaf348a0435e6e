"""Local search (White et al. 2021, "Exploring the loss landscape in NAS"), with the semantics of
naszilla's `local_search`, on any search space's one-edit neighbourhood.

A restart queries `num_init` uniform architectures not yet queried and starts from the best of them.
An iteration queries, in a random order, the neighbours of the current architecture that were never
queried; with `query_full_nbhd` it queries all of them and moves to the best newly queried one, else
it moves to the first one that beats the current architecture. Without improvement the search is at a
local optimum: with `stop_at_minimum` it restarts; without, it continues from the best queried
architecture whose neighbourhood it has not expanded yet (after every iteration, improvement or not).
Each id is asked once, so each query is charged once by the oracle.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from ..plugins import option
from .base import Searcher, SearchSpace


class LocalSearch(Searcher):
    needs = frozenset({"neighbours"})
    prefix_stable = True
    options = {
        "num_init": option(10, "Uniform samples at each (re)start.", type="integer", minimum=1),
        "query_full_nbhd": option(True, "Query the whole neighbourhood and move to its best (true), or move to the "
                                  "first improving neighbour (false).", type="boolean"),
        "stop_at_minimum": option(True, "At a local optimum restart from random samples (true), or always continue "
                                  "from the best queried architecture not expanded yet (false).", type="boolean"),
    }

    def __init__(self, space: SearchSpace, seed: int, **options):
        super().__init__(space, seed, **options)
        self.rng = np.random.default_rng(seed)
        self.labels: dict[int, float] = {}  # every queried id and its fitting label, in query order
        self.expanded: set[int] = set()
        self.restarts = 0
        self._next: int | None = None
        self._steps = self._search()
        self._answer: float | None = None

    def ask(self, max_queries: int) -> np.ndarray:
        if max_queries < 1 or len(self.labels) >= self.space.size:
            return np.empty(0, dtype=np.int64)
        self._next = self._steps.send(self._answer) if self._answer is not None else next(self._steps)
        return np.array([self._next])

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        self._answer = float(labels[0])

    def _query(self, arch_id: int) -> Generator[int, float, float]:
        label = yield arch_id
        self.labels[arch_id] = label
        return label

    def _search(self) -> Generator[int, float, None]:
        while True:
            current = yield from self._restart()
            while True:
                self.expanded.add(current)
                current, improved = yield from self._expand(current)
                if not self.stop_at_minimum:
                    current = self._best_unexpanded()
                    if current is None:
                        break
                elif not improved:
                    break

    def _restart(self) -> Generator[int, float, int]:
        self.restarts += 1
        fresh: dict[int, float] = {}
        while len(fresh) < self.num_init and len(self.labels) < self.space.size:
            arch_id = self.space.operators.sample(self.rng)
            if arch_id not in self.labels:
                fresh[arch_id] = yield from self._query(arch_id)
        return max(fresh, key=fresh.get)

    def _expand(self, current: int) -> Generator[int, float, tuple[int, bool]]:
        neighbours = self.space.operators.neighbours(current)
        self.rng.shuffle(neighbours)
        best, best_label = current, self.labels[current]
        for arch_id in (int(n) for n in neighbours if int(n) not in self.labels):
            label = yield from self._query(arch_id)
            if label > best_label:
                best, best_label = arch_id, label
                if not self.query_full_nbhd:
                    break
        return best, best != current

    def _best_unexpanded(self) -> int | None:
        candidates = [(label, arch_id) for arch_id, label in self.labels.items() if arch_id not in self.expanded]
        return max(candidates)[1] if candidates else None
