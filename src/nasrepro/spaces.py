"""The search spaces a benchmark can be built on: which raw files each needs and how they become a table.

A benchmark entry of the config names a `space`; everything space-specific that the workflow asks
(raw sources, conversion, default encoding, valid dataset/split choices) is answered here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from . import nb101, nb101_reader, nb201
from .errors import NasReproError

NB101_FILES = {"only108": "nb101-only108", "full": "nb101-full"}
NB101_FIT_SPLITS = ("valid", "test")


@dataclass(frozen=True)
class Space:
    name: str
    size: int
    default_encoding: str
    check: Callable[[dict], None]  # raises NasReproError on an invalid benchmark entry
    required_sources: Callable[[dict], list[str]]
    convert: Callable[[dict, dict[str, Path]], tuple[pd.DataFrame, dict]]


def _nb201_sources(bench: dict) -> list[str]:
    return nb201.required_sources(bench["dataset"], bench["fit_split"])


def _nb201_convert(bench: dict, files: dict[str, Path]) -> tuple[pd.DataFrame, dict]:
    return nb201.convert(bench["dataset"], bench["fit_split"], files)


def _nb201_check(bench: dict) -> None:
    nb201.check_choice(bench["dataset"], bench["fit_split"])
    if "file" in bench:
        raise NasReproError("'file' is an option of nb101 benchmarks only")


def _nb101_check(bench: dict) -> None:
    if bench["dataset"] != "cifar10":
        raise NasReproError(f"NAS-Bench-101 has dataset 'cifar10' only, not {bench['dataset']!r}")
    if bench["fit_split"] not in NB101_FIT_SPLITS:
        raise NasReproError(f"unknown NAS-Bench-101 fit_split {bench['fit_split']!r}; known: {', '.join(NB101_FIT_SPLITS)}")
    if bench.get("file", "only108") not in NB101_FILES:
        raise NasReproError(f"unknown NAS-Bench-101 file {bench['file']!r}; known: {', '.join(NB101_FILES)}")


def _nb101_sources(bench: dict) -> list[str]:
    return [NB101_FILES[bench.get("file", "only108")]]


def _nb101_convert(bench: dict, files: dict[str, Path]) -> tuple[pd.DataFrame, dict]:
    (source,) = _nb101_sources(bench)
    return nb101_reader.convert(Path(files[source]), bench["fit_split"])


SPACES: dict[str, Space] = {
    "nb201": Space("nb201", nb201.NUM_CELLS, "onehot30", _nb201_check, _nb201_sources, _nb201_convert),
    "nb101": Space("nb101", nb101.NUM_CELLS, "seq45", _nb101_check, _nb101_sources, _nb101_convert),
}


def get_space(name: str) -> Space:
    try:
        return SPACES[name]
    except KeyError:
        raise NasReproError(f"unknown search space {name!r}; known: {', '.join(SPACES)}") from None
