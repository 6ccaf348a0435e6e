"""`nasrepro compare`: one's own method against the paper's methods, under a neutral protocol.

The comparison is an experiment like any other, written as an overlay (`results/compare/<name>.yaml`) and
run by the workflow: every method to the optimum on one benchmark, each scored the same way (queries until
the optimum is first queried; the test accuracy of the queried architecture with the best fitting label
at fixed budgets, no predictor peek), with effect sizes and Holm-corrected Mann-Whitney tests of one's method
against each other, the distribution of queries to the optimum, regret curves and a convergence figure; with
`--report`, Snakemake's report of it. The paper's protocols stay options of the experiment (`report_mode`).
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import yaml

from . import plugins
from .errors import NasReproError

REPO = Path(__file__).resolve().parents[2]
RESULTS = Path("results")  # everything a comparison writes is under it (relative to the working directory)
DEFAULT_BUDGETS = (100, 150, 200, 400)


def method_type(target: str) -> tuple[str, str, Path | None]:
    """`path/to/my_methods.py:MyMethod` (or `my_methods:MyMethod`) as a config `type`, its module's folder
    made importable; (type, class name, the module's folder where a file was given). The names become file
    and key names: only Python names pass."""
    module, _, class_name = target.partition(":")
    if not class_name:
        raise NasReproError(f"{target!r}: name the class too, e.g. my_methods.py:MyMethod")
    if not _python_name(class_name):
        raise NasReproError(f"{target!r}: {class_name!r} is not the name of a Python class (letters, digits and _)")
    path, folder = Path(module), None
    if path.suffix == ".py":
        if not path.is_file():
            raise NasReproError(f"{module}: no such file")
        module, folder = path.stem, path.parent.resolve()
        if not _python_name(module):
            raise NasReproError(f"{target!r}: {path.name} is not the file of a Python module (letters, digits and _)")
        plugins.add_module_folder(folder)
    elif not all(_python_name(part) for part in module.split(".")):
        raise NasReproError(f"{target!r}: {module!r} is not a Python module name (or a path ending in .py)")
    return f"{module}:{class_name}", class_name, folder


def _python_name(name: str) -> bool:
    return name.isascii() and name.isidentifier()


def method_options(text: str | None) -> dict:
    """`--options`: a YAML/JSON mapping of the method's options, given inline or as a file's path."""
    from .config import read_yaml

    if not text:
        return {}
    try:
        options = read_yaml(text) if Path(text).is_file() else yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise NasReproError(f"--options: not YAML or JSON ({str(error).splitlines()[0]})") from None
    if not isinstance(options, dict) or not all(isinstance(key, str) for key in options):
        raise NasReproError(f"--options {text}: give a mapping of option names to values, e.g. '{{\"patience\": 5}}'")
    reserved = [key for key in ("type", "label") if key in options]
    if reserved:
        raise NasReproError(f"--options: {reserved[0]!r} is set by nasrepro compare, not an option of your method")
    return options


def overlay(target: str, against: list[str], bench: str, seeds: int, budgets: list[int],
            options: dict | None = None) -> tuple[str, dict]:
    """The comparison as a config overlay: (experiment name, overlay). It records the folder of the file it
    was given (`module_folders`), so every later command on the overlay finds the module."""
    kind, class_name, folder = method_type(target)
    name = f"compare_{class_name.lower()}"
    mine = class_name.lower()
    if mine in against:
        raise NasReproError(f"--against: {mine!r} is also the name your method {class_name} gets; rename the class "
                            "or leave that method out")
    return name, {
        **({"module_folders": [str(folder)]} if folder else {}),
        "run": [name],
        "methods": {mine: {"type": kind, "label": class_name, **(options or {})}},
        "experiments": {name: {
            "description": f"{class_name} against {', '.join(against)} (nasrepro compare).",
            "benchmarks": [bench], "methods": [mine, *against], "seeds": seeds,
            "budget": {"until_optimum": True}, "budgets": budgets,
            "report_mode": "test_of_best_valid", "reference": mine,
            "outputs": ["comparison", "optimum_edf", "regret", "convergence"],
        }},
    }


def run(target: str, against: list[str], configs: list[str], bench: str, seeds: int, budgets: list[int],
        cores: str, options: dict | None = None, report: bool = False) -> int:
    """Check the comparison (names, configs, the overlay laid over them), and only then write the overlay
    (under results/compare/), run the workflow, print the table and the figures' paths, and with `report`
    write Snakemake's report of the comparison and print its path. A refused comparison writes nothing."""
    from . import config as cfg

    name, extra = overlay(target, against, bench, seeds, budgets, options)
    defined = cfg.load(*configs)
    for flag, names, kind in (("--against", against, "methods"), ("--bench", [bench], "benchmarks")):
        unknown = [entry for entry in names if entry not in defined[kind]]
        if unknown:
            raise NasReproError(f"{flag}: {unknown[0]!r} is not defined under '{kind}' in {' + '.join(configs)} "
                                f"(defined: {', '.join(defined[kind])})")
    cfg.load(*configs, extra=(f"nasrepro compare {target}", copy.deepcopy(extra)))  # every mistake, before a write
    path = RESULTS / "compare" / f"{name}.yaml"
    if not path.resolve().is_relative_to(RESULTS.resolve()):  # the checked names keep it there; never write elsewhere
        raise NasReproError(f"{path}: outside {RESULTS}/; nothing was written")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(extra, sort_keys=False))
    command = [str(Path(sys.executable).with_name("snakemake")), "-s", str(REPO / "Snakefile"), "--cores", cores,
               "--configfile", *configs, str(path)]
    print(" ".join(command), flush=True)
    status = subprocess.call(command)
    table = RESULTS / name / "tables" / "comparison.md"
    if status != 0 or not table.is_file():
        return status
    print(table.read_text())
    for figure in extra["experiments"][name]["outputs"][1:]:
        print(f"Figure: {RESULTS}/{name}/figures/{figure}.png")
    if report:
        out = RESULTS / name / "report.html"
        print(" ".join([*command, "--report", str(out)]), flush=True)
        status = subprocess.call([*command, "--report", str(out)])
        if status == 0:
            print(f"Report: {out}")
    return status
