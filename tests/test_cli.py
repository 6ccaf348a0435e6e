"""The CLI as the README's single-run example uses it: prepare one benchmark from the mirror, then one
search that prints what it found; missing files are named with the command that makes them."""

from __future__ import annotations

import pytest

from conftest import MIRROR
from nasrepro.cli import main

REPO_CONFIG = ["config.yaml", "config/offline.yaml"]


@pytest.fixture
def in_repo_copy(tmp_path, monkeypatch):
    from conftest import REPO

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NASREPRO_MIRROR", str(MIRROR))
    return [str(REPO / path) for path in REPO_CONFIG]


def test_search_names_missing_files_and_the_command_that_makes_them(in_repo_copy, capsys):
    code = main(["search", "--config", *in_repo_copy, "--experiment", "table5", "--bench", "nb201-cifar10",
                 "--method", "random", "--seed", "0", "--out", "run"])
    assert code == 2
    assert "resources/tables/nb201-cifar10.parquet does not exist: make it with `nasrepro prepare nb201-cifar10`" \
        in capsys.readouterr().err


def test_prepare_then_search_prints_what_was_found(in_repo_copy, capsys, tmp_path):
    if not (MIRROR / "nb201" / "cifar10_avg.csv").is_file():
        pytest.skip(f"benchmark mirror not found at {MIRROR}")
    assert main(["prepare", "nb201-cifar10", "--config", *in_repo_copy]) == 0
    assert (tmp_path / "resources" / "tables" / "nb201-cifar10.parquet").is_file()
    assert (tmp_path / "resources" / "encodings" / "nb201-cifar10-onehot30.npy").is_file()
    capsys.readouterr()
    assert main(["search", "--config", *in_repo_copy, "--experiment", "table5", "--bench", "nb201-cifar10",
                 "--method", "local_search", "--seed", "0", "--out", "run"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "best queried by fitting label: architecture" in line and "regret" in line and "test rank" in line
    assert "optimum queried at query" in line  # Table 5's experiment runs to the optimum


@pytest.mark.parametrize("kind", ["mlp", "predictor:mlp"])
def test_options_lists_a_predictors_options_with_or_without_its_prefix(kind, capsys):
    assert main(["options", kind]) == 0
    out = capsys.readouterr().out
    assert out.startswith("predictor:mlp (nasrepro.predictors.mlp.MLPRegressor)") and "hidden_layer_sizes" in out


def test_options_of_an_unknown_name_lists_methods_and_predictors(capsys):
    assert main(["options", "wekanas"]) == 2
    err = capsys.readouterr().err
    assert "unknown method or predictor type 'wekanas'" in err and "weaknas" in err and "random_forest" in err


def test_search_with_a_mistyped_name_lists_the_defined_ones(in_repo_copy, capsys):
    code = main(["search", "--config", *in_repo_copy, "--experiment", "tabel5", "--bench", "nb201-cifar10",
                 "--method", "random", "--seed", "0", "--out", "run"])
    assert code == 2 and "'tabel5' is not defined under 'experiments' (defined: table5, " in capsys.readouterr().err
    assert main(["prepare", "nb201-cifar1O", "--config", *in_repo_copy]) == 2
    assert "(defined: nb201-cifar10, " in capsys.readouterr().err


def test_prepare_makes_the_encodings_the_space_has_for_the_methods_that_can_run_on_it(in_repo_copy, capsys, tmp_path):
    # config.yaml pins NAS-Bench-201 encodings (onehot30, path155) on some methods: not TransNAS-Bench-101's
    if not (MIRROR / "transnas" / "all_benchmarks_zen.zip").is_file():
        pytest.skip(f"TransNAS-Bench-101 zip not found in the mirror at {MIRROR}")
    assert main(["prepare", "transnas-class_scene", "--config", *in_repo_copy]) == 0
    made = sorted(path.name for path in (tmp_path / "resources" / "encodings").iterdir() if path.suffix == ".npy")
    assert made == [f"transnas-class_scene-{name}.npy" for name in ("onehot24", "ops6", "path84")]
