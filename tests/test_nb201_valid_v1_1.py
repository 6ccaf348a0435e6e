"""CIFAR-100 and ImageNet16-120 fit on NAS-Bench-201 v1_1's validation accuracy (noual/nas_ntk's
`{Cifar100,ImageNet}-NB201.csv`), reported on nats_bench.csv's test accuracy; the files are written here in
their real format (an unnamed pandas index, `index`, `num_param`, `score`, `accuracy` as a fraction, ...)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasrepro import config as cfg
from nasrepro.errors import NasReproError
from nasrepro.spaces import get_space, nb201

REPO = Path(__file__).resolve().parents[1]


def nas_ntk_frame(valid_percent: np.ndarray, with_nasi: bool = True) -> pd.DataFrame:
    n = len(valid_percent)
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"index": np.arange(n), "num_param": rng.integers(10**5, 10**6, n),
                          "score": rng.uniform(0, 50, n), "accuracy": valid_percent / 100})
    if with_nasi:  # the CIFAR-100 file has score_nasi (with empty cells), the ImageNet one does not
        frame["score_nasi"] = np.where(np.arange(n) % 7 == 0, np.nan, rng.uniform(0, 20, n))
    frame["score_naswot"] = rng.uniform(0, 10, n)
    return frame


def write_nas_ntk(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path)  # the unnamed first column, as the repository's files have it
    return path


@pytest.fixture
def files(tmp_path, raw_frames, raw_files):
    _, nats = raw_frames
    cifar100 = nats["CIFAR100TestAccuracy200Epochs"].to_numpy() - 0.4  # validation a little below test
    imagenet = nats["ImageNetTestAccuracy200Epochs"].to_numpy() - 0.2
    return {"nb201-nas_ntk-cifar100": write_nas_ntk(nas_ntk_frame(cifar100), tmp_path / "Cifar100-NB201.csv"),
            "nb201-nas_ntk-ImageNet16-120": write_nas_ntk(nas_ntk_frame(imagenet, with_nasi=False),
                                                          tmp_path / "ImageNet-NB201.csv"),
            "nb201-nats_bench": raw_files["nb201-nats_bench"]}


def test_the_real_file_heads_are_the_format_written_here():
    assert list(nas_ntk_frame(np.array([52.7])).reset_index().columns)[1:] == [
        "index", "num_param", "score", "accuracy", "score_nasi", "score_naswot"]


@pytest.mark.parametrize("dataset, source, column", [
    ("cifar100", "nb201-nas_ntk-cifar100", "CIFAR100TestAccuracy200Epochs"),
    ("ImageNet16-120", "nb201-nas_ntk-ImageNet16-120", "ImageNetTestAccuracy200Epochs")])
def test_fit_on_v1_1_validation_and_report_nats_bench_test(files, raw_frames, dataset, source, column):
    _, nats = raw_frames
    bench = {"space": "nb201", "dataset": dataset, "fit_split": "x-valid", "file": "nas_ntk"}
    space = get_space("nb201")
    assert space.required_sources(bench) == [source, "nb201-nats_bench"]
    table, meta = space.convert(bench, {name: files[name] for name in space.required_sources(bench)})
    np.testing.assert_allclose(table["test_label"], nats[column])
    np.testing.assert_allclose(table["fit_label"], nats[column] - (0.4 if dataset == "cifar100" else 0.2))
    assert table["cell"].tolist() == nats["ArchitectureString"].tolist()
    assert not meta["fit_is_test"] and "v1_1" in meta["fit_split"] and "NATS-Bench" in meta["test_split"]
    assert "two versions" in meta["label_note"] and "nas_ntk" in meta["label_note"]


def test_the_default_stays_the_same_version_file():
    space = get_space("nb201")
    bench = {"space": "nb201", "dataset": "cifar100", "fit_split": "x-valid"}
    assert space.required_sources(bench) == ["nb201-cifar100_avg", "nb201-nats_bench"]
    assert space.options["file"].default == "nas_landscapes"


@pytest.mark.parametrize("dataset, fit_split", [("cifar10-valid", "x-valid"), ("cifar100", "test")])
def test_nas_ntk_is_refused_where_it_gives_nothing(dataset, fit_split):
    with pytest.raises(NasReproError, match="file nas_ntk"):
        nb201.check_choice(dataset, fit_split, "nas_ntk")


def test_sources_carry_the_published_checksums():
    sources = get_space("nb201").sources
    assert sources["nb201-nas_ntk-cifar100"].sha256.startswith("06419ec2")
    assert sources["nb201-nas_ntk-ImageNet16-120"].mirror_path == "nb201/nas_ntk/ImageNet-NB201.csv"
    assert "noual/nas_ntk/d37e5a99" in sources["nb201-nas_ntk-cifar100"].url


@pytest.mark.parametrize("edit, message", [
    (lambda f: f.assign(accuracy=f["accuracy"] * 100), "not a finite fraction in [0, 1]"),
    (lambda f: f.assign(index=f["index"][::-1].to_numpy()), "column 'index' is not 0..15624 in order"),
    (lambda f: f.drop(columns="accuracy"), "missing column(s) accuracy"),
    (lambda f: f.iloc[:-1], "expected 15625 NAS-Bench-201 rows")])
def test_a_bad_file_stops_the_conversion_in_one_line_naming_it(tmp_path, files, edit, message):
    frame = pd.read_csv(files["nb201-nas_ntk-cifar100"], index_col=0)
    bad = write_nas_ntk(edit(frame), tmp_path / "bad.csv")
    with pytest.raises(NasReproError) as error:
        nb201.convert("cifar100", "x-valid", {**files, "nb201-nas_ntk-cifar100": bad}, "nas_ntk")
    assert message in str(error.value) and "bad.csv" in str(error.value) and "\n" not in str(error.value)


def test_the_offline_overlay_fits_on_validation():
    config = cfg.load(REPO / "config.yaml", REPO / "config" / "offline.yaml")
    for bench in ("nb201-cifar100", "nb201-imagenet16"):
        assert config["benchmarks"][bench]["fit_split"] == "x-valid"
        assert config["benchmarks"][bench]["file"] == "nas_ntk"
