"""How a method, a predictor or a search space declares itself, and where each is found by name.

An option is declared once, in its class's `options`: its default (per search space where the paper's
settings differ), a one-line description and the JSON schema of its values. The config schema, the
validation, the defaults the code runs with and the help text are all read from that declaration.

A `type` in the config is a built-in name (below), an entry point of the group `nasrepro.methods` /
`nasrepro.predictors`, or `module:Class` for a class in the user's own module (importable from the
working directory, a config file's folder or PYTHONPATH). Classes load lazily: a job whose method trains
no torch model never imports torch.
"""

from __future__ import annotations

import importlib
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar, Mapping

from .errors import NasReproError, raised

METHODS = {
    "random": "nasrepro.searchers.random_search:RandomSearch",
    "regularized_evolution": "nasrepro.searchers.evolution:RegularizedEvolution",
    "local_search": "nasrepro.searchers.local_search:LocalSearch",
    "weaknas": "nasrepro.searchers.weaknas:WeakNAS",
    "strong_predictor": "nasrepro.searchers.strong:StrongPredictor",
    "neural_predictor": "nasrepro.searchers.neural_predictor:NeuralPredictor",
    "bananas": "nasrepro.searchers.bananas:Bananas",
    "seminas": "nasrepro.searchers.seminas:SemiNAS", "nao": "nasrepro.searchers.seminas:NAO",
    "lanas": "nasrepro.searchers.lanas:LaNAS",
    "npenas_bo": "nasrepro.searchers.npenas:NPENASBO", "npenas_np": "nasrepro.searchers.npenas:NPENASNP",
    "mcts": "nasrepro.searchers.mcts:MCTS", "nasbowl": "nasrepro.searchers.nasbowl:NASBOWL",
    "bonas": "nasrepro.searchers.bonas:BONAS", "arch2vec": "nasrepro.searchers.arch2vec:Arch2vec",
    "cate": "nasrepro.searchers.cate:CATE",
}
PREDICTORS = {
    "mlp": "nasrepro.predictors.mlp:MLPRegressor",
    "gbrt": "nasrepro.predictors.trees:GBRTRegressor",
    "random_forest": "nasrepro.predictors.trees:RandomForestRegressor",
    "gcn": "nasrepro.predictors.gcn:GCNRegressor",
    "gin": "nasrepro.predictors.gin:GINRegressor",
}
SPACES = {"nb201": "nasrepro.spaces.nb201:NB201", "nb101": "nasrepro.spaces.nb101:NB101",
          "transnas_micro": "nasrepro.spaces.transnas:TransNASMicro"}
ENTRY_POINT_GROUPS = {"method": "nasrepro.methods", "predictor": "nasrepro.predictors", "space": "nasrepro.spaces"}
BUILTIN = {"method": METHODS, "predictor": PREDICTORS, "space": SPACES}
INPUTS = ("features", "graph")  # a flat encoding matrix, or the cell graph (adjacency + operations)


@dataclass(frozen=True)
class Option:
    default: Any
    description: str
    schema: Mapping[str, Any]
    by_space: Mapping[str, Any] = field(default_factory=dict)  # defaults that differ per search space

    @cached_property
    def validator(self):
        """The compiled JSON-schema validator of this option's values (built once: checks are frequent)."""
        import jsonschema

        return jsonschema.Draft202012Validator(dict(self.schema))

    def default_for(self, space: str | None) -> Any:
        return self.by_space.get(space, self.default) if space else self.default


def option(default: Any, description: str, by_space: Mapping[str, Any] | None = None, **schema) -> Option:
    """Declare one option: `option(10, "Population size.", type="integer", minimum=1)`."""
    return Option(default, description, schema, dict(by_space or {}))


class Configurable:
    """A class whose constructor options live in `options`; an instance holds each as an attribute."""

    options: ClassVar[dict[str, Option]] = {}

    @classmethod
    def resolve(cls, given: Mapping[str, Any], space: str | None = None) -> dict[str, Any]:
        """Every option's value: the given one, else the declared default (for `space` where it differs)."""
        unknown = sorted(set(given) - set(cls.options))
        if unknown:
            raise NasReproError(f"{unknown[0]!r} is not an option of {cls.__name__} "
                                f"(options: {', '.join(cls.options) or 'none'})")
        for name, value in given.items():
            check_value(cls.options[name], name, value)
        return {name: given.get(name, opt.default_for(space)) for name, opt in cls.options.items()}

    def _set_options(self, given: Mapping[str, Any], space: str | None = None) -> None:
        for name, value in self.resolve(given, space).items():
            setattr(self, name, value)


def check_value(declared: Option, name: str, value: Any) -> None:
    """NasReproError naming the option when `value` does not fit its declared schema."""
    error = next(declared.validator.iter_errors(value), None)
    if error is not None:
        raise NasReproError(f"option {name}: {error.message}")


MODULE_PATH = "NASREPRO_MODULE_PATH"  # the folders of users' modules, for the processes this one starts


def add_module_folder(folder: str | Path) -> None:
    """Let `module:Class` find modules in `folder` (a config file's folder), in this process and in the
    processes it starts (Snakemake's jobs inherit the environment). The folder goes AFTER the standard
    library and the installed packages, never on PYTHONPATH (which Python puts ahead of them): a stray
    json.py beside a config cannot shadow the standard library."""
    folder = str(Path(folder).resolve())
    if folder not in sys.path:
        sys.path.append(folder)
    folders = [p for p in os.environ.get(MODULE_PATH, "").split(os.pathsep) if p]
    if folder not in folders:
        os.environ[MODULE_PATH] = os.pathsep.join([*folders, folder])


def _inherited_module_folders() -> None:
    """The folders a parent process added (`add_module_folder`), at the end of this process's module path."""
    for folder in os.environ.get(MODULE_PATH, "").split(os.pathsep):
        if folder and folder not in sys.path:
            sys.path.append(folder)


@cache
def target_of(kind: str, name: str) -> str:
    """`module:Class` of the class a config `type` names: a built-in, an entry point, or `module:Class`."""
    target = BUILTIN[kind].get(name) or _entry_point(kind, name) or (name if ":" in name else None)
    if target is None:
        known = ", ".join([*BUILTIN[kind], *_entry_point_names(kind)])
        raise NasReproError(f"unknown {kind} type {name!r}; known: {known} (or module:Class for your own)")
    return target


def _import(kind: str, name: str, target: str):
    module_name = target.partition(":")[0]
    _inherited_module_folders()
    add_module_folder(Path.cwd())  # a user's module in the working directory
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if not f"{module_name}.".startswith(f"{error.name}."):  # the module exists; something it imports does not
            raise NasReproError(f"your {kind} {name!r} raised {raised(error)} while {module_name} was imported") from error
        raise NasReproError(f"{kind} type {name!r}: cannot load {target} ({error})") from None
    except Exception as error:  # a user's module that does not import: a SyntaxError, an ImportError, ...
        if not is_users(module_name):
            raise
        raise NasReproError(f"your {kind} {name!r} raised {raised(error)} while {module_name} was imported") from error


def load(kind: str, name: str) -> type:
    """The class a config `type` names (`target_of`), imported."""
    target = target_of(kind, name)
    module_name, _, class_name = target.partition(":")
    module = sys.modules.get(module_name) or _import(kind, name, target)  # validation asks thousands of times
    found = getattr(module, class_name, None)
    if found is None:
        raise NasReproError(f"{kind} type {name!r}: cannot load {target} ({module_name} has no {class_name!r})")
    if not isinstance(found, type) or not issubclass(found, Configurable):
        raise NasReproError(f"{kind} type {name!r}: {target} is not a class declaring its options")
    for option_name, declared in found.options.items():
        if not isinstance(declared, Option):
            raise NasReproError(f"{kind} type {name!r}: {target} declares option {option_name!r} as {declared!r}, not "
                                "with nasrepro.plugins.option(default, description, ...)")
    return found


def is_users(module: str) -> bool:
    """Whether a module is the user's own (their file, or an installed plugin package), not nasrepro's."""
    return module.partition(".")[0] != "nasrepro"


@contextmanager
def users_code(cls: type, kind: str, name: str, doing: str):
    """An error the code of a user's class raises in `doing` is theirs: one line naming it, the error, its file
    and line (never 'likely a bug'); errors of nasrepro's own classes pass unchanged."""
    try:
        yield
    except NasReproError:
        raise
    except Exception as error:
        if not is_users(cls.__module__):
            raise
        raise NasReproError(f"your {kind} {name!r} raised {raised(error)} in {doing}") from error


def _entry_point(kind: str, name: str) -> str | None:
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUPS[kind]):
        if entry.name == name:
            return entry.value
    return None


def _entry_point_names(kind: str) -> list[str]:
    return [entry.name for entry in metadata.entry_points(group=ENTRY_POINT_GROUPS[kind])]


def option_schema(cls: type[Configurable]) -> dict:
    """The JSON schema of a class's option block (every option typed, nothing else allowed)."""
    return {name: {"description": opt.description, **opt.schema} for name, opt in cls.options.items()}
