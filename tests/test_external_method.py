"""A user's method in their own file, outside the package, named `module:Class` in the config: it is
validated against its own declaration and runs through the workflow like a built-in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from nasrepro import config as cfg
from nasrepro.errors import NasReproError
from conftest import experiment_run_files
from test_workflow import show

PLUGINS = Path(__file__).parent / "plugins"
CONFIG = {
    "data": {"allow_download": False, "verify_raw": False},  # synthetic raw files placed by hand
    "benchmarks": {"syn": {"space": "nb201", "dataset": "cifar10-valid", "fit_split": "x-valid"}},
    "methods": {"hill": {"type": "my_methods:HillClimber", "label": "Hill climbing", "patience": 4},
                "random": {"type": "random", "label": "Random Search"}},
    "experiments": {"t5": {"benchmarks": ["syn"], "methods": ["hill", "random"], "seeds": 2,
                           "budget": {"until_optimum": True, "queries": 3000}, "outputs": ["table5", "fair"]}},
}


@pytest.fixture
def on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))


def test_external_method_is_validated_against_its_declaration(on_path):
    config = json.loads(json.dumps(CONFIG))
    cfg.validate(config)
    config["methods"]["hill"]["patience"] = 0
    with pytest.raises(NasReproError, match="methods.hill.patience"):
        cfg.validate(config)
    config["methods"]["hill"] = {"type": "my_methods:ZeroCostGuided"}
    with pytest.raises(NasReproError, match=r"key 'methods.hill' \(type my_methods:ZeroCostGuided\) needs zero_cost "
                       r"\(a capability of its own\), which space nb201 \(benchmark '\w+'\) does not offer"):
        cfg.validate(config)
    config["methods"]["hill"] = {"type": "my_methods:Missing"}
    with pytest.raises(NasReproError, match="cannot load my_methods:Missing"):
        cfg.validate(config)


@pytest.mark.slow  # runs the workflow: make test runs it, make test-fast does not
def test_external_method_runs_through_the_workflow(tmp_path, snakemake_run, raw_files, on_path):
    raw = tmp_path / "resources" / "raw"
    raw.mkdir(parents=True)
    shutil.copyfile(raw_files["nb201-cifar10_avg"], raw / "nb201-cifar10_avg.csv")
    shutil.copyfile(raw_files["nb201-nats_bench"], raw / "nb201-nats_bench.csv")
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(CONFIG))
    result = snakemake_run(tmp_path, "--cores", "2", "--configfile", str(tmp_path / "mine.yaml"),
                           env={"PYTHONPATH": str(PLUGINS)}, timeout=600)
    assert result.returncode == 0, show(result)
    run = experiment_run_files(tmp_path, CONFIG, "t5")[("syn", "hill", 0)]
    meta = json.loads(run.with_suffix(".json").read_text())
    assert meta["method"] == {"type": "my_methods:HillClimber", "patience": 4}
    assert meta["queries_to_optimum"] is not None
    table = (tmp_path / "results" / "t5" / "tables" / "table5.md").read_text()
    assert "Hill climbing" in table and "Random Search" in table


# ------------------------------------------------------------------------ nasrepro compare as a product
def test_compare_overlay_records_the_file_and_options_and_any_folder_finds_the_module(tmp_path, monkeypatch):
    """The overlay names the folder of the file it was given: loaded from another working directory and
    with a fresh module path (a later `snakemake --report`, `make render`), the method is found."""
    from nasrepro import compare, plugins

    folder = tmp_path / "mine"
    folder.mkdir()
    shutil.copy(PLUGINS / "my_methods.py", folder / "my_methods.py")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(plugins.MODULE_PATH, "")
    name, extra = compare.overlay("mine/my_methods.py:HillClimber", ["random"], "syn", 5, [100],
                                  compare.method_options('{"patience": 7}'))
    assert extra["module_folders"] == [str(folder.resolve())]
    assert extra["methods"]["hillclimber"] == {"type": "my_methods:HillClimber", "label": "HillClimber", "patience": 7}
    assert extra["experiments"][name]["outputs"] == ["comparison", "optimum_edf", "regret", "convergence"]
    config = {**json.loads(json.dumps(CONFIG)), **extra,
              "methods": {**CONFIG["methods"], **extra["methods"]}, "experiments": {**CONFIG["experiments"], **extra["experiments"]}}
    monkeypatch.setattr("sys.path", [p for p in __import__("sys").path if p != str(folder.resolve())])
    cfg.validate(cfg.prepare(config, tmp_path))  # prepare puts the recorded folder on the module path
    assert str(folder.resolve()) in __import__("sys").path


def test_compare_options_inline_file_and_refusals(tmp_path):
    from nasrepro import compare

    (tmp_path / "opts.yaml").write_text("patience: 9\n")
    assert compare.method_options(str(tmp_path / "opts.yaml")) == {"patience": 9}
    assert compare.method_options(None) == {}
    for text, fragment in (("[1, 2]", "give a mapping"), ('{"type": "random"}', "'type' is set by nasrepro compare"),
                           ("{a: [", "not YAML or JSON")):
        with pytest.raises(NasReproError, match=fragment.replace("(", r"\(").replace("[", r"\[")):
            compare.method_options(text)


def test_options_accepts_a_file_path(tmp_path, monkeypatch):
    from nasrepro.cli import describe_options

    shutil.copy(PLUGINS / "my_methods.py", tmp_path / "file_methods.py")
    monkeypatch.chdir(tmp_path)
    shown = describe_options("./file_methods.py:HillClimber")
    assert shown.startswith("file_methods:HillClimber (file_methods.HillClimber)") and "patience = 3" in shown
