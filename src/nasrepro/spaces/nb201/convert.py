"""NAS-Bench-201's public CSV files (sources with their checksums) and their conversion to one canonical table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import NasReproError
from ...sources import Source, by_name
from ..edge_cell import NUM_EDGES, codes
from .cells import NUM_CELLS, OPS, parse_cell

# dataset -> (file with x-valid, its test split name, nats_bench.csv test column)
DATASETS = {
    "cifar10-valid": ("nb201-cifar10_avg", "ori-test", None),
    "cifar100": ("nb201-cifar100_avg", "x-test", "CIFAR100TestAccuracy200Epochs"),
    "ImageNet16-120": ("nb201-ImageNet16-120_avg", "x-test", "ImageNetTestAccuracy200Epochs"),
    "cifar10": (None, "ori-test", "CIFAR10TestAccuracy200Epochs"),
}


FIT_SPLITS = ("x-valid", "test")


# Where a benchmark's x-valid labels come from (its `file`): NAS-Landscapes' file of the same version as its
# test labels (the first choice), or NAS-Bench-201 v1_1's validation accuracy from noual/nas_ntk, whose test
# labels then come from NATS-Bench (nats_bench.csv): two versions, stated in the table.
FILES = ("nas_landscapes", "nas_ntk")


NAS_NTK = {"cifar100": "nb201-nas_ntk-cifar100", "ImageNet16-120": "nb201-nas_ntk-ImageNet16-120"}


NAS_NTK_COLUMNS = ["index", "accuracy"]


AVG_COLUMNS = ["index", "arch_str", "train-accuracy", "valid-accuracy", "test-accuracy", "train-all-time"]


NATS_COLUMNS = ["ArchitectureString", "UniqueString"]


def required_sources(dataset: str, fit_split: str, file: str = "nas_landscapes") -> list[str]:
    """Source names that the canonical table of (dataset, fit_split) is built from."""
    check_choice(dataset, fit_split, file)
    if file == "nas_ntk":
        return [NAS_NTK[dataset], "nb201-nats_bench"]
    avg_source, _, _ = DATASETS[dataset]
    needs_avg = avg_source is not None and (fit_split == "x-valid" or dataset == "cifar10-valid")
    return ([avg_source] if needs_avg else []) + ["nb201-nats_bench"]


def check_choice(dataset: str, fit_split: str, file: str = "nas_landscapes") -> None:
    if dataset not in DATASETS:
        raise NasReproError(f"unknown NAS-Bench-201 dataset {dataset!r}; known: {', '.join(DATASETS)}")
    if fit_split not in FIT_SPLITS:
        raise NasReproError(f"unknown fit_split {fit_split!r}; known: {', '.join(FIT_SPLITS)}")
    if fit_split == "x-valid" and DATASETS[dataset][0] is None:
        raise NasReproError(f"dataset {dataset!r} has no x-valid split; use fit_split: test")
    if file not in FILES:
        raise NasReproError(f"unknown NAS-Bench-201 file {file!r}; known: {', '.join(FILES)}")
    if file == "nas_ntk" and (dataset not in NAS_NTK or fit_split != "x-valid"):
        raise NasReproError(f"file nas_ntk gives the x-valid accuracy of {' and '.join(NAS_NTK)} only "
                            f"(here dataset {dataset!r}, fit_split {fit_split!r})")


def _read_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as error:  # pandas' parser and empty-data errors are ValueErrors
        raise NasReproError(f"{path}: cannot read as CSV ({error})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise NasReproError(f"{path}: missing column(s) {', '.join(missing)}")
    if len(frame) != NUM_CELLS:
        raise NasReproError(f"{path}: expected {NUM_CELLS} NAS-Bench-201 rows, found {len(frame)}")
    return frame


def _accuracy(frame: pd.DataFrame, column: str, path: Path, percent: bool = True, scale: float = 1.0) -> pd.Series:
    """A column of accuracies in % (a fraction with `scale=100`; `percent=False`: times) as floats; the first
    non-numeric, non-finite or out-of-range value stops the conversion with one line naming the file, the line
    and the value."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float) * scale
    bad = ~np.isfinite(values.to_numpy()) & raw.notna().to_numpy()  # NaN where a value was given: not a number
    if percent:
        bad |= np.isfinite(values.to_numpy()) & ((values.to_numpy() < 0) | (values.to_numpy() > 100))
    else:
        bad |= np.isfinite(values.to_numpy()) & (values.to_numpy() < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        expected = ("a finite accuracy in [0, 100] %" if scale == 1 else "a finite fraction in [0, 1]") if percent \
            else "a finite non-negative number"
        value = raw.iloc[row]
        shown = repr(value) if isinstance(value, str) else f"{float(value):g}"
        raise NasReproError(f"{path}: line {row + 2} (architecture {row}), column {column!r}: {shown} is not "
                            f"{expected} ({int(bad.sum())} such value(s)); the file is corrupt: delete it and fetch it again")
    return values


def convert(dataset: str, fit_split: str, files: dict[str, Path],
            file: str = "nas_landscapes") -> tuple[pd.DataFrame, dict]:
    """Build the canonical table and its provenance from the raw files named by `required_sources`.

    Row i is NAS-Bench-201 architecture index i in every source; the cell strings are checked to agree.
    """
    missing = [name for name in required_sources(dataset, fit_split, file) if name not in files]
    if missing:
        raise NasReproError(f"dataset {dataset!r} with fit_split {fit_split!r} needs source(s) {', '.join(missing)}")
    avg_source, test_split, nats_column = DATASETS[dataset]
    nats_path = Path(files["nb201-nats_bench"])
    nats = _read_csv(nats_path, NATS_COLUMNS + ([nats_column] if nats_column else []))
    table = pd.DataFrame({"arch_id": np.arange(NUM_CELLS), "cell": nats["ArchitectureString"].astype(str)})
    try:
        ops = np.array([parse_cell(c) for c in table["cell"]], dtype=np.int8)
    except NasReproError as error:
        raise NasReproError(f"{nats_path}: {error}") from None
    for e in range(NUM_EDGES):
        table[f"op{e}"] = ops[:, e]
    if len(np.unique(codes(ops, len(OPS)))) != NUM_CELLS:
        raise NasReproError(f"{nats_path}: cells are not the {NUM_CELLS} distinct NAS-Bench-201 cells")

    label_file = {"test_label": nats_path}
    if avg_source in files:
        avg_path = Path(files[avg_source])
        avg = _read_csv(avg_path, AVG_COLUMNS)
        if not (avg["index"].to_numpy() == table["arch_id"].to_numpy()).all():
            raise NasReproError(f"{avg_path}: column 'index' is not 0..{NUM_CELLS - 1} in order")
        if not (avg["arch_str"].astype(str).to_numpy() == table["cell"].to_numpy()).all():
            raise NasReproError(f"{avg_path}: arch_str disagrees with {nats_path} on the cell of some index")
        table["test_label"] = _accuracy(avg, "test-accuracy", avg_path)
        table["train_label"] = _accuracy(avg, "train-accuracy", avg_path)
        table["train_time"] = _accuracy(avg, "train-all-time", avg_path, percent=False)
        label_file["test_label"] = avg_path
        if fit_split == "x-valid":
            table["fit_label"] = _accuracy(avg, "valid-accuracy", avg_path)
            label_file["fit_label"] = avg_path
    else:
        table["test_label"] = _accuracy(nats, nats_column, nats_path)
    if file == "nas_ntk":
        ntk_path = Path(files[NAS_NTK[dataset]])
        table["fit_label"] = _valid_v1_1(ntk_path)
        label_file["fit_label"] = ntk_path
    if fit_split == "test":
        table["fit_label"] = table["test_label"]
        label_file["fit_label"] = label_file["test_label"]
    table["iso_class"] = pd.factorize(nats["UniqueString"])[0].astype(np.int32)
    for column, path in label_file.items():
        if table[column].isna().any():
            raise NasReproError(f"{path}: {column} has missing values for dataset {dataset!r}")

    fit_name = "x-valid" if fit_split == "x-valid" else test_split
    if file == "nas_ntk":
        fit_name, test_split = "x-valid (NAS-Bench-201 v1_1)", f"{test_split} (NATS-Bench)"
    meta = {
        "space": "nb201",
        "dataset": dataset,
        "fit_split": fit_name,
        "test_split": test_split,
        "fit_is_test": fit_split == "test",
        "label_note": (
            f"fit on {dataset} x-valid of NAS-Bench-201 v1_1 (noual/nas_ntk, mean over seeds), report its "
            f"{test_split} from nats_bench.csv: two versions of the benchmark, whose values average over different "
            f"numbers of training seeds for some architectures"
            if file == "nas_ntk"
            else f"fit on {dataset} x-valid (mean over seeds), report {test_split}"
            if fit_split == "x-valid"
            else f"NO VALIDATION SPLIT AVAILABLE: search fits on the {test_split} accuracy itself, "
            f"the same label that is reported"
        ),
    }
    return table[_column_order(table)], meta


def _valid_v1_1(path: Path) -> pd.Series:
    """nas_ntk's `accuracy` column (a fraction, row i = architecture index i) in %."""
    frame = _read_csv(path, NAS_NTK_COLUMNS)
    if not (pd.to_numeric(frame["index"], errors="coerce").to_numpy() == np.arange(NUM_CELLS)).all():
        raise NasReproError(f"{path}: column 'index' is not 0..{NUM_CELLS - 1} in order")
    return _accuracy(frame, "accuracy", path, scale=100.0)


def _column_order(table: pd.DataFrame) -> list[str]:
    first = ["arch_id", "cell"] + [f"op{e}" for e in range(NUM_EDGES)] + ["fit_label", "test_label"]
    return first + [c for c in table.columns if c not in first]


NAS_LANDSCAPES = (
    "https://raw.githubusercontent.com/gabro8a/NAS-Landscapes/"
    "abd5221948d901f765e3bc61d0175a3c1c52b802/data/accuracy/"
)


NAS_NTK_URL = ("https://raw.githubusercontent.com/noual/nas_ntk/"
               "d37e5a99a2e38aec78c2438183c3994920dd84bf/benchmark_scores/")


NAS_NTK_FILES = (  # (source, dataset, file, sha256, git blob)
    ("nb201-nas_ntk-cifar100", "cifar100", "Cifar100-NB201.csv",
     "06419ec2a54a81af9ead84e61bc57e76609488f5cd6446d87557de8b7d62c05c", "705efd1f2512b6ffd0d7cfa6823299db355c96ba"),
    ("nb201-nas_ntk-ImageNet16-120", "ImageNet16-120", "ImageNet-NB201.csv",
     "b124ad2e54db120689cddff6a62153bbefd958b356d77e576beea983eaf3f7c8", "0087ee880f07834b48cd00ae58e99ce4ca30ef82"),
)


SOURCES = by_name(
    Source(
        name="nb201-cifar10_avg",
        url=NAS_LANDSCAPES + "cifar10_avg.csv",
        mirror_path="nb201/cifar10_avg.csv",
        sha256="1fc89edb42c804223ea2f520a3a65b5e10d8c34bc2d1bbca6bc4b4b38a193827",
        git_blob="be9057c7dd7a0e509cd1b1848c3bce3b54872d61",
        description="NAS-Bench-201 cifar10-valid: train, x-valid, ori-test (mean of seeds, 200 epochs)",
    ),
    Source(
        name="nb201-cifar100_avg",
        url=NAS_LANDSCAPES + "cifar100_avg.csv",
        mirror_path="nb201/cifar100_avg.csv",
        git_blob="bef5955f78e981b71c9caea194377a713410b635",
        description="NAS-Bench-201 cifar100: train, x-valid, x-test",
    ),
    Source(
        name="nb201-ImageNet16-120_avg",
        url=NAS_LANDSCAPES + "ImageNet16-120_avg.csv",
        mirror_path="nb201/ImageNet16-120_avg.csv",
        git_blob="e095424c2fb6d2260ea895692db99dc7a4efee49",
        description="NAS-Bench-201 ImageNet16-120: train, x-valid, x-test",
    ),
    *(Source(
        name=name,
        url=NAS_NTK_URL + filename,
        mirror_path="nb201/nas_ntk/" + filename,
        sha256=sha256,
        git_blob=blob,
        description=f"NAS-Bench-201 v1_1 {dataset} x-valid accuracy (fraction, mean over seeds, 200 epochs)",
    ) for name, dataset, filename, sha256, blob in NAS_NTK_FILES),
    Source(
        name="nb201-nats_bench",
        url=(
            "https://raw.githubusercontent.com/v-tao/nats-bench-landscape/"
            "b307ae5fe6e8d7043cd4fe7d1c3532288271adb7/nats_bench.csv"
        ),
        mirror_path="nb201/nats_bench.csv",
        sha256="cb5d777ec3368be83c8f9b3aa4d520696051cb0eb8d94b8f85b519f9ea4afa3e",
        git_blob="a15806cde5e774239a51874d4ba1db74950a5127",
        description="NATS-Bench topology: test accuracy on cifar10, cifar100, ImageNet16-120; isomorphism string",
    ),
)
