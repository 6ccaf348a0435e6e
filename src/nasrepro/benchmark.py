"""A converted benchmark in memory: labels, cells and provenance, read from its canonical table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .errors import NasReproError
from .io import atomic_path
from .spaces import get_space

META_KEY = b"nasrepro"


def write_table(table: pd.DataFrame, meta: dict, path: str | Path) -> None:
    """Write a canonical table as parquet with its provenance in the file's key-value metadata."""
    import pyarrow as pa

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), META_KEY: json.dumps(meta).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(arrow, tmp)


@dataclass
class Benchmark:
    """Labels of every architecture of one (space, dataset). Row i is architecture id i."""

    table: pd.DataFrame
    meta: dict

    @classmethod
    def load(cls, path: str | Path) -> "Benchmark":
        path = Path(path)
        try:
            arrow = pq.read_table(path)
        except (OSError, ValueError) as error:
            raise NasReproError(f"{path}: cannot read canonical table ({error})") from None
        meta = _meta(arrow.schema, path)
        table = arrow.to_pandas()
        if not (table["arch_id"].to_numpy() == np.arange(len(table))).all():
            raise NasReproError(f"{path}: arch_id is not 0..{len(table) - 1} in order")
        return cls(table=table, meta=meta)

    @staticmethod
    def read_meta(path: str | Path) -> dict:
        """The table's metadata (space, dataset, splits, sources with checksums) without reading its rows."""
        try:
            schema = pq.read_schema(path)
        except (OSError, ValueError) as error:
            raise NasReproError(f"{path}: cannot read canonical table ({error})") from None
        return _meta(schema, Path(path))

    @property
    def size(self) -> int:
        return len(self.table)

    @property
    def space(self) -> str:
        return self.meta["space"]

    @property
    def op_columns(self) -> list[str]:
        """The columns op0, op1, ... that describe each cell."""
        return [c for c in self.table.columns if c.startswith("op") and c[2:].isdigit()]

    @property
    def cells(self) -> pd.DataFrame:
        """The columns that describe cells (never labels): what a search method may read."""
        allowed = get_space(self.space).cell_columns
        return self.table[[c for c in self.table.columns if c in allowed]]

    @property
    def fit_labels(self) -> np.ndarray:
        return self.table["fit_label"].to_numpy(dtype=np.float64)

    @property
    def test_labels(self) -> np.ndarray:
        return self.table["test_label"].to_numpy(dtype=np.float64)

    def fit_repeat_labels(self) -> np.ndarray:
        """The fitting label of each training repeat, (N, repeats); only benchmarks with per-seed data have it."""
        columns = self.meta.get("fit_repeat_columns")
        if not columns:
            raise NasReproError(f"benchmark {self.meta.get('dataset')!r} ({self.space}) has no per-seed fitting labels; "
                                f"label_mode random_seed_per_arch needs them (NAS-Bench-101 has them)")
        return self.table[columns].to_numpy(dtype=np.float64)

    def optimum(self, target: str) -> int:
        """Architecture id of the global optimum: argmax of the fitting label ('fit') or test label ('test')."""
        labels = {"fit": self.fit_labels, "test": self.test_labels}
        if target not in labels:
            raise NasReproError(f"unknown optimum target {target!r}; known: fit, test")
        return int(np.argmax(labels[target]))


def _meta(schema, path: Path) -> dict:
    raw_meta = (schema.metadata or {}).get(META_KEY)
    if raw_meta is None:
        raise NasReproError(f"{path}: not a nasrepro canonical table (no '{META_KEY.decode()}' metadata)")
    return json.loads(raw_meta)
