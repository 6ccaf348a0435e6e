"""A search job whose method trains no torch model loads neither torch nor scipy's heavy submodules nor matplotlib
(each costs tenths of a second to seconds of CPU per job against ~0.05 s of searching), `nasrepro --help` loads none of them,
and the thread limit reaches torch whenever it does get imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nasrepro import config as cfg
from nasrepro import runs as nasrepro_runs
from nasrepro.benchmark import write_table

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "scipy.stats", "scipy.optimize", "scipy.special", "matplotlib")
LIGHT_METHODS = ("random", "regularized_evolution", "local_search")

# What scripts/search.py does under Snakemake (smk.start with the rule's threads, then pipeline.search),
# for each light method in turn, in one fresh interpreter; then the modules it loaded, and torch's
# thread count once torch is imported after all.
JOB = """
import json, os, sys
from types import SimpleNamespace
from nasrepro import pipeline, smk
args = json.loads(sys.argv[1])
smk.start(SimpleNamespace(log=[args["log"]], threads=1))
for method, spec in args["specs"].items():
    out = os.path.join(args["out"], method)
    pipeline.search(spec, 0, {"method_name": method}, args["table"], None, out + ".parquet",
                    out + ".iterations.parquet", out + ".json", progress=False)
loaded = [name for name in args["heavy"] if name in sys.modules]
import torch
print(json.dumps({"loaded": loaded, "torch_threads": torch.get_num_threads()}))
"""


def fresh_python(code: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def table_path(tmp_path_factory, nb201_synthetic) -> Path:
    path = tmp_path_factory.mktemp("light") / "nb201-cifar10.parquet"
    write_table(nb201_synthetic.table, nb201_synthetic.meta, path)
    return path


def test_light_search_jobs_import_no_torch_scipy_stats_or_matplotlib(tmp_path, table_path):
    config = cfg.load(REPO / "config.yaml")
    specs = {m: nasrepro_runs.run_spec(config, "table5", "nb201-cifar10", m) for m in LIGHT_METHODS}
    assert all(not cfg.needs_gpu(config, m, "nb201-cifar10") for m in LIGHT_METHODS)
    args = {"specs": specs, "table": str(table_path), "out": str(tmp_path), "log": str(tmp_path / "job.log"),
            "heavy": list(HEAVY)}
    report = json.loads(fresh_python(JOB, json.dumps(args)).stdout.strip().splitlines()[-1])
    assert report["loaded"] == [], f"a light search job imported {report['loaded']}"
    # the rule's threads reach torch even though smk.start ran before torch was imported
    assert report["torch_threads"] == 1
    for method in LIGHT_METHODS:
        meta = json.loads((tmp_path / f"{method}.json").read_text())
        assert meta["queries_to_optimum"] is not None  # the job ran to the optimum
        assert meta["environment"]["torch_threads"] is None  # torch never loaded: no thread count to report
        assert meta["environment"]["device"].startswith("cpu")
        assert meta["environment"]["versions"]["torch"] is not None  # versions come from package metadata


def test_help_imports_nothing_heavy():
    code = ("import json, sys\nfrom nasrepro import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            f"print(json.dumps([m for m in {list(HEAVY) + ['pandas']!r} if m in sys.modules]))")
    loaded = json.loads(fresh_python(code).stdout.strip().splitlines()[-1])
    assert loaded == []


def test_cli_search_of_a_light_method_loads_no_torch_and_sets_one_thread(tmp_path, table_path):
    """`nasrepro search` validates config.yaml (whose MLP methods name torch lazily) and pins the numerical libraries
    to 1 thread without loading torch for a method that trains no torch model."""
    out = tmp_path / "runs"
    code = ("import os, sys\nfrom nasrepro import cli\ncode = cli.main(sys.argv[1:])\n"
            f"print('torch._C' in sys.modules, os.environ['OMP_NUM_THREADS'], [m for m in {HEAVY[1:]!r} if m in sys.modules])"
            "\nsys.exit(code)")
    result = fresh_python(code, "search", "--config", str(REPO / "config.yaml"), "--experiment", "table5",
                          "--bench", "nb201-cifar10", "--method", "random", "--seed", "1", "--table", str(table_path),
                          "--out", str(out))
    assert result.stdout.strip().splitlines()[-1] == "False 1 []"
    assert json.loads((out / "1.json").read_text())["environment"]["torch_threads"] is None


def test_a_module_named_lazily_is_not_loaded_by_a_library_that_looks_for_it():
    """scipy's array-API checks look in sys.modules for torch at every call: a lazily named torch must not be
    there before it is used, or the look loads it (about 2 CPU s a job)."""
    code = ("import sys, numpy as np\nimport nasrepro.predictors.mlp as mlp\nfrom scipy import stats\n"
            "stats.rankdata(np.arange(5.0))\nprint('torch' in sys.modules, 'torch._C' in sys.modules)\n"
            "mlp.torch.zeros(1)\nprint('torch._C' in sys.modules)")
    assert fresh_python(code).stdout.split() == ["False", "False", "True"]
