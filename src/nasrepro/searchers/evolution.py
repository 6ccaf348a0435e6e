"""Regularized (aging) evolution (Real et al. 2019) on NAS-Bench-201 and NAS-Bench-101.

The loop is the same in both spaces: the first `population_size` queries are uniform architecture
ids; after that each query is a child of the tournament winner (the member with the best fitting
label among `tournament_size` members), and the child replaces the oldest member. Children already
queried are queried (and charged) again, as in AutoDL's R-EA and the NAS-Bench-101 colab.

Options:

- `tournament`: 'with_replacement' (AutoDL's `random.choice`, NASLib) or 'distinct' (the colab's
  `random.sample`: `tournament_size` distinct members).
- `mutation`, per space (None: the space's first one):
  - nb201 'autodl': pick one of the three intermediate nodes, then one of its incoming edges, then a
    different op; 'naslib': pick the edge uniformly among the six, then a different op.
  - nb101 'colab' (the NAS-Bench-101 colab, mutation_rate 1) / 'naslib': on the parent's unpruned
    7 x 7 genotype, flip each upper-triangle bit with probability 1/7 and redraw each interior op
    with probability 1/5 ('colab') or 1/3 ('naslib') to a different op; the whole mutation is
    repeated from the parent until the child is a valid cell of the benchmark (see
    `nb101.mutate_genotype`). Initial members get the genotype of `nb101.genotype_of_row`.

The reference settings: AutoDL on NB201 is population 10, tournament 3 with replacement, 'autodl'
(the defaults); the colab on NB101 is population 50, tournament 10 'distinct', 'colab'.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from .. import nb101, nb201
from ..errors import NasReproError
from .base import Searcher, SearchSpace

TOURNAMENTS = ("with_replacement", "distinct")


class Nb201Mutator:
    """Genotype: none (the op tuple of the architecture id is the whole cell)."""

    mutations = ("autodl", "naslib")

    def __init__(self, space: SearchSpace, mutation: str):
        self.space = space
        self.mutation = mutation
        self.cells = nb201.CellIndex(space.ops)

    def genotype(self, arch_id: int, rng: np.random.Generator) -> Any:
        return None

    def mutate(self, arch_id: int, genotype: Any, rng: np.random.Generator) -> tuple[int, Any]:
        ops = self.space.ops[arch_id].copy()
        if self.mutation == "autodl":
            node = int(rng.integers(1, 4))
            edges = nb201.INCOMING_EDGES[node]
            edge = edges[int(rng.integers(len(edges)))]
        else:
            edge = int(rng.integers(nb201.NUM_EDGES))
        others = [op for op in range(len(nb201.OPS)) if op != ops[edge]]
        ops[edge] = others[int(rng.integers(len(others)))]
        return self.cells.id_of(ops), None


class Nb101Mutator:
    """Genotype: (7 x 7 uint8 matrix, 7 op codes), unpruned; see `nb101.mutate_genotype`."""

    mutations = tuple(nb101.OP_MUTATION_RATES)

    def __init__(self, space: SearchSpace, mutation: str, max_attempts: int = nb101.MAX_MUTATION_ATTEMPTS):
        if space.cells is None or "hash" not in space.cells:
            raise NasReproError("regularized evolution on nb101 needs the cell table (its 'hash' column)")
        self.cells = space.cells
        self.op_rate = nb101.OP_MUTATION_RATES[mutation]
        self.lookup = nb101.CellLookup(space.cells["hash"])
        self.max_attempts = max_attempts
        self.attempts = 0  # mutation draws so far, rejected ones included

    def genotype(self, arch_id: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return nb101.genotype_of_row(self.cells, arch_id, rng)

    def mutate(self, arch_id: int, genotype, rng: np.random.Generator) -> tuple[int, Any]:
        matrix, codes = genotype
        child, child_matrix, child_codes, attempts = nb101.mutate_genotype(
            matrix, codes, rng, self.op_rate, self.lookup, parent=arch_id, max_attempts=self.max_attempts
        )
        self.attempts += attempts
        return child, (child_matrix, child_codes)


MUTATORS = {"nb201": Nb201Mutator, "nb101": Nb101Mutator}


class RegularizedEvolution(Searcher):
    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        population_size: int = 10,
        tournament_size: int = 3,
        mutation: str | None = None,
        tournament: str = "with_replacement",
    ):
        super().__init__(space, seed)
        if space.space not in MUTATORS:
            raise NasReproError(f"regularized_evolution supports the spaces {', '.join(MUTATORS)}, "
                                f"not {space.space!r}")
        mutator = MUTATORS[space.space]
        mutation = mutator.mutations[0] if mutation is None else mutation
        if mutation not in mutator.mutations:
            raise NasReproError(f"unknown mutation {mutation!r} for space {space.space!r}; "
                                f"known: {', '.join(mutator.mutations)}")
        if tournament not in TOURNAMENTS:
            raise NasReproError(f"unknown tournament {tournament!r}; known: {', '.join(TOURNAMENTS)}")
        if population_size < 1 or tournament_size < 1:
            raise NasReproError("regularized_evolution needs population_size >= 1 and tournament_size >= 1")
        if tournament == "distinct" and tournament_size > population_size:
            raise NasReproError(f"a 'distinct' tournament of {tournament_size} cannot be drawn from a "
                                f"population of {population_size}")
        self.rng = np.random.default_rng(seed)
        self.population_size = population_size
        self.tournament_size = tournament_size
        self.tournament = tournament
        self.mutation = mutation
        self.mutator = mutator(space, mutation)
        self.population: deque[tuple[int, float, Any]] = deque()  # (arch id, fitting label, genotype)
        self.pending: list[Any] = []  # genotypes of the ids the last `ask` returned
        self.last_tournament: np.ndarray = np.empty(0, dtype=np.int64)  # positions in the population

    def ask(self, max_queries: int) -> np.ndarray:
        if max_queries < 1:
            return np.empty(0, dtype=np.int64)
        if len(self.population) < self.population_size:
            arch_id = int(self.rng.integers(self.space.size))
            self.pending = [self.mutator.genotype(arch_id, self.rng)]
            return np.array([arch_id])
        parent, _, genotype = self.population[self.select()]
        child, child_genotype = self.mutator.mutate(parent, genotype, self.rng)
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
        """A child id of `arch_id` (on nb101 from the genotype of the benchmark cell, see `genotype`)."""
        return self.mutator.mutate(arch_id, self.mutator.genotype(arch_id, self.rng), self.rng)[0]

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        genotypes = self.pending if len(self.pending) == len(ids) else [None] * len(ids)
        for arch_id, label, genotype in zip(ids, labels, genotypes):
            if genotype is None:
                genotype = self.mutator.genotype(int(arch_id), self.rng)
            self.population.append((int(arch_id), float(label), genotype))
            if len(self.population) > self.population_size:
                self.population.popleft()
        self.pending = []
