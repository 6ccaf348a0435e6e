"""Fetch a public file (or copy it from a mirror folder), verify its checksum, write it atomically."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
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


def verify(path: Path, source: Source, shown_name: str | os.PathLike, hint: str = "") -> str:
    """Raise naming the file, the expected and the actual value if the checksum differs; else return what was
    checked ("sha256 <hex>" or "git blob id <hex>")."""
    if source.sha256:
        kind, expected, actual = "sha256", source.sha256, sha256_of(path)
    else:
        kind, expected, actual = "git blob id", source.git_blob, git_blob_of(path)
    if actual != expected:
        raise NasReproError(f"checksum mismatch for {shown_name}: expected {kind} {expected}, got {actual}"
                            + (f"; {hint}" if hint else ""))
    return f"{kind} {actual}"


def resolve_mirror(mirror: str | os.PathLike | None) -> Path | None:
    """The mirror folder: the config value if given, else $NASREPRO_MIRROR, else none."""
    chosen = mirror or os.environ.get(MIRROR_ENV) or None
    return Path(chosen).expanduser() if chosen else None


def _mirror_origin(mirror: str | os.PathLike | None) -> str:
    return "data.mirror" if mirror else f"${MIRROR_ENV}"


def _offline_hint(source: Source) -> str:
    return (f"without internet, set {MIRROR_ENV}=/path/to/mirror (or data.mirror in the config) to a folder that "
            f"holds {source.mirror_path}")


def check_mirror(mirror: str | os.PathLike | None) -> Path | None:
    """The mirror folder, refused in one line when one is configured but is not an existing folder."""
    mirror_dir = resolve_mirror(mirror)
    if mirror_dir is not None and not mirror_dir.is_dir():
        state = "is not a folder" if mirror_dir.exists() else "does not exist"
        raise NasReproError(f"the mirror folder {mirror_dir} ({_mirror_origin(mirror)}) {state}: fix the path, "
                            f"or unset it to download from the pinned URLs")
    return mirror_dir


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
    mirror_dir = check_mirror(mirror)
    mirrored = mirror_dir / source.mirror_path if mirror_dir else None
    with atomic_path(destination) as tmp:
        if mirrored is not None and mirrored.is_file():
            try:
                shutil.copyfile(mirrored, tmp)
            except OSError as error:
                raise NasReproError(f"{mirrored}: cannot copy from the mirror ({error.strerror or error}"
                                    f"{': ' + str(error.filename) if error.filename and str(error.filename) != str(mirrored) else ''}); "
                                    "check its permissions and the free disk space") from None
            origin = str(mirrored)
        else:
            if not allow_download:
                where = f"the mirror {mirror_dir}" if mirror_dir else "any mirror (none is configured)"
                raise NasReproError(f"{source.mirror_path} is not in {where} and downloads are off "
                                    f"(data.allow_download: false); {_offline_hint(source)}")
            if mirrored is not None:  # never silent: one line on the terminal, not only in the log
                notice = (f"nasrepro: {source.mirror_path} is not in the mirror {mirror_dir}; downloading {source.url} "
                          "(data.allow_download: false refuses instead)")
                log.warning(notice)
                print(notice, file=sys.__stderr__, flush=True)
            try:
                _fetch_url(source.url, tmp, retries, timeout)
            except NasReproError as error:
                raise NasReproError(f"{error}; {_offline_hint(source)}") from None
            origin = source.url
        verify(tmp, source, shown_name=mirrored if origin == str(mirrored) else destination,
               hint="the mirror's copy is not the published file: replace it" if origin == str(mirrored)
               else "the download is corrupt or the file changed upstream: rerun, or report it")
    return origin


def why_unavailable(source: Source, destination: str | os.PathLike, mirror: str | os.PathLike | None = None,
                    allow_download: bool = True) -> str | None:
    """None when `fetch` can place the file (it is already there, the mirror has it, or downloads are
    on); otherwise the one-line reason, for outputs that report the paper's values alone."""
    mirror_dir = resolve_mirror(mirror)
    if Path(destination).is_file() or allow_download or (mirror_dir and (mirror_dir / source.mirror_path).is_file()):
        return None
    if mirror_dir is not None and not mirror_dir.is_dir():
        where = f"the mirror folder {mirror_dir} ({_mirror_origin(mirror)}) does not exist"
    else:
        where = f"not in the mirror {mirror_dir}" if mirror_dir else "no mirror is configured"
    return f"{source.mirror_path} is not at {destination}, {where}, and downloads are off (data.allow_download: false)"


def reverify(path: str | os.PathLike, source: Source) -> dict:
    """Check a raw file again against its pinned checksum right before it is used (a file replaced in
    resources/raw/ after its fetch is refused); returns what was checked and when, for the provenance."""
    import datetime

    checked = verify(Path(path), source, shown_name=path,
                     hint=f"it changed after it was fetched: delete it and rerun to fetch {source.name} again")
    return {"verified": checked, "verified_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "verified_when": "before conversion (and at fetch)"}
