"""NAS-Bench-201 loaders on synthetic files in the real formats: conversion, round trip, bad inputs."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from nasrepro.spaces import nb201
from nasrepro.spaces.edge_cell import CellIndex
from nasrepro.benchmark import Benchmark, write_table
from nasrepro.errors import NasReproError

REAL_FIRST_CELL = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"


# ----------------------------------------------------------------------------------------- cells
def test_parse_cell_on_a_real_cell_string():
    assert nb201.parse_cell(REAL_FIRST_CELL) == (4, 2, 1, 2, 1, 1)
    assert nb201.cell_string((4, 2, 1, 2, 1, 1)) == REAL_FIRST_CELL


def test_parse_cell_and_cell_string_round_trip_over_the_whole_space():
    seen = set()
    for ops in itertools.product(range(5), repeat=6):
        cell = nb201.cell_string(ops)
        assert nb201.parse_cell(cell) == ops
        seen.add(cell)
    assert len(seen) == nb201.NUM_CELLS == 15625


@pytest.mark.parametrize(
    "cell",
    [
        "",
        "|conv_5x5~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",  # unknown op
        "|avg_pool_3x3~1|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",  # bad source
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|",  # a node missing
        "|avg_pool_3x3|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",  # no ~
        "|avg_pool_3x3~x|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",  # bad int
        REAL_FIRST_CELL + "+|none~0|",  # an extra node
    ],
)
def test_parse_cell_rejects_malformed_strings(cell):
    with pytest.raises(NasReproError, match="malformed NAS-Bench-201 cell string"):
        nb201.parse_cell(cell)


def test_cell_index_maps_every_op_tuple_to_its_row():
    ops = np.array(list(itertools.product(range(5), repeat=6)), dtype=np.int8)
    ops = ops[np.random.default_rng(3).permutation(len(ops))]
    index = CellIndex(ops, len(nb201.OPS))
    for row in np.random.default_rng(4).choice(len(ops), 500, replace=False):
        assert index.id_of(ops[row]) == row
        assert index.id_of(tuple(int(o) for o in ops[row])) == row


# ---------------------------------------------------------------------------------- conversion
def test_required_sources():
    assert nb201.required_sources("cifar10-valid", "x-valid") == ["nb201-cifar10_avg", "nb201-nats_bench"]
    assert nb201.required_sources("cifar10-valid", "test") == ["nb201-cifar10_avg", "nb201-nats_bench"]
    assert nb201.required_sources("cifar100", "x-valid") == ["nb201-cifar100_avg", "nb201-nats_bench"]
    assert nb201.required_sources("cifar100", "test") == ["nb201-nats_bench"]
    assert nb201.required_sources("ImageNet16-120", "test") == ["nb201-nats_bench"]
    assert nb201.required_sources("cifar10", "test") == ["nb201-nats_bench"]


@pytest.mark.parametrize(
    "dataset, fit_split, message",
    [("cifar10", "x-valid", "no x-valid split"), ("mnist", "test", "unknown NAS-Bench-201 dataset"),
     ("cifar100", "train", "unknown fit_split")],
)
def test_check_choice_rejects_bad_combinations(dataset, fit_split, message):
    with pytest.raises(NasReproError, match=message):
        nb201.check_choice(dataset, fit_split)


def test_convert_cifar10_valid_fits_x_valid_and_reports_ori_test(raw_files, raw_frames):
    avg, nats = raw_frames
    table, meta = nb201.convert("cifar10-valid", "x-valid", raw_files)
    assert len(table) == 15625
    assert table["arch_id"].tolist() == list(range(15625))
    assert list(table.columns[:10]) == ["arch_id", "cell", "op0", "op1", "op2", "op3", "op4", "op5",
                                        "fit_label", "test_label"]
    np.testing.assert_allclose(table["fit_label"], avg["valid-accuracy"])
    np.testing.assert_allclose(table["test_label"], avg["test-accuracy"])
    np.testing.assert_allclose(table["train_label"], avg["train-accuracy"])
    np.testing.assert_allclose(table["train_time"], avg["train-all-time"])
    assert (table["cell"] == nats["ArchitectureString"]).all()
    for row in (0, 1, 7777, 15624):
        ops = tuple(int(table.loc[row, f"op{e}"]) for e in range(6))
        assert ops == nb201.parse_cell(avg.loc[row, "arch_str"])
    # iso classes: equal UniqueString <=> equal class
    codes = pd.factorize(nats["UniqueString"])[0]
    assert (table["iso_class"].to_numpy() == codes).all()
    assert table["iso_class"].nunique() == nats["UniqueString"].nunique() == 3125
    assert meta["space"] == "nb201" and meta["dataset"] == "cifar10-valid"
    assert meta["fit_split"] == "x-valid" and meta["test_split"] == "ori-test"
    assert meta["fit_is_test"] is False
    assert "NO VALIDATION" not in meta["label_note"]


def test_convert_cifar100_on_test_says_there_is_no_validation_split(raw_files, raw_frames):
    _, nats = raw_frames
    table, meta = nb201.convert("cifar100", "test", {"nb201-nats_bench": raw_files["nb201-nats_bench"]})
    np.testing.assert_allclose(table["test_label"], nats["CIFAR100TestAccuracy200Epochs"])
    np.testing.assert_allclose(table["fit_label"], table["test_label"])
    assert meta["fit_split"] == "x-test" and meta["test_split"] == "x-test"
    assert meta["fit_is_test"] is True
    assert "NO VALIDATION SPLIT" in meta["label_note"]
    assert "train_label" not in table.columns


def test_convert_imagenet_and_cifar10_read_their_own_nats_columns(raw_files, raw_frames):
    _, nats = raw_frames
    only_nats = {"nb201-nats_bench": raw_files["nb201-nats_bench"]}
    imagenet, meta = nb201.convert("ImageNet16-120", "test", only_nats)
    np.testing.assert_allclose(imagenet["fit_label"], nats["ImageNetTestAccuracy200Epochs"])
    assert meta["fit_is_test"] is True
    cifar10, meta = nb201.convert("cifar10", "test", only_nats)
    np.testing.assert_allclose(cifar10["fit_label"], nats["CIFAR10TestAccuracy200Epochs"])
    assert meta["test_split"] == "ori-test" and meta["fit_is_test"] is True


def test_convert_cifar10_valid_on_test_fits_the_avg_files_test_accuracy(raw_files, raw_frames):
    avg, _ = raw_frames
    table, meta = nb201.convert("cifar10-valid", "test", raw_files)
    np.testing.assert_allclose(table["fit_label"], avg["test-accuracy"])
    np.testing.assert_allclose(table["test_label"], avg["test-accuracy"])
    assert meta["fit_is_test"] is True and "NO VALIDATION SPLIT" in meta["label_note"]


def test_write_table_and_load_round_trip(tmp_path, raw_files):
    table, meta = nb201.convert("cifar10-valid", "x-valid", raw_files)
    path = tmp_path / "tables" / "nb201-cifar10.parquet"
    write_table(table, meta, path)
    loaded = Benchmark.load(path)
    pd.testing.assert_frame_equal(loaded.table, table)
    assert loaded.meta == meta
    assert loaded.size == 15625 and loaded.space == "nb201"
    assert loaded.optimum("fit") == int(np.argmax(table["fit_label"]))
    assert loaded.optimum("test") == int(np.argmax(table["test_label"]))
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary leftovers


def test_benchmark_load_rejects_files_that_are_not_canonical_tables(tmp_path):
    plain = tmp_path / "plain.parquet"
    pd.DataFrame({"arch_id": [0, 1], "fit_label": [1.0, 2.0]}).to_parquet(plain)
    with pytest.raises(NasReproError, match="plain.parquet.*not a nasrepro canonical table"):
        Benchmark.load(plain)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_text("not parquet at all")
    with pytest.raises(NasReproError, match="garbage.parquet"):
        Benchmark.load(garbage)
    shuffled = tmp_path / "shuffled.parquet"
    write_table(pd.DataFrame({"arch_id": [1, 0], "fit_label": [1.0, 2.0], "test_label": [1.0, 2.0]}), {}, shuffled)
    with pytest.raises(NasReproError, match="shuffled.parquet.*arch_id"):
        Benchmark.load(shuffled)


def test_optimum_rejects_unknown_target(make_benchmark):
    with pytest.raises(NasReproError, match="unknown optimum target"):
        make_benchmark([1.0, 2.0]).optimum("train")


# ------------------------------------------------------------------------------ malformed files
def _write(frame: pd.DataFrame, path) -> str:
    frame.to_csv(path, index=False)
    return str(path)


def _convert_with(tmp_path, raw_frames, avg=None, nats=None, dataset="cifar10-valid", fit_split="x-valid"):
    good_avg, good_nats = raw_frames
    files = {
        "nb201-cifar10_avg": _write(good_avg if avg is None else avg, tmp_path / "cifar10_avg.csv"),
        "nb201-nats_bench": _write(good_nats if nats is None else nats, tmp_path / "nats_bench.csv"),
    }
    return nb201.convert(dataset, fit_split, files)


def test_missing_column_names_the_file_and_the_column(tmp_path, raw_frames):
    avg, _ = raw_frames
    with pytest.raises(NasReproError) as error:
        _convert_with(tmp_path, raw_frames, avg=avg.drop(columns=["valid-accuracy"]))
    message = str(error.value)
    assert "cifar10_avg.csv" in message and "valid-accuracy" in message and "\n" not in message


def test_missing_nats_column_names_the_file(tmp_path, raw_frames):
    _, nats = raw_frames
    with pytest.raises(NasReproError) as error:
        _convert_with(tmp_path, raw_frames, nats=nats.drop(columns=["CIFAR100TestAccuracy200Epochs"]),
                      dataset="cifar100", fit_split="test")
    assert "nats_bench.csv" in str(error.value) and "CIFAR100TestAccuracy200Epochs" in str(error.value)


@pytest.mark.parametrize("which", ["avg", "nats"])
def test_wrong_row_count_names_the_file(tmp_path, raw_frames, which):
    avg, nats = raw_frames
    short = {"avg": avg.iloc[:-1], "nats": nats.iloc[:-1]}[which]
    with pytest.raises(NasReproError) as error:
        _convert_with(tmp_path, raw_frames, **{which: short})
    name = {"avg": "cifar10_avg.csv", "nats": "nats_bench.csv"}[which]
    assert name in str(error.value) and "15624" in str(error.value)


def test_arch_str_disagreeing_between_the_files_names_both_files(tmp_path, raw_frames):
    avg, _ = raw_frames
    swapped = avg.copy()
    swapped.loc[[10, 11], "arch_str"] = swapped.loc[[11, 10], "arch_str"].to_numpy()
    with pytest.raises(NasReproError) as error:
        _convert_with(tmp_path, raw_frames, avg=swapped)
    assert "cifar10_avg.csv" in str(error.value) and "nats_bench.csv" in str(error.value)
    assert "arch_str" in str(error.value)


def test_index_column_out_of_order_names_the_file(tmp_path, raw_frames):
    avg, _ = raw_frames
    bad = avg.copy()
    bad.loc[[5, 6], "index"] = [6, 5]
    with pytest.raises(NasReproError, match=r"cifar10_avg\.csv.*'index'"):
        _convert_with(tmp_path, raw_frames, avg=bad)


def test_duplicate_cells_name_the_file(tmp_path, raw_frames):
    _, nats = raw_frames
    bad = nats.copy()
    bad.loc[3, "ArchitectureString"] = bad.loc[4, "ArchitectureString"]
    with pytest.raises(NasReproError, match=r"nats_bench\.csv.*distinct"):
        _convert_with(tmp_path, raw_frames, nats=bad, dataset="cifar100", fit_split="test")


def test_malformed_cell_string_names_the_file(tmp_path, raw_frames):
    """A bad cell string must say which file it is in (the user has several raw files)."""
    _, nats = raw_frames
    bad = nats.copy()
    bad.loc[42, "ArchitectureString"] = "|conv_7x7~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    with pytest.raises(NasReproError) as error:
        _convert_with(tmp_path, raw_frames, nats=bad, dataset="cifar100", fit_split="test")
    assert "conv_7x7" in str(error.value)
    assert "nats_bench.csv" in str(error.value)


def test_empty_file_gives_a_nasrepro_error_naming_it(tmp_path, raw_frames):
    """An empty (e.g. truncated download) CSV must not surface as a raw pandas exception."""
    empty = tmp_path / "nats_bench.csv"
    empty.write_text("")
    with pytest.raises(NasReproError, match=r"nats_bench\.csv"):
        nb201.convert("cifar100", "test", {"nb201-nats_bench": empty})


def test_missing_accuracy_values_name_the_file(tmp_path, raw_frames):
    avg, _ = raw_frames
    bad = avg.copy()
    bad.loc[100, "valid-accuracy"] = np.nan
    with pytest.raises(NasReproError) as error:
        _convert_with(tmp_path, raw_frames, avg=bad)
    assert "fit_label" in str(error.value) and "missing" in str(error.value)
    assert "cifar10_avg.csv" in str(error.value)


def test_convert_without_the_file_it_needs_is_a_nasrepro_error(raw_files):
    """x-valid needs the *_avg.csv file; forgetting it must be a one-line error naming that source."""
    with pytest.raises(NasReproError, match="nb201-cifar10_avg"):
        nb201.convert("cifar10-valid", "x-valid", {"nb201-nats_bench": raw_files["nb201-nats_bench"]})
