"""The search operators over TransNAS-Bench-101 micro's 4,096 cells: neighbours, named mutations, graphs, sequences,
paths, decisions and a computation measure (the same cell as NAS-Bench-201's, four of its ops)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from .. import Graphs, Operators
from .cells import EDGE_SOURCE, EDGE_TARGET, INCOMING_EDGES, NUM_EDGES, OPS, CellIndex, edge_ops
from .encodings import path84

# naslib (NASLib's transbench101 `mutate_micro`): one edge uniformly, a different op; autodl: one node, one of
# its incoming edges, a different op (AutoDL's R-EA on the same cell shape).
MUTATIONS = ("naslib", "autodl")


# The cell graph with operations on nodes: node 0 the input, node 1 + e the op of edge e, node 7 the output.
GRAPH_OPS = ("input", *OPS, "output")


GRAPH_NODES = NUM_EDGES + 2

# The paths of path84 through no 'none' edge (op 0): one through a 'none' edge carries nothing, and the NPENAS
# authors' cell graph, which drops 'none' edges, has no such path. path84 indexes a path by its length's offset
# and its ops in base 4, first edge first.
LIVE_PATHS = np.array([0 not in ops for length in (1, 2, 3)
                       for ops in itertools.product(range(len(OPS)), repeat=length)])
CONVOLUTION_COST = {"nor_conv_3x3": 9, "nor_conv_1x1": 1}  # in 1 x 1-convolution units; other ops cost 0


def _graph_adjacency() -> np.ndarray:
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


class TransNASMicroOperators(Operators):
    def __init__(self, cells: pd.DataFrame):
        super().__init__(cells)
        self.ops = edge_ops(cells).astype(np.int8)
        self.index = CellIndex(self.ops)

    def neighbours(self, arch_id: int) -> np.ndarray:
        """The 18 cells with one edge's op changed, edge by edge, ops in code order."""
        ops = self.ops[arch_id]
        found = []
        for edge in range(NUM_EDGES):
            for op in range(len(OPS)):
                if op != ops[edge]:
                    child = ops.copy()
                    child[edge] = op
                    found.append(self.index.id_of(child))
        return np.array(found, dtype=np.int64)

    def mutate(self, arch_id: int, genotype, rng: np.random.Generator, mutation: str) -> tuple[int, None]:
        ops = self.ops[arch_id].copy()
        if mutation == "autodl":
            edges = INCOMING_EDGES[int(rng.integers(1, 4))]
            edge = edges[int(rng.integers(len(edges)))]
        else:
            edge = int(rng.integers(NUM_EDGES))
        others = [op for op in range(len(OPS)) if op != ops[edge]]
        ops[edge] = others[int(rng.integers(len(others)))]
        return self.index.id_of(ops), None

    def graphs(self) -> Graphs:
        node_ops = np.zeros((self.size, GRAPH_NODES), dtype=np.int64)
        node_ops[:, 1:-1] = self.ops + 1
        node_ops[:, -1] = len(GRAPH_OPS) - 1
        adjacency = np.broadcast_to(_graph_adjacency(), (self.size, GRAPH_NODES, GRAPH_NODES))
        return Graphs(adjacency, np.eye(len(GRAPH_OPS), dtype=np.float32)[node_ops], GRAPH_OPS)

    def sequences(self) -> np.ndarray:
        """The op of each of the six edges, token op code + 1 (the connections are fixed: no tokens)."""
        return self.ops.astype(np.int64) + 1

    def sequence_tokens(self) -> np.ndarray:
        allowed = np.ones((NUM_EDGES, len(OPS) + 1), dtype=bool)
        allowed[:, 0] = False
        return allowed

    def id_of_sequence(self, sequence) -> int | None:
        ops = np.asarray(sequence, dtype=np.int64) - 1
        if ops.shape != (NUM_EDGES,) or ops.min() < 0 or ops.max() >= len(OPS):
            return None
        return self._id_of_ops(ops)

    def paths(self, ids) -> np.ndarray:
        """path84 without the paths through a 'none' edge (`LIVE_PATHS`)."""
        return path84(self.cells.iloc[np.asarray(ids, dtype=np.int64)]) * LIVE_PATHS

    def decisions(self):
        """Each of the six edges' op, edge by edge."""
        return [len(OPS)] * NUM_EDGES, self._id_of_ops

    def _id_of_ops(self, ops) -> int | None:
        found = self.index.id_of(np.asarray(ops))
        return None if found < 0 else found

    def computation(self) -> np.ndarray:
        """The cell's convolution cost in 1 x 1-convolution units (9 per 3 x 3, 1 per 1 x 1; CATE's pairing on a
        cell without a parameter count)."""
        cost = np.array([CONVOLUTION_COST.get(op, 0) for op in OPS], dtype=np.float64)
        return cost[self.ops].sum(axis=1)
