"""SemiNAS, NAO and LaNAS on the synthetic NAS-Bench-201 and a small synthetic NAS-Bench-101 (tiny
settings): within budget, deterministic per seed, blind to test labels; the authors' initial filter
charges what it discards; the spaces' token sequences decode back to their ids."""

from __future__ import annotations

import numpy as np
import pytest

from nasrepro import encodings, plugins
from nasrepro.benchmark import Benchmark
from nasrepro.runner import Budget, run_search, search_space
from nasrepro.searchers import searcher_class
from nasrepro.spaces.nb101 import cells as nb101

from conftest import assert_search_contract
from test_searchers_nb101 import cells, small_nb101  # noqa: F401  (the synthetic NAS-Bench-101 fixtures)

TINY_EPD = {"initial": 20, "new_arch": 10, "top_k": 10, "unlabelled": 30, "up_sample_ratio": 2, "epochs": 2,
            "pseudo_epochs": 1, "batch_size": 20, "hidden_size": 8, "mlp_hidden_size": 4, "max_step_size": 5,
            "rounds": None, "device": "cpu"}
METHODS = {
    "seminas": {"type": "seminas", **TINY_EPD},
    "nao": {"type": "nao", **{k: v for k, v in TINY_EPD.items() if k != "unlabelled"}},
    "lanas": {"type": "lanas", "tree_height": 3, "epochs_first": 50, "epochs": 10, "per_iteration": 5},
    "lanas_lstsq": {"type": "lanas", "fit": "lstsq", "per_iteration": 5},
}
ENCODING = {"nb201": "onehot30", "nb101": "adj36"}


@pytest.fixture(scope="module")
def benchmarks(nb201_synthetic, small_nb101) -> dict[str, Benchmark]:
    return {"nb201": nb201_synthetic, "nb101": small_nb101}


def run(benchmark: Benchmark, method: dict, seed: int, queries: int):
    features = None
    if searcher_class(method["type"]).input_needed(method) == "features":
        features = encodings.encode(benchmark.space, ENCODING[benchmark.space], benchmark.table)
    return run_search(benchmark, features, method, seed, Budget(queries), progress=False)


def test_registered_with_the_authors_defaults():
    for name in ("seminas", "nao", "lanas"):
        assert name in plugins.METHODS
    semi = searcher_class("seminas").resolve({}, "nb101")
    assert {k: semi[k] for k in ("initial", "rounds", "new_arch", "top_k", "unlabelled", "epochs", "pseudo_epochs",
                                 "batch_size", "trade_off", "initial_filter")} == {
        "initial": 1100, "rounds": 3, "new_arch": 300, "top_k": 100, "unlabelled": 10000, "epochs": 1000,
        "pseudo_epochs": 500, "batch_size": 100, "trade_off": 0.8, "initial_filter": "none"}
    assert searcher_class("seminas").resolve({}, "nb201")["initial"] == 100
    assert searcher_class("nao").resolve({}, "nb101")["unlabelled"] == 0
    lanas = searcher_class("lanas").resolve({})
    assert {k: lanas[k] for k in ("tree_height", "cp", "init_samples", "per_iteration", "fit", "learning_rate",
                                  "epochs_first", "epochs", "clip")} == {
        "tree_height": 5, "cp": 0.1, "init_samples": 10, "per_iteration": 20, "fit": "adam", "learning_rate": 1e-5,
        "epochs_first": 20000, "epochs": 3000, "clip": 5.0}
    assert searcher_class("lanas").input_needed({}) == "features"
    assert searcher_class("seminas").wants_gpu({}) and not searcher_class("seminas").wants_gpu({"device": "cpu"})


@pytest.mark.parametrize("space", ["nb201", "nb101"])
def test_sequences_decode_to_their_ids(benchmarks, space):
    operators = search_space(benchmarks[space], None).operators
    sequences = operators.sequences()
    allowed = operators.sequence_tokens()
    assert sequences.shape == (operators.size, {"nb201": 6, "nb101": 27}[space])
    assert allowed.shape[0] == sequences.shape[1] and not allowed[:, 0].any()
    rows = np.random.default_rng(0).choice(operators.size, size=300, replace=False)
    assert [operators.id_of_sequence(sequences[i]) for i in rows] == rows.tolist()
    if space == "nb101":  # the authors' convert_arch_to_seq on a 3-vertex chain: 2 | 1 2 6 | then padding
        chain = nb101.sequences_of_cells(np.array([[[0, 1, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0]] + [[0] * 7] * 5]),
                                         np.array([[0, 2, 4, -1, -1, -1, -1]]))[0]
        assert chain[:5].tolist() == [2, 4, 1, 2, 6] and not chain[5:].any()
        assert operators.id_of_sequence(np.full(27, 1)) is None  # ops token 1 is a connection token: invalid
        full = np.where(allowed[np.arange(27), 2], 2, 3)  # every edge, every op conv1x1 (> 9 edges): invalid
        assert operators.id_of_sequence(full) is None


@pytest.mark.parametrize("space", ["nb201", "nb101"])
@pytest.mark.parametrize("name", sorted(METHODS))
def test_runs_within_budget_deterministic_and_blind_to_test_labels(benchmarks, name, space):
    assert_search_contract(run, benchmarks[space], METHODS[name], 45)


def test_seminas_rounds_generate_from_the_model(nb201_synthetic):
    trained = {**METHODS["seminas"], "epochs": 60, "pseudo_epochs": 10, "hidden_size": 16}  # a decoder that decodes
    result = run(nb201_synthetic, trained, 0, 50)
    notes = result.iterations
    rounds = notes.dropna(subset=["round"])
    assert rounds["n_train"].tolist() == [20, 30, 40] and (rounds["n_pseudo"] == 30).all()
    assert (rounds["filled_uniform"] < 10).all()  # most of each batch is decoded from the model
    nao = run(nb201_synthetic, METHODS["nao"], 0, 30).iterations.dropna(subset=["round"])
    assert (nao["n_pseudo"] == 0).all()


def test_seminas_authors_rounds_stop_the_run(nb201_synthetic):
    result = run(nb201_synthetic, {**METHODS["seminas"], "rounds": 1}, 0, 200)
    assert len(result.trajectory) == 30 and result.metadata["stopped_by"] == "searcher"


@pytest.mark.parametrize("space", ["nb201", "nb101"])
def test_authors_filter_charges_every_discarded_query(benchmarks, space):
    benchmark = benchmarks[space]
    threshold = float(np.quantile(benchmark.fit_labels, 0.6))  # 40% pass
    method = {**METHODS["seminas"], "initial_filter": "authors", "filter_threshold": threshold}
    result = run(benchmark, method, 3, 60)
    trajectory, notes = result.trajectory, result.iterations
    labels = benchmark.fit_labels[trajectory["arch_id"].to_numpy()]
    initial = notes[notes["phase"] == "initial"]
    charged_initial = int(initial["batch"].sum())
    hidden = int(initial["hidden_queries"].iloc[-1])
    assert initial["authors_count"].iloc[-1] == 20  # the 20 that pass, as the authors count them
    assert hidden == charged_initial - 20 > 0
    assert hidden == int((labels[:charged_initial] < threshold).sum())  # each discarded query was charged
    assert len(trajectory) == 60 and int(notes["hidden_queries"].max()) == hidden
    assert notes["authors_count"].iloc[-1] == 60 - hidden  # what the authors would print after 60 queries


def test_lanas_tree_assigns_every_unqueried_architecture(nb201_synthetic):
    method = {**METHODS["lanas_lstsq"], "tree_height": 4}
    space = search_space(nb201_synthetic, encodings.encode("nb201", "onehot30", nb201_synthetic.table))
    searcher = searcher_class("lanas")(space, 0, **{k: v for k, v in method.items() if k != "type"})
    for _ in range(10):
        ids = searcher.ask(1)
        searcher.tell(ids, nb201_synthetic.fit_labels[ids])
    first = searcher.ask(1)
    assert sorted(searcher.leaves) == list(range(7, 15))
    assigned = sum(len(bag) for bag in searcher.leaves.values())
    assert assigned + 1 == space.size - 10  # every unqueried architecture, less the one just drawn
    assert searcher.n[0] == 10 and searcher.n[1] + searcher.n[2] == 10
    searcher.tell(first, nb201_synthetic.fit_labels[first])
    assert searcher.n[0] == 11
    # the good child of the root holds the better labels
    assert searcher.x_bar[1] >= searcher.x_bar[2] or searcher.n[2] == 0


def test_lanas_finds_better_than_random(nb201_synthetic):
    found = [nb201_synthetic.fit_labels[run(nb201_synthetic, METHODS["lanas_lstsq"], seed, 100)
                                        .trajectory["arch_id"].to_numpy()].max() for seed in range(3)]
    random = [nb201_synthetic.fit_labels[np.random.default_rng(seed).choice(15625, 100, replace=False)].max()
              for seed in range(3)]
    assert np.mean(found) > np.mean(random)
