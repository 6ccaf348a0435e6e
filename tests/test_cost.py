"""`nasrepro cost`: the cost of a config before it runs, a shared run counted once, training work scaled."""

from __future__ import annotations

import copy
from pathlib import Path

from nasrepro import config as cfg, cost

REPO = Path(__file__).resolve().parents[1]


def cpu_baselines() -> dict:
    return cfg.validate(cfg.load(*(REPO / name for name in ("config.yaml", "config/offline.yaml",
                                                             "config/cpu-baselines.yaml"))))


def test_a_run_two_experiments_ask_for_is_costed_once():
    config = cpu_baselines()
    config["experiments"]["again"] = copy.deepcopy(config["experiments"]["table5_baselines"])
    config["run"] = [*config["run"], "again"]
    rows = cost.estimate(config)
    again = [row for row in rows if row.experiment == "again"]
    assert again and all(row.asked == 20 and row.distinct == 0 and row.core_hours == 0 for row in again)
    first = {row.method: row for row in rows if row.experiment == "table5_baselines"}
    assert all(row.distinct == row.asked and row.core_hours > 0 for row in first.values())
    assert "total" in cost.render(rows, config)


def test_training_work_scales_a_run_estimate():
    config = cpu_baselines()
    spec = {"method": cfg.searcher_spec(config, "npenas_bo", "nb201-cifar10"),
            "benchmark": {"space": "nb201"}, "budget": {"queries": 400}}
    fewer = copy.deepcopy(spec)
    fewer["method"]["predictor"]["epochs"] = 100
    startup = cost.model()["startup_seconds"]["torch"]
    assert cost.run_seconds(spec) - startup > 5 * (cost.run_seconds(fewer) - startup)
