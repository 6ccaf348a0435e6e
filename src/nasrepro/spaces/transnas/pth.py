"""The official TransNAS-Bench-101 file (`transnas-bench_v10141024.pth`, micro and macro, train/valid/test): a
torch-saved dict with `metrics_dict` ({task: [metric names]}), `info_names`, `task_list` and `data`
({space: {arch string: {task: {"metrics": {metric: [one value per epoch]}, "model_info": ..., "total_epochs":
...}}}}), as its public API (GitHub yawen-d/TransNASBench, api/api.py) reads it. It is read with
`torch.load(weights_only=True)`, so no pickled code runs; a file holding anything but plain containers,
numbers, strings and tensors is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import NasReproError
from ..edge_cell import OP_COLUMNS, codes
from .cells import NUM_CELLS, OPS, parse_cell
from .convert import TASKS, check_labels, metadata

KEYS = ("metrics_dict", "info_names", "task_list", "data")


def load(path: str | Path) -> dict:
    import torch

    path = Path(path)
    try:
        database = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises pickle, runtime and zip errors alike for a file it cannot read
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise NasReproError(f"{path}: cannot read as a TransNAS-Bench-101 .pth with weights_only=True "
                            f"({type(error).__name__}: {first[:200]})") from None
    missing = [key for key in KEYS if not isinstance(database, dict) or key not in database]
    if missing:
        raise NasReproError(f"{path}: not a TransNAS-Bench-101 file (no {', '.join(missing)})")
    return database


def epochs(database: dict, space: str, task: str, metric: str, path: Path) -> dict[str, list[float]]:
    """{arch string: the metric per epoch} of every architecture of `space` on `task`."""
    if task not in database["task_list"]:
        raise NasReproError(f"{path}: task {task!r} is not in its task_list ({', '.join(database['task_list'])})")
    if metric not in database["metrics_dict"][task]:
        raise NasReproError(f"{path}: task {task} records no metric {metric!r} "
                            f"(it records {', '.join(database['metrics_dict'][task])})")
    if space not in database["data"]:
        raise NasReproError(f"{path}: no search space {space!r} (it has {', '.join(database['data'])})")
    try:
        return {arch: list(results[task]["metrics"][metric]) for arch, results in database["data"][space].items()}
    except (KeyError, TypeError) as error:
        raise NasReproError(f"{path}: space {space}, task {task}: an architecture lacks metrics.{metric} "
                            f"({type(error).__name__}: {error})") from None


def micro_table(path: str | Path, task: str, fit_split: str = "valid") -> tuple[pd.DataFrame, dict]:
    """The micro space's canonical table of one task: fit on the validation metric's best epoch (`fit_split`
    valid) or on the test metric at that epoch (test); report the test metric at the epoch of the best
    validation metric (early stopping on validation, the API's `get_best_epoch_status`). Rows in the file's order."""
    path = Path(path)
    if task not in TASKS or fit_split not in ("valid", "test"):
        raise NasReproError(f"TransNAS-Bench-101 micro: task {task!r} with fit_split {fit_split!r}: tasks "
                            f"{', '.join(TASKS)}; fit_split valid or test")
    database = load(path)
    metric = TASKS[task].metric
    valid = epochs(database, "micro", task, metric, path)
    test = epochs(database, "micro", task, "test_" + metric[len("valid_"):], path)
    cells = list(valid)
    ops = np.array([parse_cell(cell) for cell in cells], dtype=np.int8)
    if len(cells) != NUM_CELLS or len(np.unique(codes(ops, len(OPS)))) != NUM_CELLS:
        raise NasReproError(f"{path}: the micro space holds {len(cells)} architectures, not the {NUM_CELLS} distinct cells")
    best = [int(np.argmax(valid[cell])) for cell in cells]
    fit_valid = np.array([valid[cell][epoch] for cell, epoch in zip(cells, best)], dtype=np.float64)
    test_at_best = np.array([test[cell][epoch] for cell, epoch in zip(cells, best)], dtype=np.float64)
    for labels in (fit_valid, test_at_best):
        check_labels(labels, task, path)
    table = pd.DataFrame({"arch_id": np.arange(len(cells)), "cell": cells,
                          **{column: ops[:, e] for e, column in enumerate(OP_COLUMNS)},
                          "fit_label": fit_valid if fit_split == "valid" else test_at_best, "test_label": test_at_best})
    return table, metadata(task, has_test=True, fit_on_test=fit_split == "test")
