"""The baselines as their authors ran them: naszilla's truncated path encoding and per-op mutation for BANANAS,
NPENAS's path-encoding (isomorph) deduplication of candidates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nasrepro import encodings
from nasrepro.runner import search_space
from nasrepro.searchers import make_searcher, searcher_class
from nasrepro.spaces.nb201.cells import OPS
from nasrepro.spaces.nb201.encodings import NASZILLA_OPS

NASZILLA = {op: i for i, op in enumerate(NASZILLA_OPS)}


def table_of(*cells) -> pd.DataFrame:
    return pd.DataFrame([{f"op{e}": OPS.index(op) for e, op in enumerate(cell)} for cell in cells])


def test_truncated_path_encoding_is_naszillas():
    cell = ("nor_conv_3x3", "skip_connect", "avg_pool_3x3", "none", "nor_conv_1x1", "avg_pool_3x3")
    expected = np.zeros(40)
    expected[NASZILLA["none"]] = 1  # the length-1 path: edge 3
    expected[5 + NASZILLA["nor_conv_3x3"] + 5 * NASZILLA["nor_conv_1x1"]] = 1  # edges 0, 4
    expected[5 + NASZILLA["skip_connect"] + 5 * NASZILLA["avg_pool_3x3"]] = 1  # edges 1, 5
    index = 30 + NASZILLA["nor_conv_3x3"] + 5 * NASZILLA["avg_pool_3x3"] + 25 * NASZILLA["avg_pool_3x3"]  # 0, 2, 5
    expected[index] = 1  # 32: within naszilla/bananas' cutoff 40, beyond naszilla's 30
    assert np.array_equal(encodings.encode("nb201", "truncpath30", table_of(cell))[0], expected[:30])
    assert np.array_equal(encodings.encode("nb201", "truncpath40", table_of(cell))[0], expected)
    kept = ("avg_pool_3x3", "none", "nor_conv_1x1", "none", "none", "avg_pool_3x3")  # length-3 index 30 + 0 + 5 + 0
    assert encodings.encode("nb201", "truncpath40", table_of(kept))[0][35] == 1


@pytest.mark.parametrize("mutation, rate", [("naszilla", 1 / 4), ("nasbowl", 1 / 5)])
def test_per_op_mutations_change_each_op_with_their_rate(nb201_synthetic, mutation, rate):
    operators = search_space(nb201_synthetic, None).operators
    rng = np.random.default_rng(0)
    parent = 1234
    children = [operators.mutate(parent, None, rng, mutation)[0] for _ in range(6000)]
    changed = operators.ops[children] != operators.ops[parent]
    assert changed.mean() == pytest.approx(rate, abs=0.01)
    assert (changed.sum(axis=1) == 0).mean() == pytest.approx((1 - rate) ** 6, abs=0.02)  # the parent itself


def test_bananas_defaults_to_naszillas_mutation_on_nb201_only():
    cls = searcher_class("bananas")
    assert cls.resolve({}, "nb201")["mutation"] == "naszilla" and cls.resolve({}, "nb101")["mutation"] is None


def test_npenas_drops_path_isomorphs_of_queried_architectures(nb201_synthetic):
    space = search_space(nb201_synthetic, None)
    paths = space.operators.paths(np.arange(space.size))
    assert (paths <= encodings.encode("nb201", "path155", nb201_synthetic.table)).all()
    assert len({row.tobytes() for row in paths}) == 8045  # the authors' distinct cells: isomorphs and dead paths alike
    ids = np.random.default_rng(0).choice(len(paths), 400, replace=False)
    queried = {paths[i].tobytes() for i in ids}
    found = {}
    for dedup in ("path", "id"):
        searcher = make_searcher({"type": "npenas_np", "dedup": dedup}, space, 0)
        searcher.tell(ids, nb201_synthetic.fit_labels[ids])
        keys = [paths[c].tobytes() for c in searcher.candidates(np.random.default_rng(1))]
        found[dedup] = keys
    assert not queried & set(found["path"]) and len(set(found["path"])) == len(found["path"]) == 100
    assert queried & set(found["id"])  # by id only, isomorphs of queried cells stay candidates
    assert searcher_class("npenas_bo").resolve({})["dedup"] == "path"
