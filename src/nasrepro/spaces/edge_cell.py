"""The cell NAS-Bench-201 and TransNAS-Bench-101 micro share: four nodes, six edges (node j <- node i < j), one
operation per edge out of a space's own list. Its shape, an index of op tuples, and the search operators over it;
each space gives its operation names and its path encoding (`EdgeCellOperators`)."""

from __future__ import annotations

import itertools
from functools import cached_property
from typing import Callable, ClassVar

import numpy as np
import pandas as pd

from . import Graphs, Operators

NUM_EDGES = 6


# Edge e joins EDGE_SOURCE[e] -> EDGE_TARGET[e]: 1<-0 | 2<-0, 2<-1 | 3<-0, 3<-1, 3<-2 (both benchmarks' order).
EDGE_SOURCE = (0, 0, 1, 0, 1, 2)


EDGE_TARGET = (1, 2, 2, 3, 3, 3)


INCOMING_EDGES = {node: [e for e in range(NUM_EDGES) if EDGE_TARGET[e] == node] for node in (1, 2, 3)}


OP_COLUMNS = [f"op{e}" for e in range(NUM_EDGES)]


# autodl: one node, one incoming edge, a different op (AutoDL's R-EA); naslib: one edge uniformly, a different op;
# naszilla (cell_201.py `mutate`, mutate_encoding 'adj'): each of the six ops changed with probability 1/(6 - 2) to a
# different op; nasbowl (generate_test_graphs.py `_banana_mutate`): with probability 1 / (number of ops).
MUTATIONS = ("autodl", "naslib", "naszilla", "nasbowl")


CONVOLUTION_COST = {"nor_conv_3x3": 9, "nor_conv_1x1": 1}  # in 1 x 1-convolution units; other ops cost 0


GRAPH_NODES = NUM_EDGES + 2  # the cell graph with ops on nodes: 0 the input, 1 + e the op of edge e, 7 the output


def edge_ops(table: pd.DataFrame) -> np.ndarray:
    return table[OP_COLUMNS].to_numpy(dtype=np.int64)


def codes(ops, num_ops: int) -> np.ndarray:
    """The code of each op tuple in base `num_ops`, edge 0 most significant: 0 .. num_ops ** 6 - 1."""
    return (np.asarray(ops, dtype=np.int64) * (num_ops ** np.arange(NUM_EDGES - 1, -1, -1))).sum(axis=1)


class CellIndex:
    """Maps op tuples to the architecture ids of one canonical table (-1: not in it)."""

    def __init__(self, ops: np.ndarray, num_ops: int):
        self.num_ops = num_ops
        self._id_of_code = np.full(num_ops**NUM_EDGES, -1, dtype=np.int64)
        self._id_of_code[codes(ops, num_ops)] = np.arange(len(ops))

    def id_of(self, ops) -> int:
        return int(self._id_of_code[codes(np.asarray(ops)[None, :], self.num_ops)[0]])


def graph_adjacency() -> np.ndarray:
    """The cell graph's adjacency (the same for every cell): edge e's op feeds every edge leaving its target."""
    adjacency = np.zeros((GRAPH_NODES, GRAPH_NODES), dtype=np.float32)
    for e, (source, target) in enumerate(zip(EDGE_SOURCE, EDGE_TARGET)):
        if source == 0:
            adjacency[0, 1 + e] = 1
        for later in range(NUM_EDGES):
            if EDGE_SOURCE[later] == target:
                adjacency[1 + e, 1 + later] = 1
        if target == 3:
            adjacency[1 + e, GRAPH_NODES - 1] = 1
    return adjacency


class EdgeCellOperators(Operators):
    """The search operators over an edge cell's benchmark; a space sets its `OPS` (op 0 is 'none') and
    `path_encoding` (one row per cell: which input-to-output op sequences it has, by length then ops in base
    len(OPS), first edge first)."""

    OPS: ClassVar[tuple[str, ...]]
    path_encoding: ClassVar[Callable[[pd.DataFrame], np.ndarray]]

    def __init__(self, cells: pd.DataFrame):
        super().__init__(cells)
        self.ops = edge_ops(cells).astype(np.int8)
        self.index = CellIndex(self.ops, len(self.OPS))

    def neighbours(self, arch_id: int) -> np.ndarray:
        """The cells with one edge's op changed, edge by edge, ops in index order."""
        ops = self.ops[arch_id]
        found = []
        for edge in range(NUM_EDGES):
            for op in range(len(self.OPS)):
                if op != ops[edge]:
                    child = ops.copy()
                    child[edge] = op
                    found.append(self.index.id_of(child))
        return np.array(found, dtype=np.int64)

    def mutate(self, arch_id: int, genotype, rng: np.random.Generator, mutation: str) -> tuple[int, None]:
        """By one of `MUTATIONS`; 'naszilla' and 'nasbowl' may return the parent itself."""
        ops = self.ops[arch_id].copy()
        per_op = {"naszilla": 1 / (NUM_EDGES - 2), "nasbowl": 1 / len(self.OPS)}.get(mutation)
        if per_op is not None:
            for edge in np.flatnonzero(rng.random(NUM_EDGES) < per_op):
                ops[edge] = (ops[edge] + 1 + rng.integers(len(self.OPS) - 1)) % len(self.OPS)
            return self.index.id_of(ops), None
        if mutation == "autodl":
            edges = INCOMING_EDGES[int(rng.integers(1, 4))]
            edge = edges[int(rng.integers(len(edges)))]
        else:
            edge = int(rng.integers(NUM_EDGES))
        others = [op for op in range(len(self.OPS)) if op != ops[edge]]
        ops[edge] = others[int(rng.integers(len(others)))]
        return self.index.id_of(ops), None

    def graphs(self) -> Graphs:
        graph_ops = ("input", *self.OPS, "output")
        node_ops = np.zeros((self.size, GRAPH_NODES), dtype=np.int64)
        node_ops[:, 1:-1] = self.ops + 1
        node_ops[:, -1] = len(graph_ops) - 1
        adjacency = np.broadcast_to(graph_adjacency(), (self.size, GRAPH_NODES, GRAPH_NODES))
        return Graphs(adjacency, np.eye(len(graph_ops), dtype=np.float32)[node_ops], graph_ops)

    def sequences(self) -> np.ndarray:
        """The op of each of the six edges in edge order, token op index + 1; the connections are fixed, so they
        take no tokens."""
        return self.ops.astype(np.int64) + 1

    def sequence_tokens(self) -> np.ndarray:
        allowed = np.ones((NUM_EDGES, len(self.OPS) + 1), dtype=bool)
        allowed[:, 0] = False
        return allowed

    def id_of_sequence(self, sequence) -> int | None:
        ops = np.asarray(sequence, dtype=np.int64) - 1
        if ops.shape != (NUM_EDGES,) or ops.min() < 0 or ops.max() >= len(self.OPS):
            return None
        return self._id_of_ops(ops)

    def paths(self, ids) -> np.ndarray:
        """The path encoding without the paths through a 'none' edge: one carries nothing, and the NPENAS
        authors' cell graph, which drops 'none' edges, has no such path."""
        return type(self).path_encoding(self.cells.iloc[np.asarray(ids, dtype=np.int64)]) * self._live_paths

    @cached_property
    def _live_paths(self) -> np.ndarray:
        """Which paths of the encoding (by length, then ops in base len(OPS)) pass no 'none' edge (op 0)."""
        return np.array([0 not in ops for length in (1, 2, 3)
                         for ops in itertools.product(range(len(self.OPS)), repeat=length)])

    def decisions(self):
        """Each of the six edges' op, edge by edge."""
        return [len(self.OPS)] * NUM_EDGES, self._id_of_ops

    def _id_of_ops(self, ops) -> int | None:
        found = self.index.id_of(np.asarray(ops))
        return None if found < 0 else found

    def computation(self) -> np.ndarray:
        """The cell's convolution cost in 1 x 1-convolution units (9 per 3 x 3, 1 per 1 x 1; CATE's pairing on a
        cell without a parameter count)."""
        cost = np.array([CONVOLUTION_COST.get(op, 0) for op in self.OPS], dtype=np.float64)
        return cost[self.ops].sum(axis=1)
