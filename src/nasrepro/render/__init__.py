"""Tables, figures, protocol lines and captions, built from what ran: every output's code is in this folder
(the renderers, `statistics`, `table_cells`, the drawing modules and their `style`) but the registry.

Every output is declared once in `nasrepro.outputs.OUTPUTS`, outside this package: config validation reads
it (the names an experiment may list, what each needs) without importing rendering. A renderer reads the experiment's collected runs
(summary, trajectories, iterations: each run's recorded specification is in the summary's `spec` column)
and a narrow `view` of the experiment (`view`): the labels, paper rows and columns, budgets and report
modes it is rendered with. Method options, precision and every method's own notes come from the runs'
recorded specifications, never from the live config, so a table always describes what ran.
"""

from __future__ import annotations

import importlib

from .. import config as cfg
from ..outputs import OUTPUTS, Output

DEFAULT_REPORT_MODE = "max_queried_or_pred1"


def view(config: dict, experiment: str) -> dict:
    """What a renderer may know of the config: presentation (labels, paper rows and columns, titles) and
    the experiment's rendering choices (budgets, report modes, the reference method)."""
    spec = config["experiments"][experiment]
    benchmarks = config["benchmarks"]
    return {
        "experiment": experiment,
        "budget": spec["budget"],
        "budgets": spec.get("budgets"),
        "report_modes": report_modes(spec),
        "reference": spec.get("reference", spec["methods"][0]),
        "methods": {m: {"label": cfg.method_label(config, m), "paper_row": config["methods"][m].get("paper_row")}
                    for m in spec["methods"]},
        "benchmarks": {b: {"dataset": benchmarks[b]["dataset"], "paper_column": benchmarks[b].get("paper_column", b)}
                       for b in spec["benchmarks"]},
    }


def report_modes(spec: dict) -> dict[str, str]:
    """The report mode of each of the experiment's methods (`report_mode`, or `report_mode_by_method`)."""
    default = spec.get("report_mode", DEFAULT_REPORT_MODE)
    return {m: spec.get("report_mode_by_method", {}).get(m, default) for m in spec["methods"]}


def render(name: str, view: dict, runs: dict, files: dict, **inputs) -> None:
    """Draw output `name` (its registry entry) from the collected `runs` into `files` (by extension)."""
    module, _, function = OUTPUTS[name].renderer.partition(":")
    renderer = getattr(importlib.import_module(f"{__name__}.{module}"), function)
    renderer(OUTPUTS[name], view, runs, files, **inputs)


__all__ = ["OUTPUTS", "Output", "render", "report_modes", "view"]
