"""The NAS-Bench-201 cell: six edges, each one of five operations; cell strings and their op indices."""

from __future__ import annotations

from ...errors import NasReproError
from ..edge_cell import EDGE_SOURCE, NUM_EDGES, OP_COLUMNS

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


NUM_CELLS = len(OPS) ** NUM_EDGES  # 15,625


CELL_COLUMNS = ["cell", *OP_COLUMNS, "iso_class"]  # what a search method may read


def parse_cell(cell: str) -> tuple[int, ...]:
    """'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' -> six op indices in edge order."""
    try:
        tokens = [tok for node in cell.strip().split("+") for tok in node.strip("|").split("|")]
        ops = tuple(OPS.index(tok.split("~")[0]) for tok in tokens)
        sources = tuple(int(tok.split("~")[1]) for tok in tokens)
    except (ValueError, IndexError):
        raise NasReproError(f"malformed NAS-Bench-201 cell string {cell!r}") from None
    if sources != EDGE_SOURCE:
        raise NasReproError(f"malformed NAS-Bench-201 cell string {cell!r}")
    return ops


def cell_string(ops) -> str:
    names = [f"{OPS[op]}~{src}" for op, src in zip(ops, EDGE_SOURCE)]
    return f"|{names[0]}|+|{'|'.join(names[1:3])}|+|{'|'.join(names[3:6])}|"
