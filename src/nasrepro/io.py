"""Atomic file writes (an output either appears whole or not at all) and the content digests of data files."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give outputs the usual permissions
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_json(obj, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def write_text(text: str, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def check_intact(path: str | os.PathLike) -> None:
    """NasReproError naming `path` when a parquet table or .npy matrix is truncated or corrupt (its footer
    or header and size are read, not its data: cheap enough to run over every input at workflow start)."""
    import numpy as np
    import pyarrow.parquet as pq

    from .errors import NasReproError

    try:
        if str(path).endswith(".npy"):
            np.load(path, mmap_mode="r", allow_pickle=False)
        else:
            pq.read_metadata(path)
    except (OSError, ValueError, EOFError) as error:
        raise NasReproError(f"{path} is truncated or corrupt ({' '.join(str(error).split())}): delete it and rerun "
                            "to re-make it; no finished run is touched") from None


def stamp_path(path: str | os.PathLike) -> Path:
    """Where a data file's content digest is kept: beside it, hidden."""
    path = Path(path)
    return path.with_name(f".{path.name}.sha256")


def content_digest(path: str | os.PathLike) -> str | None:
    """The sha256 of a data file's content (None: no such file), read from its stamp when the stamp was made
    for this very file (same size and modification time), else computed and stamped (`stamp`)."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    try:
        digest, size, mtime_ns = stamp_path(path).read_text().split()
        if (int(size), int(mtime_ns)) == (stat.st_size, stat.st_mtime_ns):
            return digest
    except (OSError, ValueError):
        pass
    return stamp(path)


def stamp(path: str | os.PathLike) -> str:
    """Compute a data file's content digest and keep it beside the file; returns it. Called when a table,
    encoding or embedding is written, so that a consumer reads the digest instead of the file. A table's
    digest is of its columns and rows, not of its provenance metadata (which records when its raw files
    were verified): converting the same data again gives the same digest."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.suffix == ".parquet":
        digest.update(_table_bytes(path))
    else:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    stat = path.stat()
    try:
        write_text(f"{digest.hexdigest()} {stat.st_size} {stat.st_mtime_ns}\n", stamp_path(path))
    except OSError:
        pass  # a read-only folder: the digest is computed again next time
    return digest.hexdigest()


def _table_bytes(path: Path) -> bytes:
    """A parquet table's schema and data, without its key-value metadata, as Arrow IPC bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path).replace_schema_metadata(None).combine_chunks()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()
