"""`nasrepro`: validate a config, or run one search outside Snakemake."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from . import plugins, threads
from .errors import NasReproError, one_line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nasrepro", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("validate", help="check a config (and overlays laid over it, in order)")
    check.add_argument("config", nargs="+", help="config.yaml, then overlays such as config/offline.yaml")
    describe = commands.add_parser("options", help="the options a method or predictor type declares")
    describe.add_argument("type", help="a method type (weaknas, local_search, module:Class, ...) or predictor:TYPE")
    run = commands.add_parser("search", help="run one (experiment, benchmark, method, seed)")
    run.add_argument("--config", nargs="+", default=["config.yaml"], help="config file, then overlays")
    run.add_argument("--experiment", required=True)
    run.add_argument("--bench", required=True)
    run.add_argument("--method", required=True)
    run.add_argument("--seed", type=int, required=True)
    run.add_argument("--table", required=True, help="canonical table (resources/tables/<bench>.parquet)")
    run.add_argument("--features", help="encoding (.npy); needed by methods that use features")
    run.add_argument("--out", required=True, help="folder for <seed>.parquet, .iterations.parquet and .json")
    run.add_argument("--threads", type=int, default=1,
                     help="torch / OpenMP threads (default 1, as the workflow's search jobs)")
    args = parser.parse_args(argv)
    from . import config as cfg  # after parsing: `--help` loads neither pandas nor torch

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        if args.command == "options":
            print(describe_options(args.type))
            return 0
        config = cfg.load(*args.config)
        if args.command == "validate":
            print(f"{' + '.join(args.config)}: valid ({len(cfg.jobs(config))} search jobs)")
            return 0
        for kind, name in (("experiments", args.experiment), ("benchmarks", args.bench), ("methods", args.method)):
            if name not in config[kind]:
                raise NasReproError(f"{' + '.join(args.config)}: {name!r} is not defined under '{kind}'")
        if cfg.uses_features(config, args.method, args.bench) and not args.features:
            raise NasReproError(f"method {args.method!r} needs --features (an encoding .npy)")
        threads.limit(args.threads)
        from .pipeline import search  # here: `--help`, `options` and `validate` need none of its imports

        out = Path(args.out)
        names = {"experiment": args.experiment, "benchmark_name": args.bench, "method_name": args.method}
        search(cfg.run_spec(config, args.experiment, args.bench, args.method), args.seed, names, args.table,
               args.features, out / f"{args.seed}.parquet", out / f"{args.seed}.iterations.parquet",
               out / f"{args.seed}.json")
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
    return 0


def describe_options(kind: str) -> str:
    """One line per declared option: name, default (per space where it differs) and description."""
    category, _, name = kind.rpartition(":") if kind.startswith("predictor:") else ("method", "", kind)
    cls = plugins.load(category, name)
    lines = [f"{kind} ({cls.__module__}.{cls.__name__})"]
    for option_name, declared in cls.options.items():
        per_space = "".join(f", {space}: {value!r}" for space, value in declared.by_space.items())
        lines.append(f"  {option_name} = {declared.default!r}{per_space}  {declared.description}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
