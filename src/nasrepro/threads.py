"""How many threads a job's numerical libraries use, set without importing torch.

A job whose method trains no torch model (random search, R-EA, local search) never imports torch, so
the limit is set where every later import reads it: OMP_NUM_THREADS and MKL_NUM_THREADS in the
environment (torch's intra-op pool, and LightGBM's OpenMP, size themselves from them when they load),
and torch.set_num_threads if torch is already loaded.
"""

from __future__ import annotations

import os

from . import lazy

ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit(threads: int) -> None:
    """Torch (loaded now or later) and OpenMP/MKL pools started after this call use `threads` threads."""
    threads = max(1, int(threads))
    for var in ENV_VARS:
        os.environ[var] = str(threads)
    torch = lazy.loaded("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def current() -> int:
    """The job's thread count: torch's where it is loaded, else the limit set above, else the machine's cores."""
    torch = lazy.loaded("torch")
    if torch is not None:
        return max(1, int(torch.get_num_threads()))
    return max(1, int(os.environ.get(ENV_VARS[0]) or os.cpu_count() or 1))
