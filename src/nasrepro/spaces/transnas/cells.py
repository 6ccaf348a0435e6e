"""The TransNAS-Bench-101 micro cell: NAS-Bench-201's 4-node cell (six edges, node j <- node i < j) with four
operations, written as the benchmark writes it: `64-41414-a_bc_def` (base channel 64, the skeleton 41414, then
one op code per edge: 1<-0 | 2<-0, 2<-1 | 3<-0, 3<-1, 3<-2). The codes are TransNAS-Bench-101's: 0 none (zero),
1 skip connection, 2 ReLU-conv1x1-BN, 3 ReLU-conv3x3-BN; NASLib's `op_indices` (the zip's `arch` tuples) are
these codes in edge order."""

from __future__ import annotations

from ...errors import NasReproError
from ..edge_cell import NUM_EDGES, OP_COLUMNS

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")


NUM_CELLS = len(OPS) ** NUM_EDGES  # 4,096


CELL_COLUMNS = ["cell", *OP_COLUMNS]  # what a search method may read


PREFIX = "64-41414-"


def cell_string(ops) -> str:
    a, b, c, d, e, f = (int(op) for op in ops)
    return f"{PREFIX}{a}_{b}{c}_{d}{e}{f}"


def parse_cell(cell: str) -> tuple[int, ...]:
    """'64-41414-1_02_333' -> (1, 0, 2, 3, 3, 3)."""
    groups = cell[len(PREFIX):].split("_") if cell.startswith(PREFIX) else []
    if [len(g) for g in groups] != [1, 2, 3] or not all(ch in "0123" for g in groups for ch in g):
        raise NasReproError(f"malformed TransNAS-Bench-101 micro cell {cell!r}")
    return tuple(int(ch) for g in groups for ch in g)
