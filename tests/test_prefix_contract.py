"""The prefix contract behind shared runs (`nasrepro.runs`): a method that declares `shares_prefix` must
ask, for a budget b, exactly the first b ids it asks for a budget of 2b; one that does not must really
depend on its budget (else the declaration wastes runs). Every built-in method type is checked."""

from __future__ import annotations

import numpy as np
import pytest

from nasrepro import encodings, plugins
from nasrepro.runner import Budget, run_search
from nasrepro.searchers import searcher_class

from conftest import TINY_MLP
from test_graph_methods import METHODS as GRAPH_METHODS
from test_new_baselines import METHODS as NEW_METHODS, features_for as pretrained_features
from test_npenas import METHODS as NPENAS_METHODS
from test_seminas_lanas import METHODS as EPD_METHODS

BUDGET = 40
METHODS = {
    "random": {"type": "random"},
    "regularized_evolution": {"type": "regularized_evolution"},
    "local_search": {"type": "local_search"},
    "weaknas": {"type": "weaknas", "predictor": TINY_MLP},
    "weaknas_decaying_top_n": {"type": "weaknas", "top_start": 100, "top_end": 10, "predictor": TINY_MLP},
    "weaknas_decaying_top_n_fixed_schedule": {"type": "weaknas", "top_start": 100, "top_end": 10,
                                              "max_sample": 200, "predictor": TINY_MLP},
    "strong_predictor": {"type": "strong_predictor", "predictor": TINY_MLP},
    **GRAPH_METHODS, **NPENAS_METHODS, **EPD_METHODS, **NEW_METHODS,
}
ENCODING = {"bananas": "path155"}


def test_every_builtin_method_type_is_checked():
    assert set(plugins.METHODS) <= {method["type"] for method in METHODS.values()}


def first_ids(benchmark, method: dict, budget: int) -> list[int]:
    cls = searcher_class(method["type"])
    features = None
    if cls.input_needed(method) == "features":
        features = pretrained_features(method, benchmark)  # arch2vec's and CATE's embedding, else None
        if features is None:
            features = encodings.encode("nb201", ENCODING.get(method["type"], "onehot30"), benchmark.table)
    result = run_search(benchmark, features, method, 3, Budget(budget), progress=False)
    return result.trajectory["arch_id"].tolist()


@pytest.mark.parametrize("name", sorted(METHODS))
def test_a_declared_prefix_is_a_prefix_and_an_undeclared_one_is_not(nb201_synthetic, name):
    method = METHODS[name]
    cls = searcher_class(method["type"])
    declared = cls.shares_prefix(cls.resolve({k: v for k, v in method.items() if k != "type"}, "nb201"))
    short, long = first_ids(nb201_synthetic, method, BUDGET), first_ids(nb201_synthetic, method, 2 * BUDGET)
    assert len(short) == BUDGET and len(long) == 2 * BUDGET
    if declared:
        assert long[:BUDGET] == short, f"{name} declares shares_prefix but its 2b run does not start with its b run"
    else:
        assert long[:BUDGET] != short, f"{name} depends on its budget by declaration, but its runs share a prefix"
