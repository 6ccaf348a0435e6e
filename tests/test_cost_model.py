"""The cost model's rules (`nasrepro.cost.SHAPES`): every built-in type of config.yaml calibrated, estimates that
scale as each shape declares, an uncalibrated type flagged, and the calibration's file read back as written."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import yaml

from nasrepro import config as cfg, cost, plugins

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))


@pytest.fixture(scope="module")
def config() -> dict:
    return cfg.load(REPO / "config.yaml")


def spec(config: dict, method: str, space: str = "nb201", queries: int = 400, bench: str = "nb201-cifar10") -> dict:
    return {"method": cfg.searcher_spec(config, method, bench), "benchmark": {"space": space},
            "budget": {"queries": queries}}


def test_every_built_in_type_of_the_config_is_calibrated_with_its_own_rule(config):
    methods = [cfg.searcher_spec(config, name, bench) for name, entry in config["methods"].items()
               for bench in ("nb201-cifar10", "nb101-cifar10") if entry["type"] in plugins.METHODS]
    assert cost.uncalibrated(methods) == []
    assert {m["type"] for m in methods} <= set(cost.SHAPES)
    assert {m["type"] for m in methods if cost.shape(m["type"]).kind == "pretrained"} <= set(cost.model()["pretraining"])


def test_an_uncalibrated_type_is_flagged_in_one_line(config):
    stranger = {"type": "my_method"}
    assert cost.uncalibrated([stranger]) == ["my_method"]
    rows = [cost.Row("convergence", "weaknas", 1, 1, 1, 1.0, 1.0, 1.0, "weaknas")]
    odd = copy.deepcopy(config)
    odd["methods"]["weaknas"]["predictor"] = {"type": "gcn"}  # not calibrated with WeakNAS
    lines = [line for line in cost.render(rows, odd).splitlines() if line.startswith("Not calibrated")]
    assert lines == ["Not calibrated, costed as WeakNAS (rerun benchmarks/cost_calibration.py): weaknas/gcn."]


def test_the_ei_ensemble_scales_the_training_work(config):
    one, five = (cost.search_seconds(spec(config, name)["method"], "nb201", 400) for name in ("weaknas", "weaknas_ei"))
    entry = cost.calibrated(spec(config, "weaknas")["method"])
    assert cost.key(spec(config, "weaknas_ei")["method"]) == "weaknas"
    assert five > 3 * one and five == pytest.approx(
        entry.get("first_call", 0) + 5 * (one - entry.get("first_call", 0)), rel=1e-9)  # F = 0: r scales it all


def test_lanas_least_squares_has_its_own_entry_and_adam_scales_with_epochs(config):
    adam, lstsq = spec(config, "lanas")["method"], spec(config, "lanas_lstsq")["method"]
    assert cost.key(lstsq) == "lanas/lstsq" and cost.key(adam) == "lanas"
    fewer = {**adam, "epochs": adam["epochs"] // 10}
    fixed = cost.calibrated(adam)["fixed"]
    assert cost.search_seconds(adam, "nb201", 400) > cost.search_seconds(fewer, "nb201", 400) > (
        fixed["a"] * 400 + fixed["b"] * 400**2)


def test_sequence_methods_count_both_phases_steps(config):
    seminas = spec(config, "seminas")["method"]
    steps, rounds = cost.sequence_schedule(seminas, 15625, 300)
    assert rounds == 2  # 100 initial, 2 x 100 generated
    labelled = seminas["epochs"] * (1 + 2)  # 100 then 200 labelled, batches of 100
    pseudo = seminas["pseudo_epochs"] * (20 + 30)  # 10 x 100 + 1000, then 10 x 200 + 1000
    assert steps == labelled + pseudo
    no_pseudo = {**seminas, "pseudo_epochs": 0}
    assert cost.sequence_schedule(no_pseudo, 15625, 300) == (labelled, 2)
    nao = spec(config, "nao")["method"]
    assert cost.sequence_schedule(nao, 15625, 300)[0] == labelled + nao["pseudo_epochs"] * (10 + 20)


def test_sequence_step_time_follows_the_space_sequence_length(config):
    entry = cost.calibrated(spec(config, "seminas")["method"])
    six, long = cost.sequence_length("nb201"), cost.sequence_length("nb101")
    assert (six, long) == (6, 27)
    assert cost.step_seconds(entry, long) == pytest.approx(entry["steps"]["seconds"][str(long)])
    nb101 = spec(config, "seminas", "nb101", 2000, "nb101-cifar10")
    steps, rounds = cost.sequence_schedule(nb101["method"], 423624, 2000)
    assert rounds == 3
    assert cost.run_seconds(nb101) > steps * cost.step_seconds(entry, long)


def test_a_larger_space_costs_more_only_for_methods_that_score_it(config):
    for name in ("weaknas", "arch2vec", "neural_predictor", "lanas"):
        method = spec(config, name)["method"]
        assert cost.search_seconds(method, "nb201", 400, size=100000) > cost.search_seconds(method, "nb201", 400)
    for name in ("regularized_evolution", "bananas", "npenas_np"):
        method = spec(config, name)["method"]
        assert cost.search_seconds(method, "nb201", 400, size=100000) == cost.search_seconds(method, "nb201", 400)


def test_lanas_pays_for_passing_the_space_down_its_tree_whatever_its_epochs(config):
    method = spec(config, "lanas")["method"]
    extra = [cost.search_seconds(m, "nb201", 400, size=100000) - cost.search_seconds(m, "nb201", 400)
             for m in (method, cfg.merge(method, {"epochs": method["epochs"] // 10}))]
    assert extra[0] > 0 and extra[0] == pytest.approx(extra[1])


def test_pretraining_is_costed_once_per_space_and_settings(config):
    rows = cost.estimate(cfg.load(REPO / "config.yaml", REPO / "config/offline.yaml"))
    first = [row for row in rows if row.pretraining_hours > 0]
    assert sorted(row.kind for row in first) == ["arch2vec", "cate"]  # one NB201 pretraining each
    settings = {"model": "arch2vec", "pretrain_epochs": 10}
    assert cost.pretraining_seconds(settings, "nb101") > 20 * cost.pretraining_seconds(settings, "nb201")


def test_calibration_file_round_trip(tmp_path, monkeypatch, config):
    """A type measured at a·q + b·q² (and half of it at the lighter setting) is written, read back and
    estimated at exactly what was measured."""
    import cost_calibration

    method = spec(config, "npenas_np")["method"]

    def measured(benchmark, features, options, queries):
        load = options["predictor"]["epochs"] / method["predictor"]["epochs"]
        return 0.01 * queries + load * (0.02 * queries + 1e-4 * queries**2), {}

    class Table:
        size, space = 15625, "nb201"

    monkeypatch.setattr(cost_calibration, "search_cpu", measured)
    entry = cost_calibration.calibrate_polynomial(Table(), None, method, 100, 200)
    model = {**cost.model(), "methods": {"npenas_np": entry}}
    path = tmp_path / "cost_model.yaml"
    cost_calibration.write_model(model, path)
    monkeypatch.setattr(cost, "model", lambda: yaml.safe_load(path.read_text()))
    for q in (100, 200, 300):
        seconds, _ = measured(None, None, method, q)
        assert cost.search_seconds(method, "nb201", q) == pytest.approx(seconds, rel=1e-4)
    assert entry["first_call"] == 0 and entry["work"]["b"] == pytest.approx(1e-4)


def test_the_header_names_the_gpu_figures_or_says_none_were_measured(monkeypatch):
    base = {key: value for key, value in cost.model().items() if key != "gpu"}
    monkeypatch.setattr(cost, "model", lambda: base)
    assert "GPU figures: not measured" in cost.gpu_line()
    gpu = {"measured_on": "NVIDIA H100 80GB HBM3, torch 2.13.0, 2026-12-07",
           "step_seconds": {"seminas": {"6": 0.0021, "27": 0.0052}, "nao": {"6": 0.002, "27": 0.005}},
           "scoring_seconds": {"rows": 423624, "fp32": 0.41, "bf16": 0.19}}
    monkeypatch.setattr(cost, "model", lambda: {**base, "gpu": gpu})
    line = cost.gpu_line()
    assert "NVIDIA H100" in line and "seminas 2.10 ms (6 tokens), 5.20 ms (27 tokens)" in line
    assert "423,624 cells fp32 0.41 s, bf16 0.19 s" in line


def test_a_jobs_startup_is_a_light_jobs_plus_what_its_types_code_loads(monkeypatch, config):
    base = cost.model()
    method = spec(config, "npenas_np")["method"]
    entry = {**base["methods"]["npenas_np"], "startup_extra": 1.25}
    monkeypatch.setattr(cost, "model", lambda: {**base, "methods": {**base["methods"], "npenas_np": entry}})
    assert cost.startup_seconds(method) == pytest.approx(base["startup_seconds"]["light"] + 1.25)
    assert cost.startup_seconds({"type": "my_methods:HillClimber"}) == base["startup_seconds"]["torch"]
