"""The NAS-Bench-201 cell: six edges, each one of five operations; cell strings and their op indices."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import NasReproError

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


NUM_EDGES = 6


NUM_CELLS = len(OPS) ** NUM_EDGES  # 15,625


# Edge e of the cell string joins EDGE_SOURCE[e] -> EDGE_TARGET[e]: 1<-0 | 2<-0, 2<-1 | 3<-0, 3<-1, 3<-2.
EDGE_SOURCE = (0, 0, 1, 0, 1, 2)


EDGE_TARGET = (1, 2, 2, 3, 3, 3)


CELL_COLUMNS = ["cell", *[f"op{e}" for e in range(NUM_EDGES)], "iso_class"]  # what a search method may read


INCOMING_EDGES = {node: [e for e in range(NUM_EDGES) if EDGE_TARGET[e] == node] for node in (1, 2, 3)}


def parse_cell(cell: str) -> tuple[int, ...]:
    """'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' -> six op indices in edge order."""
    try:
        tokens = [tok for node in cell.strip().split("+") for tok in node.strip("|").split("|")]
        ops = tuple(OPS.index(tok.split("~")[0]) for tok in tokens)
        sources = tuple(int(tok.split("~")[1]) for tok in tokens)
    except (ValueError, IndexError):
        raise NasReproError(f"malformed NAS-Bench-201 cell string {cell!r}") from None
    if sources != EDGE_SOURCE:
        raise NasReproError(f"malformed NAS-Bench-201 cell string {cell!r}")
    return ops


def cell_string(ops) -> str:
    names = [f"{OPS[op]}~{src}" for op, src in zip(ops, EDGE_SOURCE)]
    return f"|{names[0]}|+|{'|'.join(names[1:3])}|+|{'|'.join(names[3:6])}|"


def _codes(ops: np.ndarray) -> np.ndarray:
    """Base-5 code of each op tuple (edge 0 most significant)."""
    return (ops.astype(np.int64) * (len(OPS) ** np.arange(NUM_EDGES - 1, -1, -1))).sum(axis=1)


class CellIndex:
    """Maps op tuples to architecture ids of one canonical table."""

    def __init__(self, ops: np.ndarray):
        self.ops = np.asarray(ops, dtype=np.int8)
        self._id_of_code = np.full(NUM_CELLS, -1, dtype=np.int64)
        self._id_of_code[_codes(self.ops)] = np.arange(len(self.ops))

    def id_of(self, ops) -> int:
        return int(self._id_of_code[_codes(np.asarray(ops, dtype=np.int8)[None, :])[0]])


def edge_ops(table: pd.DataFrame) -> np.ndarray:
    return table[[f"op{e}" for e in range(NUM_EDGES)]].to_numpy(dtype=np.int64)
