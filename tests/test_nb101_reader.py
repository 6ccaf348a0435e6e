"""NAS-Bench-101's TFRecord format, read without TensorFlow: framing, records, canonical table, errors.

Every file here is WRITTEN in the official format (`nasbench_only108.tfrecord` / `nasbench_full.tfrecord`):
a few dozen valid cells drawn at random, pruned and hashed with nasbench-pytorch, 3 repeats each with
made-up metrics, in shuffled order; the full-style file adds 4/12/36-epoch records.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasrepro.spaces.nb101 import tfrecord
from nasrepro.spaces.nb101 import cells as nb101, reader as nb101_reader
from nasrepro.errors import NasReproError

N_CELLS = 40


def random_cells(count: int, seed: int = 11) -> list[tuple[str, np.ndarray, list[str]]]:
    """`count` distinct valid cells as (hash, pruned matrix, op names)."""
    rng = np.random.default_rng(seed)
    cells: dict[str, tuple[np.ndarray, list[str]]] = {}
    while len(cells) < count:
        matrix = np.triu(rng.random((7, 7)) < 0.4, k=1).astype(np.int64)
        ops = [nb101.INPUT, *rng.choice(nb101.INTERIOR_OPS, 5).tolist(), nb101.OUTPUT]
        spec = nb101.valid_spec(matrix, ops)
        if spec is not None:
            cells.setdefault(nb101.cell_hash(matrix, ops), (spec.matrix.numpy().astype(np.int64), list(spec.ops)))
    return [(h, m, o) for h, (m, o) in cells.items()]


def make_records(cells, seed: int = 3, other_epochs: tuple[int, ...] = ()) -> tuple[list[bytes], dict]:
    """Shuffled record data of `cells` (3 repeats at 108 epochs, plus 3 at each of `other_epochs`) and
    the truth: hash -> dict of the made-up final metrics per 108-epoch repeat, in file order."""
    rng = np.random.default_rng(seed)
    entries = []
    for index, (module_hash, matrix, ops) in enumerate(cells):
        params = int(rng.integers(100_000, 40_000_000))
        for epochs in (*other_epochs, 108):
            for _ in range(3):
                valid, test = rng.uniform(0.5, 0.95, 2)
                seconds = float(rng.uniform(100, 5000))
                evaluations = [
                    {"current_epoch": epochs * f, "training_time": seconds * f, "train_accuracy": min(1.0, valid + 0.05) * f,
                     "validation_accuracy": valid * f, "test_accuracy": test * f,
                     "checkpoint_path": f"gs://nasbench-test/{module_hash}/{epochs}/model.ckpt-{int(f * 1000)}"}
                    for f in (0.0, 0.5, 1.0)
                ]
                metrics = nb101_reader.encode_metrics(evaluations, params, seconds * 1.2)
                data = nb101_reader.record_bytes(module_hash, epochs, matrix, ops, metrics)
                entries.append((data, module_hash, epochs, valid, test, seconds, params))
    order = rng.permutation(len(entries))
    entries = [entries[i] for i in order]
    truth: dict[str, dict] = {}
    for data, module_hash, epochs, valid, test, seconds, params in entries:
        if epochs == 108:
            t = truth.setdefault(module_hash, {"valid": [], "test": [], "time": [], "params": params})
            t["valid"].append(valid)
            t["test"].append(test)
            t["time"].append(seconds)
    return [entry[0] for entry in entries], truth


def record_offsets(records: list[bytes]) -> list[int]:
    offsets, position = [], 0
    for data in records:
        offsets.append(position)
        position += 16 + len(data)
    return offsets


@pytest.fixture(scope="module")
def cells():
    return random_cells(N_CELLS)


@pytest.fixture(scope="module")
def only108(cells):
    return make_records(cells)


@pytest.fixture(scope="module")
def only108_file(tmp_path_factory, only108) -> Path:
    path = tmp_path_factory.mktemp("nb101") / "nasbench_only108.tfrecord"
    tfrecord.write_records(path, only108[0])
    return path


@pytest.fixture(scope="module")
def converted(only108_file):
    return nb101_reader.convert(only108_file)


def expect_one_line_error(call, *fragments: str) -> str:
    with pytest.raises(NasReproError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


# --------------------------------------------------------------------------------------------- framing
def test_crc32c_and_masking_known_vector():
    assert tfrecord.crc32c(b"123456789") == 0xE3069283
    crc = 0xE3069283
    assert tfrecord.masked_crc32c(b"123456789") == ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) % 2**32
    assert tfrecord.masked_crc32c(b"") == 0xA282EAD8  # CRC-32C of nothing is 0


def test_framing_layout_and_round_trip(tmp_path):
    path = tmp_path / "x.tfrecord"
    payloads = [b"hello", b"", bytes(range(256)) * 3]
    assert tfrecord.write_records(path, payloads) == 3
    raw = path.read_bytes()
    assert raw[:8] == struct.pack("<Q", 5)
    assert raw[8:12] == struct.pack("<I", tfrecord.masked_crc32c(struct.pack("<Q", 5)))
    assert raw[12:17] == b"hello"
    assert raw[17:21] == struct.pack("<I", tfrecord.masked_crc32c(b"hello"))
    assert len(raw) == sum(16 + len(p) for p in payloads)
    assert list(tfrecord.iter_records(path)) == list(enumerate(payloads))
    empty = tmp_path / "empty.tfrecord"
    tfrecord.write_records(empty, [])
    assert empty.stat().st_size == 0 and list(tfrecord.iter_records(empty)) == []


def test_write_records_is_atomic(tmp_path):
    path = tmp_path / "out.tfrecord"

    def failing():
        yield b"one"
        raise RuntimeError("generator broke")

    with pytest.raises(RuntimeError):
        tfrecord.write_records(path, failing())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where, fragment", [
    ("length_crc", "record 3: length CRC mismatch (file is corrupt)"),
    ("data_crc", "record 3: data CRC mismatch (file is corrupt)"),
    ("data_byte", "record 3: data CRC mismatch (file is corrupt)"),
    ("cut_header", "record 3: file ends inside the record header"),
    ("cut_data", "record 3: file ends inside the record data"),
    ("cut_footer", "record 3: file ends inside the record footer (2 of 4 bytes)"),
])
def test_corrupt_or_truncated_framing(tmp_path, only108, where, fragment):
    records = only108[0][:6]
    path = tmp_path / "nasbench_only108.tfrecord"
    tfrecord.write_records(path, records)
    raw = bytearray(path.read_bytes())
    at = record_offsets(records)[3]
    if where == "length_crc":
        raw[at + 9] ^= 0x01
    elif where == "data_crc":
        raw[at + 12 + len(records[3]) + 1] ^= 0x80
    elif where == "data_byte":
        raw[at + 20] ^= 0x04
    else:
        cut = {"cut_header": at + 7, "cut_data": at + 12 + len(records[3]) // 2,
               "cut_footer": at + 12 + len(records[3]) + 2}[where]
        raw = raw[:cut]
    path.write_bytes(bytes(raw))
    assert [n for n, _ in zip(range(3), tfrecord.iter_records(path))] == [0, 1, 2]
    expect_one_line_error(lambda: list(tfrecord.iter_records(path)), str(path), fragment)
    expect_one_line_error(lambda: nb101_reader.convert(path), str(path), fragment)


def test_missing_file(tmp_path):
    path = tmp_path / "absent.tfrecord"
    expect_one_line_error(lambda: nb101_reader.convert(path), str(path), "cannot read")


# ----------------------------------------------------------------------------------------------- table
def test_metrics_round_trip():
    evaluations = [{"current_epoch": 108.0, "training_time": 12.5, "train_accuracy": 1.0,
                    "validation_accuracy": 0.9, "test_accuracy": 0.89, "checkpoint_path": "gs://b/model.ckpt-1"}]
    message = nb101_reader.decode_metrics(nb101_reader.encode_metrics(evaluations, 1234567, 99.5))
    assert message.trainable_parameters == 1234567 and message.total_time == 99.5
    assert len(message.evaluation_data) == 1
    assert message.evaluation_data[0].checkpoint_path == "gs://b/model.ckpt-1"
    assert message.evaluation_data[0].test_accuracy == 0.89
    matrix = np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    data = nb101_reader.record_bytes("0" * 32, 108, matrix, ["input", "maxpool3x3", "output"], b"\x10\x01")
    assert json.loads(data) == ["0" * 32, 108, "011001000", "input,maxpool3x3,output",
                                base64.b64encode(b"\x10\x01").decode()]


def test_table_columns_and_values(cells, only108, converted):
    records, truth = only108
    table, meta = converted
    assert list(table.columns) == nb101_reader.TABLE_COLUMNS
    assert list(table.columns[:5]) == ["arch_id", "hash", "num_vertices", "adjacency", "operations"]
    assert len(table) == N_CELLS
    assert table["arch_id"].tolist() == list(range(N_CELLS))
    first_seen = list(dict.fromkeys(json.loads(r)[0] for r in records))
    assert table["hash"].tolist() == first_seen
    assert table["num_vertices"].dtype == np.int8 and table["op0"].dtype == np.int8
    assert table["params"].dtype == np.int64 and table["arch_id"].dtype == np.int64
    by_hash = {h: (m, o) for h, m, o in cells}
    for row in table.itertuples(index=False):
        matrix, ops = by_hash[row.hash]
        t = truth[row.hash]
        assert row.num_vertices == len(ops)
        assert row.adjacency == nb101.upper_triangle_string(matrix)
        assert row.operations == ",".join(ops)
        codes = [getattr(row, f"op{v}") for v in range(7)]
        assert codes == [nb101.OPS.index(op) for op in ops] + [-1] * (7 - len(ops))
        assert row.fit_label == pytest.approx(100 * np.mean(t["valid"]), abs=1e-12)
        assert row.test_label == pytest.approx(100 * np.mean(t["test"]), abs=1e-12)
        for k in range(3):
            assert getattr(row, f"valid_acc_{k}") == pytest.approx(100 * t["valid"][k], abs=1e-12)
            assert getattr(row, f"test_acc_{k}") == pytest.approx(100 * t["test"][k], abs=1e-12)
        assert row.params == t["params"]
        assert row.train_time == pytest.approx(np.mean(t["time"]), rel=1e-12)
    assert meta == {
        "space": "nb101", "dataset": "cifar10", "fit_split": "valid", "test_split": "test", "fit_is_test": False,
        "label_note": "fit on mean validation accuracy of 3 repeats (108 epochs), report mean test accuracy",
        "fit_repeat_columns": ["valid_acc_0", "valid_acc_1", "valid_acc_2"],
        "records": 3 * N_CELLS, "records_108": 3 * N_CELLS, "epochs_seen": [108],
    }


def test_stored_hash_is_the_hash_of_the_rebuilt_cell(converted):
    table, _ = converted
    assert table["num_vertices"].nunique() > 1  # some cells were pruned below 7 vertices
    for row in range(len(table)):
        matrix, ops = nb101.cell_of_row(table, row)
        assert nb101.cell_hash(matrix, ops) == table["hash"].iat[row]
    matrices, ops = nb101.padded_cells(table)
    assert (ops == table[nb101.OP_COLUMNS].to_numpy()).all() and matrices.shape == (N_CELLS, 7, 7)


def test_fit_split_test(only108_file, converted):
    table, meta = nb101_reader.convert(only108_file, fit_split="test")
    valid_table, _ = converted
    assert (table["fit_label"] == table["test_label"]).all()
    pd.testing.assert_series_equal(table["test_label"], valid_table["test_label"])
    assert meta["fit_split"] == "test" and meta["fit_is_test"] is True
    assert "TEST" in meta["label_note"] and "LaNAS" in meta["label_note"]
    expect_one_line_error(lambda: nb101_reader.convert(only108_file, fit_split="x-valid"), "fit_split")


def test_full_file_keeps_only_108_epochs(tmp_path, cells, converted):
    records, truth = make_records(cells[:10], seed=5, other_epochs=(4, 12, 36))
    path = tmp_path / "nasbench_full.tfrecord"
    tfrecord.write_records(path, records)
    table, meta = nb101_reader.convert(path)
    assert meta["records"] == 10 * 12 and meta["records_108"] == 30 and meta["epochs_seen"] == [4, 12, 36, 108]
    assert len(table) == 10
    first_108 = list(dict.fromkeys(json.loads(r)[0] for r in records if json.loads(r)[1] == 108))
    assert table["hash"].tolist() == first_108
    for row in table.itertuples(index=False):
        assert row.fit_label == pytest.approx(100 * np.mean(truth[row.hash]["valid"]), abs=1e-12)
    assert nb101_reader.convert(path, expected_cells=10)[0].equals(table)
    expect_one_line_error(lambda: nb101_reader.convert(path, expected_cells=nb101.NUM_CELLS), str(path),
                          "10 unique cells", str(nb101.NUM_CELLS))


# ---------------------------------------------------------------------------------------------- errors
def metrics_bytes(evaluations: int = 3) -> bytes:
    return nb101_reader.encode_metrics(
        [{"current_epoch": 108.0 * i / 2, "validation_accuracy": 0.9, "test_accuracy": 0.9} for i in range(evaluations)],
        1000, 1.0)


def raw_record(module_hash="ab" * 16, epochs=108, adjacency="011001000", ops="input,maxpool3x3,output",
               metrics=None) -> bytes:
    metrics = base64.b64encode(metrics_bytes()).decode() if metrics is None else metrics
    return json.dumps([module_hash, epochs, adjacency, ops, metrics]).encode()


BAD_RECORDS = {
    "not json": (b'["ab", 108, ', "not UTF-8 JSON"),
    "not utf-8": (b"\xff\xfe[1]", "not UTF-8 JSON"),
    "not a list": (b'{"hash": 1}', "not a JSON list"),
    "4 items": (b'["a", 108, "0", "input"]', "not a JSON list"),
    "short hash": (raw_record(module_hash="abc"), "module_hash 'abc' is not 32 lowercase hex"),
    "hash not hex": (raw_record(module_hash="g" * 32), "is not 32 lowercase hex"),
    "hash not str": (raw_record(module_hash=12), "module_hash 12"),
    "epochs not int": (raw_record(epochs="108"), "epochs is '108'"),
    "adjacency not square": (raw_record(adjacency="01100100"), "length 8, not n*n"),
    "adjacency too big": (raw_record(adjacency="0" * 64), "length 64, not n*n"),
    "adjacency not 0/1": (raw_record(adjacency="012001000"), "characters other than 0 and 1"),
    "adjacency lower": (raw_record(adjacency="011101000"), "not strictly upper triangular"),
    "adjacency diagonal": (raw_record(adjacency="111001000"), "not strictly upper triangular"),
    "adjacency unpruned": (raw_record(adjacency="001000000"), "not a pruned cell"),
    "adjacency list": (raw_record(adjacency=[0, 1]), "must be strings"),
    "unknown op": (raw_record(ops="input,conv5x5-bn-relu,output"), "unknown op 'conv5x5-bn-relu'"),
    "op count": (raw_record(ops="input,maxpool3x3,maxpool3x3,output"), "4 ops for a 3-vertex"),
    "first op": (raw_record(ops="maxpool3x3,maxpool3x3,output"), "must start with 'input'"),
    "last op": (raw_record(ops="input,maxpool3x3,maxpool3x3"), "end with 'output'"),
    "bad base64": (raw_record(metrics="not*base64!"), "raw_metrics is not a base64 string"),
    "truncated base64": (raw_record(metrics="QUJ"), "raw_metrics is not a base64 string"),
    "bad protobuf": (raw_record(metrics=base64.b64encode(b"\x0a\xff\xff\xff").decode()),
                     "not a serialized ModelMetrics protobuf"),
    "two evaluations": (raw_record(metrics=base64.b64encode(metrics_bytes(2)).decode()),
                        "2 evaluation_data entries, fewer than 3"),
    "accuracy in percent": (raw_record(metrics=base64.b64encode(nb101_reader.encode_metrics(
        [{"validation_accuracy": 90.0, "test_accuracy": 0.9}] * 3, 1000, 1.0)).decode()),
        "validation_accuracy 90.0 is not a fraction"),
}


@pytest.mark.parametrize("case", list(BAD_RECORDS))
def test_bad_record_names_file_and_record(tmp_path, only108, case):
    bad, fragment = BAD_RECORDS[case]
    records = list(only108[0][:9])
    records.insert(5, bad)
    path = tmp_path / "nasbench_only108.tfrecord"
    tfrecord.write_records(path, records)
    expect_one_line_error(lambda: nb101_reader.convert(path), f"{path}: record 5: ", fragment)


def test_non_108_records_are_checked_but_their_metrics_not_decoded(tmp_path, only108):
    path = tmp_path / "nasbench_full.tfrecord"
    tfrecord.write_records(path, [raw_record(epochs=4, metrics="!!"), *only108[0]])
    assert nb101_reader.convert(path)[1]["epochs_seen"][0] == 4
    tfrecord.write_records(path, [raw_record(epochs=4, ops="input,bad,output"), *only108[0]])
    expect_one_line_error(lambda: nb101_reader.convert(path), f"{path}: record 0: ", "unknown op 'bad'")


def test_wrong_repeat_count(tmp_path, only108):
    records = only108[0]
    victim = json.loads(records[7])[0]
    kept = [r for r in records if json.loads(r)[0] != victim] + [r for r in records if json.loads(r)[0] == victim][:2]
    path = tmp_path / "nasbench_only108.tfrecord"
    tfrecord.write_records(path, kept)
    expect_one_line_error(lambda: nb101_reader.convert(path), str(path), f"hash {victim} has 2 records at 108 epochs")
    tfrecord.write_records(path, [*records, records[7]])
    expect_one_line_error(lambda: nb101_reader.convert(path), str(path), f"hash {victim} has 4 records")


def test_conflicting_cells(tmp_path, only108):
    records = list(only108[0])
    module_hash, epochs, adjacency, ops, metrics = json.loads(records[10])
    first = next(i for i, r in enumerate(records) if json.loads(r)[0] == module_hash)
    other_ops = ops.replace("maxpool3x3", "conv1x1-bn-relu") if "maxpool3x3" in ops else ops.replace(
        "conv3x3-bn-relu", "maxpool3x3")
    records[10] = json.dumps([module_hash, epochs, adjacency, other_ops, metrics]).encode()
    path = tmp_path / "nasbench_only108.tfrecord"
    tfrecord.write_records(path, records)
    # The altered record conflicts with the first of its hash; if it is that first, the next repeat does.
    expect_one_line_error(lambda: nb101_reader.convert(path), f"{path}: record ", f"hash {module_hash} has a "
                          f"different cell than in record {first}")


def test_no_108_epoch_records(tmp_path):
    path = tmp_path / "nasbench_full.tfrecord"
    tfrecord.write_records(path, [raw_record(epochs=4), raw_record(epochs=12)])
    expect_one_line_error(lambda: nb101_reader.convert(path), str(path), "no 108-epoch records among 2",
                          "[4, 12]")
    tfrecord.write_records(path, [])
    expect_one_line_error(lambda: nb101_reader.convert(path), str(path), "no 108-epoch records among 0")


def test_params_must_agree_between_repeats(tmp_path):
    def record(params):
        metrics = nb101_reader.encode_metrics([{"validation_accuracy": 0.9, "test_accuracy": 0.9}] * 3, params, 1.0)
        return raw_record(metrics=base64.b64encode(metrics).decode())

    path = tmp_path / "nasbench_only108.tfrecord"
    tfrecord.write_records(path, [record(10), record(10), record(10)])
    assert nb101_reader.convert(path)[0]["params"].tolist() == [10]
    tfrecord.write_records(path, [record(10), record(10), record(11)])
    expect_one_line_error(lambda: nb101_reader.convert(path), str(path), "trainable_parameters differ")
