"""`nasrepro compare`: one's own method against the paper's methods, under a neutral protocol.

The comparison is an experiment like any other, written as an overlay (`results/compare/<name>.yaml`) and
run by the workflow: every method to the optimum on one benchmark, each scored the same way (queries until
the optimum is first queried; the test accuracy of the queried architecture with the best fitting label
at fixed budgets, no predictor peek), with Mann-Whitney U tests of one's method against each other and a
convergence figure. The paper's protocols stay options of the experiment (`report_mode`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from . import plugins
from .errors import NasReproError

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BUDGETS = (100, 150, 200, 400)


def method_type(target: str) -> tuple[str, str]:
    """`path/to/my_methods.py:MyMethod` (or `my_methods:MyMethod`) as a config `type`, its module's folder
    made importable; (type, class name)."""
    module, _, class_name = target.partition(":")
    if not class_name:
        raise NasReproError(f"{target!r}: name the class too, e.g. my_methods.py:MyMethod")
    path = Path(module)
    if path.suffix == ".py":
        if not path.is_file():
            raise NasReproError(f"{module}: no such file")
        plugins.add_module_folder(path.parent)
        module = path.stem
    return f"{module}:{class_name}", class_name


def overlay(target: str, against: list[str], bench: str, seeds: int, budgets: list[int]) -> tuple[str, dict]:
    """The comparison as a config overlay: (experiment name, overlay)."""
    kind, class_name = method_type(target)
    name = f"compare_{class_name.lower()}"
    mine = class_name.lower()
    return name, {
        "run": [name],
        "methods": {mine: {"type": kind, "label": class_name}},
        "experiments": {name: {
            "description": f"{class_name} against {', '.join(against)} (nasrepro compare).",
            "benchmarks": [bench], "methods": [mine, *against], "seeds": seeds,
            "budget": {"until_optimum": True}, "budgets": budgets,
            "report_mode": "test_of_best_valid", "reference": mine, "outputs": ["comparison", "convergence"],
        }},
    }


def run(target: str, against: list[str], configs: list[str], bench: str, seeds: int, budgets: list[int],
        cores: str) -> int:
    """Write the overlay, validate it with the configs it is laid over, run the workflow, print the table."""
    from . import config as cfg

    name, extra = overlay(target, against, bench, seeds, budgets)
    path = Path("results") / "compare" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(extra, sort_keys=False))
    cfg.load(*configs, path)  # every mistake in one line before anything runs
    command = [str(Path(sys.executable).with_name("snakemake")), "-s", str(REPO / "Snakefile"), "--cores", cores,
               "--configfile", *configs, str(path)]
    print(" ".join(command), flush=True)
    status = subprocess.call(command)
    table = Path("results") / name / "tables" / "comparison.md"
    if status == 0 and table.is_file():
        print(table.read_text())
        print(f"Figure: results/{name}/figures/convergence.png")
    return status
