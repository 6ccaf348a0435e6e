"""TransNAS-Bench-101 micro encodings: functions of the canonical table, one row per architecture."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..edge_cell import edge_ops
from .cells import OPS

# The four input->output paths of the cell, as edge indices (edge order of edge_cell.EDGE_SOURCE / EDGE_TARGET).
PATHS = ((3,), (0, 4), (1, 5), (0, 2, 5))


def onehot24(table: pd.DataFrame) -> np.ndarray:
    """Each edge's op as a 4-way one-hot, edge by edge (WeakNAS's one-hot per edge)."""
    return np.eye(len(OPS), dtype=np.float32)[edge_ops(table)].reshape(len(table), -1)


def ops6(table: pd.DataFrame) -> np.ndarray:
    """The six op codes as floats."""
    return edge_ops(table).astype(np.float32)


def path84(table: pd.DataFrame) -> np.ndarray:
    """One-hot over the op sequences of the 4 input->output paths: 4 + 16 + 64 = 84 dimensions; a path's index
    is the offset of its length plus its ops in base 4, first edge first."""
    ops = edge_ops(table)
    n_ops = len(OPS)
    features = np.zeros((len(ops), n_ops + n_ops**2 + n_ops**3), dtype=np.float32)
    for path in PATHS:
        offset = sum(n_ops**k for k in range(1, len(path)))
        place = np.zeros(len(ops), dtype=np.int64)
        for edge in path:
            place = place * n_ops + ops[:, edge]
        features[np.arange(len(ops)), offset + place] = 1.0
    return features


ENCODINGS = {"onehot24": onehot24, "ops6": ops6, "path84": path84}
