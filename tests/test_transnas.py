"""TransNAS-Bench-101 micro as a space plugin: NASLib's zip of JSON records and the official .pth format, both
written here in their real formats; the cell, encodings and operators; which methods run on it."""

from __future__ import annotations

import copy
import io
import itertools
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from nasrepro import config as cfg
from nasrepro import encodings
from nasrepro.benchmark import Benchmark
from nasrepro.errors import NasReproError
from nasrepro.runner import Budget, run_search
from nasrepro.spaces import get_space
from nasrepro.spaces.transnas import TASKS, cell_string, parse_cell, pth
from nasrepro.spaces.transnas.convert import ZIP_SOURCE

from conftest import TINY_MLP

REPO = Path(__file__).resolve().parents[1]
CELLS = np.array(list(itertools.product(range(4), repeat=6)), dtype=np.int64)
ORDER = np.random.default_rng(101).permutation(len(CELLS))  # NASLib's idx order is not the cells' code order
QUALITY = np.array([-2.0, 0.3, 0.8, 1.5])  # none < skip < conv1x1 < conv3x3, on every edge


def task_values(task: str) -> np.ndarray:
    """A smooth made-up metric per cell (row = idx), in the task's unit and direction."""
    score = QUALITY[CELLS[ORDER]].sum(axis=1) + 0.01 * np.arange(len(CELLS)) / len(CELLS)
    unit = (score - score.min()) / (score.max() - score.min())  # 0..1, higher is better
    return {"room_layout": -1.2 + 0.6 * unit, "normal": 0.3 + 0.28 * unit, "autoencoder": 0.3 + 0.27 * unit}.get(
        task, 20 + 35 * unit)


def write_zip(path: Path, tasks=("class_scene", "room_layout"), edit=None) -> Path:
    """NASLib's all_benchmarks_zen.zip: zen/benchmark--transbench101_micro--<task>--<start>.json, 1000 records a
    member (the last 96), each {"idx", "arch", "zen": {"score", "time"}, "val_accuracy"}."""
    with zipfile.ZipFile(path, "w") as archive:
        for task in tasks:
            values = task_values(task)
            records = [{"idx": str(i), "arch": str(tuple(int(op) for op in CELLS[ORDER[i]])),
                        "zen": {"score": float(1000 - values[i]), "time": 3.1}, "val_accuracy": float(values[i])}
                       for i in range(len(CELLS))]
            if edit:
                records = edit(task, records)
            for start in range(0, 5000, 1000):
                name = f"zen/benchmark--transbench101_micro--{task}--{start}.json"
                archive.writestr(name, json.dumps(records[start:start + 1000]))
    return path


@pytest.fixture(scope="module")
def zip_file(tmp_path_factory) -> Path:
    return write_zip(tmp_path_factory.mktemp("transnas") / "all_benchmarks_zen.zip")


def convert(zip_path: Path, task: str):
    space = get_space("transnas_micro")
    return space.convert({"space": "transnas_micro", "dataset": task, "fit_split": "valid"}, {ZIP_SOURCE: zip_path})


@pytest.fixture(scope="module")
def scene(zip_file) -> Benchmark:
    table, meta = convert(zip_file, "class_scene")
    return Benchmark(table=table, meta=meta)


def test_cell_strings_are_the_benchmarks():
    assert parse_cell("64-41414-1_02_333") == (1, 0, 2, 3, 3, 3)
    assert cell_string((1, 0, 2, 3, 3, 3)) == "64-41414-1_02_333"
    with pytest.raises(NasReproError, match="malformed"):
        parse_cell("64-41414-1_04_333")


@pytest.mark.parametrize("task", ["class_scene", "room_layout"])
def test_conversion_keeps_the_task_metric_and_never_the_zen_score(zip_file, task):
    table, meta = convert(zip_file, task)
    values = task_values(task)
    assert table["arch_id"].tolist() == list(range(4096))
    np.testing.assert_allclose(table["fit_label"], values)  # the zen score (1000 - value) is nowhere
    np.testing.assert_allclose(table["test_label"], values)  # no test split in the zip: the same label
    assert [parse_cell(c) for c in table["cell"][:3]] == [tuple(CELLS[ORDER[i]]) for i in range(3)]
    assert not any("zen" in column for column in table.columns)
    assert meta["fit_is_test"] and "NO TEST SPLIT" in meta["label_note"] and TASKS[task].metric in meta["fit_split"]
    if task == "room_layout":
        assert (table["fit_label"] < 0).all() and "NEGATED L2 loss" in meta["label_note"]


def test_each_task_states_its_metric_and_the_listings_value():
    assert "PIXEL accuracy" in TASKS["segmentsemantic"].label and "mIoU" in TASKS["segmentsemantic"].listing
    assert "fraction" in TASKS["normal"].label and "57.21" in TASKS["normal"].listing
    assert set(TASKS) == {"class_scene", "class_object", "room_layout", "jigsaw", "segmentsemantic", "normal",
                          "autoencoder"}


@pytest.mark.parametrize("edit, message", [
    (lambda task, records: records[:-1], "idx is not 0..4095"),
    (lambda task, records: [{**r, "arch": "(0, 0, 0, 0, 0, 4)"} if r["idx"] == "7" else r for r in records],
     "not a list of records"),
    (lambda task, records: [{**r, "val_accuracy": 0.5} if r["idx"] == "7" else r for r in records], "[-inf, 0]"),
    (lambda task, records: [{k: v for k, v in r.items() if k != "val_accuracy"} for r in records], "val_accuracy"),
])
def test_a_bad_zip_stops_the_conversion_in_one_line(tmp_path, edit, message):
    path = write_zip(tmp_path / "bad.zip", tasks=("room_layout",), edit=edit)
    with pytest.raises(NasReproError) as error:
        convert(path, "room_layout")
    assert message in str(error.value) and "bad.zip" in str(error.value) and "\n" not in str(error.value)


def test_unknown_task_and_split_are_refused():
    space = get_space("transnas_micro")
    with pytest.raises(NasReproError, match="unknown TransNAS-Bench-101 task"):
        space.check({"dataset": "class_objects", "fit_split": "valid"})
    with pytest.raises(NasReproError, match="validation metric only"):
        space.check({"dataset": "jigsaw", "fit_split": "test"})


def test_encodings(scene):
    onehot = encodings.encode("transnas_micro", "onehot24", scene.table)
    assert onehot.shape == (4096, 24) and (onehot.sum(axis=1) == 6).all()
    paths = encodings.encode("transnas_micro", "path84", scene.table)
    assert paths.shape == (4096, 84) and set(paths.sum(axis=1)) == {3.0, 4.0}  # the two 2-edge paths may coincide


def test_operators_edit_one_edge_or_each_edge_with_a_probability(scene):
    operators = get_space("transnas_micro").operators(scene.cells)
    ops = scene.table[[f"op{e}" for e in range(6)]].to_numpy()
    rng = np.random.default_rng(0)
    for arch in rng.integers(4096, size=20):
        neighbours = operators.neighbours(int(arch))
        assert len(set(neighbours.tolist())) == 18
        assert ((ops[neighbours] != ops[arch]).sum(axis=1) == 1).all()
        for mutation in ("naslib", "autodl"):
            child, _ = operators.mutate(int(arch), None, rng, mutation)
            assert (ops[child] != ops[arch]).sum() == 1
    assert get_space("transnas_micro").mutations[0] == "naslib"  # NASLib's transbench101 mutate_micro
    # naszilla / nasbowl change each of the six edges with probability 1/4 (six edges - 2; four ops)
    for mutation in ("naszilla", "nasbowl"):
        edits = [(ops[operators.mutate(int(arch), None, rng, mutation)[0]] != ops[arch]).sum()
                 for arch in rng.integers(4096, size=2000)]
        assert abs(np.mean(edits) - 6 / 4) < 0.1, mutation
    sequences = operators.sequences()
    assert all(operators.id_of_sequence(sequences[i]) == i for i in range(0, 4096, 97))
    assert operators.id_of_sequence([0, 1, 1, 1, 1, 1]) is None
    graphs = operators.graphs()
    assert graphs.adjacency.shape == (4096, 8, 8) and (graphs.ops.sum(axis=2) == 1).all()


@pytest.mark.parametrize("method", [{"type": "random"}, {"type": "regularized_evolution"}, {"type": "local_search"},
                                    {"type": "weaknas", "predictor": TINY_MLP}])
def test_methods_reach_the_optimum(scene, method):
    features = encodings.encode("transnas_micro", "onehot24", scene.table)
    result = run_search(scene, features, method, 0, Budget(4096, until_optimum=True), progress=False)
    assert int(scene.optimum("fit")) in set(result.trajectory["arch_id"].tolist())


# ---------------------------------------------------------------------------------- the official .pth format
def write_pth(path: Path, task: str = "class_object", epochs: int = 4, extra=None) -> dict:
    """transnas-bench_v10141024.pth's layout, micro space only, one task."""
    rng = np.random.default_rng(3)
    metrics = ["train_top1", "train_loss", "valid_top1", "valid_loss", "test_top1", "test_loss", "time_elapsed"]
    data = {}
    for ops in CELLS[ORDER]:
        base = 40 + 2 * QUALITY[ops].sum()
        curve = {m: [float(base + rng.normal(0, 1)) for _ in range(epochs)] for m in metrics}
        data[cell_string(ops)] = {task: {"metrics": curve, "model_info": {"model_params": 1.5, "inference_time": 0.1},
                                         "total_epochs": epochs}}
    database = {"metrics_dict": {task: metrics}, "info_names": ["inference_time", "model_params"],
                "task_list": [task], "data": {"micro": data, "macro": {"64-1234-basic": {}}}}
    if extra is not None:
        database["extra"] = extra
    torch.save(database, path)
    return database


def test_pth_fits_the_best_valid_epoch_and_reports_test_there(tmp_path):
    database = write_pth(tmp_path / "transnas-bench_v10141024.pth")
    table, meta = pth.micro_table(tmp_path / "transnas-bench_v10141024.pth", "class_object")
    first = database["data"]["micro"][table["cell"][0]]["class_object"]["metrics"]
    best = int(np.argmax(first["valid_top1"]))
    assert table["fit_label"][0] == pytest.approx(max(first["valid_top1"]))
    assert table["test_label"][0] == pytest.approx(first["test_top1"][best])
    assert len(table) == 4096 and not meta["fit_is_test"] and "test_top1" in meta["test_split"]
    on_test, meta = pth.micro_table(tmp_path / "transnas-bench_v10141024.pth", "class_object", fit_split="test")
    np.testing.assert_array_equal(on_test["fit_label"], on_test["test_label"])
    assert meta["fit_is_test"]


def test_pth_is_read_without_running_pickled_code(tmp_path):
    write_pth(tmp_path / "evil.pth", extra=io.BytesIO(b"not plain data"))
    with pytest.raises(NasReproError, match="weights_only=True"):
        pth.load(tmp_path / "evil.pth")


def test_pth_names_a_missing_task_or_metric(tmp_path):
    write_pth(tmp_path / "one_task.pth")
    with pytest.raises(NasReproError, match="task 'room_layout' is not in its task_list"):
        pth.micro_table(tmp_path / "one_task.pth", "room_layout")
    torch.save({"metrics_dict": {}, "data": {}}, tmp_path / "other.pth")
    with pytest.raises(NasReproError, match="no info_names, task_list"):
        pth.load(tmp_path / "other.pth")


# ------------------------------------------------------------------------------------ methods on the space
def test_every_builtin_method_runs_on_the_space_or_is_refused_in_one_line():
    config = cfg.load(REPO / "config.yaml")
    experiment = config["experiments"]["transnas_micro"]
    for name in config["methods"]:
        if "{" in name:
            continue
        trial = copy.deepcopy(config)
        trial["experiments"] = {"one": {**experiment, "methods": [name]}}
        trial.pop("run", None)
        try:
            cfg.validate(trial)
        except NasReproError as error:
            message = str(error)
            assert "\n" not in message and name in message and "transnas_micro" in message, message


def test_the_experiment_runs_the_papers_baselines_on_all_seven_tasks():
    config = cfg.validate(cfg.load(REPO / "config.yaml"))
    experiment = config["experiments"]["transnas_micro"]
    assert {config["benchmarks"][b]["dataset"] for b in experiment["benchmarks"]} == set(TASKS)
    assert {"weaknas", "regularized_evolution", "random", "local_search"} <= set(experiment["methods"])
    assert cfg.seeds(experiment) == list(range(20)) and experiment["budget"]["until_optimum"]


def shortened(options: dict) -> dict:
    """A method's resolved options with every training length cut to 2 epochs (the maths unchanged)."""
    return {key: shortened(value) if isinstance(value, dict) else 2 if "epochs" in key and value else value
            for key, value in options.items()}


@pytest.mark.parametrize("task", ["room_layout"])  # a negated loss: no label of it is a percentage
def test_each_method_of_the_experiment_searches_a_task_whatever_its_label_scale(zip_file, task):
    config = cfg.validate(cfg.load(REPO / "config.yaml"))
    table, meta = convert(zip_file, task)
    bench = Benchmark(table=table, meta=meta)
    assert (bench.fit_labels < 0).all()
    name = next(b for b in config["experiments"]["transnas_micro"]["benchmarks"] if b.endswith(task))
    for method in [*config["experiments"]["transnas_micro"]["methods"], "nasbowl", "bonas"]:  # and two that fit labels
        options = shortened(cfg.searcher_spec(config, method, name))
        encoding = cfg.method_encoding(config, method, name) if cfg.uses_features(config, method, name) else None
        features = encodings.encode("transnas_micro", encoding, table) if encoding else None
        result = run_search(bench, features, options, 0, Budget(30), progress=False)
        assert len(result.trajectory) == 30, method
