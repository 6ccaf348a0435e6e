"""NAS-Bench-101 encodings (seq45, adj36, path364) on hand-worked cells, against simple per-cell
reference implementations written here, and on a table the size of the benchmark."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from nasrepro import encodings
from nasrepro.spaces import get_space
from nasrepro.spaces.nb101 import cells as nb101, encodings as nb101_encodings

IN, OUT = nb101.INPUT, nb101.OUTPUT
C1, C3, MP = nb101.CONV1X1, nb101.CONV3X3, nb101.MAXPOOL3X3


def matrix_of(n: int, edges) -> np.ndarray:
    matrix = np.zeros((n, n), dtype=np.int64)
    for source, target in edges:
        matrix[source, target] = 1
    return matrix


# NAS-Bench-101 cell 00005c142e6f48ac74fdcf73e3439874 (see test_searchers_nb101.py): 7 vertices, 4 paths.
CELL7 = (
    matrix_of(7, [(0, 1), (0, 4), (0, 5), (1, 2), (2, 3), (2, 6), (3, 5), (4, 5), (5, 6)]),
    [IN, C3, MP, C3, C3, C1, OUT],
)
# 5 vertices, 3 paths: 0-1-3-4 (conv1x1, conv3x3), 0-2-3-4 (maxpool, conv3x3), 0-1-4 (conv1x1).
CELL5 = (matrix_of(5, [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (1, 4)]), [IN, C1, MP, C3, OUT])
CELL2 = (matrix_of(2, [(0, 1)]), [IN, OUT])  # input -> output
# 4 vertices, two routes with the same op sequence (conv3x3), plus the direct edge: 2 distinct paths.
CELL4_TWINS = (matrix_of(4, [(0, 1), (0, 2), (1, 3), (2, 3), (0, 3)]), [IN, C3, C3, OUT])


def table_of(*cells) -> pd.DataFrame:
    table = nb101.describe_cells(cells)
    table.insert(0, "arch_id", np.arange(len(table)))
    return table


def ones(features: np.ndarray) -> list[list[int]]:
    return [np.flatnonzero(row).tolist() for row in features]


# ------------------------------------------------------------------------------- hand-worked cells
def test_seq45_hand_worked():
    features = encodings.encode("nb101", "seq45", table_of(CELL7, CELL5, CELL2))
    assert features.shape == (3, 45) and features.dtype == np.float32
    # Per column c = 1..6: the c bits of rows 0..c-1, then [conv1x1, conv3x3, maxpool, output].
    cell7 = [
        1, 0, 1, 0, 0,                 # c=1: 0->1 | conv3x3
        0, 1, 0, 0, 1, 0,              # c=2: 1->2 | maxpool
        0, 0, 1, 0, 1, 0, 0,           # c=3: 2->3 | conv3x3
        1, 0, 0, 0, 0, 1, 0, 0,        # c=4: 0->4 | conv3x3
        1, 0, 0, 1, 1, 1, 0, 0, 0,     # c=5: 0->5, 3->5, 4->5 | conv1x1
        0, 0, 1, 0, 0, 1, 0, 0, 0, 1,  # c=6: 2->6, 5->6 | output
    ]
    cell5 = [
        1, 1, 0, 0, 0,                 # c=1: 0->1 | conv1x1
        1, 0, 0, 0, 1, 0,              # c=2: 0->2 | maxpool
        0, 1, 1, 0, 1, 0, 0,           # c=3: 1->3, 2->3 | conv3x3
        0, 1, 0, 1, 0, 0, 0, 1,        # c=4: 1->4, 3->4 | output (column n-1)
        *[0] * 9,                      # c=5: beyond the cell
        *[0] * 10,                     # c=6: beyond the cell
    ]
    cell2 = [1, 0, 0, 0, 1, *[0] * 40]  # c=1: 0->1 | output
    assert features.tolist() == [cell7, cell5, cell2]


def test_adj36_hand_worked():
    features = encodings.encode("nb101", "adj36", table_of(CELL7, CELL5, CELL2))
    assert features.shape == (3, 36) and features.dtype == np.float32
    # 21 upper-triangle bits row by row (row 0: 0->1..0->6, row 1: 1->2..1->6, ...), then vertices
    # 1..5 with conv1x1 -> 001, conv3x3 -> 010, maxpool -> 100.
    cell7 = [
        1, 0, 0, 1, 1, 0,  # row 0
        1, 0, 0, 0, 0,     # row 1
        1, 0, 0, 1,        # row 2
        0, 1, 0,           # row 3
        1, 0,              # row 4
        1,                 # row 5
        0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1,  # conv3x3, maxpool, conv3x3, conv3x3, conv1x1
    ]
    # The 5-vertex cell in the 7-vertex frame: vertices 0..3 in place, its output (4) moved to 6,
    # vertices 4 and 5 empty. Edges 0->1, 0->2, 1->3, 2->3, 3->6, 1->6.
    cell5 = [
        1, 1, 0, 0, 0, 0,  # row 0
        0, 1, 0, 0, 1,     # row 1
        1, 0, 0, 0,        # row 2
        0, 0, 1,           # row 3
        0, 0,              # row 4 (empty)
        0,                 # row 5 (empty)
        0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,  # conv1x1, maxpool, conv3x3, empty, empty
    ]
    cell2 = [0, 0, 0, 0, 0, 1, *[0] * 15, *[0] * 15]  # 0->6 only, no interior op
    assert features.tolist() == [cell7, cell5, cell2]


def test_path364_hand_worked():
    # NASLib's digits: conv3x3 0, conv1x1 1, maxpool 2; index = sum_i 3^i * (digit_i + 1), first op first.
    features = encodings.encode("nb101", "path364", table_of(CELL7, CELL5, CELL2, CELL4_TWINS))
    assert features.shape == (4, 364) and features.dtype == np.float32
    # CELL7: (conv1x1) -> 2; (conv3x3, conv1x1) -> 1 + 3*2 = 7; (conv3x3, maxpool) -> 1 + 3*3 = 10;
    #        (conv3x3, maxpool, conv3x3, conv1x1) -> 1 + 3*3 + 9*1 + 27*2 = 73
    # CELL5: (conv1x1) -> 2; (conv1x1, conv3x3) -> 2 + 3*1 = 5; (maxpool, conv3x3) -> 3 + 3*1 = 6
    # CELL2: the empty path -> 0
    # CELL4_TWINS: the empty path -> 0; (conv3x3) twice -> 1, once
    assert ones(features) == [[2, 7, 10, 73], [2, 5, 6], [0], [0, 1]]
    assert features.max() == 1.0


def test_path364_index_blocks_by_path_length():
    # A 7-vertex chain: exactly one path, with all 5 interior ops; its index lies in 121..363.
    chain = (matrix_of(7, [(v, v + 1) for v in range(6)]), [IN, MP, MP, MP, MP, MP, OUT])
    features = encodings.encode("nb101", "path364", table_of(chain))
    assert ones(features) == [[363]]  # 3 * (1 + 3 + 9 + 27 + 81), the last index
    chain3x3 = (chain[0], [IN, C3, C3, C3, C3, C3, OUT])
    assert ones(encodings.encode("nb101", "path364", table_of(chain3x3))) == [[121]]  # the first 5-op index


# ----------------------------------------------------------------------- per-cell references
def seq45_reference(matrix: np.ndarray, ops: list[str]) -> list[float]:
    n = len(ops)
    out = []
    for c in range(1, 7):
        out += [float(matrix[r, c]) if c < n else 0.0 for r in range(c)]
        out += [float(c < n and ops[c] == op) for op in (C1, C3, MP, OUT)]
    return out


def adj36_reference(matrix: np.ndarray, ops: list[str]) -> list[float]:
    n = len(ops)
    place = list(range(n - 1)) + [6]
    frame = np.zeros((7, 7))
    for i in range(n):
        for j in range(n):
            frame[place[i], place[j]] = matrix[i, j]
    frame_ops = [None] * 7
    for i in range(n):
        frame_ops[place[i]] = ops[i]
    bits = {C1: [0, 0, 1], C3: [0, 1, 0], MP: [1, 0, 0], None: [0, 0, 0]}
    out = [frame[i, j] for i in range(7) for j in range(i + 1, 7)]
    for v in range(1, 6):
        out += bits[frame_ops[v]]
    return out


def path364_reference(matrix: np.ndarray, ops: list[str]) -> list[float]:
    n = len(ops)
    digit = {C3: 0, C1: 1, MP: 2}
    indices = set()

    def walk(vertex, sequence):
        if vertex == n - 1:
            indices.add(sum(3**i * (digit[op] + 1) for i, op in enumerate(sequence)))
            return
        for nxt in range(vertex + 1, n):
            if matrix[vertex, nxt]:
                walk(nxt, sequence if nxt == n - 1 else sequence + [ops[nxt]])

    walk(0, [])
    out = [0.0] * 364
    for index in indices:
        out[index] = 1.0
    return out


REFERENCES = {"seq45": seq45_reference, "adj36": adj36_reference, "path364": path364_reference}


def random_full_cell(n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[str]] | None:
    """A random n-vertex cell with every vertex on an input->output path (nothing to prune), or None
    if the draw has more than 9 edges: one random predecessor per vertex, a successor for every vertex
    that lacks one, then a few random extra edges."""
    matrix = np.zeros((n, n), dtype=np.int64)
    for v in range(1, n):
        matrix[rng.integers(v), v] = 1
    for v in range(n - 1):
        if not matrix[v].any():
            matrix[v, rng.integers(v + 1, n)] = 1
    rows, cols = np.triu_indices(n, k=1)
    extra = rng.random(len(rows)) < rng.choice([0.0, 0.1, 0.25])
    matrix[rows[extra], cols[extra]] = 1
    if matrix.sum() > nb101.MAX_EDGES:
        return None
    return matrix, [IN, *(nb101.INTERIOR_OPS[i] for i in rng.integers(0, 3, size=n - 2)), OUT]


def random_cells(count: int, seed: int, include=()) -> list[tuple[np.ndarray, list[str]]]:
    """`include` then distinct random cells until `count`: half drawn with a uniform vertex count
    (2..7, mostly 6 and 7 as in the benchmark), half as the colab draws specs (every bit with
    probability 1/2, then pruned; mostly small cells)."""
    rng = np.random.default_rng(seed)
    cells: dict[str, tuple[np.ndarray, list[str]]] = {}
    for matrix, ops in include:
        cells[nb101.cell_hash(matrix, ops)] = (matrix, ops)
    while len(cells) < count:
        if rng.random() < 0.5:
            cell = random_full_cell(int(rng.choice([2, 3, 4, 5, 6, 6, 7, 7, 7, 7])), rng)
        else:
            cell = nb101.random_spec(rng)
        if cell is None:
            continue
        spec = nb101.valid_spec(*cell)
        cells.setdefault(nb101.cell_hash(*cell), (spec.matrix.numpy(), spec.ops))
    return list(cells.values())


@pytest.fixture(scope="module")
def cells_and_table():
    cells = random_cells(600, seed=3, include=[CELL7, CELL5, CELL2, CELL4_TWINS])
    return cells, table_of(*cells)


def test_random_cells_cover_every_size(cells_and_table):
    _, table = cells_and_table
    assert set(table["num_vertices"]) == {2, 3, 4, 5, 6, 7}
    assert (table["num_vertices"] == 7).sum() > 50


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_vectorized_equals_the_per_cell_reference(cells_and_table, name):
    cells, table = cells_and_table
    features = encodings.encode("nb101", name, table)
    expected = np.array([REFERENCES[name](matrix, ops) for matrix, ops in cells], dtype=np.float32)
    assert features.shape == expected.shape == (len(cells), {"seq45": 45, "adj36": 36, "path364": 364}[name])
    assert features.dtype == np.float32 and features.flags["C_CONTIGUOUS"]
    mismatched = np.flatnonzero((features != expected).any(axis=1))
    assert len(mismatched) == 0, f"{name} differs from the reference on cells {mismatched[:5].tolist()}"


def test_encodings_separate_cells(cells_and_table):
    _, table = cells_and_table
    for name in ("seq45", "adj36"):
        # both hold the whole labelled pruned cell, and cells with distinct hashes are not isomorphic
        assert len(np.unique(encodings.encode("nb101", name, table), axis=0)) == len(table), name
    paths = encodings.encode("nb101", "path364", table)
    assert paths.sum(axis=1).min() >= 1  # every valid cell has an input->output path
    assert len(np.unique(paths, axis=0)) > 0.8 * len(table)  # paths lose some structure, not most


def test_structural_invariants(cells_and_table):
    _, table = cells_and_table
    n = table["num_vertices"].to_numpy()
    seq = encodings.encode("nb101", "seq45", table)
    op_bits = np.concatenate([np.arange(start + c, start + c + 4) for c, start in
                              zip(range(1, 7), np.cumsum([0, 5, 6, 7, 8, 9]))])
    assert (seq[:, op_bits].sum(axis=1) == n - 1).all()  # one op one-hot per vertex 1..n-1
    edges = np.array([a.count("1") for a in table["adjacency"]])
    assert (seq.sum(axis=1) == edges + n - 1).all()
    adj = encodings.encode("nb101", "adj36", table)
    assert (adj[:, :21].sum(axis=1) == edges).all()
    assert (adj[:, 21:].sum(axis=1) == n - 2).all()  # one op one-hot per interior vertex


# -------------------------------------------------------------------------- benchmark-sized table
def test_benchmark_sized_table_encodes_consistently(cells_and_table):
    """Speed sanity (not timed): 423,624 rows, a tiling of real cells, in blocks that cross the
    path364 chunk boundaries; every row must equal the encoding of its cell."""
    _, table = cells_and_table
    rows = nb101.NUM_CELLS
    index = np.arange(rows) % len(table)
    big = table.iloc[index].reset_index(drop=True)
    big["arch_id"] = np.arange(rows)
    for name in ("seq45", "adj36", "path364"):
        small = encodings.encode("nb101", name, table)
        features = encodings.encode("nb101", name, big)
        assert features.shape == (rows, small.shape[1]) and features.dtype == np.float32
        probe = np.r_[0:50, nb101_encodings.NB101_CHUNK - 25 : nb101_encodings.NB101_CHUNK + 25, rows - 50 : rows]
        assert (features[probe] == small[index[probe]]).all(), name
        assert (features.sum(axis=1) == small.sum(axis=1)[index]).all(), name
        del features


def test_nb201_encodings_unchanged_and_unknown_nb101_encoding_is_an_error():
    assert set(get_space("nb201").encodings) == {"onehot30", "ops6", "path155", "truncpath30", "truncpath40"}
    assert set(get_space("nb101").encodings) == {"seq45", "adj36", "path364"}
    from nasrepro.errors import NasReproError

    with pytest.raises(NasReproError, match="unknown encoding 'onehot30' for space 'nb101'; known: seq45"):
        encodings.encode("nb101", "onehot30", table_of(CELL2))


def test_path_extension_maps_are_a_bijection_onto_longer_paths():
    targets = np.concatenate([target for _, target in nb101_encodings._NB101_PATH_MAPS.values()])
    assert sorted(targets.tolist()) == list(range(1, 364))  # every non-empty path, once
    for length, (start, stop) in enumerate(itertools.pairwise([0, 1, 4, 13, 40, 121, 364])):
        assert all(nb101_encodings._path_length(i) == length for i in range(start, stop))
