"""A search space of one's own, outside the package: cells of 3 edges, each one of 3 operations (27
architectures), labelled by a generated table. A benchmark names it as `space: toy_space:ToySpace`.

What a space declares: its public file (`sources`: URL, mirror path, checksum), its datasets and fitting
splits, how the file becomes the canonical table (`convert`), its encodings, its named mutations, and the
search operators over architecture ids (sampling is inherited; `neighbours`, `mutate`) and what they offer
the methods (`offers`): a method that needs more is refused when the config is validated."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pandas as pd

from nasrepro.errors import NasReproError
from nasrepro.sources import Source, by_name
from nasrepro.spaces import Operators, Space

OPS = ("skip", "conv", "pool")
EDGES = 3
CELLS = list(itertools.product(range(len(OPS)), repeat=EDGES))
OP_COLUMNS = [f"op{edge}" for edge in range(EDGES)]


def labels_csv() -> str:
    """The generated benchmark file: one line per cell, a validation and a test accuracy."""
    lines = ["cell,valid,test"]
    for ops in CELLS:
        score = 60 + 10 * ops.count(1) + 3 * ops[0] - 2 * ops.count(2)
        lines.append(f"{'-'.join(OPS[op] for op in ops)},{score:.2f},{score - 0.5 + 0.25 * ops[2]:.2f}")
    return "\n".join(lines) + "\n"


class ToyOperators(Operators):
    def __init__(self, cells: pd.DataFrame):
        super().__init__(cells)
        self.ops = cells[OP_COLUMNS].to_numpy()
        self.index = {tuple(row): arch_id for arch_id, row in enumerate(self.ops.tolist())}

    def neighbours(self, arch_id: int) -> np.ndarray:
        """The 6 cells with one edge's operation changed, edge by edge."""
        cell = self.ops[arch_id]
        return np.array([self.index[tuple(np.where(np.arange(EDGES) == edge, op, cell))]
                         for edge in range(EDGES) for op in range(len(OPS)) if op != cell[edge]], dtype=np.int64)

    def mutate(self, arch_id: int, genotype, rng: np.random.Generator, mutation: str) -> tuple[int, None]:
        """'one_edit': one edge uniformly, then a different operation."""
        return int(rng.choice(self.neighbours(arch_id))), None


class ToySpace(Space):
    name = "toy"
    size = len(CELLS)
    datasets = ("toy",)
    fit_splits = ("valid",)
    encodings = {"onehot9": lambda table: np.eye(len(OPS), dtype=np.float32)[table[OP_COLUMNS].to_numpy()].reshape(
        len(table), -1)}
    default_encoding = "onehot9"
    cell_columns = OP_COLUMNS
    mutations = ("one_edit",)
    operators_class = ToyOperators
    offers = frozenset({"neighbours", "mutation"})  # no graphs, sequences, paths, decisions or computation
    sources = by_name(Source(name="toy-labels", url="https://example.invalid/toy/labels.csv",
                             mirror_path="toy/labels.csv", sha256=hashlib.sha256(labels_csv().encode()).hexdigest()))

    def check(self, bench: dict) -> None:
        if bench["dataset"] not in self.datasets or bench["fit_split"] not in self.fit_splits:
            raise NasReproError("the toy space has dataset 'toy' and fit_split 'valid' only")

    def required_sources(self, bench: dict) -> list[str]:
        return ["toy-labels"]

    def convert(self, bench: dict, files) -> tuple[pd.DataFrame, dict]:
        frame = pd.read_csv(files["toy-labels"])
        ops = np.array([[OPS.index(op) for op in cell.split("-")] for cell in frame["cell"]])
        table = pd.DataFrame({"arch_id": np.arange(len(frame)), "cell": frame["cell"],
                              **{column: ops[:, e] for e, column in enumerate(OP_COLUMNS)},
                              "fit_label": frame["valid"].astype(float), "test_label": frame["test"].astype(float)})
        meta = {"space": self.name, "dataset": "toy", "fit_split": "valid", "test_split": "test", "fit_is_test": False,
                "label_note": "fit on the toy valid accuracy, report its test accuracy"}
        return table, meta
