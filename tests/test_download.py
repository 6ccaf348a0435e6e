"""Fetching public files from a mirror folder (or a monkeypatched URL), checksum verification, atomicity."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from nasrepro import download
from nasrepro.download import MIRROR_ENV, fetch, git_blob_of, sha256_of
from nasrepro.errors import NasReproError
from nasrepro.sources import Source
from nasrepro.spaces import all_spaces, get_source

CONTENT = b"index,arch_str,valid-accuracy\n0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10.0\n"
URL = "https://example.invalid/data/bench.csv"


@pytest.fixture
def mirror(tmp_path) -> Path:
    root = tmp_path / "mirror"
    (root / "made-up").mkdir(parents=True)
    (root / "made-up" / "bench.csv").write_bytes(CONTENT)
    return root


def source(**checksums) -> Source:
    if not checksums:
        checksums = {"sha256": hashlib.sha256(CONTENT).hexdigest()}
    return Source(name="made-up-bench", url=URL, mirror_path="made-up/bench.csv", **checksums)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_fetch_copies_from_the_mirror_and_verifies(tmp_path, mirror):
    destination = tmp_path / "out" / "raw" / "bench.csv"
    origin = fetch(source(), destination, mirror=mirror, allow_download=False)
    assert origin == str(mirror / "made-up" / "bench.csv")
    assert destination.read_bytes() == CONTENT
    assert leftovers(destination.parent) == ["bench.csv"]


def test_checksum_mismatch_names_file_expected_and_actual_and_leaves_nothing(tmp_path, mirror):
    wrong = "0" * 64
    destination = tmp_path / "out" / "bench.csv"
    with pytest.raises(NasReproError) as error:
        fetch(source(sha256=wrong), destination, mirror=mirror, allow_download=False)
    message = str(error.value)
    assert "bench.csv" in message
    assert wrong in message
    assert hashlib.sha256(CONTENT).hexdigest() in message
    assert "\n" not in message
    assert not destination.exists()
    assert leftovers(destination.parent) == []  # no .part files either


def test_an_existing_good_file_is_not_replaced_by_a_bad_one(tmp_path, mirror):
    destination = tmp_path / "bench.csv"
    destination.write_bytes(b"previous content")
    with pytest.raises(NasReproError):
        fetch(source(sha256="1" * 64), destination, mirror=mirror, allow_download=False)
    assert destination.read_bytes() == b"previous content"
    assert leftovers(tmp_path) == ["bench.csv", "mirror"]


def test_mirror_missing_the_file_without_downloads_names_the_file(tmp_path):
    empty_mirror = tmp_path / "empty"
    empty_mirror.mkdir()
    destination = tmp_path / "out" / "bench.csv"
    with pytest.raises(NasReproError) as error:
        fetch(source(), destination, mirror=empty_mirror, allow_download=False)
    assert "made-up/bench.csv" in str(error.value)
    assert str(empty_mirror) in str(error.value)
    assert not destination.exists() and leftovers(destination.parent) == []


def test_no_mirror_and_no_downloads_names_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    with pytest.raises(NasReproError, match=f"made-up/bench.csv.*none is configured.*set {MIRROR_ENV}=.*made-up/bench.csv"):
        fetch(source(), tmp_path / "bench.csv", mirror=None, allow_download=False)


def test_an_offline_fetch_names_the_mirror_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    monkeypatch.setattr(download.time, "sleep", lambda seconds: None)

    def offline(url, timeout):
        raise download.urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(download.urllib.request, "urlopen", offline)
    with pytest.raises(NasReproError, match=f"download of {URL} failed.*without internet, set {MIRROR_ENV}=") as error:
        fetch(source(), tmp_path / "bench.csv")
    assert "made-up/bench.csv" in str(error.value) and leftovers(tmp_path) == []


def test_git_blob_of_matches_git_hash_object(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    for name, content in [("a.csv", CONTENT), ("empty.csv", b""), ("big.bin", bytes(range(256)) * 9000)]:
        path = tmp_path / name
        path.write_bytes(content)
        expected = subprocess.run(["git", "hash-object", str(path)], capture_output=True, text=True,
                                  check=True).stdout.strip()
        assert git_blob_of(path) == expected
    assert sha256_of(tmp_path / "a.csv") == hashlib.sha256(CONTENT).hexdigest()


def test_fetch_verifies_a_git_blob_checksum(tmp_path, mirror):
    blob = git_blob_of(mirror / "made-up" / "bench.csv")
    destination = tmp_path / "ok.csv"
    fetch(source(git_blob=blob), destination, mirror=mirror, allow_download=False)
    assert destination.read_bytes() == CONTENT
    wrong = "f" * 40
    with pytest.raises(NasReproError) as error:
        fetch(source(git_blob=wrong), tmp_path / "bad.csv", mirror=mirror, allow_download=False)
    assert "git blob id" in str(error.value) and wrong in str(error.value) and blob in str(error.value)
    assert not (tmp_path / "bad.csv").exists()


def test_mirror_comes_from_the_environment_when_not_configured(tmp_path, mirror, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    destination = tmp_path / "bench.csv"
    origin = fetch(source(), destination, mirror=None, allow_download=False)
    assert origin == str(mirror / "made-up" / "bench.csv")
    assert destination.read_bytes() == CONTENT


def test_configured_mirror_wins_over_the_environment(tmp_path, mirror, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path / "does-not-exist"))
    assert download.resolve_mirror(mirror) == mirror
    monkeypatch.delenv(MIRROR_ENV)
    assert download.resolve_mirror(None) is None


def test_download_fallback_uses_the_url_when_the_mirror_lacks_the_file(tmp_path, monkeypatch):
    calls = []

    def fake_fetch_url(url, target, retries, timeout):
        calls.append(url)
        Path(target).write_bytes(CONTENT)

    monkeypatch.setattr(download, "_fetch_url", fake_fetch_url)
    empty_mirror = tmp_path / "empty"
    empty_mirror.mkdir()
    destination = tmp_path / "out" / "bench.csv"
    origin = fetch(source(), destination, mirror=empty_mirror, allow_download=True)
    assert origin == URL and calls == [URL]
    assert destination.read_bytes() == CONTENT


def test_a_corrupt_download_names_the_destination_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "_fetch_url", lambda url, target, retries, timeout: Path(target).write_bytes(b"x"))
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    destination = tmp_path / "out" / "bench.csv"
    with pytest.raises(NasReproError) as error:
        fetch(source(), destination, mirror=None, allow_download=True)
    assert str(destination) in str(error.value)
    assert hashlib.sha256(b"x").hexdigest() in str(error.value)
    assert leftovers(destination.parent) == []


def test_fetch_url_retries_then_fails_with_the_url(tmp_path, monkeypatch):
    attempts = []

    def failing_urlopen(url, timeout):
        attempts.append(url)
        raise OSError("connection refused")

    monkeypatch.setattr(download.urllib.request, "urlopen", failing_urlopen)
    monkeypatch.setattr(download.time, "sleep", lambda seconds: None)
    with pytest.raises(NasReproError, match=r"example\.invalid.*3 attempts.*connection refused"):
        download._fetch_url(URL, tmp_path / "x", retries=3, timeout=1)
    assert attempts == [URL] * 3


def test_sources_all_have_a_checksum_and_a_mirror_path():
    SOURCES = {name: source for space in all_spaces() for name, source in space.sources.items()}  # noqa: N806
    assert {"nb201-cifar10_avg", "nb201-nats_bench", "nb201-cifar100_avg", "nb201-ImageNet16-120_avg",
            "nb101-only108", "nb101-full"} <= set(SOURCES)
    for item in SOURCES.values():
        assert item.sha256 or item.git_blob
        assert item.url.startswith("https://") and item.mirror_path.split("/")[0] == item.name.split("-")[0]
        assert item.filename == item.name + {"nb101": ".tfrecord", "transnas": ".zip"}.get(item.name.split("-")[0], ".csv")
    # the published sha256 of the official NAS-Bench-101 files (../shared/benchmarks/README.md)
    assert SOURCES["nb101-only108"].sha256 == "4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1"
    assert SOURCES["nb101-full"].sha256 == "3d64db8180fb1b0207212f9032205064312b6907a3bbc81eabea10db2f5c7e9c"
    with pytest.raises(ValueError, match="no checksum"):
        Source(name="x", url=URL, mirror_path="x.csv")
    with pytest.raises(KeyError, match="unknown benchmark source"):
        get_source("nb301")
