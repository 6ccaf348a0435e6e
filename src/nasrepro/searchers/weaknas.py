"""WeakNAS: a sequence of weak predictors, each fitted on everything queried so far, that narrows
sampling to the predicted Top-N (Wu et al., NeurIPS 2021), following the reference code's protocol.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..errors import NasReproError
from ..predictors import make_predictor
from .base import Searcher, SearchSpace

POOL_SEMANTICS = ("code", "paper")
ZSCORE = ("benchmark", "queried")
DEFAULT_PREDICTOR = {"type": "mlp"}


def query_schedule(init_sample: int, sample_each_iter: int, max_sample: int) -> list[int]:
    """Samples per iteration, as the reference code lays them out (iteration 0 is the uniform batch)."""
    if init_sample > sample_each_iter:
        rest = math.ceil((max_sample - init_sample + sample_each_iter) / sample_each_iter - 1)
        return [init_sample] + [sample_each_iter] * rest
    return [sample_each_iter] * math.ceil((max_sample - init_sample + sample_each_iter) / sample_each_iter)


def top_n_schedule(top_start: int, top_end: int, top_decay: float, iterations: int) -> list[int]:
    """N per iteration, decaying exponentially from top_start to top_end (constant when they are equal)."""
    if iterations == 1:
        return [top_start]
    positions = np.arange(iterations) * 99 / (iterations - 1)
    shape = (top_decay**positions - top_decay**99) / (1 - top_decay**99)
    return [int(math.floor(top_end + (top_start - top_end) * s)) for s in shape]


def derived_seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


class WeakNAS(Searcher):
    uses_features = True

    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        init_sample: int = 10,
        sample_each_iter: int = 10,
        max_sample: int | None = None,
        top_start: int = 100,
        top_end: int = 100,
        top_decay: float = 0.96,
        pool: str = "code",
        zscore: str = "benchmark",
        predictor: dict | None = None,
    ):
        super().__init__(space, seed)
        if pool not in POOL_SEMANTICS:
            raise NasReproError(f"unknown pool semantics {pool!r}; known: {', '.join(POOL_SEMANTICS)}")
        if zscore not in ZSCORE:
            raise NasReproError(f"unknown zscore {zscore!r}; known: {', '.join(ZSCORE)}")
        self.schedule = query_schedule(init_sample, sample_each_iter, max_sample or space.size)
        self.top_n = top_n_schedule(top_start, top_end, top_decay, len(self.schedule))
        self.pool_semantics = pool
        self.zscore = zscore
        self.predictor_spec = predictor or DEFAULT_PREDICTOR
        self.queried = np.zeros(space.size, dtype=bool)
        self.train_ids: list[np.ndarray] = []
        self.train_labels: list[np.ndarray] = []
        self.ranking: np.ndarray | None = None  # architecture ids, best predicted first
        self.iteration = 0

    def ask(self, max_queries: int) -> np.ndarray:
        if self.iteration >= len(self.schedule):
            return np.empty(0, dtype=np.int64)
        count = min(self.schedule[self.iteration], max_queries, int((~self.queried).sum()))
        rng = np.random.default_rng([self.seed, self.iteration])
        if self.ranking is None:
            return rng.choice(self.space.size, size=count, replace=False)
        candidates = self.candidate_pool(self.top_n[self.iteration - 1])
        if count <= len(candidates):
            self._note(pool_size=len(candidates), greedy_fallback=False)
            return rng.choice(candidates, size=count, replace=False)
        # The reference code's fallback when the pool is too small: the best-ranked unqueried.
        self._note(pool_size=len(candidates), greedy_fallback=True)
        return self.ranking[~self.queried[self.ranking]][:count]

    def candidate_pool(self, top_n: int) -> np.ndarray:
        """Code: Top-N over all architectures, minus the queried. Paper (Eq. 3): Top-N of the unqueried."""
        if self.pool_semantics == "code":
            top = self.ranking[:top_n]
            return top[~self.queried[top]]
        return self.ranking[~self.queried[self.ranking]][:top_n]

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        self.queried[ids] = True
        self.train_ids.append(np.asarray(ids))
        self.train_labels.append(np.asarray(labels, dtype=np.float64))
        started = time.perf_counter()
        X = self.space.features[np.concatenate(self.train_ids)]
        predictor = make_predictor(self.predictor_spec, random_state=derived_seed(self.seed, self.iteration, 0))
        predictor.fit(X, self._scaled(np.concatenate(self.train_labels)))
        fitted = time.perf_counter()
        predictions = predictor.predict(self.space.features)
        self.ranking = np.argsort(-predictions, kind="stable")
        self._note(
            n_train=len(X),
            pred_top1=int(self.ranking[0]),
            epochs=getattr(predictor, "n_epochs_", None),
            top_n=self.top_n[self.iteration],
            fit_seconds=fitted - started,
            rank_seconds=time.perf_counter() - fitted,
        )
        self.iteration += 1

    def _scaled(self, labels: np.ndarray) -> np.ndarray:
        if self.zscore == "benchmark":
            mean, std = self.space.fit_label_mean, self.space.fit_label_std
        else:
            mean, std = labels.mean(), labels.std()
        return (labels - mean) / (std if std > 0 else 1.0)

    def _note(self, **values) -> None:
        while len(self.iterations) <= self.iteration:
            self.iterations.append({"iteration": len(self.iterations)})
        self.iterations[self.iteration].update(values)
