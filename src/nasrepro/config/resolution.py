"""The options a method runs with on a benchmark: its entry, its `by_space` block, the declared defaults
and `predictor_defaults`, resolved once in one direction (config -> declarations)."""

from __future__ import annotations

from .. import plugins
from ..predictors import predictor_class, predictor_spec
from ..searchers import searcher_class
from ..spaces import get_space

NON_SEARCHER_KEYS = ("encoding", "label", "paper_row", "by_space")  # a method's keys that are not its options


def _methods_code(config: dict, method: str, doing: str):
    """Around a call into a method's class: an error of a user's own class is reported as theirs."""
    kind = config["methods"][method]["type"]
    return plugins.users_code(searcher_class(kind), "method", kind, doing)


def input_needed(config: dict, method: str, bench: str) -> str | None:
    """What the method reads besides cell descriptions on this benchmark: "features", "graph" or None."""
    options = resolved_options(config, method, bench)
    with _methods_code(config, method, "input_needed()"):
        return searcher_class(config["methods"][method]["type"]).input_needed(options)


def missing_capabilities(config: dict, method: str, bench: str) -> list[str]:
    """What the method needs on this benchmark (`Searcher.needs_for`) that its space does not offer."""
    options = resolved_options(config, method, bench)
    with _methods_code(config, method, "needs_for()"):
        needs = searcher_class(config["methods"][method]["type"]).needs_for(options)
    return sorted(set(needs) - set(get_space(config["benchmarks"][bench]["space"]).offers))


def uses_features(config: dict, method: str, bench: str) -> bool:
    return input_needed(config, method, bench) == "features"


def needs_gpu(config: dict, method: str, bench: str) -> bool:
    """Whether the method's jobs train a torch model (which runs on a GPU when one is present)."""
    options = resolved_options(config, method, bench)
    with _methods_code(config, method, "wants_gpu()"):
        return searcher_class(config["methods"][method]["type"]).wants_gpu(options)


def method_options(config: dict, method: str, bench: str) -> dict:
    """The method's entry with its `by_space` overrides for the benchmark's space applied."""
    entry = config["methods"][method]
    space = config["benchmarks"][bench]["space"]
    return {**{k: v for k, v in entry.items() if k != "by_space"}, **entry.get("by_space", {}).get(space, {})}


def method_encoding(config: dict, method: str, bench: str) -> str:
    bench_spec = config["benchmarks"][bench]
    return (method_options(config, method, bench).get("encoding") or bench_spec.get("encoding")
            or get_space(bench_spec["space"]).default_encoding)


def searcher_spec(config: dict, method: str, bench: str) -> dict:
    """The options the method's searcher is built with on this benchmark: its type and every option,
    given or default (the predictor's too, `predictor_defaults` applied); labels and the like removed."""
    return {"type": config["methods"][method]["type"], **resolved_options(config, method, bench)}


def resolved_options(config: dict, method: str, bench: str) -> dict:
    given = {k: v for k, v in method_options(config, method, bench).items() if k not in ("type", *NON_SEARCHER_KEYS)}
    space = config["benchmarks"][bench]["space"]
    with _methods_code(config, method, "resolve()"):
        options = searcher_class(config["methods"][method]["type"]).resolve(given, space)
    if "predictor" in options:
        predictor = predictor_spec(options["predictor"])
        defaults = config.get("predictor_defaults", {}).get(predictor["type"], {})
        given_predictor = {**defaults, **{k: v for k, v in predictor.items() if k != "type"}}
        options["predictor"] = {"type": predictor["type"], **predictor_class(predictor).resolve(given_predictor, space)}
    return options
