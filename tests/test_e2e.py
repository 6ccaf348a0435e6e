"""End to end: the quick config on the real NAS-Bench-201 mirror, from raw files to Table 5 and figures.

Slow (about 6-7 minutes on 2 free cores). Deselect with `-m "not e2e"`. Skipped without the mirror.
The workflow runs with `-s <repo>/Snakefile --directory <tmp>`: nothing is written into the repository,
and the mirror is only read (through NASREPRO_MIRROR, since config/quick.yaml sets data.mirror: null).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
MIRROR = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
KNOWN_FIT_OPTIMA = {"nb201-cifar10": 6111, "nb201-cifar100": 9930, "nb201-imagenet16": 857}


@pytest.mark.e2e
def test_quick_config_end_to_end(tmp_path, snakemake_run):
    if not ((MIRROR / "nb201" / "cifar10_avg.csv").is_file() and (MIRROR / "nb201" / "nats_bench.csv").is_file()):
        pytest.skip(f"benchmark mirror not found at {MIRROR}")
    result = snakemake_run(tmp_path, "--cores", "2", "--configfile", str(REPO / "config" / "quick.yaml"),
                           env={"NASREPRO_MIRROR": str(MIRROR)}, timeout=3600)
    assert result.returncode == 0, f"{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
    output = result.stdout + result.stderr
    assert "Using workflow specific profile" in output  # profiles/default is found next to the Snakefile

    results = tmp_path / "results" / "table5"
    for name in ("table5.md", "table5.csv", "figures/convergence.png", "figures/convergence.pdf"):
        assert (results / name).is_file() and (results / name).stat().st_size > 0, name
    assert (results / "figures" / "convergence.png").read_bytes()[:4] == b"\x89PNG"
    assert (results / "figures" / "convergence.pdf").read_bytes()[:5] == b"%PDF-"
    assert not list(tmp_path.rglob("*.part")), "temporary files left behind"

    table = pd.read_csv(results / "table5.csv")
    assert len(table) == 9
    assert (table["n"] == 3).all() and (table["not_found"] == 0).all(), table
    random = table[table["method"] == "Random Search"]
    assert len(random) == 3
    assert random["mean"].between(1000, 15625).all(), random
    assert table["paper"].notna().all()  # every cell has its paper value beside it
    notes = dict(zip(table["benchmark"], table["label_note"]))
    assert "NO VALIDATION SPLIT" not in notes["nb201-cifar10"]
    assert "NO VALIDATION SPLIT" in notes["nb201-cifar100"] and "NO VALIDATION SPLIT" in notes["nb201-imagenet16"]
    markdown = (results / "table5.md").read_text()
    assert "3 seeds per cell" in markdown and "NO VALIDATION SPLIT" in markdown

    summary = pd.read_parquet(results / "summary.parquet")
    assert len(summary) == 27 and summary["queries_to_optimum"].notna().all()
    for run in (tmp_path / "results" / "runs" / "table5").glob("*/*/*.json"):
        meta = json.loads(run.read_text())
        bench = run.parts[-3]
        assert meta["optimum_arch_id"] == KNOWN_FIT_OPTIMA[bench], run
        trajectory = pd.read_parquet(run.with_suffix(".parquet"))
        assert len(trajectory) == meta["queries_used"] == meta["queries_to_optimum"]
        assert KNOWN_FIT_OPTIMA[bench] in trajectory["arch_id"].tolist()
    assert len(list((tmp_path / "results" / "runs" / "table5").glob("*/*/*.json"))) == 27

    report = snakemake_run(tmp_path, "--configfile", str(REPO / "config" / "quick.yaml"), "--report", "report.zip",
                           env={"NASREPRO_MIRROR": str(MIRROR)}, timeout=600)
    assert report.returncode == 0, report.stderr[-5000:]
    import zipfile

    with zipfile.ZipFile(tmp_path / "report.zip") as archive:
        names = archive.namelist()
    assert any(name.endswith("convergence.png") for name in names) and any(name.endswith("table5.md") for name in names)
