"""The predictor contract: scikit-learn's shape (options in the constructor, `fit(X, y)`, `predict(X)`)
plus a declaration of its options, its input and whether it trains on a GPU when one is present."""

from __future__ import annotations

from typing import ClassVar

from ..plugins import Configurable


class Predictor(Configurable):
    """`fit(X, y) -> self`, `predict(X) -> 1-D array`, higher = better. X is a float32 feature matrix
    (input "features") or the cell graphs of the rows (input "graph": `SearchSpace.graphs`)."""

    title: ClassVar[str] = ""  # the name figures show (the config type name when empty)
    input: ClassVar[str] = "features"
    wants_gpu: ClassVar[bool] = False

    def __init__(self, random_state: int = 0, **options):
        self.random_state = random_state
        self._set_options(options)

    def fit(self, X, y) -> "Predictor":
        raise NotImplementedError

    def predict(self, X):
        raise NotImplementedError
