"""NPENAS: neural predictor guided evolution for NAS (Wei, Niu, Tang, Wang, Hu and Liang, IEEE TNNLS
2022, arXiv:2003.12857), after the authors' code auroua/NPENASv1: `nas_lib/algos/predictor.py`
(`gin_uncertainty_predictor_nasbench_201` / `gin_uncertainty_case2`: NPENAS-BO; `gin_predictor_nasbench_201`
/ `gin_predictor_case2`: NPENAS-NP), the candidate generation `get_candidates`
(`nas_lib/data/data_nasbench_201.py`, `nas_lib/data/data_nasbench2.py`), the acquisition `acq_fn(...,
'its_vae')` (`nas_lib/algos/acquisition_functions.py`) and the settings of `nas_lib/configs.py`
(`algo_params_close_domain`, comparison "algorithm", `nasbench_201` and `nasbench101_case2`).

One run: `num_init` (10) distinct uniform random architectures, then iterations of `k` (10) queries.
Each iteration trains a fresh GIN predictor (`nasrepro.predictors.gin`) on everything queried and
builds the candidates by evolution: the parents are the best `num_best × patience_factor` (10 × 5)
queried architectures by fitting label, best first; each parent is mutated `num_candidates` (100) times
by the space's mutation (`mutation`; null: the space's first, `Space.mutations[0]`: AutoDL's one-op
edit on NAS-Bench-201, exactly the authors' `mutate`; the colab's bit flip 1/7, op 1/5 on
NAS-Bench-101, the authors' `mutate2` at mutation_rate 1), children already queried or already
candidates dropped (`dedup: path`, the authors' default: a child whose path encoding equals a queried
architecture's or an earlier candidate's is dropped, isomorphs included; the space's `Operators.paths`:
`path364` on NAS-Bench-101, `path155` without the paths through a 'none' edge on NAS-Bench-201, 8,045 distinct
keys for 15,625 cells; `dedup: id`: only repeated ids), until `num_candidates` are found; the first `num_candidates` are kept. The predictor ranks them and the `k`
best are queried:
- NPENAS-BO (`npenas_bo`): the GIN with the mean/SD head (celu, 1000 epochs, lr 0.005), each candidate
  scored by one independent draw from N(mean, SD) (the authors' network returns mean + SD·ε with ε
  standard normal and ranks by it: independent Thompson sampling with the predicted uncertainty).
- NPENAS-NP (`npenas_np`): the plain GIN regressor (relu, sigmoid × rate on the error, 300 epochs, lr
  0.005), greedy on the predicted value.
Where fewer than `k` candidates exist the batch is filled with uniform unqueried architectures (the
authors would query fewer).

Seeds: iteration i draws from `numpy.random.default_rng([seed, i])`; the predictor is seeded with
`derived_seed(seed, i)`.
"""

from __future__ import annotations

import time
from typing import ClassVar

import numpy as np

from ..errors import NasReproError
from ..plugins import option
from ..predictors import make_predictor, predictor_class, predictor_spec
from .base import MUTATION, SearchSpace
from .batched import BatchedSearcher
from .candidates import mutated_children
from .weaknas import derived_seed, top_by_acquisition


def _options(predictor: dict, description: str) -> dict:
    return {
        "num_init": option(10, "Uniform random architectures before the first predictor.", type="integer", minimum=1),
        "k": option(10, "Architectures queried per iteration (the best k candidates).", type="integer", minimum=1),
        "num_candidates": option(100, "Candidates per iteration; each parent is mutated this many times.",
                                 type="integer", minimum=1),
        "num_best": option(10, "num_best x patience_factor best queried architectures may be parents (authors 10).",
                           type="integer", minimum=1),
        "patience_factor": option(5, "See num_best (authors 5).", type="integer", minimum=1),
        "mutation": MUTATION,
        "predictor": option(dict(predictor), description, type=["object", "string"]),
        "dedup": option("path", "Drop candidates equal to a queried architecture or an earlier candidate by their path "
                        "encoding, isomorphs included (path: the authors) or by id only (id).", enum=["path", "id"]),
    }


class NPENAS(BatchedSearcher):
    """The common loop; the variants set the predictor and the acquisition."""
    needs = frozenset({"mutation"})
    prefix_stable = True

    acquisition: ClassVar[str] = "greedy"
    default_predictor: ClassVar[dict] = {"type": "gin"}
    options = _options(default_predictor, "The predictor (default: the authors' GIN).")

    @classmethod
    def needs_for(cls, options: dict) -> set[str]:
        return super().needs_for(options) | ({"paths"} if options.get("dedup") == "path" else set())

    def __init__(self, space: SearchSpace, seed: int, **options):
        super().__init__(space, seed, **options)
        spec = predictor_spec(self.predictor)
        cls = predictor_class(spec)
        self.predictor_spec = {"type": spec["type"],
                               **cls.resolve({k: v for k, v in spec.items() if k != "type"}, space.space)}
        if self.acquisition == "its" and (not hasattr(cls, "predict_distribution")
                                         or self.predictor_spec.get("head", "gaussian") != "gaussian"):
            raise NasReproError(f"{type(self).__name__} needs a predictor with a predicted SD "
                                f"(predict_distribution), e.g. gin with head: gaussian")
        self.inputs = space.graphs if cls.input == "graph" else space.features
        self._paths: dict[int, bytes] = {}

    # ------------------------------------------------------------------------------------ ask
    def choose(self, rng: np.random.Generator, count: int) -> np.ndarray:
        started = time.perf_counter()
        candidates = self.candidates(rng)
        chosen = np.empty(0, dtype=np.int64)
        train_mae = None
        if len(candidates):
            predictor = make_predictor(self.predictor_spec, random_state=derived_seed(self.seed, self.iteration))
            train = np.asarray(self.ids)
            labels = np.asarray(self.labels)
            predictor.fit(self.inputs[train], labels)
            fitted = time.perf_counter()
            train_mae = float(np.abs(np.asarray(predictor.predict(self.inputs[train]), dtype=np.float64) - labels).mean())
            if self.acquisition == "its":
                mean, sd = predictor.predict_distribution(self.inputs[candidates])
                value = rng.normal(mean, sd)
            else:
                mean = value = np.asarray(predictor.predict(self.inputs[candidates]), dtype=np.float64)
            positions = top_by_acquisition(np.arange(len(candidates)), value, mean, min(count, len(candidates)))
            chosen = candidates[positions]
            self._note(fit_seconds=fitted - started)
        filled = count - len(chosen)
        if filled:
            free = np.flatnonzero(~self.queried)
            free = free[~np.isin(free, chosen)]
            chosen = np.concatenate([chosen, rng.choice(free, size=filled, replace=False)])
        self._note(n_train=len(self.ids), n_candidates=len(candidates), filled_uniform=filled, train_mae=train_mae,
                   seconds=time.perf_counter() - started)
        return chosen

    def candidates(self, rng: np.random.Generator) -> np.ndarray:
        """Distinct unqueried children of the best queried architectures, in the order generated."""
        return mutated_children(self.space.operators, self.ids, self.labels, rng, self.mutation_name,
                                self.num_best * self.patience_factor, self.num_candidates, self.num_candidates,
                                key=self.path_key if self.dedup == "path" else None)[: self.num_candidates]

    def path_key(self, arch_id: int) -> bytes:
        """The architecture's path encoding (which input-to-output op sequences it has; on NAS-Bench-201 the
        paths through no 'none' edge), as the authors compare."""
        if arch_id not in self._paths:
            self._paths[arch_id] = self.space.operators.paths([arch_id])[0].tobytes()
        return self._paths[arch_id]

    # ------------------------------------------------------------------------------------ tell



class NPENASBO(NPENAS):
    """NPENAS-BO: the GIN with a mean/SD head, one independent Thompson draw per candidate."""

    acquisition = "its"
    default_predictor = {"type": "gin", "head": "gaussian", "activation": "celu", "epochs": 1000}
    options = _options(default_predictor, "The predictor, with a predicted SD (default: the authors' GIN with the "
                       "mean/SD head, celu, 1000 epochs).")


class NPENASNP(NPENAS):
    """NPENAS-NP: the plain GIN regressor, the best predicted candidates."""

    acquisition = "greedy"
    default_predictor = {"type": "gin"}
    options = _options(default_predictor, "The predictor (default: the authors' GIN regressor, relu, sigmoid x "
                       "rate, 300 epochs).")
