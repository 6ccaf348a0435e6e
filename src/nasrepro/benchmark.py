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
from .spaces import ACCURACY_RANGE, get_space

META_KEY = b"nasrepro"
ROWS_KEY = b"nasrepro_rows"  # the rows written: a table cut afterwards is told from a whole one (`check_table`)


def write_table(table: pd.DataFrame, meta: dict, path: str | Path) -> None:
    """Write a canonical table as parquet with its provenance in the file's key-value metadata."""
    import pyarrow as pa

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), META_KEY: json.dumps(meta).encode(),
                                           ROWS_KEY: str(len(table)).encode()})
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
        rows = (arrow.schema.metadata or {}).get(ROWS_KEY)
        check_table(table, meta, path, int(rows) if rows and rows.isdigit() else None)
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




def check_table(table: pd.DataFrame, meta: dict, path: str | Path, rows: int | None = None) -> None:
    """What conversion guarantees, checked again on a table read from disk (the CLI's `--table` may be any
    file): every row (arch_id 0..N-1, the `rows` written), and numeric, finite labels in their range."""
    missing = [c for c in ("arch_id", "fit_label", "test_label") if c not in table]
    if missing:
        raise NasReproError(f"{path}: not a canonical table (no column {missing[0]!r}); delete it and rerun to re-make it")
    ids = table["arch_id"].to_numpy()
    if ids.dtype.kind not in "iu" or not (ids == np.arange(len(table))).all():
        raise NasReproError(f"{path}: arch_id is not 0..{len(table) - 1} in order")
    if "space" not in meta:
        raise NasReproError(f"{path}: not a canonical table (no space in its metadata); delete it and rerun to re-make it")
    space = get_space(meta["space"])
    expected = rows or space.size  # the space's size: tables written before ROWS_KEY
    if len(table) != expected:
        raise NasReproError(f"{path}: {len(table)} rows, but the table was written with {expected}: rows are missing "
                            "or added; delete it and rerun to re-make it")
    # the range its conversion checks: a space declares it per dataset (TransNAS's losses), else accuracies in %
    low, high = space.label_range(meta.get("dataset"))
    for column in ["fit_label", "test_label", *meta.get("fit_repeat_columns", [])]:
        _check_labels(table, column, path, low, high)


def _check_labels(table: pd.DataFrame, column: str, path: str | Path, low: float, high: float) -> None:
    if column not in table or table[column].dtype.kind not in "iuf":
        what = "missing" if column not in table else f"of type {table[column].dtype}, not numbers"
        raise NasReproError(f"{path}: column {column!r} is {what}; delete the table and rerun to re-make it")
    values = table[column].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values < low) | (values > high)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        unit = " %" if (low, high) == ACCURACY_RANGE else ""
        raise NasReproError(f"{path}: column {column!r}, row {row} (architecture {row}): {values[row]:g} is not a "
                            f"finite label in [{low:g}, {high:g}]{unit} ({int(bad.sum())} such value(s)); the table is "
                            "corrupt: delete it and rerun to re-make it")


def _meta(schema, path: Path) -> dict:
    raw_meta = (schema.metadata or {}).get(META_KEY)
    if raw_meta is None:
        raise NasReproError(f"{path}: not a nasrepro canonical table (no '{META_KEY.decode()}' metadata)")
    try:
        meta = json.loads(raw_meta)
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        raise NasReproError(f"{path}: its '{META_KEY.decode()}' metadata is not a JSON object; delete it and rerun "
                            "to re-make it")
    return meta
