"""NAS-BOWL: Bayesian optimisation with a Weisfeiler-Lehman graph kernel (Ru, Wan, Dong and Osborne, ICLR 2021),
after the authors' code xingchenwan/nasbowl (MIT): `nasbench_optimisation.py`, `bayesopt/gp.py`,
`bayesopt/generate_test_graphs.py` (`mutation`, `random_sampling`), `kernels/weisfilerlehman.py`.

One run: `num_init` (10) uniform random architectures, then iterations of `batch_size` (5) queries. Each
iteration fits a GP on every queried architecture's target and ranks a candidate pool by expected
improvement over the best queried target (`GraphExpectedImprovement(in_fill='best')`); the `batch_size` best
unqueried candidates are queried.

The target (`target`): `neglog_error` (the default, the authors' objective: `benchmarks/nas201.py` and `nas101.py`
with `log_scale=True, negative=True` return -log(1 - accuracy), accuracy a fraction), or `accuracy` (the fitting
label itself); either is standardised by the GP (`normalize_y`, as their `GraphGP`).

The graph (`graph`): `pruned` (the default, the authors' `create_nasbench201_graph`): nodes labelled `none` are
removed; nodes labelled `skip_connect` are removed and each of their predecessors joined to each of their
successors (the joins computed on the unpruned graph, all at once, so a chain of two skips loses its path, as in
their code); then, in one pass, every node left without an incoming edge (but the input) or without an outgoing
edge (but the output) is removed (`pruned_graph`). The operations are found by name (`Graphs.op_names`): a space
without them (NAS-Bench-101, whose cells are pruned already) keeps its graph. `full`: the unpruned cell graph.

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

The pool (`generate_test_graphs.mutation`): the `n_best` (10) best queried architectures are each mutated into
up to `n_mutate / n_best` distinct children (50 tries each) by the authors' mutation (`mutation`: NAS-Bench-201
`nasbowl`, each op changed with probability 1/5; NAS-Bench-101 `colab`, edges 1/7 and ops 1/5), then uniform
random architectures fill the pool to `pool_size` (200, the authors' NAS-Bench commands; the script's default is
100). `pool_strategy: mutants` (the NAS-Bench-201 default: their command's `--mutate_size 200`): n_mutate =
`pool_size`, uniform ones only where the mutations run out of tries; `mixed` (the NAS-Bench-101 default: their
command sets no `--mutate_size`, so half): n_mutate = `pool_size / 2`; `random`: the whole pool uniform. Under
`graph: pruned`, as theirs, a child whose pruned graph is empty costs a try and a uniform candidate must have an
edge. Deviations: the authors' pool may hold a queried architecture (their EI can propose it again); here queried
architectures are left out of the pool, so every query is a new architecture; the initial sample is uniform over
all cells (theirs skips the few with an edgeless pruned graph; such a cell's WL features, if queried, are all 0).

Seeds: iteration i draws from `numpy.random.default_rng([seed, i])`.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from itertools import islice

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
ERROR_FLOOR = 1e-6  # -log(1 - accuracy) at 100% accuracy


def pruned_graph(adjacency: np.ndarray, labels: list, drop=(), bridge=()) -> tuple[np.ndarray, list]:
    """The authors' NAS-Bench-201 pruning (`create_nasbench201_graph`): nodes whose label is in `drop` removed,
    nodes whose label is in `bridge` removed with each predecessor joined to each successor (joins from the
    unpruned graph), then one pass removing each node left without incoming edges that had some, or without
    outgoing edges that had some (the input and the output keep theirs). Removed nodes get the label None."""
    nodes = [v for v, label in enumerate(labels) if label is not None]
    edges = {(u, v) for u in nodes for v in nodes if adjacency[u, v]}
    removed = {v for v in nodes if labels[v] in drop or labels[v] in bridge}
    edges |= {(u, w) for v in removed if labels[v] in bridge
              for u, _ in [e for e in edges if e[1] == v] for _, w in [e for e in edges if e[0] == v]}
    kept = [v for v in nodes if v not in removed]
    left = {(u, v) for u, v in edges if u in kept and v in kept}
    dangling = {v for v in kept
                if (any(e[1] == v for e in edges) and not any(e[1] == v for e in left))
                or (any(e[0] == v for e in edges) and not any(e[0] == v for e in left))}
    new = np.zeros_like(adjacency)
    for u, v in left:
        if u not in dangling and v not in dangling:
            new[u, v] = 1
    return new, [labels[v] if v in kept and v not in dangling else None for v in range(len(labels))]


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
    needs = frozenset({"graphs", "mutation"})
    prefix_stable = True
    options = {
        "num_init": option(10, "Uniform random architectures before the first GP.", type="integer", minimum=1),
        "batch_size": option(5, "Architectures queried per iteration (the best by EI).", type="integer", minimum=1),
        "pool_size": option(200, "Candidates ranked per iteration.", type="integer", minimum=1),
        "pool_strategy": option("mutants", "mutants (the pool mutated from the best, uniform only where mutation runs "
                                "out: the authors' NAS-Bench-201 command), mixed (half mutated, half uniform: their "
                                "NAS-Bench-101 command) or random.", by_space={"nb101": "mixed"},
                                enum=["mutants", "mixed", "random"]),
        "n_best": option(10, "Best queried architectures mutated.", type="integer", minimum=1),
        "mutation": option("nasbowl", "The space's mutation.", by_space={"nb101": "colab"}, type="string"),
        "h_candidates": option([1, 2, 3], "WL iterations tried; the one of largest marginal likelihood is used.",
                               type="array", items={"type": "integer", "minimum": 0}, minItems=1),
        "max_noise": option(0.01, "Upper bound of the GP's noise variance.", type="number", exclusiveMinimum=0),
        "graph": option("pruned", "pruned (none and skip_connect nodes removed, skips as edges, then dangling "
                        "nodes: the authors' graph) or full (the unpruned cell graph).", enum=["pruned", "full"]),
        "target": option("neglog_error", "The GP's target: neglog_error (-log(1 - accuracy), the authors') or "
                         "accuracy (the fitting label; on TransNAS-Bench-101, whose tasks' labels are not all "
                         "accuracies).", by_space={"transnas_micro": "accuracy"}, enum=["neglog_error", "accuracy"]),
    }
    DEPARTURES = {"pool_strategy": {"mixed": "NASBOWL's pool: half mutants, half uniform (the authors' NAS-Bench-201 "
                                             "command mutates the whole pool: --mutate_size 200)."},
                  "graph": {"full": "NASBOWL's WL kernel on the unpruned cell graph (the authors' drops none and "
                                    "skip_connect nodes, then dangling ones)."},
                  "target": {"accuracy": "NASBOWL's GP on the standardised accuracy (the authors' on -log(1 - "
                                         "accuracy))."}}

    @classmethod
    def input_needed(cls, options: dict) -> str:
        return "graph"

    @classmethod
    def protocol_notes(cls, options: dict) -> list[str]:
        """A line for each option set away from the authors' setting (NAS-Bench-101's `mixed` pool is theirs there,
        yet noted: the notes do not know the space)."""
        return [note for name, notes in cls.DEPARTURES.items() for value, note in notes.items()
                if options.get(name) == value]

    def __init__(self, space: SearchSpace, seed: int, **options):
        super().__init__(space, seed, **options)
        self._features: dict[int, Counter] = {}
        self._graphs: dict[int, tuple[np.ndarray, list]] = {}

    def cell_graph(self, arch_id: int) -> tuple[np.ndarray, list]:
        """(adjacency, node labels; None: no node) of an architecture, pruned under `graph: pruned`."""
        if arch_id not in self._graphs:
            graphs = self.space.graphs
            labels = [int(np.argmax(row)) if row.any() else None for row in graphs.ops[arch_id]]
            adjacency = np.asarray(graphs.adjacency[arch_id])
            if self.graph == "pruned":
                names = dict(enumerate(graphs.op_names))
                adjacency, labels = pruned_graph(adjacency, labels, drop={k for k, n in names.items() if n == "none"},
                                                 bridge={k for k, n in names.items() if n == "skip_connect"})
            self._graphs[arch_id] = adjacency, labels
        return self._graphs[arch_id]

    def features(self, arch_id: int) -> Counter:
        if arch_id not in self._features:
            self._features[arch_id] = wl_features(*self.cell_graph(arch_id), max(self.h_candidates))
        return self._features[arch_id]

    def usable(self, arch_id: int, uniform: bool) -> bool:
        """The authors' filter under `graph: pruned`: a mutant's pruned graph has a node, a uniform one an edge."""
        if self.graph != "pruned":
            return True
        adjacency, labels = self.cell_graph(arch_id)
        return bool(adjacency.any()) if uniform else any(label is not None for label in labels)

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
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        return np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)  # an empty graph: all 0

    # ------------------------------------------------------------------------------------ ask
    def choose(self, rng: np.random.Generator, count: int) -> np.ndarray:
        started = time.perf_counter()
        pool = self.pool(rng)
        mean, sd, h, noise = self.fit_predict(pool)
        ei = expected_improvement(mean, sd, float(self.targets().max()))
        chosen = pool[top_by_acquisition(np.arange(len(pool)), ei, mean, min(count, len(pool)))]
        self._note(n_train=len(self.ids), pool=len(pool), wl_h=h, noise=noise, seconds=time.perf_counter() - started)
        return chosen

    def fit_predict(self, pool: np.ndarray):
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process.kernels import DotProduct, WhiteKernel

        y = self.targets()
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

    def targets(self) -> np.ndarray:
        """The GP's targets of the queried architectures (`target`)."""
        y = np.asarray(self.labels, dtype=np.float64)
        if self.target == "accuracy":
            return y
        if y.min() < 0 or y.max() > 100:
            raise NasReproError(f"nasbowl: target neglog_error needs accuracies in percent, got {y.min():g} to "
                                f"{y.max():g}; use target: accuracy")
        return -np.log(np.maximum(1 - y / 100, ERROR_FLOOR))

    def pool(self, rng: np.random.Generator) -> np.ndarray:
        operators = self.space.operators
        found: dict[int, None] = {}
        if self.pool_strategy != "random":
            ids = np.asarray(self.ids)
            per_parent = self.pool_size // (1 if self.pool_strategy == "mutants" else 2) // self.n_best
            for parent in ids[np.argsort(-np.asarray(self.labels), kind="stable")][: self.n_best]:
                genotype, children, tries = operators.genotype(int(parent), rng), 0, MUTATION_PATIENCE
                while children < per_parent and tries > 0:
                    try:
                        child = int(operators.mutate(int(parent), genotype, rng, self.mutation_name)[0])
                    except NasReproError:  # nb101: no valid child within the retry limit
                        break
                    if (child < 0 or child == parent or child in found or self.queried[child]
                            or not self.usable(child, uniform=False)):
                        tries -= 1
                        continue
                    found[child] = None
                    children += 1
        free = np.flatnonzero(~self.queried)
        free = free[~np.isin(free, list(found))]
        fill = min(self.pool_size - len(found), len(free))
        if self.graph == "pruned":  # uniform ones with an edge, drawn in a random order
            uniform = np.fromiter(islice((i for i in rng.permutation(free) if self.usable(int(i), uniform=True)), fill),
                                  dtype=np.int64)
        else:
            uniform = rng.choice(free, size=fill, replace=False)
        self._note(pool_mutants=len(found))
        return np.concatenate([np.fromiter(found, dtype=np.int64, count=len(found)), uniform]).astype(np.int64)

    # ------------------------------------------------------------------------------------ tell
