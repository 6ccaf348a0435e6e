"""The oracle (answers and counts queries) and the runner's budget / optimum bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest

from nasrepro.metrics import competition_ranks
from nasrepro.oracle import TRAJECTORY_COLUMNS, Oracle
from nasrepro.runner import Budget, run_search

FIT = np.array([10.0, 30.0, 20.0, 50.0, 40.0])
TEST = np.array([11.0, 31.0, 21.0, 51.0, 60.0])


def test_oracle_answers_fit_labels_and_counts_every_query():
    oracle = Oracle(FIT, TEST)
    assert oracle.used == 0
    assert oracle.query([1, 3], iteration=0).tolist() == [30.0, 50.0]
    assert oracle.query([3], iteration=1).tolist() == [50.0]  # a repeat, charged
    assert oracle.used == 3
    trajectory = oracle.trajectory()
    assert list(trajectory.columns) == TRAJECTORY_COLUMNS
    assert trajectory["query"].tolist() == [1, 2, 3]
    assert trajectory["arch_id"].tolist() == [1, 3, 3]
    assert trajectory["fit_label"].tolist() == [30.0, 50.0, 50.0]
    assert trajectory["test_label"].tolist() == [31.0, 51.0, 51.0]
    assert trajectory["iteration"].tolist() == [0, 0, 1]
    assert trajectory["repeat"].tolist() == [False, False, True]
    assert oracle.has_queried(3) and not oracle.has_queried(0)


def test_oracle_does_not_charge_repeats_when_told_not_to():
    oracle = Oracle(FIT, TEST, charge_repeats=False)
    assert oracle.query([2, 2, 4], iteration=0).tolist() == [20.0, 20.0, 40.0]  # still answered
    assert oracle.query([4, 0], iteration=1).tolist() == [40.0, 10.0]
    assert oracle.used == 3
    trajectory = oracle.trajectory()
    assert trajectory["arch_id"].tolist() == [2, 4, 0]
    assert trajectory["query"].tolist() == [1, 2, 3]
    assert not trajectory["repeat"].any()


def test_oracle_never_returns_test_labels_and_checks_ids():
    oracle = Oracle(FIT, TEST)
    answers = oracle.query(np.arange(5), iteration=0)
    assert answers.tolist() == FIT.tolist()
    answers[0] = -1  # a copy: the searcher cannot corrupt the oracle
    assert oracle.query([0], iteration=1).tolist() == [10.0]
    with pytest.raises(IndexError):
        oracle.query([5], iteration=2)
    with pytest.raises(IndexError):
        oracle.query([-1], iteration=2)
    assert oracle.query([], iteration=3).tolist() == []


def test_until_optimum_stops_after_the_batch_holding_the_optimum(make_benchmark):
    n, batch = 100, 7
    fit = np.random.default_rng(0).normal(size=n)
    benchmark = make_benchmark(fit)
    optimum = benchmark.optimum("fit")
    for seed in range(20):
        result = run_search(benchmark, None, {"type": "random", "batch_size": batch}, seed,
                            Budget(n, until_optimum=True), progress=False)
        trajectory = result.trajectory
        position = int(np.flatnonzero(trajectory["arch_id"].to_numpy() == optimum)[0]) + 1
        expected = min(n, -(-position // batch) * batch)  # the end of the batch holding it
        assert result.metadata["queries_to_optimum"] == expected
        assert result.metadata["queries_used"] == expected
        assert trajectory["query"].iloc[-1] == expected
        last_batch = trajectory[trajectory["iteration"] == trajectory["iteration"].max()]
        assert optimum in last_batch["arch_id"].tolist()
        assert result.metadata["optimum_arch_id"] == optimum


def test_without_until_optimum_the_run_uses_its_whole_budget(make_benchmark):
    benchmark = make_benchmark(np.arange(100.0))
    result = run_search(benchmark, None, {"type": "random"}, 0, Budget(60), progress=False)
    assert result.metadata["queries_used"] == 60 and len(result.trajectory) == 60
    found = result.metadata["queries_to_optimum"]
    ids = result.trajectory["arch_id"].tolist()
    if 99 in ids:
        assert found == ids.index(99) + 1
    else:
        assert found is None


def test_a_run_that_hits_its_cap_reports_not_found(make_benchmark):
    benchmark = make_benchmark(np.arange(100.0))
    for seed in range(30):
        result = run_search(benchmark, None, {"type": "random"}, seed, Budget(10, until_optimum=True),
                            progress=False)
        assert result.metadata["queries_used"] <= 10
        if 99 not in result.trajectory["arch_id"].tolist():
            assert result.metadata["queries_to_optimum"] is None
            assert result.metadata["queries_used"] == 10
            return
    pytest.fail("every seed found the optimum within 10 of 100 queries")


def test_optimum_fit_and_test_targets_differ_when_argmaxes_differ(make_benchmark):
    benchmark = make_benchmark(FIT, TEST)  # argmax fit = 3, argmax test = 4
    assert benchmark.optimum("fit") == 3 and benchmark.optimum("test") == 4
    for seed in range(10):
        by_fit = run_search(benchmark, None, {"type": "random"}, seed, Budget(5, True, "fit"), progress=False)
        by_test = run_search(benchmark, None, {"type": "random"}, seed, Budget(5, True, "test"), progress=False)
        order = by_fit.trajectory["arch_id"].tolist()
        full = run_search(benchmark, None, {"type": "random"}, seed, Budget(5), progress=False)
        visit = full.trajectory["arch_id"].tolist()
        assert by_fit.metadata["optimum_arch_id"] == 3 and by_test.metadata["optimum_arch_id"] == 4
        assert by_fit.metadata["queries_to_optimum"] == visit.index(3) + 1
        assert by_test.metadata["queries_to_optimum"] == visit.index(4) + 1
        assert order == visit[: visit.index(3) + 1]


def test_run_metadata_records_the_setup(make_benchmark):
    benchmark = make_benchmark(FIT, TEST)
    method = {"type": "random", "batch_size": 2}
    result = run_search(benchmark, None, method, 7, Budget(4), charge_repeats=False, progress=False)
    meta = result.metadata
    assert meta["seed"] == 7 and meta["method"] == method
    assert meta["budget"] == {"queries": 4, "until_optimum": False, "optima": ("fit",), "min_queries": 0}
    assert meta["charge_repeats"] is False
    assert meta["benchmark"] == benchmark.meta
    assert meta["wall_seconds"] >= 0
    assert set(meta["environment"]) >= {"python", "device", "versions"}
    assert meta["environment"]["versions"]["nasrepro"] is not None


def test_competition_ranks_count_strictly_better_architectures():
    assert competition_ranks(np.array([3.0, 1.0, 3.0, 2.0, 5.0])).tolist() == [2, 5, 2, 4, 1]


def test_trajectory_records_test_rank():
    oracle = Oracle(np.array([1.0, 2.0, 3.0]), np.array([70.0, 90.0, 80.0]))
    oracle.query([2, 1], iteration=0)
    assert oracle.trajectory()["test_rank"].tolist() == [2, 1]
