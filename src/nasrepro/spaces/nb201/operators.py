"""The search operators over NAS-Bench-201's 15,625 cells (`nasrepro.spaces.edge_cell`, five ops)."""

from __future__ import annotations

from ..edge_cell import MUTATIONS, EdgeCellOperators
from .cells import OPS
from .encodings import path155

__all__ = ["MUTATIONS", "NB201Operators"]


class NB201Operators(EdgeCellOperators):
    OPS = OPS
    path_encoding = path155
