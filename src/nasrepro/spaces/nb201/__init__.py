"""NAS-Bench-201 as a search-space plugin: the cell space (`cells`), the public CSV files and their conversion
(`convert`), its encodings (`encodings`), and the search operators over its 15,625 cells (`operators`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import Space
from .cells import CELL_COLUMNS, NUM_CELLS, NUM_EDGES, OPS, CellIndex, cell_string, edge_ops, parse_cell
from .convert import DATASETS, FIT_SPLITS, SOURCES, check_choice, convert, required_sources
from .encodings import ENCODINGS
from .operators import MUTATIONS, NB201Operators


class NB201(Space):
    name = "nb201"
    size = NUM_CELLS
    datasets = tuple(DATASETS)
    fit_splits = FIT_SPLITS
    encodings = ENCODINGS
    default_encoding = "onehot30"
    cell_columns = CELL_COLUMNS
    mutations = MUTATIONS
    operators_class = NB201Operators
    sources = SOURCES

    def check(self, bench: dict) -> None:
        check_choice(bench["dataset"], bench["fit_split"])

    def required_sources(self, bench: dict) -> list[str]:
        return required_sources(bench["dataset"], bench["fit_split"])

    def convert(self, bench: dict, files: dict[str, Path]) -> tuple[pd.DataFrame, dict]:
        return convert(bench["dataset"], bench["fit_split"], files)


__all__ = ["CELL_COLUMNS", "DATASETS", "NB201", "NUM_CELLS", "NUM_EDGES", "OPS", "CellIndex", "cell_string", "check_choice",
           "convert", "edge_ops", "parse_cell", "required_sources"]
