"""NAS-Bench-101 encodings: canonical table -> float32 feature matrix (one row per architecture)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import cells as nb101

# seq45's op one-hot order: CONV1X1, CONV3X3, MAXPOOL3X3, OUTPUT (op codes 1..4).
NB101_SEQ45_CODES = np.array([1, 2, 3, 4], dtype=np.int8)
# adj36: NASLib's bits per op code (row = code + 1, so -1 "empty", 0 input and 4 output are all zero).
NB101_ADJ36_ONEHOT = np.array(
    [[0, 0, 0], [0, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=np.float32
)  # -1, input, conv1x1 -> 001, conv3x3 -> 010, maxpool -> 100, output
# path364: NASLib's digit of each interior op (`get_path_indices`' mapping {CONV3X3: 0, CONV1X1: 1,
# MAXPOOL3X3: 2}), indexed by op code.
NB101_PATH_DIGIT = {1: 1, 2: 0, 3: 2}
NB101_PATH_LENGTHS = nb101.MAX_VERTICES - 1  # 0..5 interior ops on a path
NB101_NUM_PATHS = sum(3**k for k in range(NB101_PATH_LENGTHS))  # 364
NB101_CHUNK = 16_384  # rows per block of the path dynamic programme (7 x 364 bytes per row)


def seq45(table: pd.DataFrame) -> np.ndarray:
    """WeakNAS's default NB101 encoding (`--emb_type org`), 45 dimensions: for each column c = 1..6
    of the pruned adjacency matrix, its c entries in rows 0..c-1, then the op of vertex c as a
    one-hot over [CONV1X1, CONV3X3, MAXPOOL3X3, OUTPUT]. Columns c >= n are all zero, so a smaller
    cell is padded at the end (its OUTPUT one-hot sits in column n-1); the input is never encoded."""
    matrices, ops = nb101.padded_cells(table)
    blocks = []
    for c in range(1, nb101.MAX_VERTICES):
        blocks.append(matrices[:, :c, c])
        blocks.append(ops[:, c, None] == NB101_SEQ45_CODES)
    return np.concatenate(blocks, axis=1, dtype=np.float32)


def adj36(table: pd.DataFrame) -> np.ndarray:
    """NASLib's `adjacency_one_hot`, 36 dimensions: the 21 upper-triangle bits of the 7 x 7 matrix,
    row by row, then the op of interior vertices 1..5 as conv1x1 -> 001, conv3x3 -> 010, maxpool -> 100.

    A pruned cell with n < 7 vertices is placed in the 7-vertex frame as NASLib's `convert_to_cell`
    does (input and interior vertices 0..n-2 in place, the output moved to vertex 6), and its vertices
    n-1..5 are left empty: no edges and an ALL-ZERO op one-hot. (NASLib itself fills those vertices with
    conv3x3, i.e. 010, which makes an empty vertex look like a real conv3x3; here it is told apart.)"""
    matrices, ops = nb101.padded_cells(table)
    frame, frame_ops = nb101.embed_padded(matrices, ops)
    rows, cols = np.triu_indices(nb101.MAX_VERTICES, k=1)
    interior = NB101_ADJ36_ONEHOT[frame_ops[:, 1:-1].astype(np.int64) + 1].reshape(len(ops), -1)
    return np.concatenate([frame[:, rows, cols], interior], axis=1, dtype=np.float32)


def _path_length(index: int) -> int:
    """Number of ops on the path with this index (bijective base 3: 0 -> 0, 1..3 -> 1, 4..12 -> 2, ...)."""
    length = 0
    while index >= (3 ** (length + 1) - 1) // 2:
        length += 1
    return length


def _path_extension_maps() -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per interior op code: (source, target) path indices, where appending that op to the path
    `source[i]` (at most 4 ops long) gives the path `target[i]`."""
    source = np.arange((3 ** (NB101_PATH_LENGTHS - 1) - 1) // 2)  # paths of 0..4 ops: 121
    lengths = np.array([_path_length(int(i)) for i in source])
    return {code: (source, source + 3**lengths * (digit + 1)) for code, digit in NB101_PATH_DIGIT.items()}


_NB101_PATH_MAPS = _path_extension_maps()


def path364(table: pd.DataFrame) -> np.ndarray:
    """NASLib's path encoding, 364 dimensions: presence of each input->output path, identified by its
    sequence of interior ops (o_1..o_k), k = 0..5, at index sum_i 3^(i-1) * (d(o_i) + 1) with NASLib's
    digits d(conv3x3) = 0, d(conv1x1) = 1, d(maxpool) = 2. So the empty path input->output is index 0,
    1-op paths 1..3, 2-op paths 4..12, ..., 5-op paths 121..363; the first op is the least significant.
    Two routes through the cell with the same op sequence give a single one (a set of paths)."""
    matrices, ops = nb101.padded_cells(table)
    features = np.zeros((len(ops), NB101_NUM_PATHS), dtype=np.float32)
    for start in range(0, len(ops), NB101_CHUNK):
        stop = min(start + NB101_CHUNK, len(ops))
        features[start:stop] = _path_presence(matrices[start:stop].astype(bool), ops[start:stop])
    return features


def _paths_up_to(length: int) -> int:
    """Number of paths with at most `length` ops (= the first index of a longer path)."""
    return (3 ** (length + 1) - 1) // 2


def _path_presence(edges: np.ndarray, ops: np.ndarray) -> np.ndarray:
    """(B, 364) bool: dynamic programme over the vertices of the pruned cells of one block.
    reach[v] holds the paths from the input to v, v's own op included; a path to vertex v has at
    most v ops, so reach[v] is only `_paths_up_to(v)` wide. The output (vertex n-1) collects the paths
    arriving from its predecessors."""
    n_rows = len(ops)
    found = np.zeros((n_rows, NB101_NUM_PATHS), dtype=bool)
    reach = [np.ones((n_rows, 1), dtype=bool)]  # the input: the empty path
    for v in range(1, nb101.MAX_VERTICES):
        arriving = np.zeros((n_rows, _paths_up_to(v - 1)), dtype=bool)
        for u in range(v):
            arriving[:, : reach[u].shape[1]] |= edges[:, u, v, None] & reach[u]
        is_output = ops[:, v] == nb101.CODE_OUTPUT
        found[is_output, : arriving.shape[1]] = arriving[is_output]
        if v == nb101.MAX_VERTICES - 1:
            break  # the last vertex is the output or absent
        extended = np.zeros((n_rows, _paths_up_to(v)), dtype=bool)
        for code, (source, target) in _NB101_PATH_MAPS.items():
            width = arriving.shape[1]  # the source paths are 0..width-1, in order
            extended[:, target[:width]] = arriving & (ops[:, v] == code)[:, None]
        reach.append(extended)
    return found
