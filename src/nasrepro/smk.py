"""What every Snakemake script does first: send logging and stderr to the rule's log file."""

from __future__ import annotations

import logging
import sys


def start(snakemake) -> None:
    log_file = open(snakemake.log[0], "w", buffering=1)
    sys.stderr = log_file
    logging.basicConfig(stream=log_file, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        force=True)
    if getattr(snakemake, "threads", None):
        import torch

        torch.set_num_threads(snakemake.threads)
