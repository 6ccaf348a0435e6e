"""NASBOWL and BONAS at their authors' settings (xingchenwan/nasbowl, pipilurj/BONAS), the earlier behaviour kept as
named options: NASBOWL's pruned NAS-Bench-201 graph, its pool of mutants and its -log(1 - accuracy) target;
BONAS's weighted loss exp(y - 1)(p - y)^2."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasrepro.errors import NasReproError
from nasrepro.runner import Budget, run_search, search_space
from nasrepro.searchers import make_searcher, searcher_class
from nasrepro.searchers.nasbowl import pruned_graph
from nasrepro.spaces.nb201.cells import parse_cell

PRESENT_NASBOWL = {"pool_strategy": "mixed", "graph": "full", "target": "accuracy"}


def pruned(nb201_synthetic, cell: str) -> tuple[dict, set]:
    """The pruned graph NASBOWL builds for a cell string: ({node: label}, {edges}); nodes 0 input, 1 + e the op of
    edge e, 7 output."""
    table = nb201_synthetic.table
    arch_id = int(np.flatnonzero(table["cell"].to_numpy() == cell)[0])
    searcher = make_searcher({"type": "nasbowl"}, search_space(nb201_synthetic, None), 0)
    adjacency, labels = searcher.cell_graph(arch_id)
    names = searcher.space.graphs.op_names
    return ({v: names[label] for v, label in enumerate(labels) if label is not None},
            {(int(u), int(v)) for u, v in zip(*np.nonzero(adjacency))})


def test_a_cell_without_none_or_skip_keeps_the_full_graph(nb201_synthetic):
    nodes, edges = pruned(nb201_synthetic, "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|nor_conv_3x3~0|"
                                           "nor_conv_3x3~1|nor_conv_1x1~2|")
    assert len(nodes) == 8
    assert edges == {(0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 6), (3, 6), (4, 7), (5, 7), (6, 7)}


def test_none_nodes_go_and_a_skip_becomes_edges(nb201_synthetic):
    nodes, edges = pruned(nb201_synthetic, "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|"
                                           "avg_pool_3x3~1|nor_conv_3x3~2|")
    # node 3 (skip 1->2) joins node 1 to node 6; node 2 (none) goes
    assert nodes == {0: "input", 1: "nor_conv_3x3", 4: "nor_conv_1x1", 5: "avg_pool_3x3", 6: "nor_conv_3x3",
                     7: "output"}
    assert edges == {(0, 1), (0, 4), (1, 5), (1, 6), (4, 7), (5, 7), (6, 7)}


def test_two_chained_skips_lose_their_path_as_in_the_authors_code(nb201_synthetic):
    # skip 0->1 then skip 1->2: the joins are made on the unpruned graph, so 0 -> node 6 is not added
    nodes, edges = pruned(nb201_synthetic, "|skip_connect~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_3x3~0|"
                                           "nor_conv_3x3~1|nor_conv_3x3~2|")
    assert set(nodes) == {0, 2, 4, 5, 6, 7}
    assert edges == {(0, 2), (0, 4), (0, 5), (2, 6), (4, 7), (5, 7), (6, 7)}


def test_dangling_nodes_go_in_one_pass(nb201_synthetic):
    # node 3 (conv on 1->2) loses its only input (node 1, none) and goes; node 6 kept it as input in that pass
    nodes, edges = pruned(nb201_synthetic, "|none~0|+|none~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|"
                                           "avg_pool_3x3~2|")
    assert nodes == {0: "input", 4: "nor_conv_1x1", 6: "avg_pool_3x3", 7: "output"}
    assert edges == {(0, 4), (4, 7), (6, 7)}


def test_an_all_none_cell_is_empty_and_full_graph_is_unpruned(nb201_synthetic):
    nodes, edges = pruned(nb201_synthetic, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert nodes == {} and edges == set()
    labels = ["a", "b", "c"]
    adjacency = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    same, kept = pruned_graph(adjacency, labels)  # no name to drop: the graph stays
    assert np.array_equal(same, adjacency) and kept == labels


def test_the_pool_is_all_mutants_of_the_best_ten_or_half(nb201_synthetic):
    found = {}
    for strategy in ("mutants", "mixed"):
        result = run_search(nb201_synthetic, None, {"type": "nasbowl", "pool_strategy": strategy}, 0, Budget(30),
                            progress=False)
        fitted = result.iterations.dropna(subset=["pool"])
        assert (fitted["pool"] == 200).all()
        found[strategy] = fitted["pool_mutants"].to_numpy()
    assert (found["mixed"] == 100).all()  # 10 parents x 10 children
    assert found["mutants"].min() >= 190 and found["mutants"].max() == 200  # 10 x 20, uniform only where 50 tries fail


def test_mutants_are_children_of_the_best_ten(nb201_synthetic):
    space = search_space(nb201_synthetic, None)
    searcher = make_searcher({"type": "nasbowl"}, space, 0)
    first = searcher.ask(10)
    searcher.tell(first, nb201_synthetic.fit_labels[first])
    pool = searcher.pool(np.random.default_rng(1))
    assert searcher.iterations[-1]["pool_mutants"] == len(pool) == 200
    ops = np.array([parse_cell(c) for c in nb201_synthetic.table["cell"]])
    distance = (ops[pool][:, None, :] != ops[first][None, :, :]).sum(-1).min(1)
    assert distance.min() >= 1 and np.mean(distance) < 2  # rate-1/5 mutants; uniform cells sit ~4 edits away


def test_defaults_are_the_authors_by_space_and_the_present_ones_are_noted():
    cls = searcher_class("nasbowl")
    assert {k: cls.resolve({}, "nb201")[k] for k in PRESENT_NASBOWL} == {"pool_strategy": "mutants", "graph": "pruned",
                                                                         "target": "neglog_error"}
    assert cls.resolve({}, "nb101")["pool_strategy"] == "mixed"  # their NAS-Bench-101 command sets no --mutate_size
    assert cls.protocol_notes(cls.resolve({}, "nb201")) == []
    assert len(cls.protocol_notes(cls.resolve(PRESENT_NASBOWL, "nb201"))) == 3
    bonas = searcher_class("bonas")
    assert bonas.resolve({}, "nb201")["loss"] == "weighted" and bonas.protocol_notes(bonas.resolve({}, "nb201")) == []
    assert bonas.protocol_notes(bonas.resolve({"loss": "mse"}, "nb201"))
    with pytest.raises(NasReproError, match="pool_strategy"):
        cls.resolve({"pool_strategy": "mutate"}, "nb201")


def test_the_target_is_minus_log_error_or_the_accuracy(nb201_synthetic):
    space = search_space(nb201_synthetic, None)
    for target, expected in (("neglog_error", [-math.log(0.1), -math.log(0.5)]), ("accuracy", [90.0, 50.0])):
        searcher = make_searcher({"type": "nasbowl", "target": target}, space, 0)
        searcher.tell(np.array([0, 1]), np.array([90.0, 50.0]))
        assert np.allclose(searcher.targets(), expected)
    searcher = make_searcher({"type": "nasbowl"}, space, 0)
    searcher.tell(np.array([0]), np.array([-3.0]))
    with pytest.raises(NasReproError, match="use target: accuracy"):
        searcher.targets()


def test_the_gp_fits_the_target(nb201_synthetic):
    """With a tiny noise the GP's mean at its training points is the target: -log(1 - accuracy) by default."""
    space = search_space(nb201_synthetic, None)
    for target in ("neglog_error", "accuracy"):
        searcher = make_searcher({"type": "nasbowl", "target": target, "max_noise": 2e-5}, space, 0)
        first = searcher.ask(10)
        searcher.tell(first, nb201_synthetic.fit_labels[first])
        mean, _, _, _ = searcher.fit_predict(np.asarray(first))
        assert np.allclose(mean, searcher.targets(), atol=0.05 * np.ptp(searcher.targets()))


def test_bonas_weighted_loss_value():
    torch = pytest.importorskip("torch")
    from nasrepro.searchers.bonas import gcn_loss

    p, y = torch.tensor([0.5, 0.9, 0.2]), torch.tensor([0.8, 0.9, 0.6])
    expected = (math.exp(-0.2) * 0.3 ** 2 + 0 + math.exp(-0.4) * 0.4 ** 2) / 3
    assert gcn_loss(p, y, "weighted").item() == pytest.approx(expected, rel=1e-6)
    assert gcn_loss(p, y, "mse").item() == pytest.approx((0.09 + 0.16) / 3, rel=1e-6)


def test_bonas_loss_option_changes_the_run(nb201_synthetic):
    method = {"type": "bonas", "epochs": 5, "hidden": 8, "num_candidates": 30}
    runs = {loss: run_search(nb201_synthetic, None, {**method, "loss": loss}, 0, Budget(30), progress=False)
            for loss in ("weighted", "mse")}
    ids = {loss: r.trajectory["arch_id"].tolist() for loss, r in runs.items()}
    assert ids["weighted"][:10] == ids["mse"][:10] and ids["weighted"] != ids["mse"]
