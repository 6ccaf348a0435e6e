"""Checks against the real NAS-Bench-201 files of the benchmark mirror (../shared/benchmarks).

Skipped where the mirror is missing. The files are copied to a temporary folder through `fetch` (which
verifies their published checksums), never into the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nasrepro.spaces import nb201
from nasrepro.download import fetch, git_blob_of
from nasrepro.spaces import get_source

from conftest import MIRROR

MIRRORED = ("nb201-cifar10_avg", "nb201-nats_bench")

pytestmark = pytest.mark.skipif(
    not all((MIRROR / get_source(name).mirror_path).is_file() for name in MIRRORED),
    reason=f"benchmark mirror with nb201/cifar10_avg.csv and nb201/nats_bench.csv not found at {MIRROR}",
)


@pytest.fixture(scope="module")
def real_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("real_raw")
    files = {}
    for name in MIRRORED:
        files[name] = folder / f"{name}.csv"
        origin = fetch(get_source(name), files[name], mirror=MIRROR, allow_download=False)
        assert origin == str(MIRROR / get_source(name).mirror_path)
    return files


def test_mirror_files_match_both_published_checksums(real_files):
    for name, path in real_files.items():
        assert git_blob_of(path) == get_source(name).git_blob  # sha256 was verified by fetch


@pytest.mark.parametrize(
    "dataset, fit_split, fit_optimum, fit_max, test_optimum, test_max",
    [
        ("cifar10-valid", "x-valid", 6111, 91.6067, 1459, 91.5233),
        ("cifar10", "test", 6111, 94.3733, 6111, 94.3733),
        ("cifar100", "test", 9930, 73.5133, 9930, 73.5133),
        ("ImageNet16-120", "test", 857, 47.3111, 857, 47.3111),
    ],
)
def test_known_optima(real_files, dataset, fit_split, fit_optimum, fit_max, test_optimum, test_max):
    needed = {name: real_files[name] for name in nb201.required_sources(dataset, fit_split)}
    table, meta = nb201.convert(dataset, fit_split, needed)
    assert len(table) == 15625
    assert int(table["fit_label"].idxmax()) == fit_optimum
    assert table["fit_label"].max() == pytest.approx(fit_max, abs=1e-4)
    assert int(table["test_label"].idxmax()) == test_optimum
    assert table["test_label"].max() == pytest.approx(test_max, abs=1e-4)
    assert meta["fit_is_test"] == (fit_split == "test")
    # the NATS isomorphism string groups cells: far fewer classes than cells
    assert 5000 < table["iso_class"].nunique() < 15625
