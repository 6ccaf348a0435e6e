"""Config validation (a JSON schema plus cross-references) and the questions the workflow asks of it."""

from __future__ import annotations

import inspect
import re
from importlib import resources

import jsonschema
import yaml

from . import encodings
from .errors import NasReproError
from .predictors import PREDICTORS
from .searchers import SEARCHERS
from .spaces import get_space

SCHEMA_FILE = "config.schema.yaml"
BUDGET_TABLES = ("table1", "table2", "table3", "table4")
NON_SEARCHER_KEYS = ("encoding", "label", "paper_row", "by_space")


def load_schema() -> dict:
    return yaml.safe_load(resources.files("nasrepro").joinpath("resources", SCHEMA_FILE).read_text())


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "<top level>"


def _one_line(error: jsonschema.ValidationError, source: str) -> str:
    where = _key_path(error)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        key = f"{where}.{extra[0]}" if error.absolute_path else extra[0]
        return f"{source}: unknown key '{key}'"
    if error.validator == "unevaluatedProperties":
        extra = re.findall(r"'([^']+)'", error.message)[0]
        return f"{source}: unknown key '{where}.{extra}'"
    if error.validator == "required":
        return f"{source}: key '{where}' is missing {error.message.split(' is a required')[0]}"
    if error.validator == "propertyNames":
        return f"{source}: key '{where}.{error.instance}' is not a valid name (letters, digits, _ . -)"
    return f"{source}: key '{where}': {error.message}"


def validate(config: dict, source: str = "config.yaml") -> dict:
    """Raise NasReproError with one line naming the key at fault; return the config unchanged."""
    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        raise NasReproError(_one_line(errors[0], source))
    _check_references(config, source)
    return config


def _check_references(config: dict, source: str) -> None:
    for name, bench in config["benchmarks"].items():
        try:
            get_space(bench["space"]).check(bench)
        except NasReproError as error:
            raise NasReproError(f"{source}: key 'benchmarks.{name}': {error}") from None
    _check_methods(config, source)
    _check_experiments(config, source)


def _check_methods(config: dict, source: str) -> None:
    """Every method's type exists and takes each of its options (its predictor's too), per space."""
    for name, method in config["methods"].items():
        if method["type"] not in SEARCHERS:
            known = ", ".join(SEARCHERS)
            raise NasReproError(f"{source}: key 'methods.{name}.type': unknown method {method['type']!r}; known: {known}")
        accepted = inspect.signature(SEARCHERS[method["type"]]).parameters
        for space, options in [(None, method), *method.get("by_space", {}).items()]:
            where = f"methods.{name}" + (f".by_space.{space}" if space else "")
            for key in options:
                if key not in accepted and key not in ("type", *NON_SEARCHER_KEYS):
                    raise NasReproError(f"{source}: key '{where}.{key}' is not an option of method type {method['type']!r}")
            predictor = options.get("predictor", {})
            takes = inspect.signature(PREDICTORS[predictor.get("type", "mlp")]).parameters
            for key in predictor:
                if key not in takes and key != "type":
                    raise NasReproError(f"{source}: key '{where}.predictor.{key}' is not an option of predictor type "
                                        f"{predictor['type']!r}")


def _check_experiments(config: dict, source: str) -> None:
    """Every experiment names defined benchmarks and methods, valid encodings, and what its outputs need."""
    for name, experiment in config["experiments"].items():
        for kind in ("benchmarks", "methods"):
            for entry in experiment[kind]:
                if entry not in config[kind]:
                    raise NasReproError(f"{source}: key 'experiments.{name}.{kind}': {entry!r} is not defined under '{kind}'")
        for bench in experiment["benchmarks"]:
            space = config["benchmarks"][bench]["space"]
            for method in experiment["methods"]:
                encoding = method_encoding(config, method, bench)
                if uses_features(config, method) and encoding not in encodings.ENCODINGS[space]:
                    key = (f"methods.{method}" if "encoding" in method_options(config, method, bench)
                           else f"benchmarks.{bench}") + ".encoding"
                    known = ", ".join(encodings.ENCODINGS[space])
                    raise NasReproError(f"{source}: key '{key}': {encoding!r} is not an encoding of the {space} "
                                        f"space (benchmark {bench!r}); known: {known}")
        if "table5" in experiment.get("outputs", []) and not experiment["budget"].get("until_optimum"):
            raise NasReproError(f"{source}: key 'experiments.{name}.budget.until_optimum' must be true for output table5")
        for method in experiment.get("report_mode_by_method", {}):
            if method not in experiment["methods"]:
                raise NasReproError(f"{source}: key 'experiments.{name}.report_mode_by_method.{method}': "
                                    f"{method!r} is not one of the experiment's methods")
        outputs = experiment.get("outputs", [])
        if "figure4" in outputs and not experiment.get("record_pools"):
            raise NasReproError(f"{source}: key 'experiments.{name}.record_pools' must be true for output figure4")
        budget_tables = [o for o in outputs if o in BUDGET_TABLES or (o == "fair" and not experiment["budget"].get("until_optimum"))]
        if budget_tables and not experiment.get("budgets"):
            raise NasReproError(f"{source}: key 'experiments.{name}.budgets' is needed for output {budget_tables[0]}")
        over = [b for b in experiment.get("budgets", []) if b > experiment["budget"].get("queries", b)]
        if over:
            raise NasReproError(f"{source}: key 'experiments.{name}.budgets': {over} exceed budget.queries")


def load(path: str) -> dict:
    try:
        with open(path) as handle:
            config = yaml.safe_load(handle)
    except OSError as error:
        raise NasReproError(f"{path}: cannot read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise NasReproError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    return validate(config or {}, source=path)


def seeds(experiment: dict) -> list[int]:
    value = experiment["seeds"]
    return list(range(value)) if isinstance(value, int) else list(value)


def uses_features(config: dict, method: str) -> bool:
    return SEARCHERS[config["methods"][method]["type"]].uses_features


def needs_gpu(config: dict, method: str, bench: str) -> bool:
    """Whether the method's jobs train a torch predictor (which runs on a GPU when one is present)."""
    predictor = method_options(config, method, bench).get("predictor", {"type": "mlp"})
    return uses_features(config, method) and predictor["type"] == "mlp"


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
    """The options the method's searcher is built with on this benchmark (labels and the like removed)."""
    return {k: v for k, v in method_options(config, method, bench).items() if k not in NON_SEARCHER_KEYS}


def method_label(config: dict, method: str) -> str:
    return config["methods"][method].get("label", method)


def enabled_experiments(config: dict) -> list[str]:
    return [name for name, spec in config["experiments"].items() if spec.get("enabled", True)]


def jobs(config: dict) -> list[tuple[str, str, str, int]]:
    """Every (experiment, benchmark, method, seed) search job."""
    return [
        (name, bench, method, seed)
        for name, experiment in config["experiments"].items() if experiment.get("enabled", True)
        for bench in experiment["benchmarks"]
        for method in experiment["methods"]
        for seed in seeds(experiment)
    ]
