"""The candidate generator the mutation-based predictor methods share (BANANAS, NPENAS): children of the
best queried architectures by the space's named mutation, never one already queried or already found."""

from __future__ import annotations

from typing import Callable, Hashable

import numpy as np

from ..errors import NasReproError
from ..spaces import Operators


def mutated_children(operators: Operators, ids: list[int], labels: list[float], rng: np.random.Generator,
                     mutation: str, parents: int, per_parent: int, wanted: int,
                     key: Callable[[int], Hashable] | None = None) -> np.ndarray:
    """Distinct unqueried children of the `parents` best queried architectures (by fitting label, ties in
    query order), `per_parent` mutations of each, in the order generated; no new parent once `wanted`
    children are found (the last parent's children are all kept). `key`: what makes two architectures the
    same (default their id; NPENAS: their path encoding, so isomorphs of a queried one are dropped too)."""
    ranked = np.asarray(ids)[np.argsort(-np.asarray(labels), kind="stable")]
    key = key or int
    seen = {key(i) for i in ids}
    found: list[int] = []
    for parent in ranked[:parents]:
        if len(found) >= wanted:
            break
        genotype = operators.genotype(int(parent), rng)
        for _ in range(per_parent):
            try:
                child = int(operators.mutate(int(parent), genotype, rng, mutation)[0])
            except NasReproError:  # nb101: no valid child of this parent within the retry limit
                break
            if key(child) not in seen:
                seen.add(key(child))
                found.append(child)
    return np.asarray(found, dtype=np.int64)
