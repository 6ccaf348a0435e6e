"""Search methods, by the `type` a config entry names (see `nasrepro.plugins`). A new method is one
`Searcher` subclass that declares its options."""

from __future__ import annotations

from .. import plugins
from ..errors import NasReproError
from .base import Searcher, SearchSpace


def searcher_class(kind: str) -> type[Searcher]:
    return plugins.load("method", kind)


def make_searcher(spec: dict, space: SearchSpace, seed: int, budget: int | None = None) -> Searcher:
    """One seeded run's searcher; `budget` (the run's queries) reaches `Searcher.__init__`."""
    options = dict(spec)
    kind = options.pop("type", None)
    if kind is None:
        raise NasReproError("a method needs a `type`")
    try:
        return searcher_class(kind)(space, seed, budget=budget, **options)
    except NasReproError as error:
        raise NasReproError(f"method {kind!r}: {error}") from None


__all__ = ["Searcher", "SearchSpace", "make_searcher", "searcher_class"]
