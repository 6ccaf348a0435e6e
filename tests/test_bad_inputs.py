"""One class of bad input per test (data, config, environment, fault): each failure is ONE line that
names the file, key or value and what to do, and nothing half-written or stale remains.
docs/bad-inputs.md lists the cases tried by hand."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nasrepro import config as cfg, contract, download, pipeline
from nasrepro import runs as nasrepro_runs
from nasrepro.errors import NasReproError, one_line
from nasrepro.oracle import Oracle
from nasrepro.spaces import get_source, nb201

REPO = Path(__file__).resolve().parents[1]


def one_line_error(call, *fragments: str) -> str:
    with pytest.raises(NasReproError) as caught:
        call()
    message = one_line(caught.value)
    assert "\n" not in str(caught.value) and all(f in message for f in fragments), message
    return message


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and (".part" in p.name or p.name.startswith("."))]


# ------------------------------------------------------------------------------------------- data
@pytest.fixture
def raw_copy(tmp_path, raw_files) -> dict[str, Path]:
    copies = {}
    for name, path in raw_files.items():
        copies[name] = tmp_path / "raw" / path.name
        copies[name].parent.mkdir(exist_ok=True)
        shutil.copyfile(path, copies[name])
    return copies


@pytest.mark.parametrize("value, fragment", [
    ("abc", "'abc' is not a finite accuracy in [0, 100] %"),
    ("250", "250"),
    ("-3", "-3"),
    ("inf", "inf"),
])
def test_nb201_converter_refuses_bad_accuracies_naming_file_line_and_value(raw_copy, tmp_path, value, fragment):
    avg = raw_copy["nb201-cifar10_avg"]
    frame = pd.read_csv(avg, dtype=str)
    frame.loc[7, "valid-accuracy"] = value
    frame.to_csv(avg, index=False)
    out = tmp_path / "table.parquet"
    bench = {"space": "nb201", "dataset": "cifar10-valid", "fit_split": "x-valid"}
    one_line_error(lambda: pipeline.convert_benchmark(bench, {k: str(v) for k, v in raw_copy.items()}, out),
                   str(avg), "line 9 (architecture 7)", "'valid-accuracy'", fragment)
    assert not out.exists() and not leftovers(tmp_path)


def test_nb101_file_of_the_wrong_size_is_refused(tmp_path, nb101_tfrecord):
    out = tmp_path / "table.parquet"
    bench = {"space": "nb101", "dataset": "cifar10", "fit_split": "valid"}  # expected_size: the full benchmark
    one_line_error(lambda: pipeline.convert_benchmark(bench, {"nb101-only108": str(nb101_tfrecord)}, out),
                   str(nb101_tfrecord), "expected 423624")
    assert not out.exists()


def test_raw_file_replaced_after_fetch_is_refused_before_conversion(raw_copy, tmp_path):
    out = tmp_path / "table.parquet"
    bench = {"space": "nb201", "dataset": "cifar10-valid", "fit_split": "x-valid"}
    one_line_error(lambda: pipeline.convert_benchmark(bench, {k: str(v) for k, v in raw_copy.items()}, out, verify=True),
                   "checksum mismatch for", "changed after it was fetched: delete it and rerun")
    assert not out.exists()


def test_truncated_encoding_is_named(tmp_path, nb201_synthetic):
    table = tmp_path / "table.parquet"
    from nasrepro.benchmark import write_table

    write_table(nb201_synthetic.table, nb201_synthetic.meta, table)
    features = tmp_path / "enc.npy"
    pipeline.encode_benchmark(table, "onehot30", features)
    features.write_bytes(features.read_bytes()[:1000])
    config = cfg.validate(yaml.safe_load(CONFIG), "cfg.yaml")
    out = tmp_path / "run"
    one_line_error(lambda: pipeline.search(nasrepro_runs.run_spec(config, "short", "c10", "weaknas"), 0, {}, table, features,
                                           out / "0.parquet", out / "0.iterations.parquet", out / "0.json", progress=False),
                   str(features), "delete it and rerun")
    assert not out.exists() or not list(out.iterdir())


# ----------------------------------------------------------------------------------------- config
CONFIG = """
data: {allow_download: false}
benchmarks:
  c10: {space: nb201, dataset: cifar10-valid, fit_split: x-valid}
methods:
  random: {type: random}
  rea: {type: regularized_evolution}
  weaknas: {type: weaknas, predictor: {type: mlp, hidden_layer_sizes: [8], max_epochs: 2}}
experiments:
  short: {benchmarks: [c10], methods: [random, rea, weaknas], seeds: 2, budget: {queries: 20}}
"""


@pytest.mark.parametrize("edit, fragment", [
    ({"experiments": {"short": {"seeds": 2.0}}}, "'experiments.short.seeds': 2.0 is neither a number of seeds"),
    ({"experiments": {"short": {"seeds": [0, 1, 1]}}}, "seed 1 is listed more than once"),
    ({"experiments": {"short": {"seeds": [-1]}}}, "seed -1 (item 0) is negative"),
    ({"experiments": {"short": {"seeds": 0}}}, "0 seeds would run nothing"),
    ({"predictor_defaults": {"mlp": {"device": "tpu"}}}, "'predictor_defaults.mlp.device': 'tpu' is not one of"),
    ({"methods": {"weaknas": {"predictor": {"device": "tpu"}}}}, "'methods.weaknas.predictor.device'"),
    ({"methods": {"rea": {"mutation": "colab"}}}, "mutation 'colab' does not exist on nb201"),
])
def test_config_values_are_refused_with_a_specific_line(edit, fragment):
    config = cfg.merge(yaml.safe_load(CONFIG), edit)
    one_line_error(lambda: cfg.validate(config, "cfg.yaml"), "cfg.yaml: key", fragment)


# ------------------------------------------------------------------------------------ environment
def test_a_mirror_folder_that_does_not_exist_is_named_and_never_falls_back(tmp_path):
    destination = tmp_path / "raw" / "nb201-nats_bench.csv"
    for allow in (True, False):  # downloads on or off: no silent fallback to the URL
        one_line_error(lambda: download.fetch(get_source("nb201-nats_bench"), destination, mirror=tmp_path / "nope",
                                              allow_download=allow),
                       f"the mirror folder {tmp_path / 'nope'} (data.mirror) does not exist")
    assert not destination.exists() and not leftovers(tmp_path)
    why = download.why_unavailable(get_source("nb201-nats_bench"), destination, tmp_path / "nope", allow_download=False)
    assert "does not exist" in why


def test_an_unreadable_mirror_file_is_one_line(tmp_path, raw_files):
    if hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    mirror = tmp_path / "mirror" / "nb201"
    mirror.mkdir(parents=True)
    target = mirror / "nats_bench.csv"
    shutil.copyfile(raw_files["nb201-nats_bench"], target)
    target.chmod(0)
    one_line_error(lambda: download.fetch(get_source("nb201-nats_bench"), tmp_path / "raw" / "x.csv",
                                          mirror=tmp_path / "mirror"), str(target), "permissions")


# ------------------------------------------------------------------------------------------ fault
def test_the_oracle_refuses_float_ids():
    oracle = Oracle(np.arange(10.0), np.arange(10.0))
    with pytest.raises(NasReproError, match="ids must be integers"):
        oracle.query(np.array([3.7]), iteration=0)
    assert oracle.used == 0


def test_one_line_covers_faults_without_a_message_of_ours():
    full = OSError(28, "No space left on device", "/results/x.parquet")
    assert one_line(full) == "/results/x.parquet: No space left on device (free some disk space and rerun)"
    assert one_line(PermissionError(13, "Permission denied", "/m/a.csv")).endswith("(check the file's permissions)")
    assert one_line(KeyboardInterrupt()).startswith("interrupted (Ctrl-C)")
    assert "likely a bug" in one_line(ZeroDivisionError("x"))


def test_cli_prints_one_line_for_a_bad_seed_and_a_missing_table(tmp_path):
    (tmp_path / "cfg.yaml").write_text(CONFIG)
    base = [sys.executable, "-m", "nasrepro.cli", "search", "--config", str(tmp_path / "cfg.yaml"), "--experiment",
            "short", "--bench", "c10", "--method", "random", "--out", str(tmp_path / "out")]
    for extra, fragment in ((["--seed", "-1", "--table", "t.parquet"], "seed -1 is negative"),
                            (["--seed", "0", "--table", str(tmp_path / "none.parquet")], "none.parquet: cannot read")):
        result = subprocess.run(base + extra, capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert result.returncode == 2, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], result.stderr
    assert not (tmp_path / "out").exists()


def test_under_snakemake_a_bad_data_file_is_one_line_and_no_traceback(tmp_path, snakemake_run, raw_files):
    """A corrupt raw file (an accuracy of 'abc') through the convert rule: the terminal shows one line
    naming the rule, the file, the line and the value, and no Python traceback; the traceback is in the
    job's log; no table is left."""
    raw = tmp_path / "resources" / "raw"
    raw.mkdir(parents=True)
    frame = pd.read_csv(raw_files["nb201-cifar10_avg"], dtype=str)
    frame.loc[3, "test-accuracy"] = "abc"
    frame.to_csv(raw / "nb201-cifar10_avg.csv", index=False)
    shutil.copyfile(raw_files["nb201-nats_bench"], raw / "nb201-nats_bench.csv")
    config = yaml.safe_load(CONFIG)
    config["data"]["verify_raw"] = False  # synthetic files: the values, not the checksum, are what is tested here
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(config))
    result = snakemake_run(tmp_path, "--cores", "1", "resources/tables/c10.parquet", "--configfile",
                           str(tmp_path / "cfg.yaml"))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    ours = [line for line in output.splitlines() if line.startswith("nasrepro error in rule convert")]
    assert len(ours) == 1, output
    assert "line 5 (architecture 3), column 'test-accuracy': 'abc'" in ours[0] and "logs/convert/c10.log" in ours[0]
    assert "Traceback (most recent call last)" not in output, output
    assert "Traceback (most recent call last)" in (tmp_path / "logs" / "convert" / "c10.log").read_text()
    assert not (tmp_path / "resources" / "tables" / "c10.parquet").exists() and not leftovers(tmp_path / "resources")


def test_a_failed_collect_removes_the_experiments_stale_tables(tmp_path):
    folder = tmp_path / "results" / "short"
    for path in (folder / "tables" / "table4.md", folder / "figures" / "convergence.png"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("old")
    run = tmp_path / "runs" / "0.parquet"
    run.parent.mkdir()
    run.write_bytes(b"not parquet")
    one_line_error(lambda: pipeline.collect_runs([str(run)], [{"seed": 0}], folder / "summary.parquet",
                                                 folder / "trajectories.parquet", folder / "iterations.parquet"),
                   "cannot read run", "2 tables and figures", "were removed")
    assert not list(folder.rglob("*.*"))


# ---------------------------------------------------------------------------- the searcher contract (issue 20)
PLUGINS = REPO / "tests" / "plugins"


@pytest.fixture
def breakers(monkeypatch):
    """tests/plugins/contract_breakers.py importable: one method per way to break the contract."""
    monkeypatch.syspath_prepend(str(PLUGINS))


def run_breaker(benchmark, name: str, queries: int = 20, **options):
    from nasrepro.runner import Budget, run_search

    return run_search(benchmark, None, {"type": f"contract_breakers:{name}"}, 0, Budget(queries), progress=False,
                      **options)


@pytest.mark.parametrize("name, fragment", [
    ("TooMany", "ask(20) returned [0, 1, 2, 3, 4, 5, 6, 7, ... (22 ids)]: 22 ids, more than the 20 queries left"),
    ("Negative", "ask(20) returned [3, -1]: id -1 is not an architecture (ids are 0..99)"),
    ("OutOfRange", "ask(20) returned [100]: id 100 is not an architecture (ids are 0..99)"),
    ("Floats", "ask(20) returned [3.7]: ids of type float64: ids are integers"),
    ("Mask", "ids of type bool: ids are integers"),
    ("Repeats", "ask(20) returned [4, 4, 5]: id 4 is asked 2 times in one batch"),
    ("NoneAsk", "ask(20) returned None: None is no batch"),
    ("Text", "ask(20) returned '12': a str is not a 1-D array of architecture ids"),
    ("TwoD", "returned an array of shape (2, 2): a ndarray is not a 1-D array"),
])
def test_a_batch_that_breaks_the_contract_stops_the_run_in_one_line(breakers, make_benchmark, name, fragment):
    benchmark = make_benchmark(np.arange(100.0))
    message = one_line_error(lambda: run_breaker(benchmark, name),
                             f"method 'contract_breakers:{name}' broke the search contract at iteration 0, seed 0: ",
                             fragment)
    assert "likely a bug" not in message


def test_asks_that_never_charge_are_stopped_and_an_empty_ask_still_ends_the_run(breakers, make_benchmark):
    benchmark = make_benchmark(np.arange(100.0))
    one_line_error(lambda: run_breaker(benchmark, "SameAgain", charge_repeats=False),
                   f"{contract.FREE_ASKS_IN_A_ROW} asks in a row charged nothing", "the last asked [0]",
                   "so the run would never end")
    assert run_breaker(benchmark, "SameAgain").metadata["queries_used"] == 20  # charged again: the budget ends it
    done = run_breaker(benchmark, "Done")  # an empty ask keeps its meaning: nothing left to ask
    assert done.metadata["stopped_by"] == "searcher" and done.metadata["queries_used"] == 2


def test_an_ask_that_never_returns_is_stopped_by_the_time_limit(breakers, make_benchmark, monkeypatch):
    benchmark = make_benchmark(np.arange(100.0))
    started = time.monotonic()
    contract.limit_time(1, "max_job_seconds: 1")
    try:
        one_line_error(lambda: run_breaker(benchmark, "Endless"), "stopped after 1 s, the job's time limit "
                       "(max_job_seconds: 1): method 'contract_breakers:Endless' was in ask(20) at iteration 0, seed 0")
    finally:
        contract.limit_time(0, "")
    assert time.monotonic() - started < 10
    assert contract.job_time_limit({}) == (contract.DEFAULT_MAX_JOB_SECONDS, "max_job_seconds: 86400")
    monkeypatch.setenv("SLURM_JOB_ID", "7")  # on SLURM its runtime (minutes) less a margin, when shorter
    assert contract.job_time_limit({}, 480) == (480 * 60 - contract.SLURM_MARGIN_SECONDS,
                                                f"the SLURM runtime of 480 min, less {contract.SLURM_MARGIN_SECONDS} s")
    assert contract.job_time_limit({"max_job_seconds": 100}, 480)[0] == 100


# ------------------------------------------------------------------------------- a user's code is theirs
@pytest.mark.parametrize("name, fragment", [
    ("RaisesInInit", "raised ValueError: no such setting (PLUGIN, line 94) in its constructor, seed 0"),
    ("RaisesInAsk", "raised AttributeError: 'RaisesInAsk' object has no attribute 'history' (PLUGIN, line 99) in "
                    "ask(20) at iteration 0, seed 0"),
    ("RaisesInTell", "raised IndexError: only integers"),
])
def test_errors_of_a_users_method_at_run_time_are_theirs(breakers, make_benchmark, name, fragment):
    benchmark = make_benchmark(np.arange(100.0))
    message = one_line_error(lambda: run_breaker(benchmark, name), f"your method 'contract_breakers:{name}' ",
                             fragment.replace("PLUGIN", str(PLUGINS / "contract_breakers.py")))
    assert "likely a bug" not in message


@pytest.mark.parametrize("module, source, fragment", [
    ("users_syntax", "class Mine(\n", "raised SyntaxError: '(' was never closed"),
    ("users_import", "import not_installed_anywhere\n", "raised ModuleNotFoundError: No module named 'not_installed_anywhere'"),
    ("users_runtime", "x = 1 / 0\n", "raised ZeroDivisionError: division by zero"),
])
def test_a_users_module_that_does_not_import_is_theirs_at_validation(tmp_path, monkeypatch, module, source, fragment):
    (tmp_path / f"{module}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    config = yaml.safe_load(CONFIG)
    config["methods"]["mine"] = {"type": f"{module}:Mine"}
    message = one_line_error(lambda: cfg.validate(config, "cfg.yaml"), f"cfg.yaml: key 'methods.mine.type': your method "
                             f"'{module}:Mine' {fragment} ({tmp_path / module}.py, line 1) while {module} was imported")
    assert "likely a bug" not in message


def test_a_users_syntax_error_at_a_dry_run_is_one_line(tmp_path, snakemake_run):
    (tmp_path / "mine.py").write_text("from nasrepro.searchers import Searcher\n\nclass Mine(Searcher)\n    pass\n")
    config = yaml.safe_load(CONFIG)
    config["methods"]["mine"] = {"type": "mine:Mine"}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(config))
    result = snakemake_run(tmp_path, "-n", "--configfile", str(tmp_path / "cfg.yaml"), timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and not re.search(r'^\s*File "', output, re.M), output  # no stack frames
    assert f"Config error: {tmp_path / 'cfg.yaml'}: key 'methods.mine.type': your method 'mine:Mine' raised " \
           f"SyntaxError: expected ':' ({tmp_path / 'mine.py'}, line 3)" in output, output


# ------------------------------------------------------------------- refused at validation, never silent
GRID = {"methods": {"random_1": {"type": "random"}, "random_{batch_size}": {"type": "random", "grid": {"batch_size": [1, 2]}}}}


@pytest.mark.parametrize("files, fragments", [
    ({"cfg.yaml": GRID}, ["cfg.yaml: key 'methods.random_{batch_size}': its grid member 'random_1'",
                          "has the name of another method defined under 'methods'"]),
    ({"cfg.yaml": {"methods": {"r": {"type": "random", "grid": {"batch_size": [1, 2]}}}}},
     ["its grid member 'r' ({'batch_size': 2}) has the name of another method of this grid"]),
    ({"cfg.yaml": {"methods": {"r_{batch_size}": {"type": "random", "grid": {"batch_size": list(range(1, 1002))}}}}},
     ["'methods.r_{batch_size}.grid': 1001 combinations, more than the 1000"]),
    ({"cfg.yaml": {"methods": {"weaknas": {"init_sample": 20000}}}},
     ["key 'methods.weaknas.init_sample': 20000 is more than the 15625 architectures of benchmark 'c10'"]),
    ({"cfg.yaml": {"methods": {"weaknas": {"init_sample": 50}}}},
     ["'methods.weaknas.init_sample': 50 is more than the 20 queries of experiment 'short'"]),
    ({"cfg.yaml": {"experiments": {"short": {"seeds": 100_000_000}}}},
     ["'experiments.short.seeds': 100000000 seeds, more than the 10000 an experiment may run"]),
    ({"cfg.yaml": {"experiments": {"short": {"budget": {"queries": 10**12}}}}},
     ["'experiments.short.budget.queries': 1000000000000 is greater than the maximum of 1000000"]),
    ({"cfg.yaml": {"methods": {"random": {"encoding": "onehot30"}}}},
     ["key 'methods.random.encoding': 'onehot30' would be ignored: method type 'random' reads no encoding"]),
    ({"cfg.yaml": "extends: base.yaml\nmethods:\n  random: {type: random}\nmethods:\n  rea: {type: random}\n"},
     ["cfg.yaml: not valid YAML at line 4, column 1: key 'methods' is given twice (first on line 2)"]),
    ({"cfg.yaml": "extends: base.yaml\ndata: {allow_download: false\n"}, ["cfg.yaml: not valid YAML at line 3, column 1"]),
    ({"cfg.yaml": "- a\n- b\n"}, ["cfg.yaml: the top level is a list, not a mapping of keys"]),
    ({"cfg.yaml": b"\x89PNG\r\n\x1a\n\x00\x00"}, ["cfg.yaml: not a text file (byte 0x89 at offset 0 is not UTF-8)"]),
    ({"cfg.yaml": "extends: cfg.yaml\n"}, ["cfg.yaml -> cfg.yaml: key 'extends': a cycle (cfg.yaml is already in the chain)"]),
    ({"cfg.yaml": "extends: b.yaml\n", "b.yaml": "extends: cfg.yaml\n"}, ["cfg.yaml -> b.yaml -> cfg.yaml: key 'extends': a cycle"]),
    ({"cfg.yaml": "extends: b.yaml\n", "b.yaml": "extends: c.yaml\n"}, ["cfg.yaml -> b.yaml: key 'extends': c.yaml is not in"]),
    ({"cfg.yaml": "extends: sub\n", "sub/x.yaml": "{}\n"}, ["cfg.yaml: key 'extends': sub is a folder, not a config file"]),
])
def test_what_passed_silently_is_refused_at_validation_in_one_line(tmp_path, monkeypatch, files, fragments):
    (tmp_path / "base.yaml").write_text(CONFIG)
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        if isinstance(content, dict):
            content = yaml.safe_dump({"extends": "base.yaml", **content})
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    one_line_error(lambda: cfg.load("cfg.yaml"), *fragments)
    assert time.monotonic() - started < 5  # cheap: 100,000,000 seeds are never made into a list


def test_nested_extends_are_followed(tmp_path):
    (tmp_path / "base.yaml").write_text(CONFIG)
    (tmp_path / "middle.yaml").write_text("extends: base.yaml\nexperiments:\n  short: {seeds: 3}\n")
    (tmp_path / "top.yaml").write_text("extends: middle.yaml\nmethods:\n  random: {type: random, batch_size: 2}\n")
    config = cfg.load(tmp_path / "top.yaml")
    assert config["experiments"]["short"]["seeds"] == 3 and config["methods"]["random"]["batch_size"] == 2
    assert config["methods"]["rea"] == {"type": "regularized_evolution"} and "extends" not in config


def test_a_standalone_configfile_replaces_config_yaml(tmp_path, snakemake_run):
    """A --configfile without `extends` is the whole config: a config.yaml in the working directory (the
    repository's, when run there) adds nothing, in the main process as in every cluster job."""
    decoy = yaml.safe_load(CONFIG)
    decoy["experiments"]["decoy"] = {"benchmarks": ["c10"], "methods": ["random"], "seeds": 5, "budget": {"queries": 9}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(decoy))
    (tmp_path / "mine.yaml").write_text(CONFIG)
    result = snakemake_run(tmp_path, "-n", "--configfile", str(tmp_path / "mine.yaml"), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^search\s+6$", result.stdout, re.M), result.stdout  # 3 methods x 2 seeds, no decoy run


# ------------------------------------------------------------------------------------------ the CLI
def test_cli_checks_threads_and_out_before_searching_and_stops_an_endless_ask(tmp_path, nb201_synthetic):
    from nasrepro.benchmark import write_table

    write_table(nb201_synthetic.table, nb201_synthetic.meta, tmp_path / "table.parquet")
    config = yaml.safe_load(CONFIG)
    config.update(max_job_seconds=10, methods={"endless": {"type": "contract_breakers:Endless"},
                                              "too_many": {"type": "contract_breakers:TooMany"}})
    config["experiments"]["short"]["methods"] = ["endless", "too_many"]
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "a_file").write_text("")
    base = [sys.executable, "-m", "nasrepro.cli", "search", "--config", "cfg.yaml", "--experiment", "short", "--bench",
            "c10", "--seed", "0", "--table", "table.parquet"]
    for extra, fragment in (
        (["--method", "too_many", "--out", "out", "--threads", "0"], "error: --threads 0: give a number of threads >= 1"),
        (["--method", "too_many", "--out", "out", "--threads", "-4"], "error: --threads -4: give a number"),
        (["--method", "too_many", "--out", "a_file"], "error: --out a_file: is a file, not a folder"),
        (["--method", "too_many", "--out", "a_file/run"], "error: --out a_file/run: a_file is a file"),
        (["--method", "too_many", "--out", "out"], "returned [0, 1, 2, 3, 4, 5, 6, 7, ... (22 ids)]: 22 ids, more than"),
        (["--method", "endless", "--out", "out"], "error: stopped after 10 s, the job's time limit (max_job_seconds: 10): "
                                                  "method 'contract_breakers:Endless' was in ask(20)"),
    ):
        result = subprocess.run(base + extra, capture_output=True, text=True, cwd=tmp_path, timeout=120,
                                env={**os.environ, "PYTHONPATH": str(PLUGINS)})
        lines = [line for line in result.stderr.splitlines() if line.startswith("error")]
        assert result.returncode == 2 and len(lines) == 1 and fragment in lines[0], result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------ offline
def test_offline_notices_name_each_experiment_a_missing_file_keeps_from_running(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mirror" / "nb201").mkdir(parents=True)
    config = cfg.validate(cfg.merge(yaml.safe_load(CONFIG), {"data": {"mirror": str(tmp_path / "mirror")}}))
    assert cfg.offline_notices(config) == [
        f"nasrepro: experiment 'short': c10 needs nb201/cifar10_avg.csv, which is not in the mirror {tmp_path / 'mirror'}: "
        "downloads are off, so it is not run and its tables show the paper's values alone (overlay: config/offline.yaml)"]
    config["data"]["allow_download"] = True
    assert "it will be downloaded (offline, add the overlay config/offline.yaml)" in cfg.offline_notices(config)[0]
    for name in ("cifar10_avg.csv", "nats_bench.csv"):
        (tmp_path / "mirror" / "nb201" / name).write_text("")
    assert cfg.offline_notices(config) == []
