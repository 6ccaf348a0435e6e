"""Figure 4: the runner records each fit's sampling pool, and the t-SNE map of the space shows the pools
and the batches drawn from them."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from nasrepro import encodings
from nasrepro.benchmark import write_table
from nasrepro.errors import NasReproError
from nasrepro.render.embedding import embed_space, figure4, tsne_embedding
from nasrepro.io import write_parquet
from nasrepro.metrics import competition_ranks
from nasrepro.runner import Budget, run_search

from conftest import render_to, smooth_score

# 10 per batch from the predicted Top-60: 50 queries leave >= 20 unqueried in the pool, so no batch
# falls back to the greedy pick and every batch is a draw from the pool recorded before it.
METHOD = {"type": "weaknas", "init_sample": 10, "sample_each_iter": 10, "top_start": 60, "top_end": 60,
          "predictor": {"type": "mlp", "hidden_layer_sizes": [16, 16], "max_epochs": 20, "device": "cpu"}}
QUERIES, M = 50, 10


@pytest.fixture(scope="module")
def small(make_benchmark):
    """(benchmark, onehot30 features) of 300 distinct NB201 cells on the smooth synthetic landscape."""
    ops = np.array(list(itertools.product(range(5), repeat=6)))
    ops = ops[np.sort(np.random.default_rng(4).choice(len(ops), 300, replace=False))]
    benchmark = make_benchmark(70 + 1.5 * smooth_score(ops) + np.random.default_rng(5).normal(0, 0.05, 300), ops=ops)
    return benchmark, encodings.encode("nb201", "onehot30", benchmark.table)


@pytest.fixture(scope="module")
def run(small, tmp_path_factory):
    """One recorded run, its iterations read back from parquet as the workflow stores them."""
    benchmark, features = small
    result = run_search(benchmark, features, METHOD, 0, Budget(QUERIES), record_pools=True, progress=False)
    path = tmp_path_factory.mktemp("run") / "iterations.parquet"
    write_parquet(result.iterations, path)
    return result.trajectory, pd.read_parquet(path)


def test_every_batch_is_drawn_from_the_pool_recorded_after_the_fit_before_it(small, run):
    trajectory, iterations = run
    pools = {int(k): set(ids.tolist()) for k, ids in zip(iterations["iteration"], iterations["pool_ids"])}
    assert sorted(pools) == [0, 1, 2, 3, 4]
    for k, pool in pools.items():
        queried = set(trajectory.loc[trajectory["iteration"] <= k, "arch_id"])
        assert pool and not pool & queried  # the pool holds only unqueried architectures
        drawn = set(trajectory.loc[trajectory["iteration"] == k + 1, "arch_id"])
        assert drawn <= pool
        assert len(drawn) == (M if k < 4 else 0)  # the last fit's pool is never drawn from


def test_without_record_pools_the_iterations_are_as_before(small, run):
    benchmark, features = small
    plain = run_search(benchmark, features, METHOD, 0, Budget(QUERIES), progress=False)
    assert "pool_ids" not in plain.iterations
    assert list(plain.iterations.columns) == [c for c in run[1].columns if c != "pool_ids"]
    pd.testing.assert_frame_equal(plain.trajectory, run[0])


def test_tsne_embedding_is_deterministic_for_a_seed(small, tmp_path):
    features = small[1]
    first = tsne_embedding(features, 0)
    assert first.shape == (len(features), 2) and first.dtype == np.float32
    assert first.std(axis=0).min() > 1  # spread out, not collapsed
    np.testing.assert_array_equal(first, tsne_embedding(features, 0))
    np.save(tmp_path / "features.npy", features)
    embed_space(tmp_path / "features.npy", tmp_path / "out" / "embedding.npy", 0)
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "embedding.npy"), first)


def test_figure4_plots_each_pool_and_the_batch_drawn_from_it(small, run, tmp_path):
    benchmark, features = small
    trajectory, iterations = run
    ranks = competition_ranks(benchmark.test_labels)
    png, pdf, csv = tmp_path / "f4.png", tmp_path / "f4.pdf", tmp_path / "f4.csv"
    points = figure4(tsne_embedding(features, 0), ranks, trajectory, iterations, "test run, seed 0", png, pdf, csv)
    assert png.stat().st_size > 0 and png.read_bytes().startswith(b"\x89PNG")
    assert pdf.read_bytes().startswith(b"%PDF-")
    written = pd.read_csv(csv)
    assert list(written.columns) == ["panel", "iteration", "arch_id", "x", "y", "test_rank", "role"]
    pd.testing.assert_frame_equal(written, points, check_dtype=False)
    pools = dict(zip(iterations["iteration"], iterations["pool_ids"]))
    for column, k in enumerate(range(4)):  # fits 0..3; fit 4's pool has no batch after it
        pool = written[written["panel"] == "abcd"[column]]
        assert (pool["role"] == "pool").all() and (pool["iteration"] == k).all()
        assert sorted(pool["arch_id"]) == sorted(pools[k].tolist())
        sampled = written[written["panel"] == "efgh"[column]]
        assert (sampled["role"] == "sampled").all() and (sampled["iteration"] == k + 1).all()
        assert sorted(sampled["arch_id"]) == sorted(trajectory.loc[trajectory["iteration"] == k + 1, "arch_id"])
        assert len(sampled) == M
    assert (written["test_rank"] == ranks[written["arch_id"]]).all()


def test_render_figure4_takes_the_smallest_seed_and_needs_recorded_pools(small, run, tmp_path):
    benchmark, features = small
    trajectory, iterations = run
    write_table(benchmark.table, benchmark.meta, tmp_path / "table.parquet")
    np.save(tmp_path / "embedding.npy", tsne_embedding(features, 0))
    config = {"experiments": {"figure3": {"benchmarks": ["b"], "methods": ["m"], "seeds": [7, 3], "budget": {"queries": 9}}},
              "methods": {"m": {"type": "weaknas", "label": "WeakNAS"}}}
    other = trajectory.assign(iteration=trajectory["iteration"] + 1)  # seed 7: shifted, so it would show
    write_parquet(pd.concat([other.assign(benchmark="b", method="m", seed=7),
                             trajectory.assign(benchmark="b", method="m", seed=3)]), tmp_path / "traj.parquet")
    write_parquet(pd.concat([iterations.assign(benchmark="b", method="m", seed=s) for s in (7, 3)]),
                  tmp_path / "iters.parquet")
    config["benchmarks"] = {"b": {"dataset": "cifar10-valid"}}
    inputs = {"embedding": tmp_path / "embedding.npy", "table": tmp_path / "table.parquet"}
    runs = {"trajectories": tmp_path / "traj.parquet", "iterations": tmp_path / "iters.parquet"}
    files = render_to("figure4", config, "figure3", runs, tmp_path, **inputs)
    sampled = pd.read_csv(files["csv"]).query("panel == 'e'")
    assert sorted(sampled["arch_id"]) == sorted(trajectory.loc[trajectory["iteration"] == 1, "arch_id"])

    write_parquet(iterations.drop(columns="pool_ids").assign(benchmark="b", method="m", seed=3),
                  tmp_path / "plain.parquet")
    with pytest.raises(NasReproError, match="plain.parquet: no sampling pools recorded; set "
                                            "experiments.figure3.record_pools: true"):
        render_to("figure4", config, "figure3", {**runs, "iterations": tmp_path / "plain.parquet"}, tmp_path, **inputs)
