"""Fetch a public file (or copy it from a mirror folder), verify its checksum, write it atomically."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
import urllib.request
from pathlib import Path

from .errors import NasReproError
from .io import atomic_path
from .sources import Source

MIRROR_ENV = "NASREPRO_MIRROR"
log = logging.getLogger(__name__)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_blob_of(path: Path) -> str:
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, source: Source, shown_name: str | os.PathLike) -> None:
    """Raise naming the file, the expected and the actual value if the checksum differs."""
    if source.sha256:
        kind, expected, actual = "sha256", source.sha256, sha256_of(path)
    else:
        kind, expected, actual = "git blob id", source.git_blob, git_blob_of(path)
    if actual != expected:
        raise NasReproError(f"checksum mismatch for {shown_name}: expected {kind} {expected}, got {actual}")


def resolve_mirror(mirror: str | os.PathLike | None) -> Path | None:
    """The mirror folder: the config value if given, else $NASREPRO_MIRROR, else none."""
    chosen = mirror or os.environ.get(MIRROR_ENV) or None
    return Path(chosen).expanduser() if chosen else None


def _fetch_url(url: str, target: Path, retries: int, timeout: float) -> None:
    for attempt in range(1, retries + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
            return
        except OSError as error:
            if attempt == retries:
                raise NasReproError(f"download of {url} failed after {retries} attempts: {error}") from error
            wait = 2**attempt
            log.warning("download of %s failed (%s); retry %d/%d in %ds", url, error, attempt, retries, wait)
            time.sleep(wait)


def fetch(
    source: Source,
    destination: str | os.PathLike,
    mirror: str | os.PathLike | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    allow_download: bool = True,
) -> str:
    """Place `source` at `destination`, verified. Returns where it came from (mirror path or URL).

    With a mirror folder that holds the file, the mirror is used; a mirror folder that lacks it
    falls back to the URL unless `allow_download` is false. A file that fails its checksum is never left at `destination`.
    """
    destination = Path(destination)
    mirror_dir = resolve_mirror(mirror)
    mirrored = mirror_dir / source.mirror_path if mirror_dir else None
    with atomic_path(destination) as tmp:
        if mirrored is not None and mirrored.is_file():
            shutil.copyfile(mirrored, tmp)
            origin = str(mirrored)
        else:
            if not allow_download:
                where = f"the mirror {mirror_dir}" if mirror_dir else "any mirror (none is configured)"
                raise NasReproError(
                    f"{source.mirror_path} is not in {where} and downloads are off (data.allow_download: false)"
                )
            if mirrored is not None:
                log.warning("%s is not in the mirror %s; downloading %s", source.mirror_path, mirror_dir, source.url)
            _fetch_url(source.url, tmp, retries, timeout)
            origin = source.url
        verify(tmp, source, shown_name=mirrored if origin == str(mirrored) else destination)
    return origin


def why_unavailable(source: Source, destination: str | os.PathLike, mirror: str | os.PathLike | None = None,
                    allow_download: bool = True) -> str | None:
    """None when `fetch` can place the file (it is already there, the mirror has it, or downloads are
    on); otherwise the one-line reason, for outputs that report the paper's values alone."""
    mirror_dir = resolve_mirror(mirror)
    if Path(destination).is_file() or allow_download or (mirror_dir and (mirror_dir / source.mirror_path).is_file()):
        return None
    where = f"not in the mirror {mirror_dir}" if mirror_dir else "no mirror is configured"
    return f"{source.mirror_path} is not at {destination}, {where}, and downloads are off (data.allow_download: false)"
