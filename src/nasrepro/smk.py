"""What every Snakemake script does first: send logging and stderr to the rule's log file, limit the job's
threads and its wall-clock time (`max_job_seconds`, or SLURM's runtime)."""

from __future__ import annotations

import logging
import sys

from . import contract, threads


def start(snakemake) -> None:
    log_file = open(snakemake.log[0], "w", buffering=1)
    sys.stderr = log_file
    sys.excepthook = _one_line_failure(snakemake, log_file)
    logging.basicConfig(stream=log_file, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        force=True)
    if getattr(snakemake, "threads", None):
        threads.limit(snakemake.threads)  # imports no torch: a job that trains no torch model never loads it
    runtime = getattr(getattr(snakemake, "resources", None), "runtime", None)  # minutes; SLURM's --time
    contract.limit_time(*contract.job_time_limit(getattr(snakemake, "config", None) or {},
                                                 runtime if isinstance(runtime, (int, float)) else None))


def _one_line_failure(snakemake, log_file):
    """On an uncaught error: the full traceback to the job's log, ONE line to the terminal naming the rule,
    its wildcards, what failed (`errors.one_line`) and the log; the script then exits non-zero."""

    def report(kind, error, tb) -> None:
        import traceback

        from .errors import one_line

        traceback.print_exception(kind, error, tb, file=log_file)
        named = getattr(snakemake, "wildcards", None)
        wildcards = ", ".join(f"{k}={v}" for k, v in (named.items() if hasattr(named, "items") else []))
        where = f"rule {getattr(snakemake, 'rule', '?')}" + (f" ({wildcards})" if wildcards else "")
        print(f"nasrepro error in {where}: {one_line(error)} [traceback: {snakemake.log[0]}]", file=sys.__stderr__,
              flush=True)

    return report
