"""Predictors with scikit-learn's shape: hyper-parameters in the constructor, `fit(X, y)`, `predict(X)`."""

from __future__ import annotations

from ..errors import NasReproError
from .mlp import MLPRegressor
from .trees import GBRTRegressor, RandomForestRegressor

PREDICTORS = {"mlp": MLPRegressor, "gbrt": GBRTRegressor, "random_forest": RandomForestRegressor}


def make_predictor(spec: dict, random_state: int):
    """Build a predictor from its config entry, e.g. {"type": "mlp", "hidden_layer_sizes": [1000, 1000]}."""
    options = dict(spec)
    kind = options.pop("type", None)
    if kind not in PREDICTORS:
        raise NasReproError(f"unknown predictor type {kind!r}; known: {', '.join(PREDICTORS)}")
    try:
        return PREDICTORS[kind](random_state=random_state, **options)
    except (TypeError, ValueError) as error:  # unknown option / bad value
        raise NasReproError(f"predictor {kind!r}: {error}") from None
