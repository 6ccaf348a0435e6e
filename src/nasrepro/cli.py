"""`nasrepro`: validate a config, or run one search outside Snakemake."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import config as cfg
from .errors import NasReproError
from .pipeline import search


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nasrepro", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("validate", help="check a config file against the schema")
    check.add_argument("config")
    run = commands.add_parser("search", help="run one (experiment, benchmark, method, seed)")
    run.add_argument("--config", default="config.yaml")
    run.add_argument("--experiment", required=True)
    run.add_argument("--bench", required=True)
    run.add_argument("--method", required=True)
    run.add_argument("--seed", type=int, required=True)
    run.add_argument("--table", required=True, help="canonical table (resources/tables/<bench>.parquet)")
    run.add_argument("--features", help="encoding (.npy); needed by methods that use features")
    run.add_argument("--out", required=True, help="folder for <seed>.parquet, .iterations.parquet and .json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        config = cfg.load(args.config)
        if args.command == "validate":
            print(f"{args.config}: valid ({len(cfg.jobs(config))} search jobs)")
            return 0
        for kind, name in (("experiments", args.experiment), ("benchmarks", args.bench), ("methods", args.method)):
            if name not in config[kind]:
                raise NasReproError(f"{args.config}: {name!r} is not defined under '{kind}'")
        if cfg.uses_features(config, args.method) and not args.features:
            raise NasReproError(f"method {args.method!r} needs --features (an encoding .npy)")
        out = Path(args.out)
        search(config, args.experiment, args.bench, args.method, args.seed, args.table, args.features,
               out / f"{args.seed}.parquet", out / f"{args.seed}.iterations.parquet", out / f"{args.seed}.json")
    except NasReproError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
