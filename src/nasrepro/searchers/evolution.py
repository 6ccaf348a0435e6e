"""Regularized (aging) evolution on NAS-Bench-201, as AutoDL's R-EA runs it (Real et al. 2019).

Population 10, tournament of 3 drawn with replacement, the parent is the tournament member with the
best fitting label, the child replaces the oldest member. Mutation 'autodl' picks one of the three
intermediate nodes, then one of its incoming edges, then a different op; 'naslib' picks the edge
uniformly among the six. Children already queried are queried (and charged) again, as in R-EA.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from .. import nb201
from ..errors import NasReproError
from .base import Searcher, SearchSpace

MUTATIONS = ("autodl", "naslib")


class RegularizedEvolution(Searcher):
    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        population_size: int = 10,
        tournament_size: int = 3,
        mutation: str = "autodl",
    ):
        super().__init__(space, seed)
        if space.space != "nb201":
            raise NasReproError(f"regularized_evolution supports the nb201 space, not {space.space!r}")
        if mutation not in MUTATIONS:
            raise NasReproError(f"unknown mutation {mutation!r}; known: {', '.join(MUTATIONS)}")
        self.rng = np.random.default_rng(seed)
        self.population_size = population_size
        self.tournament_size = tournament_size
        self.mutation = mutation
        self.cells = nb201.CellIndex(space.ops)
        self.population: deque[tuple[int, float]] = deque()

    def ask(self, max_queries: int) -> np.ndarray:
        if max_queries < 1:
            return np.empty(0, dtype=np.int64)
        if len(self.population) < self.population_size:
            return np.array([self.rng.integers(self.space.size)])  # uniform op per edge
        picks = self.rng.integers(len(self.population), size=self.tournament_size)
        parent = max((self.population[i] for i in picks), key=lambda member: member[1])[0]
        return np.array([self.mutate(parent)])

    def mutate(self, arch_id: int) -> int:
        ops = self.space.ops[arch_id].copy()
        if self.mutation == "autodl":
            node = int(self.rng.integers(1, 4))
            edges = nb201.INCOMING_EDGES[node]
            edge = edges[int(self.rng.integers(len(edges)))]
        else:
            edge = int(self.rng.integers(nb201.NUM_EDGES))
        others = [op for op in range(len(nb201.OPS)) if op != ops[edge]]
        ops[edge] = others[int(self.rng.integers(len(others)))]
        return self.cells.id_of(ops)

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        for arch_id, label in zip(ids, labels):
            self.population.append((int(arch_id), float(label)))
            if len(self.population) > self.population_size:
                self.population.popleft()
