"""Neural Predictor for Neural Architecture Search (Wen et al., ECCV 2020): one GCN fitted on N random
architectures ranks the rest, and the best-ranked are queried.

The paper's protocol: query N uniform random architectures (N = 172 on NAS-Bench-101, `num_train`),
fit the predictor once on them (`predictor`, default the paper's GCN, `nasrepro.predictors.gcn`),
predict a large pool of unqueried architectures (`pool_size`; null = every unqueried architecture of
the benchmark) and query the predicted top K (K = 20, `top_k`): the run ends after N + K queries. Here
the run ends when the budget does: after the first top-K batch the method continues down the same
ranking, K architectures per iteration, without refitting, so a budget of N + K queries is the paper's
protocol and a longer budget extends it (Table 4's rows at several budgets come from one run).

naszilla's `gcn_predictor` (naszilla/nas_algorithms.py) is a variant with N = total − K, K =
20/172 · total and a random pool of 50 · total architectures; it ranks the pool but then queries the
pool's first K entries instead of the predicted top K (`sorted_indices` is never used). This class
queries the predicted top K, as the paper describes.

Seeds: the N samples and the pool are drawn from `numpy.random.default_rng([seed, ...])`, the
predictor is seeded with a seed derived from the run's seed.
"""

from __future__ import annotations

import time

import numpy as np

from ..plugins import option
from ..predictors import make_predictor, predictor_class, predictor_spec
from .base import PredictorState, Searcher, SearchSpace
from .weaknas import derived_seed

DEFAULT_PREDICTOR = {"type": "gcn"}


class NeuralPredictor(Searcher):
    prefix_stable = True
    options = {
        "num_train": option(172, "Uniform random architectures the predictor is fitted on (N; the paper's "
                            "NAS-Bench-101 number).", type="integer", minimum=1),
        "top_k": option(20, "Architectures queried per iteration after the fit, best predicted first (K).",
                        type="integer", minimum=1),
        "pool_size": option(None, "Unqueried architectures drawn uniformly to be ranked (null: all of them).",
                            type=["integer", "null"], minimum=1),
        "predictor": option(dict(DEFAULT_PREDICTOR), "The predictor: a type name or a block with `type` and that "
                            "predictor's options (default: the paper's GCN).", type=["object", "string"]),
    }

    def __init__(self, space: SearchSpace, seed: int, **options):
        super().__init__(space, seed, **options)
        self.predictor_spec = predictor_spec(self.predictor)
        self.inputs = space.graphs if predictor_class(self.predictor_spec).input == "graph" else space.features
        self.queried = np.zeros(space.size, dtype=bool)
        rng = np.random.default_rng([seed, 0])
        self.initial = rng.choice(space.size, size=min(self.num_train, space.size), replace=False)
        self.train_ids: list[int] = []
        self.train_labels: list[float] = []
        self.ranking: np.ndarray | None = None  # the pool's ids, best predicted first
        self.position = 0  # next place in the ranking

    def ask(self, max_queries: int) -> np.ndarray:
        if max_queries < 1:
            return np.empty(0, dtype=np.int64)
        if self.ranking is None:  # the N uniform samples (split only when the budget is smaller than N)
            return self.initial[len(self.train_ids) : len(self.train_ids) + max_queries]
        while self.position < len(self.ranking) and self.queried[self.ranking[self.position]]:
            self.position += 1
        return self.ranking[self.position : self.position + min(self.top_k, max_queries)]  # queried when told

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        self.queried[ids] = True
        self.predictor_state = None
        if self.ranking is None:
            self.train_ids += ids.tolist()
            self.train_labels += np.asarray(labels, dtype=np.float64).tolist()
            if len(self.train_ids) >= len(self.initial):
                self._fit_and_rank()
        self._note(batch=len(ids), queried_total=int(self.queried.sum()))
        self.iteration += 1

    def _fit_and_rank(self) -> None:
        started = time.perf_counter()
        predictor = make_predictor(self.predictor_spec, random_state=derived_seed(self.seed, 1))
        train = np.asarray(self.train_ids)
        predictor.fit(self.inputs[train], np.asarray(self.train_labels))
        fitted = time.perf_counter()
        scores = np.asarray(predictor.predict(self.inputs), dtype=np.float64)  # every architecture (diagnostics)
        unqueried = np.flatnonzero(~self.queried)
        if self.pool_size is not None and self.pool_size < len(unqueried):
            pool = np.sort(np.random.default_rng([self.seed, 1]).choice(unqueried, size=self.pool_size, replace=False))
        else:
            pool = unqueried
        self.ranking = pool[np.argsort(-scores[pool], kind="stable")]
        top1 = int(np.argmax(scores))
        self.predictor_state = PredictorState(scores=scores, top1=top1, pool=None)
        self._note(n_train=len(train), pred_top1=top1, pool_size=len(pool), epochs=getattr(predictor, "n_epochs_", None),
                   fit_seconds=fitted - started, rank_seconds=time.perf_counter() - fitted)

