"""NAS-BOWL: Bayesian optimisation with a Weisfeiler-Lehman graph kernel (Ru, Wan, Dong and Osborne, ICLR 2021),
after the authors' code xingchenwan/nasbowl (MIT): `nasbench_optimisation.py`, `bayesopt/gp.py`,
`bayesopt/generate_test_graphs.py` (`mutation`, `random_sampling`), `kernels/weisfilerlehman.py`.

One run: `num_init` (10) uniform random architectures, then iterations of `batch_size` (5) queries. Each
iteration fits a GP on every queried architecture's fitting label and ranks a candidate pool by expected
improvement over the best queried label (`GraphExpectedImprovement(in_fill='best')`); the `batch_size` best
unqueried candidates are queried.

The kernel: the Weisfeiler-Lehman subtree kernel on the cell graph (`space.graphs`: operations on the nodes,
directed edges; on NAS-Bench-101 the pruned cell's vertices), normalised, K(x, y) / sqrt(K(x, x) K(y, y)),
with equal weights on the histograms of iterations 0..h (`wl_features`: node labels relabelled h times by
their own label and the sorted labels of their successors, as grakel's edge dictionary of a directed
graph). The number of iterations h is chosen from `h_candidates` (1, 2, 3) by the log marginal likelihood
at noise variance 1e-3 (`_grid_search_wl_kernel`), then the noise variance is fitted in [1e-5, `max_noise`
0.01] (`maximum_noise`). The GP is scikit-learn's `GaussianProcessRegressor` on the L2-normalised WL
feature vectors with a DotProduct kernel (σ0 = 0: the normalised WL kernel) plus a WhiteKernel, labels
standardised (`normalize_y`); the authors fit the noise with 20 Adam steps on the same likelihood, here
scikit-learn's L-BFGS-B.

The pool (`pool_strategy: mutate`, `generate_test_graphs.mutation`): the `n_best` (10) best queried
architectures are each mutated into up to `pool_size / 2 / n_best` distinct children (50 tries each) by the
authors' mutation (`mutation`: NAS-Bench-201 `nasbowl`, each op changed with probability 1/5; NAS-Bench-101
`colab`, edges 1/7 and ops 1/5), then uniform random architectures fill the pool to `pool_size` (200, the
paper's NAS-Bench setting; the script's default is 100). `pool_strategy: random`: the whole pool uniform.
Deviation: the authors' pool may hold a queried architecture (their EI can propose it again); here queried
architectures are left out of the pool, so every query is a new architecture.

Seeds: iteration i draws from `numpy.random.default_rng([seed, i])`.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter

import numpy as np

from ..errors import NasReproError
from ..plugins import option

from .base import SearchSpace
from .batched import BatchedSearcher
from .bayes import expected_improvement
from .weaknas import top_by_acquisition

INITIAL_NOISE = 1e-3  # nasbowl's GraphGP likelihood, used while h is chosen
MIN_NOISE = 1e-5
MUTATION_PATIENCE = 50


def wl_features(adjacency: np.ndarray, labels: list, h: int) -> Counter:
    """The WL subtree feature map of one graph: counts of (iteration, label) for iterations 0..h. Node v's
    label at iteration i + 1 is (its label at i, the sorted labels of its successors at i); nodes labelled
    None are not in the graph."""
    nodes = [v for v, label in enumerate(labels) if label is not None]
    current = {v: labels[v] for v in nodes}
    counts = Counter((0, label) for label in current.values())
    for iteration in range(1, h + 1):
        current = {v: (current[v], tuple(sorted((current[u] for u in nodes if adjacency[v, u]), key=repr)))
                   for v in nodes}
        counts.update((iteration, label) for label in current.values())
    return counts


class NASBOWL(BatchedSearcher):
    batch_option = "batch_size"
    spaces = ("nb201", "nb101")
    prefix_stable = True
    options = {
        "num_init": option(10, "Uniform random architectures before the first GP.", type="integer", minimum=1),
        "batch_size": option(5, "Architectures queried per iteration (the best by EI).", type="integer", minimum=1),
        "pool_size": option(200, "Candidates ranked per iteration.", type="integer", minimum=1),
        "pool_strategy": option("mutate", "mutate (half mutated from the best, half uniform) or random.",
                                enum=["mutate", "random"]),
        "n_best": option(10, "Best queried architectures mutated.", type="integer", minimum=1),
        "mutation": option("nasbowl", "The space's mutation.", by_space={"nb101": "colab"}, type="string"),
        "h_candidates": option([1, 2, 3], "WL iterations tried; the one of largest marginal likelihood is used.",
                               type="array", items={"type": "integer", "minimum": 0}, minItems=1),
        "max_noise": option(0.01, "Upper bound of the GP's noise variance.", type="number", exclusiveMinimum=0),
    }

    @classmethod
    def input_needed(cls, options: dict) -> str:
        return "graph"

    def __init__(self, space: SearchSpace, seed: int, **options):
        super().__init__(space, seed, **options)
        self._features: dict[int, Counter] = {}

    def features(self, arch_id: int) -> Counter:
        if arch_id not in self._features:
            graphs = self.space.graphs
            ops = graphs.ops[arch_id]
            labels = [int(np.argmax(row)) if row.any() else None for row in ops]
            self._features[arch_id] = wl_features(np.asarray(graphs.adjacency[arch_id]), labels, max(self.h_candidates))
        return self._features[arch_id]

    def feature_matrix(self, ids, h: int) -> np.ndarray:
        """Rows: L2-normalised WL histograms of iterations 0..h of `ids` (columns: every label they hold)."""
        counters = [self.features(int(i)) for i in ids]
        columns = {key: k for k, key in enumerate(sorted({key for c in counters for key in c if key[0] <= h},
                                                          key=repr))}
        X = np.zeros((len(counters), len(columns)))
        for row, counter in enumerate(counters):
            for key, count in counter.items():
                if key[0] <= h:
                    X[row, columns[key]] = count
        return X / np.linalg.norm(X, axis=1, keepdims=True)

    # ------------------------------------------------------------------------------------ ask
    def choose(self, rng: np.random.Generator, count: int) -> np.ndarray:
        started = time.perf_counter()
        pool = self.pool(rng)
        mean, sd, h, noise = self.fit_predict(pool)
        ei = expected_improvement(mean, sd, max(self.labels))
        chosen = pool[top_by_acquisition(np.arange(len(pool)), ei, mean, min(count, len(pool)))]
        self._note(n_train=len(self.ids), pool=len(pool), wl_h=h, noise=noise, seconds=time.perf_counter() - started)
        return chosen

    def fit_predict(self, pool: np.ndarray):
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process.kernels import DotProduct, WhiteKernel

        y = np.asarray(self.labels)
        ids = np.concatenate([np.asarray(self.ids), pool])

        def gp(noise, bounds):
            kernel = DotProduct(sigma_0=0.0, sigma_0_bounds="fixed") + WhiteKernel(noise, noise_level_bounds=bounds)
            return GaussianProcessRegressor(kernel, normalize_y=True, optimizer="fmin_l_bfgs_b" if bounds != "fixed"
                                            else None)

        with warnings.catch_warnings():  # a noise at its bound is the authors' clamp too
            warnings.simplefilter("ignore", ConvergenceWarning)
            evidence = {}
            for h in self.h_candidates:
                X = self.feature_matrix(ids, h)
                evidence[h] = gp(INITIAL_NOISE, "fixed").fit(X[: len(y)], y).log_marginal_likelihood_value_
            h = max(evidence, key=evidence.get)  # the first of equal ones, as the authors' strict '<'
            X = self.feature_matrix(ids, h)
            model = gp(INITIAL_NOISE, (MIN_NOISE, self.max_noise)).fit(X[: len(y)], y)
            mean, sd = model.predict(X[len(y):], return_std=True)
        return mean, sd, h, float(model.kernel_.k2.noise_level)

    def pool(self, rng: np.random.Generator) -> np.ndarray:
        operators = self.space.operators
        found: dict[int, None] = {}
        if self.pool_strategy == "mutate":
            ids = np.asarray(self.ids)
            per_parent = self.pool_size // 2 // self.n_best
            for parent in ids[np.argsort(-np.asarray(self.labels), kind="stable")][: self.n_best]:
                genotype, children, tries = operators.genotype(int(parent), rng), 0, MUTATION_PATIENCE
                while children < per_parent and tries > 0:
                    try:
                        child = int(operators.mutate(int(parent), genotype, rng, self.mutation_name)[0])
                    except NasReproError:  # nb101: no valid child within the retry limit
                        break
                    if child < 0 or child == parent or child in found or self.queried[child]:
                        tries -= 1
                        continue
                    found[child] = None
                    children += 1
        free = np.flatnonzero(~self.queried)
        free = free[~np.isin(free, list(found))]
        fill = min(self.pool_size - len(found), len(free))
        return np.concatenate([np.fromiter(found, dtype=np.int64, count=len(found)),
                               rng.choice(free, size=fill, replace=False)]).astype(np.int64)

    # ------------------------------------------------------------------------------------ tell
