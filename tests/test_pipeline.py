"""The workflow's steps as plain functions (what the Snakemake scripts call), on the synthetic files."""

from __future__ import annotations

import json
import signal

import numpy as np
import pandas as pd
import pytest

from nasrepro import config as cfg
from nasrepro import runs as nasrepro_runs
from nasrepro import pipeline
from nasrepro.spaces import get_source
from nasrepro.spaces import nb201
from nasrepro.benchmark import Benchmark
from nasrepro.errors import NasReproError

from conftest import TINY_MLP, render_to


@pytest.fixture
def config() -> dict:
    return cfg.validate({
        "data": {"mirror": None, "allow_download": False},
        "benchmarks": {
            "syn10": {"space": "nb201", "dataset": "cifar10-valid", "fit_split": "x-valid",
                      "paper_column": "nb201-cifar10"},
            "syn100": {"space": "nb201", "dataset": "cifar100", "fit_split": "test", "encoding": "ops6"},
        },
        "methods": {
            "weaknas": {"type": "weaknas", "label": "WeakNAS", "paper_row": "WeakNAS", "predictor": TINY_MLP},
            "random": {"type": "random", "label": "Random Search", "paper_row": "Random Search"},
        },
        "experiments": {
            "t5": {"benchmarks": ["syn10", "syn100"], "methods": ["weaknas", "random"], "seeds": 2,
                   "budget": {"until_optimum": True, "queries": 15625}, "outputs": ["table5", "convergence"]},
        },
    })


def test_steps_end_to_end_on_synthetic_files(tmp_path, config, raw_files, monkeypatch):
    monkeypatch.setenv("NASREPRO_MIRROR", str(raw_files["nb201-nats_bench"].parents[1]))
    # fetch: the synthetic files do not match the real checksums, so fetch must refuse them
    with pytest.raises(NasReproError, match="checksum mismatch"):
        pipeline.fetch_source(get_source("nb201-nats_bench"), tmp_path / "raw" / "nb201-nats_bench.csv", config["data"])
    assert not (tmp_path / "raw" / "nb201-nats_bench.csv").exists()

    runs, keys = [], []
    for bench in ("syn10", "syn100"):
        spec = config["benchmarks"][bench]
        table_path = tmp_path / "tables" / f"{bench}.parquet"
        needed = {name: str(raw_files[name]) for name in nb201.required_sources(spec["dataset"], spec["fit_split"])}
        pipeline.convert_benchmark(spec, needed, table_path)
        benchmark = Benchmark.load(table_path)
        assert set(benchmark.meta["sources"]) == set(needed)
        assert benchmark.meta["sources"]["nb201-nats_bench"]["sha256"] is not None
        encoding = cfg.method_encoding(config, "weaknas", bench)
        features_path = tmp_path / "encodings" / f"{bench}-{encoding}.npy"
        pipeline.encode_benchmark(table_path, encoding, features_path)
        assert np.load(features_path).shape == (15625, {"onehot30": 30, "ops6": 6}[encoding])
        for method in ("weaknas", "random"):
            for seed in (0, 1):
                stem = tmp_path / "runs" / bench / method / str(seed)
                names = {"experiment": "t5", "benchmark_name": bench, "method_name": method}
                pipeline.search(nasrepro_runs.run_spec(config, "t5", bench, method), seed, names, table_path,
                                features_path if cfg.uses_features(config, method, bench) else None,
                                f"{stem}.parquet", f"{stem}.iterations.parquet", f"{stem}.json", progress=False)
                meta = json.loads(stem.with_suffix(".json").read_text())
                assert meta["queries_to_optimum"] == meta["queries_used"]
                assert meta["encoding"] == (encoding if method == "weaknas" else None)
                trajectory = pd.read_parquet(f"{stem}.parquet")
                last_batch = trajectory[trajectory["iteration"] == trajectory["iteration"].max()]
                assert meta["optimum_arch_id"] in last_batch["arch_id"].tolist()
                assert trajectory["query"].iloc[-1] == meta["queries_used"]
                runs.append(f"{stem}.parquet")
                keys.append({"experiment": "t5", "benchmark": bench, "method": method, "seed": seed})

    results = tmp_path / "results" / "t5"
    pipeline.collect_runs(runs, keys, results / "summary.parquet", results / "trajectories.parquet",
                          results / "iterations.parquet")
    summary = pd.read_parquet(results / "summary.parquet")
    assert len(summary) == 8 and summary["queries_to_optimum"].notna().all()
    assert summary.loc[summary["benchmark"] == "syn100", "fit_is_test"].all()

    runs_of = {kind: results / f"{kind}.parquet" for kind in ("summary", "trajectories", "iterations")}
    tables_dir = results / "tables"
    render_to("table5", config, "t5", runs_of, tables_dir)
    table = pd.read_csv(tables_dir / "table5.csv")
    ours = table[table["status"] == "ran here"]
    assert len(ours) == 4 and (ours["n"] == 2).all() and (ours["missing"] == 0).all()
    paper = ours.loc[ours["method"] == "WeakNAS", "paper"].tolist()
    assert paper[0] == 182.1 and np.isnan(paper[1])  # syn100 names no paper column
    markdown = (tables_dir / "table5.md").read_text()
    assert "2 seeds per cell" in markdown and "NO VALIDATION SPLIT" in markdown
    assert "reported by the paper, not run here" in markdown  # R-EA, MCTS, LaNAS on nb201-cifar10
    render_to("fair", config, "t5", runs_of, tables_dir)
    fair = pd.read_csv(tables_dir / "fair.csv")
    assert set(fair["metric"]) == {"queries_to_optimum"} and fair["p_value"].notna().sum() == 2  # random vs WeakNAS
    assert (tables_dir / "fair.tex").read_text().startswith("\\begin{table*}")
    fair_md = (tables_dir / "fair.md").read_text()  # the fair companion states every method's options and cost too
    assert "- WeakNAS: type=weaknas" in fair_md and "Wall time per run, seconds" in fair_md

    figures = results / "figures"
    render_to("convergence", config, "t5", runs_of, figures)
    assert (figures / "convergence.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (figures / "convergence.pdf").read_bytes()[:5] == b"%PDF-"
    curves = pd.read_csv(figures / "convergence.csv")
    assert set(curves["method"]) == {"weaknas", "random"} and set(curves["benchmark"]) == {"syn10", "syn100"}
    for (_, method), curve in curves.groupby(["benchmark", "method"]):
        # best-so-far never decreases; WeakNAS's default report mode adds its latest predictor's top-1, which may
        if method == "random":
            assert curve["mean"].is_monotonic_increasing
    assert sorted(p.name for p in figures.iterdir()) == ["convergence.csv", "convergence.pdf", "convergence.png"]  # no .part files


def test_cli_search_runs_one_job(tmp_path, config, make_benchmark, capsys):
    import yaml

    from nasrepro.benchmark import write_table
    from nasrepro.cli import main

    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    benchmark = make_benchmark(np.arange(200.0) / 2)  # accuracies in %: a table is checked as conversion checks it
    table_path = tmp_path / "table.parquet"
    write_table(benchmark.table, benchmark.meta, table_path)
    out = tmp_path / "runs"
    args = ["search", "--config", str(config_path), "--experiment", "t5", "--bench", "syn10",
            "--table", str(table_path), "--out", str(out)]
    assert main([*args, "--method", "random", "--seed", "3"]) == 0
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # the job's time limit ends with the job
    meta = json.loads((out / "3.json").read_text())
    assert meta["queries_to_optimum"] == meta["queries_used"] == len(pd.read_parquet(out / "3.parquet"))
    assert meta["optimum_arch_id"] == 199
    # a method that needs features, without them: a one-line error naming the file and the command that makes it
    assert main([*args, "--method", "weaknas", "--seed", "0"]) == 2
    assert "syn10-onehot30.npy does not exist: make it with `nasrepro prepare syn10`" in capsys.readouterr().err
    assert main([*args, "--method", "lanas", "--seed", "0"]) == 2
    assert "'lanas' is not defined under 'methods'" in capsys.readouterr().err


def test_protocol_lines_describe_the_recorded_runs_not_the_live_config(tmp_path, config, make_benchmark):
    """A table rendered again after the config changed (a label, and an option that has not been rerun)
    shows the new label beside the options the runs recorded."""
    from nasrepro.benchmark import write_table

    write_table(make_benchmark(np.arange(40.0)).table, make_benchmark(np.arange(40.0)).meta, tmp_path / "t.parquet")
    runs, keys = [], []
    for seed in (0, 1):
        stem = tmp_path / "runs" / str(seed)
        pipeline.search(nasrepro_runs.run_spec(config, "t5", "syn10", "random"), seed, {}, tmp_path / "t.parquet", None,
                        f"{stem}.parquet", f"{stem}.iterations.parquet", f"{stem}.json", progress=False)
        runs.append(f"{stem}.parquet")
        keys.append({"experiment": "t5", "benchmark": "syn10", "method": "random", "seed": seed})
    collected = {kind: tmp_path / f"{kind}.parquet" for kind in ("summary", "trajectories", "iterations")}
    pipeline.collect_runs(runs, keys, *collected.values())
    config["experiments"]["t5"]["methods"] = ["random"]
    config["methods"]["random"] = {**config["methods"]["random"], "label": "Uniform sampling", "batch_size": 7}
    files = render_to("table5", config, "t5", collected, tmp_path)
    markdown = files["md"].read_text()
    assert "- Uniform sampling: type=random, batch_size=1" in markdown and "batch_size=7" not in markdown

