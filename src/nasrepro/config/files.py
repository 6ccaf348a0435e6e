"""Reading config files: YAML that refuses a repeated key, overlays laid key by key, `extends` chains."""

from __future__ import annotations

from pathlib import Path

import yaml

from .. import plugins
from ..errors import NasReproError
from .validation import SAFE_LOADER, validate


class StrictLoader(SAFE_LOADER):
    """PyYAML's safe loader, refusing a key given twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node, deep=False):
        first_line: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in first_line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (first on line {first_line[key]})", key_node.start_mark)
            first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path) -> dict:
    """A config file: YAML whose top level is a mapping; every fault in one line naming the file (and for
    YAML faults, the line and column)."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=StrictLoader)
    except IsADirectoryError:
        raise NasReproError(f"{path}: is a folder, not a config file") from None
    except OSError as error:
        raise NasReproError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise NasReproError(f"{path}: not a text file (byte {error.object[error.start]:#04x} at offset {error.start} "
                            "is not UTF-8); a config is a YAML file") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise NasReproError(f"{path}: not valid YAML at line {mark.line + 1}, column {mark.column + 1}: {error.problem}"
                            f"{' (' + error.context + ')' if error.context else ''}") from None
    except yaml.YAMLError as error:  # e.g. a control character: the reader's error has a position, no mark
        raise NasReproError(f"{path}: not valid YAML ({' '.join(str(error).split())})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise NasReproError(f"{path}: the top level is a {type(data).__name__}, not a mapping of keys "
                            "(data:, benchmarks:, methods:, experiments:, ...)")
    if YTE_KEY in data:
        raise NasReproError(f"{path}: key '{YTE_KEY}' turns on Snakemake's YTE templating, which runs the Python code "
                            "a config holds; a nasrepro config is plain YAML: remove the key")
    return data


YTE_KEY = "__use_yte__"  # Snakemake evaluates such a file's ?if/?for/expressions as Python when it loads it


def merge(base: dict, overlay: dict) -> dict:
    """`overlay` laid over `base` key by key, recursively (lists and values are replaced), as Snakemake does."""
    merged = dict(base)
    for key, value in overlay.items():
        merged[key] = merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def load(*paths: str | Path, extra: tuple[str, dict] | None = None) -> dict:
    """A config and its overlays, merged in order, prepared and validated (as the workflow reads them);
    `extra`: (what to call it, an overlay not yet written to a file) laid over them last."""
    config: dict = {}
    for path in paths:
        config = merge(config, read_yaml(path))
        plugins.add_module_folder(Path(path).parent)  # a user's module beside their config
    source = " + ".join([*map(str, paths), *([extra[0]] if extra else [])])
    if extra:
        config = merge(config, extra[1])
    roots = [Path.cwd(), *(folder for path in paths for folder in Path(path).resolve().parents)]
    return validate(prepare(config, roots, source), source=source)


def prepare(config: dict, roots: str | Path | list, source: str = "config") -> dict:
    """In place (Snakemake's `config` object is shared): lay the config over the file its `extends` names,
    relative to the first of `roots` (the repository; for the CLI also the overlay's folders) that holds
    it, and so on while the file laid under has an `extends` of its own (relative to the roots, then its
    own folder). A cycle or a folder is refused, naming the chain. Returns the config."""
    roots = [Path(root) for root in (roots if isinstance(roots, list) else [roots])]
    merged, chain = config, [source]
    seen = {Path(source).resolve()} if Path(source).is_file() else set()  # one file given: it is in the chain
    while "extends" in merged:
        name, where = merged["extends"], " -> ".join(chain)
        if not isinstance(name, str) or not name:
            raise NasReproError(f"{where}: key 'extends': {name!r} is not the name of a config file")
        candidates = [root / name for root in roots]
        base_path = next((path for path in candidates if path.exists()), None)
        if base_path is None:
            raise NasReproError(f"{where}: key 'extends': {name} is not in {candidates[0].parent}")
        chain.append(_shown(base_path))
        if base_path.is_dir():
            raise NasReproError(f"{where}: key 'extends': {chain[-1]} is a folder, not a config file")
        if base_path.resolve() in seen:
            raise NasReproError(f"{' -> '.join(chain)}: key 'extends': a cycle ({chain[-1]} is already in the chain)")
        seen.add(base_path.resolve())
        roots.append(base_path.parent)
        merged = merge(read_yaml(base_path), {k: v for k, v in merged.items() if k != "extends"})
    if merged is not config:
        config.clear()
        config.update(merged)
    for folder in config.get("module_folders") or []:  # a user's module where the config says (nasrepro compare)
        if isinstance(folder, str):  # anything else is named by the schema's check
            plugins.add_module_folder(folder)
    return config


def _shown(path: Path) -> str:
    """A path as the user wrote it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
