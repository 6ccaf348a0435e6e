"""MCTS: Monte Carlo tree search with random rollouts, the AlphaX line without its meta-DNN (Wang, Zhao, Jinnai,
Tian and Fonseca, AAAI 2020; linnanwang/AlphaX-NASBench101 `MCTS.py`, the "MCTS" row LaNAS and WeakNAS cite).

The tree is over the architecture's decisions, made in a fixed order (the space's `Operators.decisions`): on
NAS-Bench-201 the six edges' ops (5 choices each; 4 on TransNAS-Bench-101 micro); on NAS-Bench-101 the 21
upper-triangle bits of the 7 x 7 adjacency (2 choices each), then the five interior ops (3 choices each). A node is a prefix of decisions; its statistics are n and x̄ (the mean of the
labels back-propagated through it, as fractions: the fitting label / 100, AlphaX's accuracies). An episode
starts at the root and moves to the child with the largest UCT, x̄ + 2·Cp·sqrt(2 ln n_parent / n_child)
(`cp` 2, AlphaX's `Cp`; a child not in the tree has UCT +inf; ties broken uniformly):
- a child not yet in the tree is created and evaluated by one random rollout: the remaining decisions drawn
  uniformly until they describe a cell of the benchmark (up to `rollout_attempts` (1000) tries, else value
  0.1 and no query, AlphaX's `simulation`); the rollout's architecture is queried, the child gets n = 1 and
  x̄ = its label, its ancestors n + 1 and x̄ updated as a running mean (AlphaX back-propagates only a
  positive value), and the episode ends;
- a complete child already in the tree (every decision made) is not queried again: its x̄ is
  back-propagated once more (n + 1), as AlphaX's 'term' action, and the episode ends;
- otherwise the episode moves down to the child.
A complete child created by the episode itself is its own rollout. The root is created as any node: its
evaluation is the run's first query. Each query is one ask of one id, so the back-propagation uses the
label just queried. A rollout may draw an architecture queried before: it is queried and charged again, as
AlphaX's NAS-Bench-101 runs count repeated networks (the runner charges repeats unless `charge_repeats`
is false).

Deviations: AlphaX's NAS-Bench-101 actions grow the network node by node and edge by edge (add a node with
an op, connect it, terminate); here the decisions are the fixed-length genotype, which the NAS-Bench-201
"adapted code" of the WeakNAS authors must also have used. No meta-DNN (the MCTS row of Table 5 is the plain
search). Seeds: UCT ties and rollouts draw from `numpy.random.default_rng(seed)`.
"""

from __future__ import annotations

import math

import numpy as np

from ..plugins import option
from .base import Searcher, SearchSpace

LABEL_SCALE = 0.01  # percent -> AlphaX's fractions
FAILED_ROLLOUT = 0.1  # AlphaX's `evaluate` when no valid network was found
MAX_FREE_EPISODES = 100_000  # episodes in a row that query nothing before the run is declared exhausted


class MCTS(Searcher):
    needs = frozenset({"decisions"})
    prefix_stable = True
    repeats_queries = True
    options = {
        "cp": option(2.0, "UCT exploration constant Cp (AlphaX 2; UCT = x̄ + 2 Cp sqrt(2 ln n_parent / n)).",
                     type="number", minimum=0),
        "rollout_attempts": option(1000, "Random completions tried before a rollout gives up (value 0.1).",
                                   type="integer", minimum=1),
    }

    def __init__(self, space: SearchSpace, seed: int, **options):
        super().__init__(space, seed, **options)
        self.choices, self.to_id = space.operators.decisions()
        self.rng = np.random.default_rng(seed)
        self.tree: dict[tuple, list] = {}  # prefix -> [n, x̄]
        self.pending: tuple | None = None  # the node whose rollout is being queried
        self.failed_rollouts = 0

    def ask(self, max_queries: int) -> np.ndarray:
        if max_queries < 1:
            return np.empty(0, dtype=np.int64)
        for _ in range(MAX_FREE_EPISODES):
            arch_id = self.episode()
            if arch_id is not None:
                return np.array([arch_id])
        return np.empty(0, dtype=np.int64)

    def episode(self) -> int | None:
        """One episode from the root; the id to query, or None when the episode ended without a query."""
        state: tuple = ()
        if state not in self.tree:
            return self.create(state)
        while True:
            depth = len(state)
            children = [(*state, c) for c in range(self.choices[depth])]
            uct = np.array([self.uct(state, child) for child in children])
            best = np.flatnonzero(uct == uct.max())
            child = children[int(best[self.rng.integers(len(best))]) if len(best) > 1 else int(best[0])]
            if child not in self.tree:
                return self.create(child)
            if len(child) == len(self.choices):  # a complete network already in the tree
                self.tree[child][0] += 1
                self.backpropagate(child, self.tree[child][1])
                return None
            state = child

    def uct(self, parent: tuple, child: tuple) -> float:
        if child not in self.tree:
            return math.inf
        n, x_bar = self.tree[child]
        return x_bar + 2 * self.cp * math.sqrt(2 * math.log(self.tree[parent][0]) / n)

    def create(self, node: tuple) -> int | None:
        arch_id = self.rollout(node)
        if arch_id is None:
            value = 0.0 if len(node) == len(self.choices) else FAILED_ROLLOUT
            self.tree[node] = [1, value]
            self.backpropagate(node, value)
            self.failed_rollouts += 1
            return None
        self.pending = node
        return int(arch_id)

    def rollout(self, node: tuple) -> int | None:
        free = len(self.choices) - len(node)
        attempts = 1 if free == 0 else self.rollout_attempts
        for _ in range(attempts):
            tail = [int(self.rng.integers(k)) for k in self.choices[len(node):]]
            arch_id = self.to_id([*node, *tail])
            if arch_id is not None:
                return arch_id
        return None

    def backpropagate(self, node: tuple, value: float) -> None:
        if value <= 0:
            return
        for depth in range(len(node) - 1, -1, -1):
            stats = self.tree[node[:depth]]
            stats[0] += 1
            stats[1] += (value - stats[1]) / stats[0]

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        value = float(labels[0]) * LABEL_SCALE
        self.tree[self.pending] = [1, value]
        self.backpropagate(self.pending, value)
        self.pending = None
        self._note(tree_nodes=len(self.tree), failed_rollouts=self.failed_rollouts)
        self.iteration += 1
