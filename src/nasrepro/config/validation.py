"""Validation of a config: a JSON schema, then every cross-reference (benchmarks, methods and their
options, experiments and what their outputs need), each fault in one line naming the file and key."""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections import Counter
from importlib import resources

import jsonschema
import yaml

from .. import plugins
from ..errors import NasReproError
from ..outputs import OUTPUTS
from ..predictors import predictor_class, predictor_spec
from ..searchers import searcher_class
from ..spaces import CAPABILITIES, get_space
from .resolution import (NON_SEARCHER_KEYS, _methods_code, input_needed, method_encoding, method_options,
                         missing_capabilities, needs_gpu, resolved_options)

SCHEMA_FILE = "config.schema.yaml"
SINGLE_REPEAT_REPORT = "test_of_best_single_repeat_valid"  # needs one drawn repeat as the fitting label
# The limits of what a config (and the CLI's flags, which share them) may ask for, so that validation, the
# planning and the tables stay cheap; the schema's MAX_QUERIES and MAX_BUDGETS placeholders are filled from here.
MAX_SEEDS = 10_000  # seeds per experiment (the paper runs 100); more is refused before any list is made
MAX_SEED = 2**32 - 1  # a seed every random generator the methods use accepts
MAX_GRID_MEMBERS = 1_000  # methods one grid may stand for
MAX_QUERIES = 1_000_000  # queries per budget
MAX_BUDGETS = 100  # entries of an experiment's `budgets` (the paper's tables have at most 6)
# Options that are a number of architectures a method queries before anything else: more than the
# benchmark holds, or than the run's budget, would cut the method short without a word.
INITIAL_SAMPLE_OPTIONS = ("init_sample", "num_init", "init_samples", "initial", "num_train", "population_size")


SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where PyYAML was built with it


@functools.cache
def load_schema() -> dict:
    """The config schema, parsed once (callers only read it), the outputs' enum filled from the output registry
    (a benchmark's space checks its entry, `Space.check` and `Space.options`; methods' and predictors' option
    blocks are checked against their own declarations, `_check_methods`)."""
    text = resources.files("nasrepro").joinpath("resources", SCHEMA_FILE).read_text()
    for placeholder, value in (("enum: OUTPUTS", f"enum: {json.dumps(list(OUTPUTS))}"),
                               ("maximum: MAX_QUERIES", f"maximum: {MAX_QUERIES}"),
                               ("maxItems: MAX_BUDGETS", f"maxItems: {MAX_BUDGETS}")):
        text = text.replace(placeholder, value)
    return yaml.load(text, Loader=SAFE_LOADER)


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "<top level>"


def _one_line(error: jsonschema.ValidationError, source: str) -> str:
    where = _key_path(error)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        key = f"{where}.{extra[0]}" if error.absolute_path else extra[0]
        return f"{source}: unknown key '{key}'"
    if error.validator == "required":
        return f"{source}: key '{where}' is missing {error.message.split(' is a required')[0]}"
    if error.validator == "maxItems":  # jsonschema's message would print the whole list
        return f"{source}: key '{where}': {len(error.instance)} entries, more than the {error.validator_value} allowed"
    if error.validator == "propertyNames":
        return f"{source}: key '{where}.{error.instance}' is not a valid name (letters, digits, _ . -)"
    return f"{source}: key '{where}': {error.message}"


def validate(config: dict, source: str = "config.yaml") -> dict:
    """Raise NasReproError with one line naming the key at fault; return the config, its method grids
    expanded in place (see `_expand_grids`)."""
    _expand_grids(config, source)
    _check_seeds(config, source)  # before the schema, whose message for `seeds` names no reason
    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        raise NasReproError(_one_line(errors[0], source))
    _check_references(config, source)
    return config


def _check_seeds(config: dict, source: str) -> None:
    """`seeds`: a whole number >= 1 (seeds 0..n-1) or a list of distinct integers >= 0; one specific line
    per mistake (2.0 is not a number of seeds: YAML floats are refused, never truncated)."""
    experiments = config.get("experiments")
    for name, experiment in (experiments.items() if isinstance(experiments, dict) else []):
        if not isinstance(experiment, dict) or "seeds" not in experiment:
            continue
        value, key = experiment["seeds"], f"{source}: key 'experiments.{name}.seeds'"
        whole = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
        if isinstance(value, list):
            if not value:
                raise NasReproError(f"{key}: the seed list is empty; give at least one seed")
            if len(value) > MAX_SEEDS:
                raise NasReproError(f"{key}: {len(value)} seeds, more than the {MAX_SEEDS} an experiment may run")
            for position, seed in enumerate(value):
                if not whole(seed):
                    raise NasReproError(f"{key}: seed {seed!r} (item {position}) is not an integer; seeds are "
                                        "integers >= 0, e.g. [0, 1, 2]")
                problem = seed_problem(seed, f" (item {position})")
                if problem:
                    raise NasReproError(f"{key}: {problem}")
            repeated = [seed for seed, count in Counter(value).items() if count > 1]
            if repeated:
                raise NasReproError(f"{key}: seed {repeated[0]} is listed more than once; each seed runs once")
        elif not whole(value):
            raise NasReproError(f"{key}: {value!r} is neither a number of seeds (an integer >= 1, e.g. 3 for seeds "
                                "0..2) nor a list of integer seeds")
        elif value < 1:
            raise NasReproError(f"{key}: {value} seeds would run nothing; give an integer >= 1 (or a list of seeds)")
        elif value > MAX_SEEDS:
            raise NasReproError(f"{key}: {value} seeds, more than the {MAX_SEEDS} an experiment may run")


def seed_problem(seed: int, where: str = "") -> str | None:
    """What is wrong with one seed (`where`: e.g. " (item 3)"), or None; the CLI's --seed is checked by it too."""
    if seed < 0:
        return f"seed {seed}{where} is negative; seeds are integers >= 0"
    if seed > MAX_SEED:
        return f"seed {seed}{where} is more than {MAX_SEED}, the largest seed"
    return None


def _check_predictor_defaults(config: dict, source: str) -> None:
    """`predictor_defaults`: each type exists and each option is one it declares, with a valid value."""
    for kind, options in config.get("predictor_defaults", {}).items():
        try:
            cls = predictor_class({"type": kind})
        except NasReproError as error:
            raise NasReproError(f"{source}: key 'predictor_defaults.{kind}': {error}") from None
        _check_block(cls, options, f"predictor_defaults.{kind}", f"predictor type {kind!r}", source)


def _check_references(config: dict, source: str) -> None:
    for name, bench in config["benchmarks"].items():
        try:
            space = get_space(bench["space"])
            space.check(bench)
        except NasReproError as error:
            raise NasReproError(f"{source}: key 'benchmarks.{name}': {error}") from None
        if "encoding" in bench and bench["encoding"] not in space.encodings:
            raise NasReproError(f"{source}: key 'benchmarks.{name}.encoding': {bench['encoding']!r} is not an encoding "
                                f"of the {space.name} space; known: {', '.join(space.encodings)}")
        common = load_schema()["properties"]["benchmarks"]["additionalProperties"]["properties"]
        _check_block(type(space), {k: v for k, v in bench.items() if k not in common},
                     f"benchmarks.{name}", f"space {bench['space']!r}", source)
    _check_methods(config, source)
    _check_predictor_defaults(config, source)
    _check_experiments(config, source)
    unknown = [name for name in config.get("run", []) if name not in config["experiments"]]
    if unknown:
        raise NasReproError(f"{source}: key 'run': {unknown[0]!r} is not defined under 'experiments'")


def _check_methods(config: dict, source: str) -> None:
    """Every method's type loads and takes each of its options (its predictor's too), per space."""
    for name, method in config["methods"].items():
        try:
            cls = searcher_class(method["type"])
        except NasReproError as error:
            raise NasReproError(f"{source}: key 'methods.{name}.type': {error}") from None
        spaces = {*plugins.SPACES, *(get_space(bench["space"]).name for bench in config["benchmarks"].values())}
        unknown = [space for space in method.get("by_space", {}) if space not in spaces]
        if unknown:
            raise NasReproError(f"{source}: key 'methods.{name}.by_space.{unknown[0]}': no such search space "
                                f"(known: {', '.join(sorted(spaces))})")
        for space, options in [(None, method), *method.get("by_space", {}).items()]:
            where = f"methods.{name}" + (f".by_space.{space}" if space else "")
            _check_block(cls, {k: v for k, v in options.items() if k not in ("type", *NON_SEARCHER_KEYS)}, where,
                         f"method type {method['type']!r}", source)
            if "predictor" in options:
                predictor = predictor_spec(options["predictor"])
                try:
                    predictor_cls = predictor_class(predictor)
                except NasReproError as error:
                    raise NasReproError(f"{source}: key '{where}.predictor.type': {error}") from None
                _check_block(predictor_cls, {k: v for k, v in predictor.items() if k != "type"}, f"{where}.predictor",
                             f"predictor type {predictor['type']!r}", source)


def _check_block(cls, options: dict, where: str, what: str, source: str) -> None:
    for key, value in options.items():
        if key not in cls.options:
            raise NasReproError(f"{source}: key '{where}.{key}' is not an option of {what} "
                                f"(options: {', '.join(cls.options) or 'none'})")
        try:
            plugins.check_value(cls.options[key], key, value)
        except NasReproError as error:
            raise NasReproError(f"{source}: key '{where}.{key}': {str(error).split(': ', 1)[1]}") from None


def _check_experiments(config: dict, source: str) -> None:
    """Every experiment names defined benchmarks and methods, valid encodings, and what its outputs need."""
    for name, experiment in config["experiments"].items():
        for kind in ("benchmarks", "methods"):
            for entry in experiment[kind]:
                if entry not in config[kind]:
                    raise NasReproError(f"{source}: key 'experiments.{name}.{kind}': {entry!r} is not defined under '{kind}'")
        for bench in experiment["benchmarks"]:
            for method in experiment["methods"]:
                check_run(config, bench, method, source)
                _check_initial_sample(config, name, bench, method, source)
        for method in experiment.get("report_mode_by_method", {}):
            if method not in experiment["methods"]:
                raise NasReproError(f"{source}: key 'experiments.{name}.report_mode_by_method.{method}': "
                                    f"{method!r} is not one of the experiment's methods")
        modes = {experiment.get("report_mode"), *experiment.get("report_mode_by_method", {}).values()}
        if SINGLE_REPEAT_REPORT in modes and experiment.get("label_mode") != "random_seed_per_arch":
            raise NasReproError(f"{source}: key 'experiments.{name}.label_mode' must be random_seed_per_arch for "
                                f"report mode {SINGLE_REPEAT_REPORT} (the ranking uses one drawn repeat)")
        _check_outputs(name, experiment, source)
        _check_queries(config, name, source)


def _check_queries(config: dict, experiment: str, source: str) -> None:
    """No budget asks for more queries than a run can use: beyond a benchmark's size only a method that
    asks for an architecture again, and is charged for it, can go on."""
    spec = config["experiments"][experiment]
    queries = spec["budget"].get("queries")
    for bench in spec["benchmarks"]:
        architectures = _architectures(config, bench)
        cap = queries or architectures  # an until-optimum run without a cap stops after the whole space
        over = [b for b in spec.get("budgets", []) if b > cap]
        if over:
            limit = "budget.queries" if queries else f"the {architectures} architectures of benchmark {bench!r}"
            raise NasReproError(f"{source}: key 'experiments.{experiment}.budgets': {over} exceed {limit}")
        if not queries or queries <= architectures:
            continue
        for method in spec["methods"]:
            kind = config["methods"][method]["type"]
            # a method declares `repeats_queries = True` when it may ask for an architecture again (R-EA, MCTS);
            # every other method has used the whole space by then
            if not (spec.get("charge_repeats", True) and getattr(searcher_class(kind), "repeats_queries", False)):
                why = ("repeats are not charged (charge_repeats: false)" if not spec.get("charge_repeats", True)
                       else f"method {method!r} ({kind}) does not declare that it asks for an architecture again "
                            "(repeats_queries)")
                raise NasReproError(f"{source}: key 'experiments.{experiment}.budget.queries': {queries} is more than "
                                    f"the {architectures} architectures of benchmark {bench!r}, and {why}; give at most "
                                    f"{architectures}")


def _architectures(config: dict, bench: str) -> int:
    spec = config["benchmarks"][bench]
    return spec.get("expected_size") or get_space(spec["space"]).size


def _check_outputs(name: str, experiment: dict, source: str) -> None:
    """Each output gets what its registry entry needs of the experiment (`nasrepro.outputs`)."""
    for output in experiment.get("outputs", []):
        missing = OUTPUTS[output].needs(experiment)
        if missing:
            what = "must be true" if missing in ("budget.until_optimum", "record_pools") else "is needed"
            raise NasReproError(f"{source}: key 'experiments.{name}.{missing}' {what} for output {output}")
    reference = experiment.get("reference")
    if reference is not None and reference not in experiment["methods"]:
        raise NasReproError(f"{source}: key 'experiments.{name}.reference': {reference!r} is not one of the "
                            f"experiment's methods ({', '.join(experiment['methods'])})")


def check_run(config: dict, bench: str, method: str, source: str) -> None:
    """The method runs on the benchmark's space: the space offers what it needs, its options fit the space and
    its encoding is one the space has (NasReproError otherwise)."""
    space = get_space(config["benchmarks"][bench]["space"])
    kind = config["methods"][method]["type"]
    cls = searcher_class(kind)
    try:
        options, needs = resolved_options(config, method, bench), input_needed(config, method, bench)
        missing = missing_capabilities(config, method, bench)
        if not missing:
            needs_gpu(config, method, bench)  # a user's declaration that raises fails here, not when jobs are planned
            with _methods_code(config, method, "check_options()"):
                cls.check_options(options, space)
    except NasReproError as error:
        raise NasReproError(f"{source}: key 'methods.{method}' on {space.name}: {error}") from None
    if missing:
        what = " and ".join(f"{name} ({CAPABILITIES.get(name, 'a capability of its own')})" for name in missing)
        raise NasReproError(f"{source}: key 'methods.{method}' (type {kind}) needs {what}, which space {space.name} "
                            f"(benchmark {bench!r}) does not offer; it offers "
                            f"{', '.join(sorted(space.offers)) or 'uniform sampling only'}")
    encoding = method_encoding(config, method, bench)
    if needs != "features" and "encoding" in method_options(config, method, bench):
        raise NasReproError(f"{source}: key 'methods.{method}.encoding': {encoding!r} would be ignored: method type "
                            f"{config['methods'][method]['type']!r} reads {needs or 'no encoding'} on {space.name} "
                            f"(benchmark {bench!r}); remove the key")
    if needs == "features" and encoding not in space.encodings:
        key = (f"methods.{method}" if "encoding" in method_options(config, method, bench)
               else f"benchmarks.{bench}") + ".encoding"
        raise NasReproError(f"{source}: key '{key}': {encoding!r} is not an encoding of the {space.name} "
                            f"space (benchmark {bench!r}); known: {', '.join(space.encodings)}")


def _check_initial_sample(config: dict, experiment: str, bench: str, method: str, source: str) -> None:
    """A method's initial sample (WeakNAS's init_sample, R-EA's population, ...) fits the benchmark and the budget."""
    architectures = _architectures(config, bench)
    queries = config["experiments"][experiment]["budget"].get("queries")
    given = method_options(config, method, bench)
    for option, value in resolved_options(config, method, bench).items():
        if option not in INITIAL_SAMPLE_OPTIONS or not isinstance(value, int):
            continue
        key = f"{source}: key 'methods.{method}.{option}'" + ("" if option in given else " (its default)")
        if value > architectures:
            raise NasReproError(f"{key}: {value} is more than the {architectures} architectures of benchmark {bench!r}")
        if queries is not None and value > queries:
            raise NasReproError(f"{key}: {value} is more than the {queries} queries of experiment {experiment!r} "
                                "(budget.queries): the run would end inside its initial sample")


def _expand_grids(config: dict, source: str) -> None:
    """A method whose name holds {fields} and that has a `grid` stands for one method per combination:
    `weaknas_{predictor}_{encoding}` with grid {predictor: [mlp, gbrt], encoding: [onehot30, ops6]} gives
    weaknas_mlp_onehot30, ... (each field set as that option; {fields} in its label filled in too).
    An experiment that lists the grid's name runs every method of the grid."""
    methods = config.get("methods") or {}
    expanded: dict[str, list[str]] = {}
    for name in [n for n, entry in methods.items() if isinstance(entry, dict) and "grid" in entry]:
        entry = methods.pop(name)
        grid = entry.pop("grid")
        if not isinstance(grid, dict) or not grid or not all(isinstance(v, list) and v for v in grid.values()):
            raise NasReproError(f"{source}: key 'methods.{name}.grid' must map each field to a non-empty list")
        members = math.prod(map(len, grid.values()))
        if members > MAX_GRID_MEMBERS:
            raise NasReproError(f"{source}: key 'methods.{name}.grid': {members} combinations, more than the "
                                f"{MAX_GRID_MEMBERS} methods a grid may stand for")
        for values in itertools.product(*grid.values()):
            fields = dict(zip(grid, values))
            try:
                member = name.format(**fields)
            except KeyError as error:
                raise NasReproError(f"{source}: key 'methods.{name}': {{{error.args[0]}}} is not a field of its grid") from None
            if member in methods:
                what = "of this grid" if member in expanded.get(name, []) else "defined under 'methods'"
                raise NasReproError(f"{source}: key 'methods.{name}': its grid member {member!r} ({fields}) has the name "
                                    f"of another method {what}; rename one")
            methods[member] = {**entry, **fields, "label": entry.get("label", name).format(**fields)}
            expanded.setdefault(name, []).append(member)
    for experiment in (config.get("experiments") or {}).values():
        if isinstance(experiment, dict) and isinstance(experiment.get("methods"), list):
            experiment["methods"] = [m for name in experiment["methods"] for m in expanded.get(name, [name])]
