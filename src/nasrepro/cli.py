"""`nasrepro`: prepare a benchmark, validate a config, list a method's options, or run one search outside
Snakemake (the workflow runs the same code)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

from . import contract, plugins, threads
from .errors import NasReproError, one_line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nasrepro", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("validate", help="check a config (and overlays laid over it, in order)")
    check.add_argument("config", nargs="+", help="config.yaml, then overlays such as config/offline.yaml")
    estimate = commands.add_parser("cost", help="what a config's search jobs cost before they run (distinct jobs, "
                               "jobs saved by sharing, estimated core-hours)")
    estimate.add_argument("config", nargs="+", help="config.yaml, then overlays such as config/offline.yaml")
    compare = commands.add_parser("compare", help="your method against the paper's, under a neutral protocol: to the "
                                  "optimum and at fixed budgets, Mann-Whitney tests, a convergence figure")
    compare.add_argument("method", help="your class: path/to/my_methods.py:MyMethod (or module:Class)")
    compare.add_argument("--against", default="weaknas,regularized_evolution,random",
                         help="methods of the config, comma-separated (default: weaknas,regularized_evolution,random)")
    compare.add_argument("--config", nargs="+", default=["config.yaml"], help="config file, then overlays")
    compare.add_argument("--bench", default="nb201-cifar10", help="a benchmark of the config")
    compare.add_argument("--seeds", type=int, default=5, help="seeds per method (default 5)")
    compare.add_argument("--budgets", default="100,150,200,400", help="query budgets of the accuracy rows")
    compare.add_argument("--cores", default="all", help="Snakemake's --cores (default all)")
    compare.add_argument("--options", help="your method's options: a YAML/JSON mapping, e.g. '{\"patience\": 5}', "
                         "or the path of a YAML file holding one; they appear in the tables' protocol lines")
    compare.add_argument("--report", action="store_true",
                         help="also write the comparison's report (tables, figures, protocol, provenance): "
                              "results/compare_<class>/report.html")
    commands.add_parser("preflight", help="check Snakemake's arguments before it runs them (the make targets do): "
                        "every --configfile plain YAML (no YTE templating, whose code Snakemake would run), --cores and "
                        "--jobs at least 1", add_help=False).add_argument("snakemake_args", nargs=argparse.REMAINDER)
    store = commands.add_parser("runs", help="what a finished run's code is, and what changed since it ran")
    store.add_argument("--why", metavar="RUN_ID", required=True,
                       help="a run (a folder of results/runs/): its modules, each marked unchanged, changed, added or "
                            "removed since it ran, and whether its table and encoding are still those on disk")
    describe = commands.add_parser("options", help="the options a method or predictor type declares")
    describe.add_argument("type", help="a method type (weaknas, local_search, module:Class, path/to/file.py:Class, "
                          "...) or predictor:TYPE")
    prepare = commands.add_parser("prepare", help="fetch, convert and encode one benchmark (what `search` reads)")
    prepare.add_argument("bench", help="a benchmark name of the config (e.g. nb201-cifar10)")
    prepare.add_argument("--config", nargs="+", default=["config.yaml"], help="config file, then overlays")
    run = commands.add_parser("search", help="run one (experiment, benchmark, method, seed)")
    run.add_argument("--config", nargs="+", default=["config.yaml"], help="config file, then overlays")
    run.add_argument("--experiment", required=True, help="an experiment of the config (its budget, labels, ...)")
    run.add_argument("--bench", required=True, help="a benchmark of the config (nasrepro prepare BENCH makes its files)")
    run.add_argument("--method", required=True, help="a method of the config (its options; see nasrepro options TYPE)")
    run.add_argument("--seed", type=int, required=True, help="the run's seed (a non-negative integer)")
    run.add_argument("--table", help=f"canonical table (default {TABLE})")
    run.add_argument("--features", help=f"encoding .npy for methods that read one (default {ENCODING})")
    run.add_argument("--out", required=True, help="folder for <seed>.parquet, .iterations.parquet and .json")
    run.add_argument("--threads", type=int, default=1,
                     help="torch / OpenMP threads (default 1, as the workflow's search jobs)")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["preflight"]:  # Snakemake's own arguments, which argparse would take for this parser's options
        return _one_line_errors(lambda: preflight(argv[1:]))
    args = parser.parse_args(argv)
    return _one_line_errors(lambda: _command(args))


def _one_line_errors(command) -> int:
    """Run a command; any error is one line on stderr (exit 2 for bad input, 130 for Ctrl-C)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        return command()
    except NasReproError as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 130
    except Exception as error:  # one line, never a traceback dump; NASREPRO_TRACEBACK=1 shows it
        if os.environ.get("NASREPRO_TRACEBACK"):
            raise
        print(f"error: {one_line(error)} (NASREPRO_TRACEBACK=1 shows the traceback)", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace) -> int:
    from . import config as cfg  # after parsing: `--help` loads neither pandas nor torch

    if args.command == "runs":
        from .runs import explain

        print(explain(args.why))
        return 0

    if args.command == "options":
        print(describe_options(args.type))
        return 0
    if args.command == "compare":
        from .compare import run as run_comparison
        from .config.validation import MAX_SEEDS

        if not 1 <= args.seeds <= MAX_SEEDS:
            raise NasReproError(f"--seeds {args.seeds}: give a number of seeds from 1 to {MAX_SEEDS}")
        from .compare import method_options

        return run_comparison(args.method, [name.strip() for name in args.against.split(",")], args.config, args.bench,
                              args.seeds, budgets_flag(args.budgets), cores_flag("--cores", args.cores),
                              method_options(args.options), args.report)
    config = cfg.load(*args.config)
    if args.command == "validate":
        from .runs import plan

        distinct = len(plan(config, cfg.enabled_experiments(config)).jobs())
        print(f"{' + '.join(args.config)}: valid ({len(cfg.jobs(config))} search jobs, {distinct} distinct runs)")
        return 0
    if args.command == "cost":
        from . import cost

        print(cost.render(cost.estimate(config), config))
        return 0
    if args.command == "prepare":
        prepare_benchmark(config, args.bench, " + ".join(args.config))
        return 0
    return search_command(args, config)


def search_command(args: argparse.Namespace, config: dict) -> int:
    """`nasrepro search`: every flag and input file checked, then one run, and a line on what it found."""
    from . import config as cfg
    from .config.validation import seed_problem

    problem = seed_problem(args.seed)
    if problem:
        raise NasReproError(f"--seed {args.seed}: {problem}")
    for kind, name in (("experiments", args.experiment), ("benchmarks", args.bench), ("methods", args.method)):
        if name not in config[kind]:
            raise NasReproError(f"{' + '.join(args.config)}: {name!r} is not defined under '{kind}' "
                                f"(defined: {', '.join(config[kind])})")
    defaults = [TABLE.format(bench=args.bench)]
    if cfg.uses_features(config, args.method, args.bench):
        defaults.append(ENCODING.format(bench=args.bench, encoding=cfg.method_encoding(config, args.method, args.bench)))
    for given, default in zip((args.table, args.features), defaults):
        if given is None and not Path(default).is_file():  # a path given explicitly is read as it is
            raise NasReproError(f"{default} does not exist: make it with `nasrepro prepare {args.bench}`")
    table, features = args.table or defaults[0], (args.features or defaults[1]) if len(defaults) > 1 else None
    if args.threads < 1:
        raise NasReproError(f"--threads {args.threads}: give a number of threads >= 1")
    check_input_files(table, features)
    check_out_folder(Path(args.out))
    threads.limit(args.threads)
    from .cost import run_seconds
    from .pipeline import search  # here: `--help`, `options` and `validate` need none of its imports
    from .runs import run_spec

    spec = run_spec(config, args.experiment, args.bench, args.method)
    out = Path(args.out)
    names = {"experiment": args.experiment, "benchmark_name": args.bench, "method_name": args.method}
    contract.limit_time(*contract.job_time_limit(config, estimate_seconds=run_seconds(spec)))
    try:
        search(spec, args.seed, names, table, features, out / f"{args.seed}.parquet",
               out / f"{args.seed}.iterations.parquet", out / f"{args.seed}.json",
               mirror=config.get("data", {}).get("mirror"))
    finally:  # `main` called in-process (a test, a notebook) must not keep the job's alarm armed
        contract.limit_time(0, "")
    print(run_summary(out / f"{args.seed}.parquet", out / f"{args.seed}.json"))
    return 0


TABLE = "resources/tables/{bench}.parquet"
ENCODING = "resources/encodings/{bench}-{encoding}.npy"


def check_input_files(table: str, features: str | None) -> None:
    """`--table` and `--features` checked as the workflow's conversion and encoding check what they write:
    every row, numeric and finite values, labels in their range; each fault names the file."""
    from .benchmark import Benchmark
    from .pipeline import load_features

    rows = Benchmark.load(table).size
    if features is not None:
        load_features(features, rows)


def budgets_flag(text: str) -> list[int]:
    """`--budgets 100,150,200`: whole numbers of queries within the config's limits (`config.validation`)."""
    from .config.validation import MAX_BUDGETS, MAX_QUERIES

    budgets = [_whole(part.strip()) for part in text.split(",")]
    for part, budget in zip(text.split(","), budgets):
        if budget is None or not 1 <= budget <= MAX_QUERIES:
            raise NasReproError(f"--budgets {text}: {part.strip()!r} is not a number of queries from 1 to "
                                f"{MAX_QUERIES}; give them comma-separated, e.g. 100,150,200,400")
    if len(budgets) > MAX_BUDGETS or len(set(budgets)) < len(budgets):
        raise NasReproError(f"--budgets: {len(budgets)} budgets; give at most {MAX_BUDGETS} distinct ones")
    return budgets


def _whole(text: str) -> int | None:
    """A whole number written in ASCII digits (no sign, not absurdly long), else None."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def cores_flag(flag: str, value: str | None) -> str | None:
    """Snakemake's --cores / --jobs: `all` (or `unlimited`), or a whole number of at least 1 (with 0 Snakemake
    waits forever at 'Select jobs to execute')."""
    if value is None or value in ("all", "unlimited"):
        return value
    cores = _whole(value.strip())
    if cores is None:
        raise NasReproError(f"{flag} {value}: not a number of cores; give a whole number >= 1, or all")
    if cores < 1:
        raise NasReproError(f"{flag} {value}: give at least 1 core, or all (with {cores} Snakemake would wait "
                            "forever for a free core)")
    return value


def preflight(snakemake_args: list[str]) -> int:
    """`nasrepro preflight ARGS`: what Snakemake would act on before any of our code runs, checked in one line:
    each config file it reads is plain YAML (`__use_yte__` would make Snakemake run the file's code), and
    --cores / --jobs are at least 1. The make targets run it before Snakemake, with the same arguments."""
    from .config import read_yaml

    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--configfile", "--configfiles", nargs="+", dest="configfiles")
    parser.add_argument("--cores", "-c", nargs="?", const="all")
    parser.add_argument("--jobs", "-j", nargs="?", const="unlimited")
    known, _ = parser.parse_known_args(snakemake_args)
    cores_flag("--cores", known.cores)
    cores_flag("--jobs", known.jobs)
    for path in known.configfiles or ["config.yaml"]:  # the Snakefile reads config.yaml when none is given
        if Path(path).is_file():  # a missing one is Snakemake's to name
            read_yaml(path)
    return 0


def check_out_folder(out: Path) -> None:
    """Before a search starts: `--out` is a folder, or can be made, where this process may write."""
    if out.exists() and not out.is_dir():
        raise NasReproError(f"--out {out}: is a file, not a folder; give a folder for the run's files")
    existing = next(folder for folder in [out, *out.parents] if folder.exists())
    if not existing.is_dir():
        raise NasReproError(f"--out {out}: {existing} is a file, so the folder cannot be made there")
    try:  # a file made and removed at once: permissions, a read-only file system, /proc, ...
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as error:
        raise NasReproError(f"--out {out}: cannot write in {existing} ({error.strerror}); give another folder") from None


def prepare_benchmark(config: dict, bench: str, source: str) -> None:
    """The files the workflow's fetch, convert and encode rules make for one benchmark, at their paths:
    raw files (mirror or download, checksums verified), the canonical table, every encoding a method
    of the config reads on it."""
    from . import config as cfg
    from .pipeline import convert_benchmark, encode_benchmark, fetch_source
    from .spaces import get_space

    if bench not in config["benchmarks"]:
        raise NasReproError(f"{source}: {bench!r} is not defined under 'benchmarks' (defined: {', '.join(config['benchmarks'])})")
    spec = config["benchmarks"][bench]
    sources = get_space(spec["space"]).benchmark_sources(spec)
    raw = {name: f"resources/raw/{source.filename}" for name, source in sources.items()}
    for name, path in raw.items():
        if not Path(path).is_file():
            fetch_source(sources[name], path, config.get("data", {}))
    table = TABLE.format(bench=bench)
    convert_benchmark(spec, raw, table, verify=config.get("data", {}).get("verify_raw", True))
    encodings = {cfg.method_encoding(config, m, bench) for m in config["methods"]
                 if cfg.uses_features(config, m, bench) and _runs_on(config, m, bench)}
    for encoding in sorted(encodings | {spec.get("encoding") or get_space(spec["space"]).default_encoding}):
        encode_benchmark(table, encoding, ENCODING.format(bench=bench, encoding=encoding))
    print(f"{bench}: {table} and the encodings {', '.join(sorted(encodings)) or 'none'} are ready")


def _runs_on(config: dict, method: str, bench: str) -> bool:
    """Whether a method of the config can search the benchmark, as config validation decides for an experiment
    (a method pinned to another space's encoding is not prepared for)."""
    from .config.validation import check_run

    try:
        check_run(config, bench, method, "config")
    except NasReproError:
        return False
    return True


def run_summary(trajectory_path: Path, metadata_path: Path) -> str:
    """One line on what a run found: the queried architecture with the best fitting label, its test
    accuracy, regret and rank, and when the optimum was queried."""
    import json

    import pandas as pd

    from .spaces import ACCURACY_RANGE, get_space

    trajectory = pd.read_parquet(trajectory_path)
    meta = json.loads(Path(metadata_path).read_text())
    best = trajectory.loc[trajectory["fit_label"].idxmax()]
    regret = meta["test_optimum"] - best["test_label"]
    optimum = meta["queries_to_optimum"]
    bench = meta["config"]["benchmark"]
    percent = get_space(bench["space"]).label_range(bench.get("dataset")) == ACCURACY_RANGE
    found = f"test accuracy {best['test_label']:.2f}%" if percent else f"reported label {best['test_label']:.4g}"
    return (f"{meta['queries_used']} queries; best queried by fitting label: architecture {int(best['arch_id'])}, "
            f"{found} (regret {regret:.3g}, test rank {int(best['test_rank'])}); "
            f"optimum {'queried at query ' + str(optimum) if optimum else 'not queried'}; results in {trajectory_path.parent}")


def describe_options(kind: str) -> str:
    """One line per declared option: name, default (per space where it differs) and description. `kind`:
    a method type, a predictor type (`mlp` or `predictor:mlp`), or module:Class (`predictor:module:Class`)."""
    category, name = ("predictor", kind.removeprefix("predictor:")) if kind.startswith("predictor:") else ("method", kind)
    if name.partition(":")[0].endswith(".py"):  # a file, as `nasrepro compare` takes it
        from .compare import method_type

        name = method_type(name)[0]
    names = {c: [*plugins.BUILTIN[c], *plugins._entry_point_names(c)] for c in ("method", "predictor")}
    if category == "method" and name not in names["method"] and name in names["predictor"]:
        category = "predictor"
    elif category == "method" and name not in names["method"] and ":" not in name:
        raise NasReproError(f"unknown method or predictor type {name!r}; methods: {', '.join(names['method'])}; "
                            f"predictors: {', '.join(names['predictor'])} (or module:Class for your own method, "
                            "predictor:module:Class for your own predictor)")
    cls = plugins.load(category, name)
    shown = f"predictor:{name}" if category == "predictor" else name
    lines = [f"{shown} ({cls.__module__}.{cls.__name__})"]
    for option_name, declared in cls.options.items():
        per_space = "".join(f", {space}: {value!r}" for space, value in declared.by_space.items())
        lines.append(f"  {option_name} = {declared.default!r}{per_space}  {declared.description}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
