"""NAS-Bench-101: the cell space, its op codes, and pruning/hashing through nasbench-pytorch's ModelSpec.

A cell is a DAG of at most 7 vertices (input, up to 5 interior ops, output) with at most 9 edges.
NAS-Bench-101 stores each cell once, pruned (vertices off every input->output path removed), under
the isomorphism-invariant MD5 hash that `ModelSpec.hash_spec` computes. The canonical table keeps the
pruned cell: `num_vertices`, `adjacency` (its upper triangle, row by row, as a 0/1 string) and the op
code of every vertex in `op0..op6` (-1 beyond `num_vertices`).

Search methods that edit cells (regularized evolution) work on a *genotype*: an unpruned 7 x 7
upper-triangular 0/1 matrix with 7 op codes (input, 5 interior ops, output), as the NAS-Bench-101
colab does. `embed_padded` places a pruned cell in that 7-vertex frame, `propose_mutation` draws one
colab/NASLib mutation of a genotype and `mutate_genotype` repeats it until the child is a cell of a
given benchmark (`CellLookup`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...errors import NasReproError

if TYPE_CHECKING:
    from nasbench_pytorch.model import ModelSpec

INPUT, CONV1X1, CONV3X3, MAXPOOL3X3, OUTPUT = "input", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output"
# The reference code's integer codes: INPUT 0, CONV1X1 1, CONV3X3 2, MAXPOOL3X3 3, OUTPUT 4.
OPS = (INPUT, CONV1X1, CONV3X3, MAXPOOL3X3, OUTPUT)
INTERIOR_OPS = (CONV1X1, CONV3X3, MAXPOOL3X3)
# The order NAS-Bench-101's generator enumerated ops in; its hash labels vertices by this index.
HASH_OPS = [CONV3X3, CONV1X1, MAXPOOL3X3]
MAX_VERTICES = 7
MAX_EDGES = 9
NUM_CELLS = 423_624
OP_COLUMNS = [f"op{v}" for v in range(MAX_VERTICES)]
CELL_COLUMNS = ["hash", "num_vertices", "adjacency", "operations", *OP_COLUMNS, "params"]  # what a search method may read


def valid_spec(matrix, ops: list[str]) -> ModelSpec | None:
    """The cell as a pruned ModelSpec, or None if it is not a valid NAS-Bench-101 cell
    (input not connected to output, or more than 9 edges after pruning)."""
    matrix = np.asarray(matrix, dtype=np.int64)
    well_formed = matrix.ndim == 2 and matrix.shape[0] == matrix.shape[1] and not np.tril(matrix).any()
    if well_formed and not _input_reaches_output(matrix):
        return None  # nasbench-pytorch's ModelSpec crashes (torch.tensor(None)) on such a cell
    from nasbench_pytorch.model import ModelSpec  # imports torch: only jobs that edit cells pay for it

    spec = ModelSpec(matrix, list(ops))
    if not spec.valid_spec or int(spec.matrix.sum()) > MAX_EDGES:
        return None
    return spec


def _input_reaches_output(matrix: np.ndarray) -> bool:
    """Whether some path leads from vertex 0 to the last vertex of an upper-triangular matrix."""
    reached = np.zeros(len(matrix), dtype=bool)
    reached[0] = True
    for v in range(1, len(matrix)):
        reached[v] = bool((matrix[:v, v].astype(bool) & reached[:v]).any())
    return bool(reached[-1])


def cell_hash(matrix, ops: list[str]) -> str | None:
    """NAS-Bench-101's hash of a cell (pruned first), or None if the cell is not valid."""
    spec = valid_spec(matrix, ops)
    if spec is None:
        return None
    # ModelSpec.hash_spec passes its torch matrix to numpy-only code, so label and hash here the same way.
    from nasbench_pytorch.model import graph_util

    labeling = [-1] + [HASH_OPS.index(op) for op in spec.ops[1:-1]] + [-2]
    return graph_util.hash_module(spec.matrix.numpy(), labeling)


def upper_triangle_string(matrix: np.ndarray) -> str:
    """The bits above the diagonal, row by row, e.g. a 3-vertex chain -> '101'."""
    rows, cols = np.triu_indices(len(matrix), k=1)
    return "".join("1" if matrix[r, c] else "0" for r, c in zip(rows, cols))


def padded_cells(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(matrices, ops) of every row: (N, 7, 7) uint8 with the pruned n x n matrix in the top-left
    block, and (N, 7) int8 op codes with -1 beyond n. Vectorized per vertex count."""
    n_rows = len(table)
    matrices = np.zeros((n_rows, MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    vertices = table["num_vertices"].to_numpy()
    adjacency = table["adjacency"].to_numpy()
    for n in np.unique(vertices):
        rows = np.flatnonzero(vertices == n)
        width = n * (n - 1) // 2
        bits = np.frombuffer("".join(adjacency[rows]).encode("ascii"), dtype=np.uint8).reshape(len(rows), width) - 48
        r, c = np.triu_indices(n, k=1)
        matrices[rows[:, None], r[None, :], c[None, :]] = bits
    ops = table[OP_COLUMNS].to_numpy(dtype=np.int8)
    return matrices, ops


def cell_of_row(table: pd.DataFrame, row: int) -> tuple[np.ndarray, list[str]]:
    """The pruned (matrix, op names) of one table row."""
    n = int(table["num_vertices"].iat[row])
    matrix = np.zeros((n, n), dtype=np.int64)
    r, c = np.triu_indices(n, k=1)
    matrix[r, c] = np.frombuffer(table["adjacency"].iat[row].encode("ascii"), dtype=np.uint8) - 48
    ops = [OPS[int(table[f"op{v}"].iat[row])] for v in range(n)]
    return matrix, ops


def describe_cells(cells: Iterable[tuple[np.ndarray, list[str]]]) -> pd.DataFrame:
    """The canonical table's description columns (`CELL_COLUMNS` but params) of (matrix, op names)
    cells, each pruned first; raises NasReproError on an invalid cell."""
    rows = []
    for matrix, ops in cells:
        spec = valid_spec(matrix, ops)
        if spec is None:
            raise NasReproError(f"not a valid NAS-Bench-101 cell: matrix {np.asarray(matrix).tolist()}, ops {ops}")
        pruned = spec.matrix.numpy()
        codes = [OPS.index(op) for op in spec.ops]
        rows.append({
            "hash": cell_hash(pruned, spec.ops),
            "num_vertices": len(codes),
            "adjacency": upper_triangle_string(pruned),
            "operations": ",".join(spec.ops),
            **{column: codes[v] if v < len(codes) else -1 for v, column in enumerate(OP_COLUMNS)},
        })
    table = pd.DataFrame(rows, columns=["hash", "num_vertices", "adjacency", "operations", *OP_COLUMNS])
    return table.astype({"num_vertices": np.int8, **{column: np.int8 for column in OP_COLUMNS}})


def random_spec(rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """A random valid 7-vertex (matrix, op names) as the colab samples it: every upper-triangle bit
    Bernoulli(1/2), every interior op uniform over the three, redrawn until valid (not uniform over
    the unique cells)."""
    while True:
        matrix = np.triu(rng.integers(0, 2, size=(MAX_VERTICES, MAX_VERTICES)), k=1)
        ops = [INPUT, *(INTERIOR_OPS[i] for i in rng.integers(0, 3, size=MAX_VERTICES - 2)), OUTPUT]
        if valid_spec(matrix, ops) is not None:
            return matrix, ops


# ------------------------------------------------------------------------------ genotypes and mutation
CODE_INPUT, CODE_OUTPUT = OPS.index(INPUT), OPS.index(OUTPUT)
INTERIOR_CODES = np.array([OPS.index(op) for op in INTERIOR_OPS], dtype=np.int8)  # 1, 2, 3
EDGE_MUTATION_RATE = 1 / MAX_VERTICES  # the colab's mutation_rate / NUM_VERTICES with mutation_rate 1
# Probability that each interior op is redrawn: the colab's mutation_rate / OP_SPOTS, NASLib's 1 / len(OPS).
OP_MUTATION_RATES = {"colab": 1 / (MAX_VERTICES - 2), "naslib": 1 / len(INTERIOR_OPS)}
MAX_MUTATION_ATTEMPTS = 1000
_TRIU_ROWS, _TRIU_COLS = np.triu_indices(MAX_VERTICES, k=1)


def embed_padded(matrices: np.ndarray, ops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pruned cells (as `padded_cells` returns them: n x n top-left, op codes -1 beyond n) placed in the
    7-vertex frame: input and interior vertices 0..n-2 stay in place, the output moves to vertex 6, and
    vertices n-1..5 are empty (no edges, op code -1). Returns ((N, 7, 7) uint8, (N, 7) int8)."""
    matrices = np.asarray(matrices)
    ops = np.asarray(ops, dtype=np.int8)
    vertices = (ops >= 0).sum(axis=1)
    frame = np.zeros((len(ops), MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    frame_ops = np.full((len(ops), MAX_VERTICES), -1, dtype=np.int8)
    for n in np.unique(vertices):
        rows = np.flatnonzero(vertices == n)
        place = np.array([*range(n - 1), MAX_VERTICES - 1])  # pruned vertex i -> frame vertex place[i]
        frame[np.ix_(rows, place, place)] = matrices[np.ix_(rows, np.arange(n), np.arange(n))]
        frame_ops[np.ix_(rows, place)] = ops[np.ix_(rows, np.arange(n))]
    return frame, frame_ops


def genotype_of_row(cells: pd.DataFrame, row: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The 7 x 7 genotype of a benchmark cell: the pruned cell in the 7-vertex frame (`embed_padded`),
    its empty vertices given a uniformly random interior op (one draw per empty vertex, in order)."""
    matrices, ops = padded_cells(cells.iloc[[row]])
    frame, frame_ops = embed_padded(matrices, ops)
    matrix, codes = frame[0], frame_ops[0]
    empty = codes < 0
    codes[empty] = INTERIOR_CODES[rng.integers(len(INTERIOR_CODES), size=int(empty.sum()))]
    return matrix, codes


def op_names(codes) -> list[str]:
    return [OPS[int(code)] for code in codes]


def propose_mutation(matrix: np.ndarray, codes: np.ndarray, rng: np.random.Generator, op_rate: float,
                     edge_rate: float = EDGE_MUTATION_RATE) -> tuple[np.ndarray, np.ndarray]:
    """One mutation draw of a 7 x 7 genotype, validity unchecked: each of the 21 upper-triangle bits
    flips with probability `edge_rate`, then each of the 5 interior ops is, with probability `op_rate`,
    replaced by one of the two other interior ops (uniformly). Draws: 21 uniforms (bits row by row),
    5 uniforms (ops), then one integer per replaced op."""
    matrix = matrix.copy()
    codes = codes.copy()
    flips = rng.random(len(_TRIU_ROWS)) < edge_rate
    matrix[_TRIU_ROWS[flips], _TRIU_COLS[flips]] ^= 1
    interior = np.arange(1, MAX_VERTICES - 1)
    for vertex in interior[rng.random(len(interior)) < op_rate]:
        others = INTERIOR_CODES[INTERIOR_CODES != codes[vertex]]
        codes[vertex] = others[rng.integers(len(others))]
    return matrix, codes


class CellLookup:
    """Architecture id of a (genotype) cell in one benchmark, by NAS-Bench-101's hash of the pruned cell."""

    def __init__(self, hashes: Iterable[str]):
        self.id_of_hash: dict[str, int] = {}
        for arch_id, value in enumerate(hashes):
            self.id_of_hash.setdefault(str(value), arch_id)

    def __len__(self) -> int:
        return len(self.id_of_hash)

    def id_of(self, matrix: np.ndarray, codes: np.ndarray) -> int | None:
        """The id of the cell, or None if it is not a valid cell or not in the benchmark."""
        value = cell_hash(matrix, op_names(codes))
        return None if value is None else self.id_of_hash.get(value)


def mutate_genotype(matrix: np.ndarray, codes: np.ndarray, rng: np.random.Generator, op_rate: float,
                    lookup: CellLookup, parent: int | None = None,
                    max_attempts: int = MAX_MUTATION_ATTEMPTS) -> tuple[int, np.ndarray, np.ndarray, int]:
    """Mutate the genotype until the child is a valid cell of the benchmark, every attempt starting
    again from the parent (the colab's `mutate_spec` loop). Returns (child id, child matrix, child op
    codes, attempts); the child's genotype is its unpruned mutated 7 x 7 matrix."""
    for attempt in range(1, max_attempts + 1):
        child_matrix, child_codes = propose_mutation(matrix, codes, rng, op_rate)
        child = lookup.id_of(child_matrix, child_codes)
        if child is not None:
            return child, child_matrix, child_codes, attempt
    name = "the genotype" if parent is None else f"architecture {parent}"
    raise NasReproError(f"regularized evolution: no mutation of {name} gave a valid NAS-Bench-101 cell of the "
                        f"benchmark in {max_attempts} attempts")


# ------------------------------------------------------------------------- token sequences (NAO, SemiNAS)
# SemiNAS's NAS-Bench-101 sequence (renqianluo/SemiNAS nasbench/utils.py, convert_arch_to_seq): for each
# vertex 1..6, one token per earlier vertex (1 no edge, 2 edge), then its op token (conv1x1 3, conv3x3 4,
# maxpool 5, output 6); the vertices a pruned cell lacks are all 0 (padding). Length (7 + 2) * 6 / 2 = 27.
SEQUENCE_LENGTH = (MAX_VERTICES + 2) * (MAX_VERTICES - 1) // 2
SEQUENCE_VOCABULARY = 7
OP_TOKEN_OFFSET = 2  # op code (conv1x1 1 .. output 4) + 2
_COLUMN_START = [(column - 1) * (column + 2) // 2 for column in range(1, MAX_VERTICES)]
SEQUENCE_OP_POSITIONS = [start + column for start, column in zip(_COLUMN_START, range(1, MAX_VERTICES))]


def sequences_of_cells(matrices: np.ndarray, ops: np.ndarray) -> np.ndarray:
    """(N, 27) int64 sequences of pruned cells as `padded_cells` returns them."""
    matrices = np.asarray(matrices)
    ops = np.asarray(ops)
    present = ops >= 0  # vertex v exists
    sequences = np.zeros((len(ops), SEQUENCE_LENGTH), dtype=np.int64)
    for column, start in zip(range(1, MAX_VERTICES), _COLUMN_START):
        block = np.concatenate([matrices[:, :column, column].astype(np.int64) + 1,
                                ops[:, column, None].astype(np.int64) + OP_TOKEN_OFFSET], axis=1)
        sequences[:, start : start + column + 1] = np.where(present[:, column, None], block, 0)
    return sequences


def cell_of_sequence(sequence) -> tuple[np.ndarray, np.ndarray] | None:
    """(n x n matrix, n op codes) of a sequence, vertices up to the first all-zero column; None when the
    tokens do not describe a cell (a zero inside a present column, a non-zero after the padding, an
    interior output, a last vertex that is not the output). Whether the cell is valid is not checked."""
    sequence = np.asarray(sequence, dtype=np.int64)
    if sequence.shape != (SEQUENCE_LENGTH,):
        return None
    n = 1
    for column, start in zip(range(1, MAX_VERTICES), _COLUMN_START):
        block = sequence[start : start + column + 1]
        if not block.any():
            break
        if (block == 0).any():
            return None
        n += 1
    if n < MAX_VERTICES and sequence[_COLUMN_START[n - 1]:].any():  # tokens after the padding
        return None
    matrix = np.zeros((n, n), dtype=np.int64)
    codes = np.full(n, CODE_INPUT, dtype=np.int64)
    for column in range(1, n):
        start = _COLUMN_START[column - 1]
        bits = sequence[start : start + column] - 1
        if not np.isin(bits, (0, 1)).all():
            return None
        matrix[:column, column] = bits
        codes[column] = sequence[start + column] - OP_TOKEN_OFFSET
    if n < 2 or codes[-1] != CODE_OUTPUT or not np.isin(codes[1:-1], INTERIOR_CODES).all():
        return None
    return matrix, codes
