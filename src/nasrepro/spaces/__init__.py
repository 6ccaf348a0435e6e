"""Search spaces as plugins: one module or subpackage per space owns everything about it.

A `Space` answers what the workflow asks of a benchmark entry: its public files (`sources`, with URLs and
checksums), the extra keys a benchmark of it may set (`options`, declared as methods declare theirs),
conversion to the canonical table, its encodings and named mutations; and builds, per run, the
`Operators` every method shares over architecture ids (uniform sampling, the one-edit neighbourhood,
mutation, the cell graph). No searcher imports a space-specific module: it reaches these through
`SearchSpace.operators`. A benchmark's `space` is a built-in name, an entry point of the group
`nasrepro.spaces`, or `module:Class` for a space of one's own (`nasrepro.plugins`).

Capabilities, not names: a space declares what its operators offer beyond uniform sampling (`Space.offers`,
names from `CAPABILITIES`), a method what it needs (`Searcher.needs`); config validation refuses a method on a
space that lacks a need, and no searcher names a space.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np
import pandas as pd

from .. import plugins
from ..errors import NasReproError
from ..plugins import Configurable
from ..sources import Source


# What a space may offer the methods, each backed by `Operators` methods that raise NotImplementedError where a
# space does not offer it. A space or method of one's own may name others (a user's space and method agree on them).
CAPABILITIES = {
    "neighbours": "the one-edit neighbourhood (Operators.neighbours)",
    "mutation": "named mutations (Space.mutations, Operators.genotype and mutate)",
    "graphs": "cell graphs (Operators.graphs)",
    "sequences": "token sequences (Operators.sequences, sequence_tokens, id_of_sequence)",
    "paths": "path encodings (Operators.paths)",
    "decisions": "a cell as a fixed list of decisions (Operators.decisions)",
    "computation": "a computation measure of each cell (Operators.computation)",
}


@dataclass(frozen=True)
class Graphs:
    """Cell graphs with operations on the nodes: `adjacency` (N, V, V) 0/1 (row -> column), `ops`
    (N, V, K) one-hot node operations (all zero for a node the cell does not use). Row i is arch id i.
    `op_names`: the name of each of the K operations (empty where the space does not name them); a method
    that treats some operations specially (NASBOWL prunes `none` and `skip_connect` nodes) finds them by name."""

    adjacency: np.ndarray
    ops: np.ndarray
    op_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.adjacency)

    def __getitem__(self, rows) -> "Graphs":
        return Graphs(self.adjacency[rows], self.ops[rows], self.op_names)


class Operators:
    """The search operators over the architecture ids of one benchmark table (its cell columns only)."""

    def __init__(self, cells: pd.DataFrame):
        self.cells = cells
        self.size = len(cells)

    def sample(self, rng: np.random.Generator) -> int:
        """One architecture id, uniform over the benchmark."""
        return int(rng.integers(self.size))

    def neighbours(self, arch_id: int) -> np.ndarray:
        """Ids of every benchmark cell one edit (one operation or one edge) away, in a fixed order."""
        raise NotImplementedError

    def genotype(self, arch_id: int, rng: np.random.Generator) -> Any:
        """What mutation edits (None when the id is the whole description)."""
        return None

    def mutate(self, arch_id: int, genotype: Any, rng: np.random.Generator, mutation: str) -> tuple[int, Any]:
        """(child id, child genotype) by the named mutation (`Space.mutations`)."""
        raise NotImplementedError

    def graphs(self) -> Graphs:
        raise NotImplementedError

    # Token sequences (the NAO / SemiNAS encoder-decoder): token 0 is reserved (the decoder's start symbol,
    # and padding where a cell is shorter than the longest), every other token is a connection or an op.
    def sequences(self) -> np.ndarray:
        """Every architecture as a token sequence: (N, L) int64, row i = id i."""
        raise NotImplementedError

    def sequence_tokens(self) -> np.ndarray:
        """(L, V) bool: the tokens a constrained decoder may emit at each position (V: vocabulary size,
        token 0 included)."""
        raise NotImplementedError

    def id_of_sequence(self, sequence) -> int | None:
        """The id of the architecture a token sequence describes, or None if the sequence is not a valid
        cell or its cell is not in this benchmark. id_of_sequence(sequences()[i]) == i."""
        raise NotImplementedError

    def paths(self, ids) -> np.ndarray:
        """(len(ids), P) 0/1: which input-to-output paths (op sequences) each cell has, isomorphic cells alike;
        a path through an operation that carries nothing (a 'none' edge) is left out (NPENAS compares cells so)."""
        raise NotImplementedError

    def decisions(self) -> tuple[list[int], Callable[[list[int]], int | None]]:
        """The cell as a fixed list of decisions (MCTS's tree): the number of choices of each, and the id of the
        cell a complete list describes (None where it describes no cell of this benchmark)."""
        raise NotImplementedError

    def computation(self) -> np.ndarray:
        """A computation measure of every cell, (N,) float64 (CATE pairs cells of similar computation)."""
        raise NotImplementedError


ACCURACY_RANGE = (0.0, 100.0)  # labels in percent, unless a space says otherwise (`Space.label_range`)


class Space(Configurable):
    """One search space's declaration; subclasses fill the class attributes and the methods. `options`:
    the keys a benchmark of this space may set besides space, dataset, fit_split, encoding and
    paper_column."""

    name: ClassVar[str]
    size: ClassVar[int]  # architectures in the full benchmark
    datasets: ClassVar[tuple[str, ...]]
    fit_splits: ClassVar[tuple[str, ...]]
    encodings: ClassVar[dict[str, Callable[[pd.DataFrame], np.ndarray]]]
    default_encoding: ClassVar[str]
    cell_columns: ClassVar[list[str]]  # the table columns a method may read (never labels)
    mutations: ClassVar[tuple[str, ...]]  # the first is the default
    operators_class: ClassVar[type[Operators]]
    offers: ClassVar[frozenset[str]] = frozenset()  # the CAPABILITIES its operators implement
    sources: ClassVar[dict[str, Source]]  # every public file of the space, by name

    def check(self, bench: dict) -> None:
        """NasReproError (without the key path) on an invalid benchmark entry."""
        raise NotImplementedError

    def required_sources(self, bench: dict) -> list[str]:
        """The names (keys of `sources`) of the files a benchmark's table is converted from."""
        raise NotImplementedError

    def benchmark_sources(self, bench: dict) -> dict[str, Source]:
        return {name: self.sources[name] for name in self.required_sources(bench)}

    def convert(self, bench: dict, files: dict[str, Path]) -> tuple[pd.DataFrame, dict]:
        raise NotImplementedError

    def operators(self, cells: pd.DataFrame) -> Operators:
        return self.operators_class(cells)

    def label_range(self, dataset: str | None) -> tuple[float, float]:
        """The range a label of the dataset's table lies in (a table outside it is refused as corrupt)."""
        return ACCURACY_RANGE


@cache
def get_space(name: str) -> Space:
    """The space a benchmark's `space` names: built-in, entry point or module:Class."""
    cls = plugins.load("space", name)
    if not issubclass(cls, Space):
        raise NasReproError(f"space {name!r}: {cls.__name__} is not a nasrepro.spaces.Space")
    return cls()


def all_spaces() -> list[Space]:
    """The built-in spaces."""
    return [get_space(name) for name in plugins.SPACES]


def get_source(name: str) -> Source:
    """A source of a built-in space by name (a space of one's own declares its sources itself)."""
    known = {n: source for space in all_spaces() for n, source in space.sources.items()}
    try:
        return known[name]
    except KeyError:
        raise KeyError(f"unknown benchmark source {name!r}; known: {', '.join(sorted(known))}") from None
