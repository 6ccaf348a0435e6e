"""NAS-Bench-101 as a search-space plugin: the TFRecord files, their conversion (`reader`), the cell
description and genotype operations (`cells`), its encodings, and the search operators over its
423,624 cells."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import NasReproError
from ...plugins import option
from ...sources import Source, by_name
from .. import Graphs, Operators, Space
from . import cells, encodings

FILES = {"only108": "nb101-only108", "full": "nb101-full"}
SOURCES = by_name(
    Source(
        name="nb101-only108",
        url="https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord",
        mirror_path="nb101/nasbench_only108.tfrecord",
        sha256="4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1",
        description="NAS-Bench-101: 423,624 cells x 3 repeats at 108 epochs (TFRecord, about 499 MB)",
    ),
    Source(
        name="nb101-full",
        url="https://storage.googleapis.com/nasbench/nasbench_full.tfrecord",
        mirror_path="nb101/nasbench_full.tfrecord",
        sha256="3d64db8180fb1b0207212f9032205064312b6907a3bbc81eabea10db2f5c7e9c",
        description="NAS-Bench-101 with 4/12/36/108 epochs (TFRecord, about 1.95 GB); only 108 is used",
    ),
)
FIT_SPLITS = ("valid", "test")


class NB101Operators(Operators):
    """Mutation edits a genotype: an unpruned 7 x 7 matrix with 7 op codes (see `cells`)."""

    def __init__(self, cells_table: pd.DataFrame, max_attempts: int = cells.MAX_MUTATION_ATTEMPTS):
        super().__init__(cells_table)
        if "hash" not in cells_table:
            raise NasReproError("NAS-Bench-101 search operators need the cell table (its 'hash' column)")
        self._lookup: cells.CellLookup | None = None
        self.max_attempts = max_attempts

    @property
    def lookup(self) -> cells.CellLookup:
        if self._lookup is None:  # hashing all cells takes a moment: only methods that edit cells pay
            self._lookup = cells.CellLookup(self.cells["hash"])
        return self._lookup

    def neighbours(self, arch_id: int) -> np.ndarray:
        """Benchmark cells one edit from the pruned cell: each interior op changed to each other op, then
        each upper-triangle edge flipped (pruned again; invalid or unknown cells left out), without repeats."""
        matrices, codes = cells.padded_cells(self.cells.iloc[[arch_id]])
        n = int(self.cells["num_vertices"].iat[arch_id])
        matrix, ops = matrices[0, :n, :n], codes[0, :n]
        edits = []
        for vertex in range(1, n - 1):
            for code in cells.INTERIOR_CODES[cells.INTERIOR_CODES != ops[vertex]]:
                edited = ops.copy()
                edited[vertex] = code
                edits.append((matrix, edited))
        for row, column in zip(*np.triu_indices(n, k=1)):
            flipped = matrix.copy()
            flipped[row, column] ^= 1
            edits.append((flipped, ops))
        found = [self.lookup.id_of(m, o) for m, o in edits]
        return np.array(list(dict.fromkeys(i for i in found if i is not None and i != arch_id)), dtype=np.int64)

    def genotype(self, arch_id: int, rng: np.random.Generator):
        return cells.genotype_of_row(self.cells, arch_id, rng)

    def mutate(self, arch_id: int, genotype, rng: np.random.Generator, mutation: str):
        """'colab' (the NAS-Bench-101 colab) / 'naslib': flip each upper-triangle bit with probability 1/7
        and redraw each interior op with probability 1/5 / 1/3, from the parent again until the child is
        a cell of the benchmark (`cells.mutate_genotype`)."""
        matrix, codes = genotype
        child, child_matrix, child_codes, _ = cells.mutate_genotype(
            matrix, codes, rng, cells.OP_MUTATION_RATES[mutation], self.lookup, parent=arch_id,
            max_attempts=self.max_attempts)
        return child, (child_matrix, child_codes)

    def graphs(self) -> Graphs:
        """The pruned cells padded to 7 vertices (the output at vertex n-1), ops one-hot over `cells.OPS`."""
        matrices, codes = cells.padded_cells(self.cells)
        onehot = np.vstack([np.eye(len(cells.OPS), dtype=np.float32), np.zeros(len(cells.OPS), dtype=np.float32)])
        return Graphs(matrices.astype(np.float32), onehot[codes.astype(np.int64)],  # code -1 -> the zero row
                      tuple(cells.OPS))

    def sequences(self) -> np.ndarray:
        """SemiNAS's length-27 sequence of each pruned cell (`cells.sequences_of_cells`)."""
        return cells.sequences_of_cells(*cells.padded_cells(self.cells))

    def sequence_tokens(self) -> np.ndarray:
        """Connection positions: 1 or 2; op positions: 3..6 (the authors' decoder lets any op, output
        included, take any vertex; such cells are invalid and dropped by `id_of_sequence`)."""
        allowed = np.zeros((cells.SEQUENCE_LENGTH, cells.SEQUENCE_VOCABULARY), dtype=bool)
        allowed[:, 1:3] = True
        allowed[cells.SEQUENCE_OP_POSITIONS, 1:3] = False
        allowed[cells.SEQUENCE_OP_POSITIONS, 3:] = True
        return allowed

    def id_of_sequence(self, sequence) -> int | None:
        cell = cells.cell_of_sequence(sequence)
        return None if cell is None else self.lookup.id_of(*cell)

    def paths(self, ids) -> np.ndarray:
        """path364 (NAS-Bench-101 has no 'none' op: every path carries something)."""
        return encodings.path364(self.cells.iloc[np.asarray(ids, dtype=np.int64)])

    def decisions(self):
        """The 21 upper-triangle bits of the 7 x 7 adjacency (2 choices each), then the five interior ops (3 each);
        a list that prunes to no cell of the benchmark has no id."""
        rows, columns = np.triu_indices(cells.MAX_VERTICES, k=1)

        def to_id(decisions) -> int | None:
            matrix = np.zeros((cells.MAX_VERTICES, cells.MAX_VERTICES), dtype=np.int64)
            matrix[rows, columns] = decisions[: len(rows)]
            codes = np.array([0, *cells.INTERIOR_CODES[list(decisions[len(rows):])], len(cells.OPS) - 1], dtype=np.int8)
            return self.lookup.id_of(matrix, codes)

        return [2] * len(rows) + [len(cells.INTERIOR_CODES)] * (cells.MAX_VERTICES - 2), to_id

    def computation(self) -> np.ndarray:
        """The cell's trainable parameters (`params`), CATE's measure on NAS-Bench-101."""
        return self.cells["params"].to_numpy(dtype=np.float64)


class NB101(Space):
    name = "nb101"
    size = cells.NUM_CELLS
    datasets = ("cifar10",)
    fit_splits = FIT_SPLITS
    encodings = {"seq45": encodings.seq45, "adj36": encodings.adj36, "path364": encodings.path364}
    default_encoding = "seq45"
    cell_columns = cells.CELL_COLUMNS
    mutations = tuple(cells.OP_MUTATION_RATES)
    operators_class = NB101Operators
    offers = frozenset({"neighbours", "mutation", "graphs", "sequences", "paths", "decisions", "computation"})
    sources = SOURCES
    options = {
        "file": option("only108", "only108 (nasbench_only108.tfrecord) or full (nasbench_full.tfrecord, 108 epochs "
                       "kept).", enum=list(FILES)),
        "expected_size": option(cells.NUM_CELLS, "Cells the converted file must hold (null skips the check: small "
                                "synthetic test files only).", type=["integer", "null"], minimum=1),
    }

    def check(self, bench: dict) -> None:
        if bench["dataset"] != "cifar10":
            raise NasReproError(f"NAS-Bench-101 has dataset 'cifar10' only, not {bench['dataset']!r}")
        if bench["fit_split"] not in FIT_SPLITS:
            raise NasReproError(f"unknown NAS-Bench-101 fit_split {bench['fit_split']!r}; known: {', '.join(FIT_SPLITS)}")

    def required_sources(self, bench: dict) -> list[str]:
        return [FILES[bench.get("file", "only108")]]

    def convert(self, bench: dict, files: dict[str, Path]) -> tuple[pd.DataFrame, dict]:
        from . import reader

        (source,) = self.required_sources(bench)
        # the whole benchmark unless the benchmark says otherwise (expected_size: null for small test files)
        expected = bench.get("expected_size", cells.NUM_CELLS)
        return reader.convert(Path(files[source]), bench["fit_split"], expected_cells=expected)
