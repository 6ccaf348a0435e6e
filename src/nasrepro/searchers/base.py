"""The ask/tell contract every search method follows, and what a method may see of the benchmark."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np

from ..errors import NasReproError
from ..plugins import Configurable, option
from ..spaces import Graphs, Operators, Space


@dataclass(frozen=True)
class SearchSpace:
    """Everything a method may read: architecture descriptions and the space's search operators, never
    accuracies.

    `operators` samples, lists neighbours and mutates over architecture ids (see `nasrepro.spaces`);
    `features` is the encoding the method asked for; `graphs` the cell graphs. `fit_label_mean` and
    `fit_label_std` are the whole-benchmark statistics of the fitting label that the reference WeakNAS
    code z-scores with; methods that do not follow that protocol ignore them.
    """

    space: str
    size: int
    operators: Operators
    features: np.ndarray  # encoded architectures, float32, one row per architecture
    fit_label_mean: float
    fit_label_std: float

    @cached_property
    def graphs(self) -> Graphs:
        return self.operators.graphs()


MUTATION = option(None, "One of the space's named mutations (`Space.mutations`; null: the space's first, nb201 "
                  "autodl, nb101 colab).", type=["string", "null"])


def mutation_of(options: dict, space: Space) -> str:
    """The mutation a method's `mutation` option names on `space` (its first when null); NasReproError for
    a name the space does not declare."""
    mutation = options.get("mutation")
    if mutation is not None and mutation not in space.mutations:
        raise NasReproError(f"mutation {mutation!r} does not exist on {space.name}; known: {', '.join(space.mutations)}")
    return mutation or space.mutations[0]


@dataclass(frozen=True)
class PredictorState:
    """What a predictor-based method believed after its last fit, for the runner's diagnostics.

    `scores`: one value per architecture, higher = predicted better (an ensemble's mean);
    `top1`: the architecture the method reports as its predicted best; `pool`: the ids the next batch
    is drawn from (None when the next batch is not drawn from a pool, e.g. EI's top-M).
    """

    scores: np.ndarray
    top1: int
    pool: np.ndarray | None


class Searcher(Configurable):
    """Ask for architecture ids, be told their fitting labels. One instance is one seeded run.

    The declaration: `options` (see `nasrepro.plugins.option`), `needs` (what it asks of a search space beyond
    uniform sampling: `nasrepro.spaces.CAPABILITIES`), and, per resolved options, `needs_for` (`needs` plus what
    the options call for), `input_needed` (None, "features" or "graph") and `wants_gpu`. The runner charges every id an `ask` returns through the one oracle, in order; one
    ask/tell round is one iteration. `budget`: the run's query budget (its cap, for an until-optimum
    run), or None when unknown; a method that plans a schedule over the run (WeakNAS's `max_sample`)
    reads it. A subclass that forwards `**options` to this constructor receives it without naming it.
    """

    needs: ClassVar[frozenset[str]] = frozenset()
    # True: the first q queries of a run do not depend on its budget, so one run to the largest budget
    # serves every shorter one (`shares_prefix`; proved for every built-in by tests/test_prefix_contract.py).
    # False, the safe default: a run per distinct budget.
    prefix_stable: ClassVar[bool] = False
    # True: the method may ask for an architecture it already asked for (charged again unless the experiment sets
    # charge_repeats: false), so a query budget beyond the space's size can be spent; False refuses one at validation.
    repeats_queries: ClassVar[bool] = False

    def __init__(self, space: SearchSpace, seed: int, budget: int | None = None, **options):
        self.space = space
        self.seed = seed
        self.budget = None if budget is None else int(budget)
        self._set_options(options, space.space)
        self.iterations: list[dict] = []  # per-iteration diagnostics written next to the trajectory
        self.predictor_state: PredictorState | None = None  # set after each tell by predictor-based methods
        self.iteration = 0  # the ask/tell round `_note` writes to; methods that note advance it

    @classmethod
    def input_needed(cls, options: dict) -> str | None:
        """What the method reads besides the cell description: "features" (the encoding), "graph", or None.
        A method with a `predictor` option reads what its predictor reads."""
        predictor = cls._predictor_class(options)
        return predictor.input if predictor else None

    @classmethod
    def needs_for(cls, options: dict) -> set[str]:
        """The capabilities a space must offer the method with these resolved options: `needs`, and the cell
        graphs where it (its predictor) reads them."""
        return set(cls.needs) | ({"graphs"} if cls.input_needed(options) == "graph" else set())

    @classmethod
    def protocol_notes(cls, options: dict) -> list[str]:
        """Lines every table states about runs of this method with these options (e.g. that a variant is
        an approximate reproduction): a method contributes its own notes, no renderer names a method."""
        return []

    @classmethod
    def precision(cls, options: dict) -> str | None:
        """The arithmetic precision of the torch model the method trains (None: it trains none)."""
        if not cls.wants_gpu(options):
            return None
        predictor = options.get("predictor")
        return (predictor.get("precision") if isinstance(predictor, dict) else None) or "fp32"

    @classmethod
    def shares_prefix(cls, options: dict) -> bool:
        """Whether, with these resolved options, a run at budget b is the prefix of a run at any larger budget."""
        return cls.prefix_stable

    @classmethod
    def check_options(cls, options: dict, space: Space) -> None:
        """NasReproError when resolved options do not fit a space (checked when the config is validated)."""

    @classmethod
    def wants_gpu(cls, options: dict) -> bool:
        predictor = cls._predictor_class(options)
        return bool(predictor and predictor.wants_gpu)

    @classmethod
    def _predictor_class(cls, options: dict):
        """The class of the predictor a method's `predictor` option names (given or default), or None."""
        if "predictor" not in cls.options:
            return None
        from ..predictors import predictor_class

        return predictor_class(options.get("predictor", cls.options["predictor"].default))

    def _note(self, **values) -> None:
        """Add per-iteration diagnostics (`iterations`, written beside the trajectory) for `self.iteration`."""
        while len(self.iterations) <= self.iteration:
            self.iterations.append({"iteration": len(self.iterations)})
        self.iterations[self.iteration].update(values)

    def ask(self, max_queries: int) -> np.ndarray:
        """Return at most `max_queries` architecture ids to query next (empty: nothing left to ask)."""
        raise NotImplementedError

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        """Receive the fitting labels of the ids returned by the last `ask`."""
        raise NotImplementedError
