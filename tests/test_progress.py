"""What a search shows while it runs and says when it ends: queries and the best so far, no made-up
total for a run to the optimum, and the optimum's query or that it was not queried."""

from __future__ import annotations

import logging

import numpy as np

from nasrepro import pipeline
from nasrepro.runner import Budget, run_search

SPEC = {"method": {"type": "random"}, "charge_repeats": True, "label_mode": "avg", "record_pools": False,
        "encoding": None}


def test_a_run_to_the_optimum_shows_queries_and_the_best_so_far_without_a_total(make_benchmark, capsys):
    benchmark = make_benchmark(np.arange(200.0))
    run_search(benchmark, None, {"type": "random"}, 0, Budget(200, until_optimum=True), progress=True)
    bar = capsys.readouterr().err
    assert "best so far (fitting label) 199.00" in bar and "query" in bar and "/200" not in bar
    run_search(benchmark, None, {"type": "random"}, 0, Budget(20), progress=True)
    assert "/20 " in capsys.readouterr().err  # a fixed budget is a real total


def test_the_search_log_names_the_optimums_query_or_says_it_was_not_queried(make_benchmark, monkeypatch, caplog,
                                                                            tmp_path):
    monkeypatch.setattr(pipeline.Benchmark, "load", lambda path: make_benchmark(np.arange(100.0)))
    messages = []
    for seed, budget in ((0, {"queries": 3}), (0, {"queries": 100, "until_optimum": True})):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=pipeline.log.name):
            pipeline.search({**SPEC, "budget": budget}, seed, {"method_name": "random"}, "table.parquet", None,
                            tmp_path / "0.parquet", tmp_path / "0.iterations.parquet", tmp_path / "0.json",
                            progress=False)
        messages.append(caplog.messages[-1])
    assert "optimum not queried" in messages[0] and "None" not in messages[0]
    assert "optimum queried at query " in messages[1]
