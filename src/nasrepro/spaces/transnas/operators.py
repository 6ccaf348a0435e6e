"""The search operators over TransNAS-Bench-101 micro's 4,096 cells (`nasrepro.spaces.edge_cell`, four ops)."""

from __future__ import annotations

from ..edge_cell import MUTATIONS as EDGE_CELL_MUTATIONS, EdgeCellOperators
from .cells import OPS
from .encodings import path84

# naslib first, the default: NASLib's transbench101 `mutate_micro` (one edge uniformly, a different op)
MUTATIONS = ("naslib", *(name for name in EDGE_CELL_MUTATIONS if name != "naslib"))


class TransNASMicroOperators(EdgeCellOperators):
    OPS = OPS
    path_encoding = path84
