"""Predictors by the `type` a config entry names (see `nasrepro.plugins`). A new predictor is one
`Predictor` subclass that declares its options."""

from __future__ import annotations

from .. import plugins
from ..errors import NasReproError
from .base import Predictor


def predictor_spec(spec: dict | str) -> dict:
    """A predictor's config entry in full form: a bare type name `gbrt` means {"type": "gbrt"}."""
    return {"type": spec} if isinstance(spec, str) else {"type": "mlp", **spec}


def predictor_class(spec: dict | str) -> type[Predictor]:
    return plugins.load("predictor", predictor_spec(spec)["type"])


def make_predictor(spec: dict, random_state: int) -> Predictor:
    """Build a predictor from its config entry, e.g. {"type": "mlp", "hidden_layer_sizes": [1000, 1000]}."""
    options = predictor_spec(spec)
    kind = options.pop("type")
    try:
        return predictor_class(kind)(random_state=random_state, **options)
    except (NasReproError, ValueError) as error:  # an unknown option or a bad value
        raise NasReproError(f"predictor {kind!r}: {error}") from None


__all__ = ["Predictor", "make_predictor", "predictor_class"]
