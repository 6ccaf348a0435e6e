"""Search methods, by the `type` a config entry names. A new method is one Searcher subclass here."""

from __future__ import annotations

from ..errors import NasReproError
from .base import Searcher, SearchSpace
from .evolution import RegularizedEvolution
from .random_search import RandomSearch
from .strong import StrongPredictor
from .weaknas import WeakNAS

SEARCHERS: dict[str, type[Searcher]] = {
    "random": RandomSearch,
    "regularized_evolution": RegularizedEvolution,
    "strong_predictor": StrongPredictor,
    "weaknas": WeakNAS,
}


def make_searcher(spec: dict, space: SearchSpace, seed: int) -> Searcher:
    options = dict(spec)
    kind = options.pop("type", None)
    if kind not in SEARCHERS:
        raise NasReproError(f"unknown method type {kind!r}; known: {', '.join(SEARCHERS)}")
    try:
        return SEARCHERS[kind](space, seed, **options)
    except TypeError as error:
        raise NasReproError(f"method {kind!r}: {error}") from None


__all__ = ["SEARCHERS", "Searcher", "SearchSpace", "make_searcher"]
