"""A public benchmark file: where it lives, how to check it, where a mirror keeps it. Each search space
declares its own (`Space.sources`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

@dataclass(frozen=True)
class Source:
    name: str
    url: str
    mirror_path: str  # relative to a mirror folder, e.g. ../shared/benchmarks
    sha256: str | None = None
    git_blob: str | None = None  # SHA-1 of b"blob <size>\0" + content, where no sha256 is published
    description: str = ""

    def __post_init__(self) -> None:
        if not (self.sha256 or self.git_blob):
            raise ValueError(f"source {self.name!r} has no checksum")

    @property
    def filename(self) -> str:
        """The file's name in the workflow's resources/raw folder: the source name plus its format's suffix."""
        return self.name + PurePosixPath(self.mirror_path).suffix


def by_name(*sources: Source) -> dict[str, Source]:
    return {source.name: source for source in sources}

