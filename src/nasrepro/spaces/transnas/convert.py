"""TransNAS-Bench-101 micro's public file (NASLib's zero-cost benchmark zip) and its conversion to one canonical
table per task; what each task's label is."""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import NasReproError
from ...sources import Source, by_name
from ..edge_cell import OP_COLUMNS, codes
from .cells import NUM_CELLS, OPS, cell_string


@dataclass(frozen=True)
class Task:
    metric: str  # TransNAS-Bench-101's validation metric (`metrics_dict`); its test metric is test_<same>
    label: str  # what the label is, its unit and direction, for the protocol lines
    label_range: tuple[float, float]  # where every value of the label lies
    listing: str  # what the WeakNAS paper's benchmark listing reports on this task, with its metric


TASKS = {
    "class_scene": Task("valid_top1", "top-1 accuracy in % (higher is better)", (0.0, 100.0),
                        "WeakNAS 54.78 (scene classification, accuracy)"),
    "class_object": Task("valid_top1", "top-1 accuracy in % (higher is better)", (0.0, 100.0),
                         "WeakNAS 45.66 (object classification, accuracy)"),
    "room_layout": Task("valid_neg_loss", "the NEGATED L2 loss (higher is better; -0.6031 is an L2 loss of 0.6031)",
                        (-np.inf, 0.0), "WeakNAS 60.31 (room layout, L2 loss, apparently x 100, lower is better)"),
    "jigsaw": Task("valid_top1", "top-1 accuracy in % (higher is better)", (0.0, 100.0), "no value"),
    "segmentsemantic": Task("valid_acc", "PIXEL accuracy in % (higher is better), not the mIoU the listing reports",
                            (0.0, 100.0), "WeakNAS 25.9 (semantic segmentation, mIoU: a different metric)"),
    "normal": Task("valid_ssim", "SSIM as a fraction (higher is better)", (0.0, 1.0),
                   "WeakNAS 57.21 (surface normal, SSIM x 100)"),
    "autoencoder": Task("valid_ssim", "SSIM as a fraction (higher is better)", (0.0, 1.0),
                        "WeakNAS 56.9 (autoencoder, SSIM x 100)"),
}


FIT_SPLITS = ("valid",)


ZIP_SOURCE = "transnas-micro-zen"


SOURCES = by_name(Source(
    name=ZIP_SOURCE,
    url=("https://raw.githubusercontent.com/automl/NASLib/7a5496e2211d8ab65da40e0e2d5333aba87df614/"
         "naslib/data/zc_benchmarks/all_benchmarks_zen.zip"),
    mirror_path="transnas/all_benchmarks_zen.zip",
    sha256="d70d3ddcda2264806a467d3fb3840e8ce04c5b0129776110a62018ea68e6d7f2",
    git_blob="d07c1c525c0c77c0345677ac94eb99c8d40a1f3e",
    description="TransNAS-Bench-101 micro: 4,096 cells x 7 tasks, the validation metric (NASLib, Apache-2.0)",
))


MEMBER = re.compile(r"(?:^|/)benchmark--transbench101_micro--(?P<task>[a-z_]+)--(?P<start>\d+)\.json$")


def check_choice(task: str, fit_split: str) -> None:
    if task not in TASKS:
        raise NasReproError(f"unknown TransNAS-Bench-101 task {task!r}; known: {', '.join(TASKS)}")
    if fit_split not in FIT_SPLITS:
        raise NasReproError(f"TransNAS-Bench-101 micro (NASLib's zip) has the validation metric only: fit_split "
                            f"{fit_split!r} is not one of {', '.join(FIT_SPLITS)}")


def read_zip(path: Path, task: str) -> pd.DataFrame:
    """The task's records from every member of the zip: idx, the op codes, val_accuracy. The `zen` field (a
    zero-cost proxy score) is never read."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [name for name in archive.namelist() if (m := MEMBER.search(name)) and m["task"] == task]
            records = [record for name in sorted(members) for record in _records(archive, name, path)]
    except (OSError, zipfile.BadZipFile) as error:
        raise NasReproError(f"{path}: cannot read as a zip file ({error})") from None
    if not records:
        raise NasReproError(f"{path}: no member benchmark--transbench101_micro--{task}--*.json")
    return pd.DataFrame(records, columns=["idx", *OP_COLUMNS, "val"])


def _records(archive: zipfile.ZipFile, name: str, path: Path) -> list[tuple]:
    try:
        data = json.loads(archive.read(name))
        return [(int(r["idx"]), *_arch(r["arch"]), float(r["val_accuracy"])) for r in data]
    except (ValueError, KeyError, TypeError) as error:
        raise NasReproError(f"{path}: member {name}: not a list of records with idx, arch and val_accuracy "
                            f"({type(error).__name__}: {error})") from None


def _arch(text: str) -> tuple[int, ...]:
    ops = tuple(int(op) for op in str(text).strip("()").split(","))
    if len(ops) != len(OP_COLUMNS) or not all(0 <= op < len(OPS) for op in ops):
        raise ValueError(f"arch {text!r} is not six op codes 0..3")
    return ops


def convert(task: str, fit_split: str, files: dict[str, Path]) -> tuple[pd.DataFrame, dict]:
    """One task's canonical table: row i is NASLib's idx i; the label is the validation metric as the data has
    it, the reported label the same (no test split in this file)."""
    check_choice(task, fit_split)
    path = Path(files[ZIP_SOURCE])
    frame = read_zip(path, task).sort_values("idx", kind="stable").reset_index(drop=True)
    if not (frame["idx"].to_numpy() == np.arange(len(frame))).all() or len(frame) != NUM_CELLS:
        raise NasReproError(f"{path}: task {task}: idx is not 0..{NUM_CELLS - 1}, each once ({len(frame)} records)")
    ops = frame[OP_COLUMNS].to_numpy(dtype=np.int8)
    if len(np.unique(codes(ops, len(OPS)))) != NUM_CELLS:
        raise NasReproError(f"{path}: task {task}: the cells are not the {NUM_CELLS} distinct micro cells")
    labels = frame["val"].to_numpy(dtype=np.float64)
    check_labels(labels, task, path)
    table = pd.DataFrame({"arch_id": np.arange(NUM_CELLS), "cell": [cell_string(row) for row in ops],
                          **{column: ops[:, e] for e, column in enumerate(OP_COLUMNS)},
                          "fit_label": labels, "test_label": labels})
    return table, metadata(task, has_test=False)


def check_labels(labels: np.ndarray, task: str, path: Path) -> None:
    low, high = TASKS[task].label_range
    bad = ~np.isfinite(labels) | (labels < low) | (labels > high)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise NasReproError(f"{path}: task {task}, architecture {row}: {labels[row]:g} is not a finite "
                            f"{TASKS[task].metric} in [{low:g}, {high:g}] ({int(bad.sum())} such value(s))")


def metadata(task: str, has_test: bool, fit_on_test: bool = False) -> dict:
    """The table's provenance; without a test split (the zip) the fitting label is the reported one."""
    spec = TASKS[task]
    valid = f"valid ({spec.metric}, best epoch)"
    test = f"test (test_{spec.metric[len('valid_'):]}, at the best valid epoch)" if has_test else valid
    reported = ("report the test metric at the epoch of the best validation metric" if has_test else
                "NO TEST SPLIT in this file: the reported value is the validation metric itself")
    fitted = ("fit on the test metric itself (the reported label)" if fit_on_test else
              "fit on the validation metric (its best over the training epochs, as NASLib queries it)")
    return {"space": "transnas_micro", "dataset": task, "fit_split": test if fit_on_test else valid, "test_split": test,
            "fit_is_test": fit_on_test or not has_test,
            "label_note": f"TransNAS-Bench-101 micro, task {task}: the label is {spec.label}; {fitted}; {reported}. "
                          f"The WeakNAS paper's benchmark listing: {spec.listing}"}
