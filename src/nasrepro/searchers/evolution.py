"""Regularized (aging) evolution (Real et al. 2019), on any search space's mutation operator.

The first `population_size` queries are uniform architecture ids; after that each query is a child of
the tournament winner (the member with the best fitting label among `tournament_size` members), and
the child replaces the oldest member. Children already queried are queried (and charged) again, as in
AutoDL's R-EA and the NAS-Bench-101 colab.

The reference settings are the defaults: AutoDL on NAS-Bench-201 (population 10, tournament 3 with
replacement, 'autodl' mutation, the space's first); the colab on NAS-Bench-101 (population 50, tournament of
10 distinct members, 'colab' mutation, the space's first). The mutations are the space's (`Operators.mutate`).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from ..errors import NasReproError
from ..plugins import option
from ..spaces import Space, get_space
from .base import MUTATION, Searcher, mutation_of


class RegularizedEvolution(Searcher):
    needs = frozenset({"mutation"})
    prefix_stable = True
    repeats_queries = True
    options = {
        "population_size": option(10, "Population size.", by_space={"nb101": 50}, type="integer", minimum=1),
        "tournament_size": option(3, "Tournament size.", by_space={"nb101": 10}, type="integer", minimum=1),
        "tournament": option("with_replacement", "Tournament drawn with_replacement (AutoDL, NB201) or of distinct "
                             "members (the NAS-Bench-101 colab).", by_space={"nb101": "distinct"},
                             enum=["with_replacement", "distinct"]),
        "mutation": MUTATION,
    }

    @classmethod
    def check_options(cls, options: dict, space: Space) -> None:
        mutation_of(options, space)
        if options["tournament"] == "distinct" and options["tournament_size"] > options["population_size"]:
            raise NasReproError(f"a 'distinct' tournament of {options['tournament_size']} cannot be drawn from a "
                                f"population of {options['population_size']}")

    def __init__(self, space, seed: int, **options):
        super().__init__(space, seed, **options)
        self.check_options({name: getattr(self, name) for name in self.options}, get_space(space.space))
        self.mutation = mutation_of({"mutation": self.mutation}, get_space(space.space))
        self.rng = np.random.default_rng(seed)
        self.population: deque[tuple[int, float, Any]] = deque()  # (arch id, fitting label, genotype)
        self.pending: list[Any] = []  # genotypes of the ids the last `ask` returned
        self.last_tournament: np.ndarray = np.empty(0, dtype=np.int64)  # positions in the population

    def ask(self, max_queries: int) -> np.ndarray:
        if max_queries < 1:
            return np.empty(0, dtype=np.int64)
        operators = self.space.operators
        if len(self.population) < self.population_size:
            arch_id = operators.sample(self.rng)
            self.pending = [operators.genotype(arch_id, self.rng)]
            return np.array([arch_id])
        parent, _, genotype = self.population[self.select()]
        child, child_genotype = operators.mutate(parent, genotype, self.rng, self.mutation)
        self.pending = [child_genotype]
        return np.array([child])

    def select(self) -> int:
        """Position in the population of the winner of a fresh tournament."""
        if self.tournament == "distinct":
            picks = self.rng.choice(len(self.population), size=self.tournament_size, replace=False)
        else:
            picks = self.rng.integers(len(self.population), size=self.tournament_size)
        self.last_tournament = picks
        return int(max(picks, key=lambda i: self.population[i][1]))

    def mutate(self, arch_id: int) -> int:
        """A child id of `arch_id` (on nb101 from the genotype of the benchmark cell)."""
        operators = self.space.operators
        return operators.mutate(arch_id, operators.genotype(arch_id, self.rng), self.rng, self.mutation)[0]

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        genotypes = self.pending if len(self.pending) == len(ids) else [None] * len(ids)
        for arch_id, label, genotype in zip(ids, labels, genotypes):
            if genotype is None:
                genotype = self.space.operators.genotype(int(arch_id), self.rng)
            self.population.append((int(arch_id), float(label), genotype))
            if len(self.population) > self.population_size:
                self.population.popleft()
        self.pending = []
