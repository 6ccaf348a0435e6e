"""WeakNAS: a sequence of weak predictors, each fitted on everything queried so far, that narrows
sampling to the predicted Top-N (Wu et al., NeurIPS 2021), following the reference code's protocol.

Variants (reference-protocol.md §1.6-1.9), each a named option whose default is the reference code's:
- `sampling`: how the next batch is chosen. "uniform" inside the Top-N pool (the released code);
  "linear_decay" / "exp_decay" inside the pool, weighted by predicted rank (Table 2; in no released
  code, so an approximate reproduction, §1.7 [INFER]); "ei": the top-M unqueried by expected improvement
  of an ensemble (the BO variant, §1.9), with no pool.
- `keep_old`: which queried architectures the next predictor is fitted on (all / top / none, §1.6 step 3).
- `ensemble`, `ei_calibration`, `ei_incumbent`: the EI ensemble size, the σ divisor and the incumbent
  ("as_code": the reference's wrong-sign minimum of the queried z-scores; "correct": −max).
"""

from __future__ import annotations

import math
import time

import numpy as np

from .. import lazy
from ..errors import NasReproError
from ..plugins import option
from ..predictors import make_predictor, predictor_class, predictor_spec
from .base import PredictorState, Searcher, SearchSpace

scipy = lazy.module("scipy")  # loaded on first use (nasrepro.lazy): validating a config imports this module

POOL_SEMANTICS = ("code", "paper")
ZSCORE = ("benchmark", "queried")
SAMPLING = ("uniform", "linear_decay", "exp_decay", "ei")
KEEP_OLD = ("all", "top", "none")
EI_INCUMBENT = ("as_code", "correct")
APPROXIMATE_SAMPLING = ("linear_decay", "exp_decay")  # no released code: §1.7's proposed definition
DEFAULT_PREDICTOR = {"type": "mlp"}
DEFAULT_EI_ENSEMBLE = 5


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


TIE_STREAM = 0x71E5  # the random stream that orders equal predictions


def rank_best_first(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Architecture ids, highest score first; equal scores in a random order drawn from `rng` (the
    reference's order among ties is unrelated to the id, and tree predictors tie often at the Top-N
    cut). Without ties this is exactly the descending sort."""
    shuffled = rng.permutation(len(scores))
    return shuffled[np.argsort(-np.asarray(scores)[shuffled], kind="stable")]


def derived_seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


# ------------------------------------------------------------------------- sampling inside a pool
def linear_decay_weights(size: int, exp_decay_ratio: float) -> np.ndarray:
    """w_r ∝ |C| − r + 1 for predicted rank r = 1..|C| (1 = best)."""
    return np.arange(size, 0, -1, dtype=np.float64)


def exp_decay_weights(size: int, exp_decay_ratio: float) -> np.ndarray:
    """w_r ∝ γ^(r−1), γ chosen so that w_|C| / w_1 = exp_decay_ratio."""
    return exp_decay_ratio ** (np.arange(size, dtype=np.float64) / max(size - 1, 1))


RANK_WEIGHTS = {"linear_decay": linear_decay_weights, "exp_decay": exp_decay_weights}


def draw_from_pool(rule: str, rng: np.random.Generator, pool: np.ndarray, count: int,
                   exp_decay_ratio: float = 0.01) -> np.ndarray:
    """Draw `count` of `pool` (ordered best predicted first) without replacement under `rule`."""
    if rule == "uniform":
        return rng.choice(pool, size=count, replace=False)  # the reference's draw, unchanged
    weights = RANK_WEIGHTS[rule](len(pool), exp_decay_ratio)
    return rng.choice(pool, size=count, replace=False, p=weights / weights.sum())


# --------------------------------------------------------------------------- expected improvement
def ei_incumbent(scaled_labels: np.ndarray, rule: str) -> float:
    """y* of the negated (minimisation) objective. "as_code" keeps the reference's sign slip:
    the minimum of the un-negated z-scores (the worst queried); "correct" is −max (the best queried)."""
    return float(scaled_labels.min()) if rule == "as_code" else -float(scaled_labels.max())


def expected_improvement(predictions: np.ndarray, incumbent: float, calibration: float) -> np.ndarray:
    """EI per architecture from an ensemble's predictions (members × architectures, higher = better).

    μ = mean of the negated predictions, σ' = population SD / calibration, γ = (y* − μ)/σ',
    EI = σ'(γΦ(γ) + φ(γ)); where σ' = 0 the limit max(y* − μ, 0).
    """
    predictions = np.asarray(predictions, dtype=np.float64)
    mu = -predictions.mean(axis=0)
    sigma = predictions.std(axis=0) / calibration
    improvement = incumbent - mu
    ei = np.maximum(improvement, 0.0)
    spread = sigma > 0
    gamma = improvement[spread] / sigma[spread]
    ei[spread] = sigma[spread] * (gamma * scipy.special.ndtr(gamma) + np.exp(-0.5 * gamma**2) / math.sqrt(2 * math.pi))
    return ei


def top_by_acquisition(candidates: np.ndarray, acquisition: np.ndarray, mean: np.ndarray, count: int) -> np.ndarray:
    """The `count` candidates with the highest acquisition; ties by predicted mean, then by id."""
    values = acquisition[candidates]
    if count < len(candidates):  # only what can make the cut (every tie at the cut included) is sorted
        cut = np.partition(values, len(values) - count)[len(values) - count]
        contenders = values >= cut
        candidates, values = candidates[contenders], values[contenders]
    order = np.lexsort((-mean[candidates], -values))
    return candidates[order[:count]]


class WeakNAS(Searcher):
    """The options' defaults are the reference code's NAS-Bench-201 settings."""

    options = {
        "init_sample": option(10, "Uniform samples at iteration 0 (the paper's NAS-Bench-101 setting: 100).",
                              by_space={"nb101": 100}, type="integer", minimum=1),
        "sample_each_iter": option(10, "Samples per later iteration (M).", type="integer", minimum=1),
        "max_sample": option(None, "Length of the query schedule, which the Top-N decays over (null: the run's "
                             "budget, the reference code's max_sample; the whole space when no budget is given).",
                             type=["integer", "null"], minimum=1),
        "top_start": option(100, "Top-N at the first iteration.", type="integer", minimum=1),
        "top_end": option(100, "Top-N at the last iteration.", type="integer", minimum=1),
        "top_decay": option(0.96, "Decay base of the Top-N schedule.", type="number", exclusiveMinimum=0,
                            exclusiveMaximum=1),
        "pool": option("code", "Top-N pool semantics: code (Top-N of all, minus queried) or paper (Top-N of the "
                       "unqueried, Eq. 3).", enum=list(POOL_SEMANTICS)),
        "zscore": option("benchmark", "Z-score the labels with whole-benchmark statistics (the code) or the queried "
                         "ones.", enum=list(ZSCORE)),
        "predictor": option({"type": "mlp"}, "The predictor: a type name (mlp, gbrt, random_forest, ...) or a block "
                            "with `type` and that predictor's options.", type=["object", "string"]),
        "sampling": option("uniform", "How the next batch is chosen: uniform in the Top-N pool, linear_decay / "
                           "exp_decay (rank-weighted in the pool; no released code, approximate), or ei (top-M "
                           "unqueried by expected improvement over an ensemble).", enum=list(SAMPLING)),
        "keep_old": option("all", "Training set: all queried, top (queried inside the current Top-N plus the new "
                           "batch), or none (the new batch only).", enum=list(KEEP_OLD)),
        "exp_decay_ratio": option(0.01, "exp_decay: weight of the worst pool member relative to the best.",
                                  type="number", exclusiveMinimum=0, maximum=1),
        "ensemble": option(None, "Predictors per iteration, same settings, different seeds (null: 5 for ei, else 1).",
                           type=["integer", "null"], minimum=1),
        "ei_calibration": option(5.0, "ei: the ensemble SD is divided by this factor (5 in the reference).",
                                 type="number", exclusiveMinimum=0),
        "ei_incumbent": option("as_code", "ei: as_code (the reference's minimum of the queried z-scores) or correct "
                               "(minus the maximum).", enum=list(EI_INCUMBENT)),
    }

    @classmethod
    def protocol_notes(cls, options: dict) -> list[str]:
        if options.get("sampling") not in APPROXIMATE_SAMPLING:
            return []
        return ["Linear- and exponential-decay sampling exist in no released code: their rows are approximate "
                "reproductions (rank-weighted draws, reference protocol §1.7)."]

    @classmethod
    def shares_prefix(cls, options: dict) -> bool:
        """A Top-N that decays over the budget (max_sample: null) makes every draw depend on the budget."""
        return options["max_sample"] is not None or options["top_start"] == options["top_end"]

    @classmethod
    def check_options(cls, options: dict, space) -> None:
        if options.get("sampling") == "ei" and options.get("keep_old") == "top":
            raise NasReproError("keep_old 'top' needs a Top-N pool; sampling 'ei' has none")

    def __init__(self, space: SearchSpace, seed: int, **options):
        super().__init__(space, seed, **options)
        self.check_options({name: getattr(self, name) for name in WeakNAS.options}, space)
        self.schedule = query_schedule(self.init_sample, self.sample_each_iter, self.max_sample or self.budget or space.size)
        self.top_n = top_n_schedule(self.top_start, self.top_end, self.top_decay, len(self.schedule))
        self.predictor_spec = predictor_spec(self.predictor)
        self.inputs = space.graphs if predictor_class(self.predictor_spec).input == "graph" else space.features
        if self.ensemble is None:
            self.ensemble = DEFAULT_EI_ENSEMBLE if self.sampling == "ei" else 1
        self.queried = np.zeros(space.size, dtype=bool)
        self.train_ids: list[np.ndarray] = []  # every batch queried, in query order
        self.train_labels: list[np.ndarray] = []
        self.fitted_ids: np.ndarray | None = None  # what the last predictor was fitted on
        self.ranking: np.ndarray | None = None  # architecture ids, best predicted first
        self.mean_prediction: np.ndarray | None = None  # the ensemble mean (the prediction when E = 1)
        self.acquisition: np.ndarray | None = None  # EI per architecture (sampling "ei" only)
        self.region: np.ndarray | None = None  # the Top-N stretch of the ranking the next batch comes from
        self._last_predictor = None

    # ------------------------------------------------------------------------------------ ask
    def ask(self, max_queries: int) -> np.ndarray:
        if self.iteration >= len(self.schedule):
            return np.empty(0, dtype=np.int64)
        count = min(self.schedule[self.iteration], max_queries, int((~self.queried).sum()))
        rng = np.random.default_rng([self.seed, self.iteration])
        if self.ranking is None:
            self.region = None  # the whole space
            return rng.choice(self.space.size, size=count, replace=False)
        return self._acquire(rng, count)

    def _acquire(self, rng: np.random.Generator, count: int) -> np.ndarray:
        if self.sampling == "ei":
            return top_by_acquisition(np.flatnonzero(~self.queried), self.acquisition, self.mean_prediction, count)
        top_n = self.top_n[self.iteration - 1]
        candidates = self.candidate_pool(top_n)
        if self.keep_old == "top":
            self.region = self.top_region(top_n)
        fallback = count > len(candidates)
        self._note(pool_size=len(candidates), greedy_fallback=fallback)
        if not fallback:
            return draw_from_pool(self.sampling, rng, candidates, count, self.exp_decay_ratio)
        # The reference code's fallback when the pool is too small: the best-ranked unqueried.
        return self.ranking[~self.queried[self.ranking]][:count]

    def candidate_pool(self, top_n: int) -> np.ndarray:
        """Code: Top-N over all architectures, minus the queried. Paper (Eq. 3): Top-N of the unqueried.
        Either way ordered best predicted first."""
        if self.pool == "code":
            top = self.ranking[:top_n]
            return top[~self.queried[top]]
        return self.ranking[~self.queried[self.ranking]][:top_n]

    def top_region(self, top_n: int) -> np.ndarray:
        """The stretch of the ranking the pool is cut from, queried architectures included: the Top-N
        (code), or the ranking down to its N-th unqueried member (paper). keep_old 'top' keeps these."""
        if self.pool == "code":
            return self.ranking[:top_n]
        unqueried_seen = np.cumsum(~self.queried[self.ranking])
        return self.ranking[: int(np.searchsorted(unqueried_seen, top_n)) + 1]

    def next_pool(self) -> np.ndarray | None:
        """The ids the next batch is drawn from (None when it is not a draw from a pool)."""
        if self.sampling == "ei":
            return None
        return self.candidate_pool(self.top_n[self.iteration])

    # ----------------------------------------------------------------------------------- tell
    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        ids = np.asarray(ids)
        self.queried[ids] = True
        self.train_ids.append(ids)
        self.train_labels.append(np.asarray(labels, dtype=np.float64))
        train_ids, train_labels = self._training_set(ids)
        scaled, scale = self._scaled(train_labels)
        predictions, fit_seconds, rank_seconds = self._fit_ensemble(self.inputs[train_ids], scaled)
        self.fitted_ids = train_ids
        started = time.perf_counter()
        self._rank(predictions)
        rank_seconds += time.perf_counter() - started
        top1 = int(np.argmax(predictions[-1]))  # the reference reports the last member's argmax
        self._note(
            sampling=self.sampling,
            approximate=self.sampling in APPROXIMATE_SAMPLING,
            keep_old=self.keep_old,
            n_train=len(train_ids),
            pred_top1=top1,
            epochs=getattr(self._last_predictor, "n_epochs_", None),
            top_n=self.top_n[self.iteration],
            fit_seconds=fit_seconds,
            rank_seconds=rank_seconds,
        )
        if getattr(self._last_predictor, "kernel_", None):  # the MLP's ranking kernel (predictors.scoring)
            self._note(scoring_kernel=self._last_predictor.kernel_)
        if self.ensemble > 1 or self.sampling == "ei":
            self._note(pred_top1_mean=int(self.ranking[0]))  # the ensemble mean's argmax
        if self.sampling == "ei":
            self._update_acquisition(predictions, scale)
        scores = np.asarray(self.mean_prediction, dtype=np.float64)
        self.predictor_state = PredictorState(scores=scores, top1=top1, pool=self.next_pool())
        self.iteration += 1

    def _training_set(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids, labels) the next predictor is fitted on, in query order, per `keep_old`."""
        ids = np.concatenate(self.train_ids)
        labels = np.concatenate(self.train_labels)
        if self.keep_old == "all":
            return ids, labels
        keep = np.zeros(self.space.size, dtype=bool)
        if self.keep_old == "top":
            keep[self.region if self.region is not None else slice(None)] = True
        keep[batch] = True
        chosen = keep[ids]
        return ids[chosen], labels[chosen]

    def _fit_ensemble(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
        """Fit `ensemble` predictors (seeds differ per member) and predict every architecture."""
        predictions, fit_seconds, predict_seconds = [], 0.0, 0.0
        for member in range(self.ensemble):
            started = time.perf_counter()
            seed = derived_seed(self.seed, self.iteration, member)
            predictor = make_predictor(self.predictor_spec, random_state=seed)
            predictor.fit(X, y)
            fitted = time.perf_counter()
            predictions.append(predictor.predict(self.inputs))
            fit_seconds += fitted - started
            predict_seconds += time.perf_counter() - fitted
        self._last_predictor = predictor
        return np.stack(predictions), fit_seconds, predict_seconds

    def _rank(self, predictions: np.ndarray) -> None:
        self.mean_prediction = predictions[0] if len(predictions) == 1 else predictions.mean(axis=0, dtype=np.float64)
        self.ranking = rank_best_first(self.mean_prediction, np.random.default_rng([self.seed, self.iteration, TIE_STREAM]))

    def _update_acquisition(self, predictions: np.ndarray, scale: tuple[float, float]) -> None:
        started = time.perf_counter()
        mean, std = scale
        queried_scaled = (np.concatenate(self.train_labels) - mean) / std
        incumbent = ei_incumbent(queried_scaled, self.ei_incumbent)
        self.acquisition = expected_improvement(predictions, incumbent, self.ei_calibration)
        self._note(ei_y_star=incumbent, ei_seconds=time.perf_counter() - started)

    def _scaled(self, labels: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
        """Z-scored fitting labels and the (mean, std) used: the whole benchmark's or the training set's."""
        if self.zscore == "benchmark":
            mean, std = self.space.fit_label_mean, self.space.fit_label_std
        else:
            mean, std = labels.mean(), labels.std()
        std = std if std > 0 else 1.0
        return (labels - mean) / std, (mean, std)

