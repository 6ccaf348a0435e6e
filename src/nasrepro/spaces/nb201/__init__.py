"""NAS-Bench-201 as a search-space plugin: the cell space (`cells`), the public CSV files and their conversion
(`convert`), its encodings (`encodings`), and the search operators over its 15,625 cells (`operators`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...plugins import option
from .. import Space
from ..edge_cell import NUM_EDGES, edge_ops
from .cells import CELL_COLUMNS, NUM_CELLS, OPS, cell_string, parse_cell
from .convert import DATASETS, FILES, FIT_SPLITS, SOURCES, check_choice, convert, required_sources
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
    offers = frozenset({"neighbours", "mutation", "graphs", "sequences", "paths", "decisions", "computation"})
    sources = SOURCES
    options = {
        "file": option("nas_landscapes", "Where cifar100's and ImageNet16-120's x-valid labels come from: "
                       "nas_landscapes (NAS-Landscapes' file, the same version as its test labels; needs internet) "
                       "or nas_ntk (NAS-Bench-201 v1_1's validation accuracy, mirrored, with NATS-Bench's test "
                       "accuracy: two versions, stated in every table).", enum=list(FILES)),
    }

    def check(self, bench: dict) -> None:
        check_choice(bench["dataset"], bench["fit_split"], self._file(bench))

    def required_sources(self, bench: dict) -> list[str]:
        return required_sources(bench["dataset"], bench["fit_split"], self._file(bench))

    def convert(self, bench: dict, files: dict[str, Path]) -> tuple[pd.DataFrame, dict]:
        return convert(bench["dataset"], bench["fit_split"], files, self._file(bench))

    def _file(self, bench: dict) -> str:
        return bench.get("file", self.options["file"].default)


__all__ = ["CELL_COLUMNS", "DATASETS", "NB201", "NUM_CELLS", "NUM_EDGES", "OPS", "cell_string", "check_choice",
           "convert", "edge_ops", "parse_cell", "required_sources"]
