"""End to end: the quick config on the real NAS-Bench-201 mirror, from raw files to every NAS-Bench-201
table and figure, the report, and a re-render from the existing runs.

Slow (the longest test). Deselect with `-m "not e2e"`. Skipped without the mirror.
The workflow runs with `-s <repo>/Snakefile --directory <tmp>`: nothing is written into the repository,
and the mirror is only read (through NASREPRO_MIRROR, since config/quick.yaml sets data.mirror: null).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import MIRROR, experiment_run_files
from nasrepro import config as cfg
from nasrepro.render import OUTPUTS
from test_workflow import job_counts

REPO = Path(__file__).resolve().parents[1]
# what `make render` allows: the Makefile's fixed rules and one rendering rule per output of the registry
RENDER_RULES = [*re.search(r"^RENDER_RULES = (.*?) \$\(shell", (REPO / "Makefile").read_text(), re.M).group(1).split(),
                *(f"render_{name}" for name in OUTPUTS)]
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
    figures = {"table5": ["convergence"], "convergence": ["convergence"], "table1_nb201": ["figure1"],
               "figure3": ["figure3", "figure4"], "figure5": ["figure5"]}
    for experiment, names in figures.items():  # every figure of the quick configuration, non-empty
        for name in names:
            png, pdf = (tmp_path / "results" / experiment / "figures" / f"{name}.{ext}" for ext in ("png", "pdf"))
            assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 10_000, png
            assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 1_000, pdf
    tables = {"table5": ["table5", "fair"], "convergence": ["table4", "fair"], "table1_nb201": ["table1"],
              "table2_nb201": ["table2"], "table3_nb201": ["table3"]}
    for experiment, names in tables.items():
        for name in names:
            for ext in ("csv", "md", "tex"):
                path = tmp_path / "results" / experiment / "tables" / f"{name}.{ext}"
                assert path.stat().st_size > 0, path
    assert not list(tmp_path.rglob("*.part")), "temporary files left behind"

    table = pd.read_csv(results / "tables" / "table5.csv")
    ours = table[table["status"] == "ran here"]
    assert len(ours) == 12  # WeakNAS, R-EA, random and local search on 3 benchmarks
    assert (ours["n"] == 3).all() and (ours["missing"] == 0).all(), ours
    random = ours[ours["method"] == "Random Search"]
    assert len(random) == 3
    assert random["mean"].between(1000, 15625).all(), random
    # every cell of a method the paper ran has its paper value beside it; local search is ours alone
    assert ours.loc[ours["method"] != "Local Search", "paper"].notna().all()
    assert ours.loc[ours["method"] == "Local Search", "mean"].between(1, 15625).all()
    assert set(table.loc[table["status"] != "ran here", "method"]) == {"MCTS", "LaNAS"}
    markdown = (results / "tables" / "table5.md").read_text()
    assert "3 seeds per cell" in markdown and "NO VALIDATION SPLIT" in markdown and "reported by the paper" in markdown
    fair = pd.read_csv(results / "tables" / "fair.csv")
    assert fair["p_value"].notna().sum() == 9  # R-EA, random and local search vs WeakNAS on 3 benchmarks
    baselines = pd.read_csv(tmp_path / "results" / "convergence" / "tables" / "fair.csv")  # every method, one oracle
    assert len(set(baselines["method"])) == 14 and (baselines["n"] == 2).all()
    assert set(baselines["queries"]) == {100, 150, 200} and baselines["p_value"].notna().sum() == 3 * 13
    provenance = (tmp_path / "results" / "provenance.md").read_text()
    assert "1fc89edb42c804223ea2f520a3a65b5e10d8c34bc2d1bbca6bc4b4b38a193827" in provenance  # cifar10_avg.csv
    assert "nasrepro at git commit" in provenance
    assert f"fetched from {MIRROR}/nb201/cifar10_avg.csv" in provenance  # the mirror, not the URL

    summary = pd.read_parquet(results / "summary.parquet")
    assert len(summary) == 36 and summary["queries_to_optimum"].notna().all()
    table5_runs = experiment_run_files(tmp_path, cfg.load(REPO / "config" / "quick.yaml"), "table5")
    for (bench, _, _), run in table5_runs.items():
        meta = json.loads(run.with_suffix(".json").read_text())
        assert meta["optimum_arch_id"] == KNOWN_FIT_OPTIMA[bench], run
        trajectory = pd.read_parquet(run)
        assert len(trajectory) == meta["queries_used"] >= meta["queries_to_optimum"]  # a shared run may go on
        assert KNOWN_FIT_OPTIMA[bench] in trajectory["arch_id"].tolist()
    assert len(table5_runs) == 36

    report = snakemake_run(tmp_path, "--configfile", str(REPO / "config" / "quick.yaml"), "--report", "report.zip",
                           env={"NASREPRO_MIRROR": str(MIRROR)}, timeout=600)
    assert report.returncode == 0, report.stderr[-5000:]
    import zipfile

    with zipfile.ZipFile(tmp_path / "report.zip") as archive:
        names = archive.namelist()
    for wanted in ("convergence.png", "figure1.png", "figure3.png", "figure4.png", "figure5.png", "table5.html",
                   "fair.csv", "provenance.md"):
        assert any(name.endswith(wanted) for name in names), wanted

    # re-rendering from the existing runs runs no search and re-makes every table and figure
    rendered = snakemake_run(tmp_path, "render", "--cores", "2", "--configfile", str(REPO / "config" / "quick.yaml"),
                             "--forcerun", "collect", "provenance", "--rerun-triggers", "mtime", "--allowed-rules",
                             *RENDER_RULES, env={"NASREPRO_MIRROR": str(MIRROR), "NASREPRO_RENDER_ONLY": "1"}, timeout=900)
    assert rendered.returncode == 0, rendered.stderr[-5000:]
    counts = job_counts(rendered.stdout + rendered.stderr)
    assert "search" not in counts and sum(counts.get(f"render_table{n}", 0) for n in range(1, 6)) == 5 and counts["render_figure4"] == 1, counts
