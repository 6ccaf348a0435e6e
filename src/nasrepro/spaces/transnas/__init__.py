"""TransNAS-Bench-101's micro space as a search-space plugin: the cell (`cells`), NASLib's zip of the validation
metric and its conversion, one benchmark per task (`convert`), the official .pth format (`pth`), its encodings
(`encodings`) and the search operators over its 4,096 cells (`operators`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import Space
from .cells import CELL_COLUMNS, NUM_CELLS, OPS, cell_string, parse_cell
from .convert import FIT_SPLITS, SOURCES, TASKS, ZIP_SOURCE, check_choice, convert
from .encodings import ENCODINGS
from .operators import MUTATIONS, TransNASMicroOperators


class TransNASMicro(Space):
    name = "transnas_micro"
    size = NUM_CELLS
    datasets = tuple(TASKS)  # a benchmark's dataset is its task
    fit_splits = FIT_SPLITS
    encodings = ENCODINGS
    default_encoding = "onehot24"
    cell_columns = CELL_COLUMNS
    mutations = MUTATIONS
    operators_class = TransNASMicroOperators
    offers = frozenset({"neighbours", "mutation", "graphs", "sequences", "paths", "decisions", "computation"})
    sources = SOURCES

    def check(self, bench: dict) -> None:
        check_choice(bench["dataset"], bench["fit_split"])

    def required_sources(self, bench: dict) -> list[str]:
        return [ZIP_SOURCE]

    def convert(self, bench: dict, files: dict[str, Path]) -> tuple[pd.DataFrame, dict]:
        return convert(bench["dataset"], bench["fit_split"], files)

    def label_range(self, dataset: str | None) -> tuple[float, float]:
        """Where the task's label lies (room layout's negated loss is negative, SSIM a fraction)."""
        return TASKS[dataset].label_range


__all__ = ["CELL_COLUMNS", "NUM_CELLS", "OPS", "TASKS", "TransNASMicro", "cell_string", "parse_cell"]
