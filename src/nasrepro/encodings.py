"""Architecture encodings: canonical table -> float32 feature matrix (one row per architecture).
Each search space declares its own (`Space.encodings`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import NasReproError
from .spaces import get_space


def encode(space: str, encoding: str, table: pd.DataFrame) -> np.ndarray:
    known = get_space(space).encodings
    if encoding not in known:
        raise NasReproError(f"unknown encoding {encoding!r} for space {space!r}; known: {', '.join(known) or 'none'}")
    return np.ascontiguousarray(known[encoding](table), dtype=np.float32)
