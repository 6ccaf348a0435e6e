"""Figure 4: the search dynamics drawn on a t-SNE map of the whole search space.

Each predictor fit k of one run gives two panels: its Top-N sampling pool (top row) and the M
architectures then drawn from it, i.e. the trajectory's iteration k + 1 (bottom row), coloured by true
test rank over every architecture of the space in light grey.
"""

from __future__ import annotations

import logging
import string
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.lines import Line2D
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from threadpoolctl import threadpool_limits

from ..errors import NasReproError
from ..io import atomic_path
from .style import STYLE, save

BACKGROUND = "#d0d0d0"
RANK_COLORMAP = "viridis"  # applied to the rank itself: rank 1 (best) is the darkest colour
INIT_SCALE = 1e-4  # standard deviation of the initial embedding's first axis, as scikit-learn's own inits
# Barnes-Hut sums its gradient in per-thread chunks, so the map depends on the thread count (a 2,000-cell
# map moved by up to 110 units between 1 and 2 threads): pinned, it is the same on every machine. One thread,
# as OpenMP's spinning threads crawl on a busy machine: the full NAS-Bench-201 map took 90 s on 1 thread,
# 137 s on 2 (2 busy cores), and a 300-cell map 0.9 s against 21 s.
TSNE_THREADS = 1
log = logging.getLogger(__name__)


def tsne_embedding(features: np.ndarray, seed: int) -> np.ndarray:
    """2-D t-SNE (Barnes-Hut, scikit-learn's defaults otherwise) of the encoded architectures, float32.

    Initialised by PCA, but computed here with the randomized solver rather than by TSNE(init="pca"):
    since scikit-learn 1.5 that uses an exact eigen-solver, and NAS-Bench-201's one-hot features have a
    flat spectrum (every edge's block alike), so its two components can each come from a single edge and
    the 15,625 cells start on ~20 points; Barnes-Hut then breaks down (negative KL, the map collapses to
    ~1e-12). The randomized solver mixes the blocks, so every cell starts at its own place; the scaling is
    scikit-learn's. Deterministic for a fixed seed, whatever the machine's core count (TSNE_THREADS).
    """
    features = np.asarray(features, dtype=np.float32)
    with threadpool_limits(limits=TSNE_THREADS):  # OpenMP and BLAS alike
        init = PCA(n_components=2, svd_solver="randomized", random_state=seed).fit_transform(features)
        init = (init / init[:, 0].std() * INIT_SCALE).astype(np.float32)
        tsne = TSNE(n_components=2, init=init, random_state=seed)
        embedding = tsne.fit_transform(features)
    if not np.isfinite(tsne.kl_divergence_) or tsne.kl_divergence_ < 0:
        raise NasReproError(f"t-SNE failed to converge (KL divergence {tsne.kl_divergence_:.3g})")
    return embedding.astype(np.float32)


def embed_space(features_path: str | Path, output_path: str | Path, seed: int) -> None:
    """Write the t-SNE map of a benchmark's encoded architectures (.npy, one row per arch id)."""
    features = np.load(features_path)
    log.info("t-SNE of %d architectures on %d thread (about 5 minutes for NAS-Bench-201 on one core)...",
             len(features), TSNE_THREADS)
    started = time.perf_counter()
    embedding = tsne_embedding(features, int(seed))
    log.info("t-SNE done in %.0f s", time.perf_counter() - started)
    with atomic_path(output_path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, embedding)


def _fits_to_show(trajectory: pd.DataFrame, iterations: pd.DataFrame, count: int) -> list[tuple[pd.Series, np.ndarray]]:
    """The first `count` predictor fits (by iteration) with a pool that a next batch was drawn from,
    each with the arch ids of that batch (the trajectory's iteration k + 1)."""
    shown = []
    for _, fit in iterations.sort_values("iteration").iterrows():
        pool, k = fit.get("pool_ids"), int(fit["iteration"])
        sampled = trajectory.loc[trajectory["iteration"] == k + 1, "arch_id"].to_numpy(np.int64)
        if isinstance(pool, (list, np.ndarray)) and len(sampled):  # None/NaN: no pool
            shown.append((fit, sampled))
        if len(shown) == count:
            break
    return shown


def figure4(embedding: np.ndarray, test_ranks: np.ndarray, trajectory: pd.DataFrame, iterations: pd.DataFrame,
            seed_label: str, png: str | Path, pdf: str | Path, csv: str | Path,
            iterations_to_show: int = 4) -> pd.DataFrame:
    """Figure 4 for one run (its trajectory and iterations rows): 2 rows x K columns, K fits k.

    Top: the pool of fit k (the Top-N minus the queried); bottom: the batch drawn from it (iteration k + 1)
    with every architecture queried before in small black. Writes and returns the coloured points:
    panel, iteration (k for the pool, k + 1 for the batch), arch_id, x, y, test_rank, role (pool|sampled).
    """
    shown = _fits_to_show(trajectory, iterations, iterations_to_show)
    if not shown:
        raise NasReproError(f"{seed_label}: no predictor fit with a recorded pool and a next batch to plot")
    letters, columns = string.ascii_lowercase, len(shown)
    norm = LogNorm(vmin=1, vmax=max(2, int(test_ranks.max())))
    points = []
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(2, columns, figsize=(3.3 * columns, 6.6), sharex=True, sharey=True, squeeze=False)
        for column, (fit, sampled) in enumerate(shown):
            k, pool = int(fit["iteration"]), np.asarray(fit["pool_ids"], dtype=np.int64)
            top_n = int(fit["top_n"]) if pd.notna(fit.get("top_n")) else len(pool)
            queried = trajectory.loc[trajectory["iteration"] <= k, "arch_id"].to_numpy(np.int64)
            panels = [
                (axes[0, column], "pool", k, pool,
                 f"({letters[column]}) Top-N pool after iteration {k}\n(N={top_n}, {len(pool)} not yet queried)"),
                (axes[1, column], "sampled", k + 1, sampled,
                 f"({letters[columns + column]}) sampled at iteration {k + 1} (M={len(sampled)})"),
            ]
            for ax, role, iteration, ids, title in panels:
                ax.scatter(embedding[:, 0], embedding[:, 1], s=0.5, c=BACKGROUND, linewidths=0, rasterized=True)
                if role == "sampled":
                    ax.scatter(embedding[queried, 0], embedding[queried, 1], s=5, c="black", marker="x",
                               linewidths=0.6, rasterized=True)  # a shape, not only a colour, apart from rank 1
                ranks = test_ranks[ids]
                order = np.argsort(-ranks, kind="stable")  # the best drawn last, on top
                mappable = ax.scatter(embedding[ids[order], 0], embedding[ids[order], 1], c=ranks[order],
                                      s=8 if role == "pool" else 16,
                                      cmap=RANK_COLORMAP, norm=norm, linewidths=0.2, edgecolors="white",
                                      rasterized=True)
                ax.set_title(title)
                points.append(pd.DataFrame({"panel": letters[column if role == "pool" else columns + column],
                                            "iteration": iteration, "arch_id": ids, "x": embedding[ids, 0],
                                            "y": embedding[ids, 1], "test_rank": ranks, "role": role}))
        for ax in axes[1]:
            ax.set_xlabel("t-SNE 1")
        for ax in axes[:, 0]:
            ax.set_ylabel("t-SNE 2")
        axes[1, 0].legend(handles=[
            Line2D([], [], linestyle="", marker="x", markersize=3, color="black", label="queried before"),
            Line2D([], [], linestyle="", marker="o", markersize=3, color=BACKGROUND, label="not sampled"),
        ], loc="lower right", fontsize=7)
        colorbar = figure.colorbar(mappable, ax=axes, shrink=0.8)
        colorbar.set_label("true test rank (1 = best, darkest; log scale)")
        colorbar.ax.invert_yaxis()  # the best at the top
        figure.suptitle(seed_label, fontsize=8)
        save(figure, png, pdf)
    table = pd.concat(points, ignore_index=True)
    with atomic_path(csv) as tmp:
        table.to_csv(tmp, index=False)
    return table
