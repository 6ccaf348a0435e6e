"""The workflow's steps up to the collected runs (fetch, convert, encode, search, collect) as plain
functions: Snakemake scripts and the CLI both call these. Rendering lives in `nasrepro.render`."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from . import download, encodings
from .benchmark import Benchmark, write_table
from .download import fetch
from .errors import NasReproError
from .io import atomic_path, stamp, write_json, write_parquet, write_text
from .runner import Budget, run_search
from .sources import Source
from .spaces import get_space

log = logging.getLogger(__name__)
# analysis (scipy.stats) is imported by `collect_runs` alone: a search job (`search`) never loads it.


def fetch_source(source: Source, destination: str | Path, data: dict) -> None:
    """Fetch a raw file (mirror or URL, checksum verified) and note where it came from beside it
    (`origin_note`), for the provenance page."""
    origin = fetch(source, destination, mirror=data.get("mirror"),
                   retries=data.get("retries", 3), allow_download=data.get("allow_download", True))
    write_text(f"{origin}\n", origin_note(destination))
    log.info("%s <- %s (checksum verified)", destination, origin)


def origin_note(raw_file: str | Path) -> Path:
    """The file beside a fetched raw file that says where it came from (the mirror path or the URL)."""
    raw_file = Path(raw_file)
    return raw_file.with_name(f".{raw_file.name}.origin")


def _origin(raw_file: str | Path) -> str:
    note = origin_note(raw_file)
    return note.read_text().strip() if note.is_file() else "placed by hand (not fetched by the workflow)"


def convert_benchmark(bench: dict, raw_files: dict[str, str], output: str | Path, verify: bool = False) -> None:
    """The canonical table from the raw files. `verify` (the workflow's `data.verify_raw`, default true
    there): each file is checked again against its pinned checksum first; the provenance says which."""
    space = get_space(bench["space"])
    sources = space.benchmark_sources(bench)
    verified = {name: download.reverify(path, sources[name]) if verify else
                {"verified_when": "not re-verified before conversion (data.verify_raw: false, or a direct call)"}
                for name, path in raw_files.items()}
    table, meta = space.convert(bench, {k: Path(v) for k, v in raw_files.items()})
    meta["space"] = bench["space"]  # as the config names it: a space of one's own is found again by it
    meta["sources"] = {name: {"file": str(path), "origin": _origin(path), "url": sources[name].url,
                              "sha256": sources[name].sha256, "git_blob": sources[name].git_blob, **verified[name]}
                       for name, path in raw_files.items()}
    write_table(table, meta, output)
    stamp(output)


def encode_benchmark(table_path: str | Path, encoding: str, output: str | Path) -> None:
    benchmark = Benchmark.load(table_path)
    features = encodings.encode(benchmark.space, encoding, benchmark.table)
    with atomic_path(output) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, features)
    stamp(output)


def search(spec: dict, seed: int, names: dict, table_path: str | Path, features_path: str | Path | None,
           trajectory_out, iterations_out, metadata_out, progress=True, mirror: str | None = None) -> None:
    """One search job from its run specification (`runs.job_spec`), its searcher isolated from the labels
    (`nasrepro.sandbox`); `names` (experiment, benchmark and method names) only label the metadata."""
    if seed < 0:
        raise NasReproError(f"seed {seed} is negative: seeds are integers >= 0")
    check_inputs(spec.get("inputs"), {"table": table_path, "features": features_path})
    benchmark = Benchmark.load(table_path)
    features = load_features(features_path) if features_path else None
    outputs = (trajectory_out, iterations_out, metadata_out)
    result = run_search(
        benchmark, features, spec["method"], seed, Budget.from_config(spec["budget"], benchmark.size),
        charge_repeats=spec["charge_repeats"], label_mode=spec["label_mode"], record_pools=spec["record_pools"],
        progress=progress, isolated=True, forbidden=refused_paths(table_path, features_path, outputs, mirror),
    )
    from .runs import code_modules

    read = {"table": str(table_path), **({"features": str(features_path)} if features_path else {})}
    result.metadata.update(names, encoding=spec["encoding"], config=spec, input_files=read,
                           code_modules=code_modules(spec["method"], benchmark.space))
    write_parquet(result.trajectory, trajectory_out)
    write_parquet(result.iterations, iterations_out)
    write_json(result.metadata, metadata_out)
    optimum = result.metadata["queries_to_optimum"]
    log.info("%s seed %d: %d queries, %s, %.1fs", " / ".join(names.values()), seed, result.metadata["queries_used"],
             "optimum not queried" if optimum is None else f"optimum queried at query {optimum}",
             result.metadata["wall_seconds"])


def refused_paths(table_path, features_path, outputs, mirror: str | None) -> list[str]:
    """What a searcher's process may not open: the workflow's data and results folders, this job's table,
    encoding and output files (wherever they are: a folder of theirs may hold the method's own code), and the
    benchmark mirror."""
    places = ["resources", "results", table_path, *outputs, *([features_path] if features_path else [])]
    for place in (mirror, None):
        found = download.resolve_mirror(place)
        places += [found] if found else []
    return sorted({str(Path(place).resolve()) for place in places})


def check_inputs(planned: dict | None, paths: dict) -> None:
    """A search job reads the contents it was planned on (`runs.input_digests`): a table or encoding
    re-made between planning and running stops the job, naming the file."""
    from .io import content_digest

    for name, digest in (planned or {}).items():
        if digest is not None and content_digest(paths[name]) != digest:
            raise NasReproError(f"{paths[name]} changed after this job was planned (its content digest differs); "
                                "run the workflow again")


def load_features(path: str | Path, rows: int | None = None) -> np.ndarray:
    """An encoding written by `encode_benchmark`: a finite 2-D numeric array (with `rows` rows, when given,
    the benchmark's size); a truncated or foreign file is named in one line."""
    try:
        features = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise NasReproError(f"{path}: cannot read the encoding ({error}); delete it and rerun to re-encode") from None
    if not isinstance(features, np.ndarray) or features.ndim != 2 or features.dtype.kind not in "biuf":
        what = f"a {type(features).__name__}" if not isinstance(features, np.ndarray) else (
            f"a {features.ndim}-D array of {features.dtype}")
        raise NasReproError(f"{path}: {what}, not an encoding (a finite 2-D array of numbers); delete it and rerun "
                            "to re-encode")
    if not np.isfinite(features).all():
        row = int(np.flatnonzero(~np.isfinite(features).all(axis=1))[0])
        raise NasReproError(f"{path}: row {row} (architecture {row}) holds a value that is not finite; not an encoding: "
                            "delete it and rerun to re-encode")
    if rows is not None and len(features) != rows:
        raise NasReproError(f"{path}: {len(features)} rows, but the benchmark has {rows} architectures; delete it and "
                            "rerun to re-encode")
    return features


def collect_runs(run_paths: list[str], keys: list[dict], summary_out, trajectories_out, iterations_out,
                 expected: list[dict] | None = None) -> None:
    """The experiment's runs, tidy, each first held to the plan (`expected`: `runs.check_collected`). If this
    fails, the experiment's tables and figures (made from the previous collection) are removed, so none
    outlives its inputs unnoticed; the error says so."""
    from . import analysis
    from .runs import check_collected

    try:
        check_collected(expected or [])
        frames = analysis.collect(run_paths, keys)
    except Exception as error:
        removed = remove_stale_outputs(Path(summary_out).parent)
        if removed and isinstance(error, NasReproError):
            raise NasReproError(f"{error} (the {removed} tables and figures made from the previous runs of this "
                                f"experiment were removed from {Path(summary_out).parent})") from None
        raise
    for frame, out in zip(frames, (summary_out, trajectories_out, iterations_out)):
        write_parquet(frame, out)


def remove_stale_outputs(folder: Path) -> int:
    """Delete the tables and figures of an experiment folder whose aggregation failed; how many."""
    stale = [p for sub in ("tables", "figures") for p in (folder / sub).glob("*") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
        log.warning("removed stale %s (its experiment's collection failed)", path)
    return len(stale)
