"""Atomic file writes: an output either appears whole or not at all."""

from __future__ import annotations

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
