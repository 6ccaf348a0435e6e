"""One class of bad input per test (data, config, environment, fault): each failure is ONE line that
names the file, key or value and what to do, and nothing half-written or stale remains.
docs/bad-inputs.md lists the cases tried by hand."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nasrepro import config as cfg, download, pipeline
from nasrepro.errors import NasReproError, one_line
from nasrepro.oracle import Oracle
from nasrepro.sources import get_source
from nasrepro.spaces import nb201

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
    one_line_error(lambda: pipeline.search(cfg.run_spec(config, "short", "c10", "weaknas"), 0, {}, table, features,
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
