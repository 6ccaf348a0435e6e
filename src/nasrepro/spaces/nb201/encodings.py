"""NAS-Bench-201 encodings: functions of the canonical table, one row per architecture."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..edge_cell import edge_ops
from .cells import OPS

# The four input->output paths of a NAS-Bench-201 cell, as edge indices (see cells.EDGE_SOURCE).
NB201_PATHS = ((3,), (0, 4), (1, 5), (0, 2, 5))

def onehot30(table: pd.DataFrame) -> np.ndarray:
    """Each edge's op as a 5-way one-hot, edge by edge (WeakNAS's `--mlp_onehot`, its default)."""
    ops = edge_ops(table)
    eye = np.eye(len(OPS), dtype=np.float32)
    return eye[ops].reshape(len(ops), -1)


def ops6(table: pd.DataFrame) -> np.ndarray:
    """The six op indices as floats (the old WeakNAS code's default without `--mlp_onehot`)."""
    return edge_ops(table).astype(np.float32)


def path155(table: pd.DataFrame) -> np.ndarray:
    """One-hot over op sequences of the 4 input->output paths: 5 + 25 + 125 = 155 dimensions."""
    ops = edge_ops(table)
    n_ops = len(OPS)
    features = np.zeros((len(ops), n_ops + n_ops**2 + n_ops**3), dtype=np.float32)
    rows = np.arange(len(ops))
    for path in NB201_PATHS:
        offset = sum(n_ops**k for k in range(1, len(path)))
        index = np.zeros(len(ops), dtype=np.int64)
        for edge in path:
            index = index * n_ops + ops[:, edge]
        features[rows, offset + index] = 1.0
    return features


# naszilla's op order (nas_bench_201/cell_201.py OPS): its path indices, hence which paths a cutoff keeps
NASZILLA_OPS = ("avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3", "none", "skip_connect")


def truncated_path(cutoff: int):
    """naszilla's `encode_freq_paths(cutoff)`: the first `cutoff` path indices of its path encoding, a path's
    index being the offset of its length (0; 5 for both length-2 paths; 30) plus sum_j op_j 5^j over its ops
    from the input, ops in naszilla's order. Cutoff 30 (naszilla's default, `cutoff=0`) keeps every path of
    length 1 and 2; naszilla/bananas' 40 also the first ten of length 3."""
    rank = np.array([NASZILLA_OPS.index(op) for op in OPS])

    def encode(table: pd.DataFrame) -> np.ndarray:
        ops = rank[edge_ops(table)]
        features = np.zeros((len(ops), cutoff), dtype=np.float32)
        rows = np.arange(len(ops))
        for path, offset in zip(NB201_PATHS, (0, 5, 5, 30)):
            index = offset + sum(ops[:, edge] * 5**j for j, edge in enumerate(path))
            keep = index < cutoff
            features[rows[keep], index[keep]] = 1.0
        return features

    encode.__doc__ = f"naszilla's truncated path encoding, cutoff {cutoff} (`truncated_path`)."
    return encode


ENCODINGS = {"onehot30": onehot30, "ops6": ops6, "path155": path155, "truncpath30": truncated_path(30),
             "truncpath40": truncated_path(40)}
