"""The compiled (Numba) training loops against the torch loops they stand in for on the CPU. Both draw the
same shuffles and dropout masks and make the same updates, so their loss curves agree to float32
rounding over the first epochs. Over a long fit the torch loop is chaotic at that scale (scaling its own
initial weights by 1 + 1e-6 moves its loss curve as far: benchmarks/RESULTS-predictor-speed.md), so
there the test asks for fits of the same quality."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from nasrepro.predictors import make_predictor
from nasrepro.runner import search_space
from nasrepro.searchers import bananas

GIN = {"np": {"type": "gin"}, "bo": {"type": "gin", "head": "gaussian", "activation": "celu"}}


@pytest.fixture(scope="module")
def nb201_graphs(nb201_synthetic):
    return search_space(nb201_synthetic, None).graphs, np.asarray(nb201_synthetic.fit_labels)


def fits(spec: dict, graphs, labels, ids, seed: int) -> dict:
    return {trainer: make_predictor({**spec, "trainer": trainer}, random_state=seed).fit(graphs[ids], labels[ids])
            for trainer in ("torch", "auto")}


@pytest.mark.parametrize("variant", GIN)
@pytest.mark.parametrize("batch_size, epochs", [(10, 1), (45, 3)])
def test_gin_compiled_loop_follows_the_torch_loop(nb201_graphs, variant, batch_size, epochs):
    """One epoch of 4 full batches and a partial one; three epochs of one batch each. (A bias before a
    BatchNorm whose ReLU passes every row has a gradient of rounding noise, which Adam turns into
    steps of +-lr in either loop: over more steps the loops part as the torch loop parts from itself.)"""
    graphs, labels = nb201_graphs
    ids = np.random.default_rng(1).choice(len(graphs), 45, replace=False)
    fitted = fits({**GIN[variant], "epochs": epochs, "batch_size": batch_size}, graphs, labels, ids, seed=7)
    np.testing.assert_allclose(fitted["auto"].loss_curve_, fitted["torch"].loss_curve_, rtol=1e-4)
    assert (torch.tensor([1e-40]) * 1.0).item() != 0  # denormals flushed while compiled, restored after
    # the eval-mode forward reads the running BatchNorm statistics both loops kept
    held_out = np.setdiff1d(np.arange(2000), ids)
    np.testing.assert_allclose(fitted["auto"].predict(graphs[held_out]), fitted["torch"].predict(graphs[held_out]),
                               atol=0.03)
    if variant == "bo":
        sd = {trainer: fit.predict_distribution(graphs[held_out])[1] for trainer, fit in fitted.items()}
        np.testing.assert_allclose(sd["auto"], sd["torch"], rtol=5e-3)


@pytest.mark.parametrize("variant", GIN)
def test_gin_compiled_fit_is_as_good_as_the_torch_fit(nb201_graphs, variant):
    graphs, labels = nb201_graphs
    held_out = np.arange(3000, 6000)
    taus = {"torch": [], "auto": []}
    for seed in range(3):
        ids = np.random.default_rng(seed).choice(np.arange(3000), 60, replace=False)
        for trainer, fit in fits({**GIN[variant], "epochs": 60}, graphs, labels, ids, seed).items():
            taus[trainer].append(stats.kendalltau(fit.predict(graphs[held_out]), labels[held_out])[0])
    assert np.mean(taus["auto"]) > 0.3
    assert abs(np.mean(taus["auto"]) - np.mean(taus["torch"])) < 0.05


class _Nets:
    """What `Bananas._init` reads of its searcher."""

    def __init__(self, num_layers: int):
        self.num_layers, self.layer_width = num_layers, 20


@pytest.mark.parametrize("settings", [
    {"num_layers": 10, "epochs": 30, "learning_rate": 0.01, "loss": "mse", "l1_output": 0.0},  # naszilla's nets
    {"num_layers": 20, "epochs": 10, "learning_rate": 0.001, "loss": "mae", "l1_output": 0.2},  # NASLib's
])
def test_bananas_compiled_nets_follow_the_torch_nets(settings):
    rng = np.random.default_rng(0)
    X = torch.as_tensor((rng.random((70, 30)) < 0.3).astype(np.float32))  # 2 full batches and a partial one
    y = torch.as_tensor(X.numpy() @ rng.normal(1, 1, 30).astype(np.float32))
    members = [11, 12, 13]
    predicted = {}
    for name, train in (("untrained", None), ("torch", bananas.train), ("compiled", bananas.train_compiled)):
        weights, biases = bananas.Bananas._init(_Nets(settings["num_layers"]), X.shape[1], members)
        if train:
            options = {k: v for k, v in settings.items() if k != "num_layers"}
            train(weights, biases, X, y, members, batch_size=32, **options)
        with torch.no_grad():
            predicted[name] = bananas.forward(weights, biases, X.expand(len(members), *X.shape)).numpy()
    error = {name: np.abs(values - y.numpy()).mean() for name, values in predicted.items()}
    assert error["torch"] < 0.9 * error["untrained"]
    np.testing.assert_allclose(predicted["compiled"], predicted["torch"], atol=1e-2)
