"""Config validation: the repo's configs pass; each kind of mistake is one line naming the key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from nasrepro import config as cfg, runs
from nasrepro.errors import NasReproError
from nasrepro.runner import Budget

REPO = Path(__file__).resolve().parents[1]


def read(path) -> dict:
    return yaml.safe_load((REPO / path).read_text())


def deep_merge(base: dict, overlay: dict) -> dict:
    return cfg.merge(copy.deepcopy(base), overlay)


@pytest.fixture
def quick() -> dict:
    """The quick overlay laid over config.yaml, as the workflow reads it."""
    return cfg.prepare(read("config/quick.yaml"), REPO)


def error_of(config: dict) -> str:
    with pytest.raises(NasReproError) as error:
        cfg.validate(config, source="bad.yaml")
    message = str(error.value)
    assert "\n" not in message, "config errors must be one line"
    assert message.startswith("bad.yaml: ")
    return message


@pytest.mark.parametrize("path", ["config.yaml", "config/quick.yaml"])
def test_repo_configs_validate(path):
    config = cfg.load(str(REPO / path))
    assert set(config) >= {"data", "benchmarks", "methods", "experiments"}


def test_offline_overlay_validates_and_turns_downloads_off():
    config = cfg.validate(deep_merge(read("config.yaml"), read("config/offline.yaml")))
    assert config["data"]["allow_download"] is False
    assert config["benchmarks"]["nb201-cifar100"]["file"] == "nas_ntk"  # fits on v1_1's x-valid
    # every experiment stays on: those whose data is missing render the paper's values alone (test_workflow)
    assert cfg.enabled_experiments(config) == list(config["experiments"])


def test_full_config_has_the_paper_nb101_settings():
    config = cfg.load(str(REPO / "config.yaml"))
    weaknas = cfg.searcher_spec(config, "weaknas", "nb101-cifar10")
    assert (weaknas["init_sample"], weaknas["sample_each_iter"], weaknas["top_start"], weaknas["top_end"]) == (100, 10, 100, 100)
    assert cfg.searcher_spec(config, "weaknas", "nb201-cifar10")["init_sample"] == 10
    assert cfg.method_encoding(config, "weaknas", "nb101-cifar10") == "seq45"
    evolution = cfg.searcher_spec(config, "regularized_evolution", "nb101-cifar10")
    assert evolution == {"type": "regularized_evolution", "population_size": 50, "tournament_size": 10,
                         "tournament": "distinct", "mutation": None}  # null: the space's first, colab
    assert cfg.searcher_spec(config, "regularized_evolution", "nb201-cifar10")["population_size"] == 10
    table4 = config["experiments"]["table4"]
    assert table4["budget"]["queries"] == 2000 and table4["budgets"] == [150, 200, 400, 1000, 2000]


def test_by_space_options_are_checked_like_the_method_itself(quick):
    quick["methods"]["weaknas"]["by_space"] = {"nb101": {"population_size": 50}}
    assert "methods.weaknas.by_space.nb101.population_size" in error_of(quick)
    quick["methods"]["weaknas"]["by_space"] = {"nb101": {"init_sampel": 100}}
    assert "key 'methods.weaknas.by_space.nb101.init_sampel' is not an option" in error_of(quick)
    quick["methods"]["weaknas"]["by_space"] = {"nb301": {"init_sample": 100}}
    assert "methods.weaknas.by_space" in error_of(quick)


def test_nb101_benchmark_choices_are_checked(quick):
    quick["benchmarks"]["nb101"] = {"space": "nb101", "dataset": "cifar100", "fit_split": "valid"}
    assert "'benchmarks.nb101'" in error_of(quick) and "cifar10" in error_of(quick)
    quick["benchmarks"]["nb101"] = {"space": "nb101", "dataset": "cifar10", "fit_split": "x-valid"}
    assert "fit_split" in error_of(quick)
    quick["benchmarks"]["nb101"] = {"space": "nb101", "dataset": "cifar10", "fit_split": "valid", "encoding": "onehot30"}
    quick["experiments"]["table5"]["benchmarks"].append("nb101")
    assert "'benchmarks.nb101.encoding'" in error_of(quick) and "seq45" in error_of(quick)


def test_table4_output_needs_budgets_within_the_query_budget(quick):
    experiment = quick["experiments"]["table5"]
    experiment.update(budget={"queries": 100}, outputs=["table4"])
    assert "experiments.table5.budgets" in error_of(quick)
    experiment["budgets"] = [50, 150]
    assert "exceed budget.queries" in error_of(quick)


def test_quick_config_jobs_and_helpers(quick):
    jobs = cfg.jobs(quick)
    assert len(jobs) == len(set(jobs))
    assert {name for name, *_ in jobs} == set(quick["run"])  # the overlay's `run` picks the experiments
    assert {seed for name, *_, seed in jobs if name == "table5"} == {0, 1, 2}
    assert {(b, m) for name, b, m, _ in jobs if name == "table5"} == {
        (b, m) for b in quick["experiments"]["table5"]["benchmarks"] for m in quick["experiments"]["table5"]["methods"]}
    assert cfg.uses_features(quick, "weaknas", "nb201-cifar10") and not cfg.uses_features(quick, "random", "nb201-cifar10")
    assert cfg.method_encoding(quick, "weaknas", "nb201-cifar10") == "onehot30"
    assert cfg.method_label(quick, "regularized_evolution") == "Reg Evolution"
    spec = cfg.searcher_spec(quick, "weaknas", "nb201-cifar10")
    assert spec["type"] == "weaknas" and not {"label", "paper_row", "encoding"} & set(spec)


def test_seeds_as_a_list(quick):
    quick["experiments"]["table5"]["seeds"] = [3, 7]
    cfg.validate(quick)
    assert cfg.seeds(quick["experiments"]["table5"]) == [3, 7]
    assert {seed for name, *_, seed in cfg.jobs(quick) if name == "table5"} == {3, 7}


def test_unknown_key_is_named(quick):
    quick["experiments"]["table5"]["seedz"] = 3
    assert "'experiments.table5.seedz'" in error_of(quick)


def test_unknown_top_level_key_is_named(quick):
    quick["experimentz"] = {}
    assert "'experimentz'" in error_of(quick)


def test_unknown_predictor_option_is_named(quick):
    quick["methods"]["weaknas"]["predictor"] = {"type": "mlp", "hidden_layers": [10]}
    assert "'methods.weaknas.predictor.hidden_layers'" in error_of(quick)


def test_wrong_type_names_the_key(quick):
    quick["experiments"]["table5"]["seeds"] = "ten"
    assert "'experiments.table5.seeds'" in error_of(quick)


def test_wrong_type_of_a_method_option_names_the_key(quick):
    quick["methods"]["regularized_evolution"]["population_size"] = "ten"
    assert "'methods.regularized_evolution.population_size'" in error_of(quick)


def test_missing_required_key_is_named(quick):
    del quick["benchmarks"]["nb201-cifar10"]["dataset"]
    message = error_of(quick)
    assert "benchmarks.nb201-cifar10" in message and "dataset" in message


def test_unknown_method_type_names_the_key(quick):
    quick["methods"]["random"]["type"] = "bayesian"
    message = error_of(quick)
    assert "'methods.random.type'" in message and "bayesian" in message


def test_experiment_referencing_an_undefined_benchmark(quick):
    quick["experiments"]["table5"]["benchmarks"].append("nb201-cifar1000")
    message = error_of(quick)
    assert "'experiments.table5.benchmarks'" in message and "nb201-cifar1000" in message


def test_experiment_referencing_an_undefined_method(quick):
    quick["experiments"]["table5"]["methods"] = ["weaknas", "undefined_method"]
    message = error_of(quick)
    assert "'experiments.table5.methods'" in message and "undefined_method" in message


def test_table5_output_needs_until_optimum(quick):
    quick["experiments"]["table5"]["budget"]["until_optimum"] = False
    assert "'experiments.table5.budget.until_optimum'" in error_of(quick)
    del quick["experiments"]["table5"]["budget"]["until_optimum"]
    assert "'experiments.table5.budget.until_optimum'" in error_of(quick)


def test_benchmark_without_a_validation_split_is_rejected(quick):
    quick["benchmarks"]["nb201-cifar10"]["dataset"] = "cifar10"  # no x-valid for the 50k-trained cifar10
    message = error_of(quick)
    assert "'benchmarks.nb201-cifar10'" in message and "x-valid" in message


def test_method_encoding_must_exist(quick):
    quick["methods"]["weaknas"]["encoding"] = "adjacency"
    assert "'methods.weaknas.encoding'" in error_of(quick)


def test_load_reports_unreadable_and_invalid_yaml(tmp_path):
    with pytest.raises(NasReproError, match="missing.yaml: cannot read"):
        cfg.load(str(tmp_path / "missing.yaml"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("data: [unclosed\n")
    with pytest.raises(NasReproError, match="broken.yaml: not valid YAML") as error:
        cfg.load(str(broken))
    assert "\n" not in str(error.value)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(NasReproError, match="empty.yaml"):
        cfg.load(str(empty))


def test_budget_from_config():
    assert Budget.from_config({"until_optimum": True}, 15625) == Budget(15625, True, "fit")
    assert Budget.from_config({"queries": 1000}, 15625) == Budget(1000, False, "fit")
    assert Budget.from_config({"queries": 50, "until_optimum": True, "optimum": "test"}, 100) == Budget(50, True, "test")
    with pytest.raises(NasReproError, match="budget.queries"):
        Budget.from_config({}, 15625)
    with pytest.raises(NasReproError, match="budget.optimum"):
        Budget.from_config({"queries": 5, "optimum": "train"}, 15625)


def test_method_option_that_its_type_does_not_take_is_named(quick):
    """`top_start` is a WeakNAS option: on a random-search method it would only fail inside the search
    jobs, after the downloads; validation must stop it up front, naming the key."""
    quick["methods"]["random"]["top_start"] = 5
    assert "methods.random.top_start" in error_of(quick)


# ------------------------------------------------------------------------------------------ CLI
def test_cli_validate(capsys, tmp_path):
    from nasrepro.cli import main

    assert main(["validate", str(REPO / "config" / "quick.yaml")]) == 0
    quick = cfg.load(REPO / "config" / "quick.yaml")
    distinct = len(runs.plan(quick, cfg.enabled_experiments(quick)).jobs())
    assert f"valid ({len(cfg.jobs(quick))} search jobs, {distinct} distinct runs)" in capsys.readouterr().out
    assert main(["validate", str(REPO / "config.yaml"), str(REPO / "config" / "offline.yaml")]) == 0  # with an overlay
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "config.yaml").read_text().replace("\n    seeds: 100\n", "\n    seedz: 100\n", 1))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "experiments.table5.seedz" in err


def test_cpu_ablations_overlay_keeps_the_protocol_but_the_mlp_width():
    full = cfg.validate(deep_merge(read("config.yaml"), read("config/offline.yaml")))
    config = cfg.validate(deep_merge(full, read("config/cpu-ablations.yaml")))
    assert cfg.seeds(config["experiments"]["table5"]) == list(range(20))
    assert config["experiments"]["table1_nb201"]["benchmarks"] == ["nb201-cifar10"]  # 5 seeds: the strong predictor refits every batch
    for method in {m for _, bench, m, _ in cfg.jobs(config) if bench.startswith("nb201")}:
        options = cfg.searcher_spec(config, method, "nb201-cifar10")
        if options.get("predictor", {}).get("type") == "mlp":
            assert options["predictor"]["hidden_layer_sizes"] == [100] * 4, method
        reference = cfg.searcher_spec(full, method, "nb201-cifar10")
        assert {k: v for k, v in options.items() if k != "predictor"} == \
            {k: v for k, v in reference.items() if k != "predictor"}, method


def test_single_repeat_report_needs_one_drawn_repeat_as_the_label(quick):
    quick["experiments"]["table5"]["report_mode"] = "test_of_best_single_repeat_valid"
    message = error_of(quick)
    assert "'experiments.table5.label_mode' must be random_seed_per_arch" in message
    quick["experiments"]["table5"]["label_mode"] = "random_seed_per_arch"
    cfg.validate(quick)


# What config/cpu-baselines.yaml's header says it reduces, per method (every other option is the authors')
CPU_BASELINE_REDUCTIONS = {
    "weaknas": {"predictor": {"hidden_layer_sizes": [100] * 4}},
    **{m: {"epochs": 50, "pseudo_epochs": 5} for m in ("seminas", "seminas_authors_filter", "nao")},
    "cate": {"graph_layers": 4, "pair_layers": 4, "pretrain_epochs": 2},
}


def test_cpu_baselines_overlay_reduces_only_what_it_states():
    full = cfg.validate(deep_merge(read("config.yaml"), read("config/offline.yaml")))
    config = cfg.validate(deep_merge(full, read("config/cpu-baselines.yaml")))
    jobs = cfg.jobs(config)
    assert {name for name, *_ in jobs} == {"table5_baselines", "table5_test_oracle"}
    assert {seed for *_, seed in jobs} == set(range(20)) and {bench for _, bench, *_ in jobs} == {
        "nb201-cifar10", "nb201-cifar10-test"}
    for method in {m for _, _, m, _ in jobs}:
        options, reference = (cfg.searcher_spec(c, method, "nb201-cifar10") for c in (config, full))
        changed = {k: v for k, v in options.items() if v != reference.get(k)}
        for key, value in changed.items():
            if isinstance(value, dict):
                changed[key] = {k: v for k, v in value.items() if v != reference[key].get(k)}
        assert changed == CPU_BASELINE_REDUCTIONS.get(method, {}), method
    authors = cfg.validate(deep_merge(full, read("config/authors-check.yaml")))
    assert {m for _, _, m, _ in cfg.jobs(authors)} == set(CPU_BASELINE_REDUCTIONS) - {"seminas_authors_filter"}
