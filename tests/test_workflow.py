"""The Snakemake workflow: lint, dry runs (job counts, SLURM profile) and config errors at parse time.

Every run uses `-s <repo>/Snakefile --directory <tmp>`, so nothing is written into the repository.
The workflow profile profiles/default (found next to the Snakefile) is picked up as in normal use.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

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


def test_quick_dry_run_job_counts(tmp_path, snakemake_run):
    result = snakemake_run(tmp_path, "-n", "--configfile", str(REPO / "config" / "quick.yaml"))
    assert result.returncode == 0, show(result)
    output = result.stdout + result.stderr
    assert job_counts(output) == {
        "fetch": 2,  # cifar10_avg.csv and nats_bench.csv: cifar100 / ImageNet16-120 fit on test
        "convert": 3,
        "encode": 3,
        "search": 27,  # 3 benchmarks x 3 methods x 3 seeds
        "collect": 1,
        "convergence": 1,
        "table5": 1,
        "all": 1,
        "total": 39,
    }, output[-3000:]
    assert not list(tmp_path.glob("results/**/*.parquet"))  # a dry run writes no results


def test_full_config_with_offline_overlay_needs_only_mirrored_files(tmp_path, snakemake_run):
    result = snakemake_run(tmp_path, "-n", "--configfile", str(REPO / "config.yaml"),
                           str(REPO / "config" / "offline.yaml"))
    assert result.returncode == 0, show(result)
    counts = job_counts(result.stdout + result.stderr)
    # NAS-Bench-201 only: Table 5 and convergence 2 x 900, Tables 1/2/3 200 + 500 + 300, Figures 1/3/5 600 + 100 + 900
    assert counts["fetch"] == 2 and counts["search"] == 4400, counts


def test_slurm_profile_dry_run(tmp_path, snakemake_run):
    profile = REPO / "profiles" / "slurm"
    if not (profile / "config.yaml").is_file():
        pytest.skip("profiles/slurm/config.yaml does not exist yet")
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm is not installed (pip install .[workflow])")
    result = snakemake_run(tmp_path, "-n", "--configfile", str(REPO / "config.yaml"), "--profile", str(profile))
    assert result.returncode == 0, show(result)
    output = result.stdout + result.stderr
    counts = job_counts(output)
    # 4400 NAS-Bench-201 and 1900 NAS-Bench-101 jobs; 5 raw files (x-valid for all three NB201 datasets,
    # nasbench_only108.tfrecord); encodings: onehot30 x 3, ops6 and path155 (Figure 5), seq45 x 2
    assert counts["search"] == 6300 and counts["fetch"] == 5 and counts["encode"] == 7, counts
    searches = job_blocks(output, "search")
    assert len(searches) == 6300
    for block in searches:
        method = re.search(r"method=(\w+)", block).group(1)
        gpus = re.search(r"\bgpu=(\d+)", block).group(1)
        trains_mlp = method.startswith(("weaknas", "strong")) and "gbrt" not in method and "forest" not in method
        assert gpus == ("1" if trains_mlp else "0"), block


def test_malformed_config_fails_the_dry_run_with_one_line_naming_the_key(tmp_path, snakemake_run):
    text = (REPO / "config" / "quick.yaml").read_text()
    assert "\n    seeds: 3\n" in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("\n    seeds: 3\n", "\n    seedz: 3\n"))
    result = snakemake_run(tmp_path, "-n", "--configfile", str(bad))
    output = result.stdout + result.stderr
    assert result.returncode != 0, show(result)
    lines = [line for line in output.splitlines() if "seedz" in line]
    assert len(lines) == 1, output
    assert "experiments.table5.seedz" in lines[0] and str(bad) in lines[0]
    assert "Traceback" not in output


def test_wrong_type_in_config_fails_the_dry_run(tmp_path, snakemake_run):
    text = (REPO / "config" / "quick.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("\n    seeds: 3\n", "\n    seeds: ten\n"))
    result = snakemake_run(tmp_path, "-n", "--configfile", str(bad))
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if "experiments.table5.seeds" in line]
    assert len(lines) == 1, show(result)
