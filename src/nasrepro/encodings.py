"""Architecture encodings: canonical table -> float32 feature matrix (one row per architecture)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from . import nb201
from .errors import NasReproError

# The four input->output paths of a NAS-Bench-201 cell, as edge indices (see nb201.EDGE_SOURCE).
NB201_PATHS = ((3,), (0, 4), (1, 5), (0, 2, 5))


def nb201_ops(table: pd.DataFrame) -> np.ndarray:
    return table[[f"op{e}" for e in range(nb201.NUM_EDGES)]].to_numpy(dtype=np.int64)


def nb201_onehot30(table: pd.DataFrame) -> np.ndarray:
    """Each edge's op as a 5-way one-hot, edge by edge (WeakNAS's `--mlp_onehot`, its default)."""
    ops = nb201_ops(table)
    eye = np.eye(len(nb201.OPS), dtype=np.float32)
    return eye[ops].reshape(len(ops), -1)


def nb201_ops6(table: pd.DataFrame) -> np.ndarray:
    """The six op indices as floats (the old WeakNAS code's default without `--mlp_onehot`)."""
    return nb201_ops(table).astype(np.float32)


def nb201_path155(table: pd.DataFrame) -> np.ndarray:
    """One-hot over op sequences of the 4 input->output paths: 5 + 25 + 125 = 155 dimensions."""
    ops = nb201_ops(table)
    n_ops = len(nb201.OPS)
    features = np.zeros((len(ops), n_ops + n_ops**2 + n_ops**3), dtype=np.float32)
    rows = np.arange(len(ops))
    for path in NB201_PATHS:
        offset = sum(n_ops**k for k in range(1, len(path)))
        index = np.zeros(len(ops), dtype=np.int64)
        for edge in path:
            index = index * n_ops + ops[:, edge]
        features[rows, offset + index] = 1.0
    return features


ENCODINGS: dict[str, dict[str, Callable[[pd.DataFrame], np.ndarray]]] = {
    "nb201": {"onehot30": nb201_onehot30, "ops6": nb201_ops6, "path155": nb201_path155},
}


def encode(space: str, encoding: str, table: pd.DataFrame) -> np.ndarray:
    try:
        function = ENCODINGS[space][encoding]
    except KeyError:
        known = ", ".join(ENCODINGS.get(space, {})) or "none"
        raise NasReproError(f"unknown encoding {encoding!r} for space {space!r}; known: {known}") from None
    return np.ascontiguousarray(function(table), dtype=np.float32)
