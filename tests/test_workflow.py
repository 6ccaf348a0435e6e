"""The Snakemake workflow: lint, dry runs (job counts, SLURM profile) and config errors at parse time.

Every run uses `-s <repo>/Snakefile --directory <tmp>`, so nothing is written into the repository.
The workflow profile profiles/default (found next to the Snakefile) is picked up as in normal use.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from nasrepro import config as cfg, runs

REPO = Path(__file__).resolve().parents[1]


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run as {rule: count}."""
    counts = {}
    block = output.split("Job stats:", 1)[1]
    for line in block.splitlines()[3:]:
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not match:
            break
        counts[match.group(1)] = int(match.group(2))
    return counts


def job_blocks(output: str, rule: str) -> list[str]:
    return [block for block in re.split(r"\n(?=\[[^\n]*\]\nrule )", output) if f"\nrule {rule}:" in f"\n{block}"]


def show(result) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"


def test_lint_is_clean(tmp_path, snakemake_run):
    result = snakemake_run(tmp_path, "--lint", "--configfile", str(REPO / "config" / "quick.yaml"))
    assert result.returncode == 0, show(result)
    assert "Congratulations" in result.stdout + result.stderr, show(result)


def test_quick_dry_run_plans_exactly_the_overlays_jobs(tmp_path, snakemake_run):
    result = snakemake_run(tmp_path, "-n", "--configfile", str(REPO / "config" / "quick.yaml"))
    assert result.returncode == 0, show(result)
    output = result.stdout + result.stderr
    quick = cfg.load(REPO / "config" / "quick.yaml")
    planned = {tuple(re.search(rf"{key}=([^,\s]+)", block).group(1) for key in ("run", "seed"))
               for block in job_blocks(output, "search")}
    plan = runs.plan(quick)
    # the overlay's experiments only, each distinct run once
    assert planned == {(run, str(seed)) for run, seed in plan.jobs(quick["run"])}
    assert len(planned) < sum(len(use.seeds) for name in quick["run"] for use in plan.uses[name])
    counts = job_counts(output)
    assert counts["fetch"] == 2, counts  # cifar10_avg.csv and nats_bench.csv: CIFAR-100 / ImageNet16-120 fit on test
    assert not list(tmp_path.glob("results/**/*.parquet"))  # a dry run writes no results


@pytest.mark.slow  # a full-config dry run: make test runs it, make test-fast does not
def test_full_config_offline_runs_what_the_mirror_holds_and_says_what_it_lacks(tmp_path, snakemake_run):
    mirror = tmp_path / "mirror" / "nb201"
    (mirror / "nas_ntk").mkdir(parents=True)
    for name in ("cifar10_avg.csv", "nats_bench.csv", "nas_ntk/Cifar100-NB201.csv", "nas_ntk/ImageNet-NB201.csv"):
        (mirror / name).touch()  # only whether the files exist matters to a dry run
    result = snakemake_run(tmp_path, "-n", "--configfile", str(REPO / "config.yaml"),
                           str(REPO / "config" / "offline.yaml"), env={"NASREPRO_MIRROR": str(mirror.parent)})
    assert result.returncode == 0, show(result)
    output = result.stdout + result.stderr
    counts = job_counts(output)
    config = cfg.load(REPO / "config.yaml", REPO / "config" / "offline.yaml")
    plan = runs.plan(config)
    nb201_jobs = [job for job in plan.jobs(cfg.enabled_experiments(config))
                  if plan.runs[job[0]].spec["benchmark"]["space"] == "nb201"]
    assert counts["fetch"] == 4 and counts["search"] == len(nb201_jobs), counts
    # the NAS-Bench-101 tables are still rendered, from the paper's values alone; no fair companion for them
    enabled = [config["experiments"][e] for e in cfg.enabled_experiments(config)]
    nb201_only = [e for e in enabled if all(config["benchmarks"][b]["space"] == "nb201" for b in e["benchmarks"])]
    tables = [o for e in enabled for o in e.get("outputs", []) if o.startswith("table")]
    assert sum(counts.get(f"render_{t}", 0) for t in set(tables)) == len(tables), counts
    assert counts["render_fair"] == sum("fair" in e.get("outputs", []) for e in nb201_only), counts
    assert "results/table4/tables/table4.md" in output and "nb101-only108" not in output


@pytest.mark.slow  # a full-config dry run (the longest to plan): make test runs it once, make test-fast does not
def test_full_config_dry_run_through_the_slurm_profile(tmp_path, snakemake_run):
    """Every job of config.yaml (NAS-Bench-101 and TransNAS included) is planned, and each search job asks the
    SLURM profile for a GPU exactly when its method wants one."""
    profile = REPO / "profiles" / "slurm"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm is not installed (pip install .[workflow])")
    result = snakemake_run(tmp_path, "-n", "--configfile", str(REPO / "config.yaml"), "--profile", str(profile))
    assert result.returncode == 0, show(result)
    output = result.stdout + result.stderr
    counts = job_counts(output)
    config = cfg.load(REPO / "config.yaml")
    plan = runs.plan(config)
    assert counts["search"] == len(plan.jobs(cfg.enabled_experiments(config))), counts
    # 6 raw files (x-valid for all three NB201 datasets, nasbench_only108.tfrecord, TransNAS-Bench-101's zip), 13 tables
    # (6 NB201/NB101, 7 TransNAS tasks); the encodings are checkpoints planned once their tables exist
    # (rules/common.smk: data_input), so a dry run from nothing does not list them all
    assert counts["fetch"] == 6 and counts["convert"] == 13, counts
    assert re.search(r"resources/raw/nb101-only108\.tfrecord", output)
    outputs = [o for e in cfg.enabled_experiments(config) for o in config["experiments"][e].get("outputs", [])]
    tables = [o for o in outputs if o.startswith("table")]
    assert sum(counts.get(f"render_{t}", 0) for t in set(tables)) == len(tables), counts
    assert counts["render_fair"] == outputs.count("fair"), counts
    for block in job_blocks(output, "search"):
        run = re.search(r"run=([^,\s]+)", block).group(1)
        gpus = re.search(r"\bgpu=(\d+)", block).group(1)
        assert gpus == str(int(runs.wants_gpu(plan.runs[run].spec))), block


def test_malformed_config_fails_the_dry_run_with_one_line_naming_the_key(tmp_path, snakemake_run):
    text = (REPO / "config.yaml").read_text()
    assert "\n    seeds: 100\n" in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("\n    seeds: 100\n", "\n    seedz: 100\n", 1))
    result = snakemake_run(tmp_path, "-n", "--configfile", str(bad))
    output = result.stdout + result.stderr
    assert result.returncode != 0, show(result)
    lines = [line for line in output.splitlines() if "seedz" in line]
    assert len(lines) == 1, output
    assert "experiments.table5.seedz" in lines[0] and str(bad) in lines[0]
    assert "Traceback" not in output


def test_wrong_type_in_config_fails_the_dry_run(tmp_path, snakemake_run):
    text = (REPO / "config.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("\n    seeds: 100\n", "\n    seeds: ten\n", 1))
    result = snakemake_run(tmp_path, "-n", "--configfile", str(bad))
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if "experiments.table5.seeds" in line]
    assert len(lines) == 1, show(result)
