"""NAS-Bench-101's TFRecord files (`nasbench_only108.tfrecord`, `nasbench_full.tfrecord`) -> canonical table.

No TensorFlow and no generated protobuf code: records are read with `nasrepro.spaces.nb101.tfrecord`, and the
metrics messages are decoded with the `protobuf` package from descriptors built here in code.

Record data (UTF-8 JSON): `[module_hash, epochs, raw_adjacency, raw_operations, raw_metrics]`

- `module_hash`: 32 lowercase hex characters, NAS-Bench-101's hash of the pruned cell. The reader
  trusts it (recomputing 423,624 graph hashes would cost minutes); it only checks that the same hash
  always comes with the same cell.
- `epochs`: training epochs of the run (108 in `only108`; 4, 12, 36 and 108 in `full`). Only
  108-epoch records are kept; the others are checked for shape but their metrics are not decoded.
- `raw_adjacency`: the pruned n x n 0/1 matrix (2 <= n <= 7) flattened row by row, e.g. "0110001000".
- `raw_operations`: n comma-separated op names from `nb101.OPS`, `input` first, `output` last.
- `raw_metrics`: standard base64 of a serialized proto2 `ModelMetrics`:

      syntax = "proto2";
      package nasbench;
      message EvaluationData {
        optional double current_epoch = 1;
        optional double training_time = 2;        // seconds
        optional double train_accuracy = 3;       // fraction
        optional double validation_accuracy = 4;  // fraction
        optional double test_accuracy = 5;        // fraction
        optional string checkpoint_path = 6;
      }
      message ModelMetrics {
        repeated EvaluationData evaluation_data = 1;  // [0] step 0, [1] half-way, [2] end of training
        optional int32 trainable_parameters = 2;
        optional double total_time = 3;
      }

Each cell was trained 3 times at 108 epochs, so each hash has 3 records at 108 epochs (not
necessarily adjacent in the file). The canonical table has one row per hash, in order of first
appearance, with columns `TABLE_COLUMNS`; accuracies are in percent, and `fit_label` / `test_label`
are the mean over the 3 repeats of the final (evaluation_data[2]) validation / test accuracy
(mean of the fractions, times 100).
"""

from __future__ import annotations

import base64
import logging
import binascii
import json
import math
import re
from array import array
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from . import cells as nb101
from nasrepro.errors import NasReproError
from nasrepro.spaces.nb101.tfrecord import iter_records

log = logging.getLogger(__name__)
PROGRESS_EVERY = 500_000  # records between progress lines in the log (the only108 file has 1.27 million)

FIT_SPLITS = ("valid", "test")
FINAL_EPOCHS = 108
REPEATS = 3
TABLE_COLUMNS = [
    "arch_id", "hash", "num_vertices", "adjacency", "operations", *nb101.OP_COLUMNS, "fit_label", "test_label",
    *[f"valid_acc_{k}" for k in range(REPEATS)], *[f"test_acc_{k}" for k in range(REPEATS)], "params", "train_time",
]
EVALUATION_FIELDS = (
    "current_epoch", "training_time", "train_accuracy", "validation_accuracy", "test_accuracy", "checkpoint_path",
)
_HASH = re.compile(r"[0-9a-f]{32}")
_OP_CODE = {name: code for code, name in enumerate(nb101.OPS)}


def _message_classes():
    """ModelMetrics and EvaluationData classes from descriptors built in code (a private pool)."""
    fdp = descriptor_pb2.FileDescriptorProto(name="nasrepro/nb101_model_metrics.proto", package="nasbench",
                                             syntax="proto2")
    F = descriptor_pb2.FieldDescriptorProto
    evaluation = fdp.message_type.add(name="EvaluationData")
    for number, name in enumerate(EVALUATION_FIELDS, start=1):
        kind = F.TYPE_STRING if name == "checkpoint_path" else F.TYPE_DOUBLE
        evaluation.field.add(name=name, number=number, type=kind, label=F.LABEL_OPTIONAL)
    metrics = fdp.message_type.add(name="ModelMetrics")
    metrics.field.add(name="evaluation_data", number=1, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                      type_name=".nasbench.EvaluationData")
    metrics.field.add(name="trainable_parameters", number=2, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    metrics.field.add(name="total_time", number=3, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return (message_factory.GetMessageClass(pool.FindMessageTypeByName("nasbench.ModelMetrics")),
            message_factory.GetMessageClass(pool.FindMessageTypeByName("nasbench.EvaluationData")))


ModelMetrics, EvaluationData = _message_classes()


# ---------------------------------------------------------------------------------------------- writing
def encode_metrics(evaluation_data: Iterable[Mapping[str, float | str]], trainable_parameters: int,
                   total_time: float) -> bytes:
    """A serialized ModelMetrics; each evaluation is a mapping of `EVALUATION_FIELDS` names to values."""
    message = ModelMetrics(trainable_parameters=int(trainable_parameters), total_time=float(total_time))
    for evaluation in evaluation_data:
        message.evaluation_data.add(**evaluation)
    return message.SerializeToString()


def decode_metrics(data: bytes):
    """The ModelMetrics message of serialized bytes (protobuf's DecodeError if they are not one)."""
    return ModelMetrics.FromString(data)


def record_bytes(module_hash: str, epochs: int, matrix, ops: Sequence[str], metrics: bytes) -> bytes:
    """The data of one record, as in the official files: `matrix` the pruned n x n 0/1 matrix, `ops`
    its n op names, `metrics` a serialized ModelMetrics (see `encode_metrics`)."""
    matrix = np.asarray(matrix)
    raw_adjacency = "".join("1" if bit else "0" for bit in matrix.reshape(-1))
    raw_metrics = base64.b64encode(bytes(metrics)).decode("ascii")
    return json.dumps([module_hash, int(epochs), raw_adjacency, ",".join(ops), raw_metrics]).encode("utf-8")


# ---------------------------------------------------------------------------------------------- reading
class _Invalid(Exception):
    """A bad value in one record; `convert` adds the file and record number."""


def _parse_adjacency(raw) -> tuple[int, str]:
    """(n, upper-triangle string) of a raw pruned adjacency string."""
    if type(raw) is not str:
        raise _Invalid(f"raw_adjacency is {type(raw).__name__}, not a string")
    n = math.isqrt(len(raw))
    if n * n != len(raw) or not 2 <= n <= nb101.MAX_VERTICES:
        raise _Invalid(f"raw_adjacency has length {len(raw)}, not n*n for 2 <= n <= {nb101.MAX_VERTICES}")
    if raw.strip("01"):
        raise _Invalid(f"raw_adjacency {raw[:64]!r} has characters other than 0 and 1")
    matrix = (np.frombuffer(raw.encode("ascii"), dtype=np.uint8) - 48).reshape(n, n)
    if np.tril(matrix).any():
        raise _Invalid(f"raw_adjacency {raw!r} is not strictly upper triangular")
    if int(matrix.sum()) > nb101.MAX_EDGES:
        raise _Invalid(f"raw_adjacency {raw!r} has {int(matrix.sum())} edges, more than {nb101.MAX_EDGES}")
    # In an upper-triangular DAG every vertex lies on an input->output path iff every vertex but the
    # output has an out-edge and every vertex but the input has an in-edge: that is a pruned cell.
    if not (matrix[:-1].any(axis=1).all() and matrix[:, 1:].any(axis=0).all()):
        raise _Invalid(f"raw_adjacency {raw!r} is not a pruned cell (a vertex is off every input->output path)")
    return n, nb101.upper_triangle_string(matrix)


def _parse_operations(raw) -> tuple[int, tuple[int, ...]]:
    """(n, op codes padded with -1 to 7) of a raw comma-separated op list."""
    if type(raw) is not str:
        raise _Invalid(f"raw_operations is {type(raw).__name__}, not a string")
    names = raw.split(",")
    unknown = [name for name in names if name not in _OP_CODE]
    if unknown:
        raise _Invalid(f"unknown op {unknown[0]!r} in raw_operations (known: {', '.join(nb101.OPS)})")
    if len(names) > nb101.MAX_VERTICES:
        raise _Invalid(f"raw_operations has {len(names)} ops, more than {nb101.MAX_VERTICES}")
    if len(names) < 2 or names[0] != nb101.INPUT or names[-1] != nb101.OUTPUT:
        raise _Invalid(f"raw_operations {raw!r} must start with {nb101.INPUT!r} and end with {nb101.OUTPUT!r}")
    if any(name not in nb101.INTERIOR_OPS for name in names[1:-1]):
        raise _Invalid(f"raw_operations {raw!r} has {nb101.INPUT!r} or {nb101.OUTPUT!r} between the ends")
    codes = [_OP_CODE[name] for name in names]
    return len(names), tuple(codes + [-1] * (nb101.MAX_VERTICES - len(codes)))


def convert(path: Path, fit_split: str = "valid", expected_cells: int | None = None) -> tuple[pd.DataFrame, dict]:
    """Build the canonical NAS-Bench-101 table and its provenance from a TFRecord file.

    fit_split "valid": fit_label = mean validation accuracy (WeakNAS's protocol); "test": fit_label =
    mean test accuracy (LaNAS's Table-5 protocol, searching on test). test_label is always the mean test
    accuracy. `expected_cells`, when given, is the number of unique hashes the file must hold.
    Rows come in order of each hash's first 108-epoch record (its first record in `only108`).
    Every problem raises NasReproError with one line naming the file (and the record or hash).
    """
    path = Path(path)
    if fit_split not in FIT_SPLITS:
        raise NasReproError(f"unknown NAS-Bench-101 fit_split {fit_split!r}; known: {', '.join(FIT_SPLITS)}")

    # Distinct raw strings -> small ids (there are far fewer distinct cells' parts than records).
    adjacency_id: dict[str, int] = {}
    adjacency_n: list[int] = []
    adjacency_triu: list[str] = []
    operations_id: dict[str, int] = {}
    operations_n: list[int] = []
    operations_raw: list[str] = []
    operations_codes: list[tuple[int, ...]] = []
    # One entry per unique hash (row), in order of first appearance.
    row_of: dict[str, int] = {}
    row_hash: list[str] = []
    row_adjacency = array("i")
    row_operations = array("i")
    row_first_record = array("q")
    # One entry per kept (108-epoch) record.
    rec_row = array("i")
    rec_number = array("q")
    rec_valid = array("d")
    rec_test = array("d")
    rec_time = array("d")
    rec_params = array("q")
    epochs_seen: set[int] = set()
    records = 0

    decode_json = json.JSONDecoder().decode
    unbase64 = binascii.a2b_base64
    parse_metrics = ModelMetrics.FromString
    hash_ok = _HASH.fullmatch

    def fail(number: int, what: str) -> NasReproError:
        return NasReproError(f"{path}: record {number}: {what}")

    for number, data in iter_records(path):
        records += 1
        if records % PROGRESS_EVERY == 0:
            log.info("%s: %d records read", path, records)
        try:
            item = decode_json(data.decode("utf-8"))
        except ValueError:  # JSONDecodeError and UnicodeDecodeError
            raise fail(number, f"data is not UTF-8 JSON (starts {data[:40]!r})") from None
        except RecursionError:  # JSON nested deeper than Python's recursion limit: never a NAS-Bench-101 record
            raise fail(number, f"data is JSON nested too deeply to be a record (starts {data[:40]!r})") from None
        if type(item) is not list or len(item) != 5:
            raise fail(number, "data is not a JSON list [module_hash, epochs, raw_adjacency, raw_operations, "
                               "raw_metrics]") from None
        module_hash, epochs, raw_adjacency, raw_operations, raw_metrics = item

        try:
            aid = adjacency_id.get(raw_adjacency)
            if aid is None:
                n, triu = _parse_adjacency(raw_adjacency)
                aid = adjacency_id[raw_adjacency] = len(adjacency_n)
                adjacency_n.append(n)
                adjacency_triu.append(triu)
            oid = operations_id.get(raw_operations)
            if oid is None:
                n, codes = _parse_operations(raw_operations)
                oid = operations_id[raw_operations] = len(operations_n)
                operations_n.append(n)
                operations_raw.append(raw_operations)
                operations_codes.append(codes)
        except _Invalid as error:
            raise fail(number, str(error)) from None
        except TypeError:  # an unhashable JSON value (list or object) where a string belongs
            raise fail(number, "raw_adjacency and raw_operations must be strings") from None
        if adjacency_n[aid] != operations_n[oid]:
            raise fail(number, f"raw_operations has {operations_n[oid]} ops for a "
                               f"{adjacency_n[aid]}-vertex raw_adjacency")
        if type(epochs) is not int:
            raise fail(number, f"epochs is {epochs!r}, not an integer")
        epochs_seen.add(epochs)

        row = row_of.get(module_hash) if type(module_hash) is str else None
        if row is None:
            if type(module_hash) is not str or not hash_ok(module_hash):
                raise fail(number, f"module_hash {module_hash!r} is not 32 lowercase hex characters")
            if epochs != FINAL_EPOCHS:
                continue
            row = row_of[module_hash] = len(row_hash)
            row_hash.append(module_hash)
            row_adjacency.append(aid)
            row_operations.append(oid)
            row_first_record.append(number)
        elif epochs != FINAL_EPOCHS:
            continue
        elif row_adjacency[row] != aid or row_operations[row] != oid:
            raise fail(number, f"hash {module_hash} has a different cell than in record {row_first_record[row]} "
                               f"({raw_adjacency!r} {raw_operations!r})")

        try:
            metrics = parse_metrics(unbase64(raw_metrics, strict_mode=True))
        except (ValueError, TypeError):  # binascii.Error is a ValueError
            raise fail(number, "raw_metrics is not a base64 string") from None
        except DecodeError:
            raise fail(number, "raw_metrics is not a serialized ModelMetrics protobuf message") from None
        evaluations = metrics.evaluation_data
        if len(evaluations) < 3:
            raise fail(number, f"raw_metrics has {len(evaluations)} evaluation_data entries, fewer than 3")
        final = evaluations[2]
        rec_row.append(row)
        rec_number.append(number)
        rec_valid.append(final.validation_accuracy)
        rec_test.append(final.test_accuracy)
        rec_time.append(final.training_time)
        rec_params.append(metrics.trainable_parameters)

    return _table(path, fit_split, expected_cells, records, sorted(epochs_seen), row_hash,
                  np.asarray(row_adjacency, dtype=np.int64), np.asarray(row_operations, dtype=np.int64),
                  adjacency_n, adjacency_triu, operations_raw, operations_codes,
                  rec_row, rec_number, rec_valid, rec_test, rec_time, rec_params)


def _table(path, fit_split, expected_cells, records, epochs_seen, row_hash, row_adjacency, row_operations,
           adjacency_n, adjacency_triu, operations_raw, operations_codes,
           rec_row, rec_number, rec_valid, rec_test, rec_time, rec_params) -> tuple[pd.DataFrame, dict]:
    """The vectorized second half of `convert`: group the kept records by hash and check them."""
    n_rows = len(row_hash)
    kept = len(rec_row)
    if kept == 0:
        raise NasReproError(f"{path}: no {FINAL_EPOCHS}-epoch records among {records} records "
                            f"(epochs seen: {epochs_seen or 'none'})")
    numbers = np.frombuffer(rec_number, dtype=np.int64)
    for name, values in (("validation_accuracy", rec_valid), ("test_accuracy", rec_test)):
        values = np.frombuffer(values, dtype=np.float64)
        bad = np.flatnonzero(~((values >= 0.0) & (values <= 1.0)))
        if len(bad):
            raise NasReproError(f"{path}: record {numbers[bad[0]]}: final {name} {float(values[bad[0]])!r} is not a "
                                f"fraction in [0, 1]")
    times = np.frombuffer(rec_time, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(times))
    if len(bad):
        raise NasReproError(f"{path}: record {numbers[bad[0]]}: final training_time {float(times[bad[0]])!r} is not finite")
    rows = np.frombuffer(rec_row, dtype=np.int32)
    counts = np.bincount(rows, minlength=n_rows)
    wrong = np.flatnonzero(counts != REPEATS)
    if len(wrong):
        first = int(wrong[0])
        raise NasReproError(f"{path}: hash {row_hash[first]} has {counts[first]} records at {FINAL_EPOCHS} epochs, "
                            f"not {REPEATS} ({len(wrong)} hash(es) affected)")
    if expected_cells is not None and n_rows != expected_cells:
        raise NasReproError(f"{path}: {n_rows} unique cells at {FINAL_EPOCHS} epochs, expected {expected_cells}")
    params = np.frombuffer(rec_params, dtype=np.int64)
    order = np.argsort(rows, kind="stable")  # repeats of each row stay in file order
    params = params[order].reshape(n_rows, REPEATS)
    if (params != params[:, :1]).any():
        row = int(np.flatnonzero((params != params[:, :1]).any(axis=1))[0])
        raise NasReproError(f"{path}: hash {row_hash[row]}: trainable_parameters differ between its repeats "
                            f"({', '.join(map(str, params[row]))})")
    valid = np.frombuffer(rec_valid, dtype=np.float64)[order].reshape(n_rows, REPEATS)
    test = np.frombuffer(rec_test, dtype=np.float64)[order].reshape(n_rows, REPEATS)
    times = times[order].reshape(n_rows, REPEATS)

    codes = np.asarray(operations_codes, dtype=np.int8)[row_operations]
    columns: dict[str, np.ndarray] = {
        "arch_id": np.arange(n_rows, dtype=np.int64),
        "hash": np.asarray(row_hash, dtype=object),
        "num_vertices": np.asarray(adjacency_n, dtype=np.int8)[row_adjacency],
        "adjacency": np.asarray(adjacency_triu, dtype=object)[row_adjacency],
        "operations": np.asarray(operations_raw, dtype=object)[row_operations],
    }
    for v, column in enumerate(nb101.OP_COLUMNS):
        columns[column] = codes[:, v]
    test_label = test.mean(axis=1) * 100.0
    columns["fit_label"] = valid.mean(axis=1) * 100.0 if fit_split == "valid" else test_label.copy()
    columns["test_label"] = test_label
    for k in range(REPEATS):
        columns[f"valid_acc_{k}"] = valid[:, k] * 100.0
    for k in range(REPEATS):
        columns[f"test_acc_{k}"] = test[:, k] * 100.0
    columns["params"] = params[:, 0].astype(np.int64)
    columns["train_time"] = times.mean(axis=1)
    table = pd.DataFrame(columns)[TABLE_COLUMNS]

    meta = {
        "space": "nb101",
        "dataset": "cifar10",
        "fit_split": fit_split,
        "test_split": "test",
        "fit_is_test": fit_split == "test",
        "label_note": (
            f"fit on mean validation accuracy of {REPEATS} repeats ({FINAL_EPOCHS} epochs), report mean test accuracy"
            if fit_split == "valid"
            else f"SEARCHES ON THE MEAN TEST ACCURACY (LaNAS's protocol): fit_label is the mean test accuracy of "
            f"{REPEATS} repeats ({FINAL_EPOCHS} epochs), the same label that is reported"
        ),
        "fit_repeat_columns": [f"{'valid' if fit_split == 'valid' else 'test'}_acc_{k}" for k in range(REPEATS)],
        "records": records,
        "records_108": kept,
        "epochs_seen": epochs_seen,
    }
    return table, meta

