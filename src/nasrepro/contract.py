"""The searcher contract (README, "The searcher contract") made executable, and the per-job time limit.

`Contract` wraps one run's calls to its searcher: every batch an `ask` returns is checked before the oracle
charges it, a method that keeps asking for nothing new is stopped, and an error raised by a user's method
is reported as theirs. Each violation stops the run with one line naming the method, the seed, the
iteration and what was asked. `limit_time` ends a job that never returns (an `ask` in an endless loop).
"""

from __future__ import annotations

import math
import os
import signal
from contextlib import contextmanager

import numpy as np

from .errors import NasReproError

FREE_ASKS_IN_A_ROW = 10_000  # asks that charge nothing (only repeats, charge_repeats: false) before the run is stopped
DEFAULT_MAX_JOB_SECONDS = 86_400  # a job with neither max_job_seconds nor an estimate: one day
ESTIMATE_FACTOR = 20  # a search job may take this many times its cost estimate (`nasrepro.cost.run_seconds`)
MIN_JOB_SECONDS = 600  # ... and at least ten minutes: a hung method costs minutes, not a day
SLURM_MARGIN_SECONDS = 60  # on SLURM, stop this long before its runtime so that the job still says why
SHOWN_IDS = 8

_running: Contract | None = None  # the run in progress, for the time limit's message


class Contract:
    """One run's calls to its searcher, checked: `build`, `ask`, `charged` (after the oracle), `tell`."""

    def __init__(self, method_type: str, seed: int, space_size: int, isolated: bool = False):
        global _running
        self.method, self.seed, self.size = method_type, seed, space_size
        self.isolated = isolated  # the searcher runs in its own process (`sandbox`), which reports its own errors
        self.doing: str | None = None
        self.free_asks = 0
        self.searcher_class = None  # looked up once, on the first call (a method type that does not load fails there)
        _running = self

    @contextmanager
    def calling(self, doing: str, step: int | None = None):
        """Around one call to the searcher: its errors are the user's when the method is theirs, and the time
        limit's message says where the run was. An isolated searcher's class is never loaded here: the
        runner's process runs none of the method's code."""
        self.doing = doing + (f" at iteration {step}, seed {self.seed}" if step is not None else f", seed {self.seed}")
        if self.isolated:
            yield
        else:
            from .plugins import users_code
            from .searchers import searcher_class

            self.searcher_class = self.searcher_class or searcher_class(self.method)
            with users_code(self.searcher_class, "method", self.method, self.doing):
                yield
        self.doing = None

    def build(self, make):
        with self.calling("its constructor"):
            return make()

    def ask(self, searcher, remaining: int, step: int) -> np.ndarray:
        """The ids the searcher asks for, checked against the contract (empty: it has nothing left to ask)."""
        with self.calling(f"ask({remaining})", step):
            asked = searcher.ask(remaining)
        return self.checked(asked, remaining, step)

    def tell(self, searcher, ids: np.ndarray, labels: np.ndarray, step: int) -> None:
        with self.calling(f"tell() of {len(ids)} ids", step):
            searcher.tell(ids, labels)

    def broken(self, step: int, what: str) -> NasReproError:
        return NasReproError(f"method {self.method!r} broke the search contract at iteration {step}, seed {self.seed}: "
                             f"{what}")

    def checked(self, asked, remaining: int, step: int) -> np.ndarray:
        def broken(why: str) -> NasReproError:
            return self.broken(step, f"ask({remaining}) returned {shown(asked)}: {why}")

        if asked is None:
            raise broken("None is no batch (an empty array says there is nothing left to ask)")
        try:
            ids = np.asarray(asked)
        except (ValueError, TypeError):
            ids = np.asarray(None)
        if ids.ndim != 1 or ids.dtype == object:
            raise broken(f"a {type(asked).__name__} is not a 1-D array of architecture ids")
        if ids.size == 0:
            return ids.astype(np.int64)
        if ids.dtype.kind not in "iu":
            raise broken(f"ids of type {ids.dtype}: ids are integers (never truncated)")
        if ids.size > remaining:
            raise broken(f"{ids.size} ids, more than the {remaining} queries left")
        if ids.min() < 0 or ids.max() >= self.size:
            bad = ids.min() if ids.min() < 0 else ids.max()
            raise broken(f"id {bad} is not an architecture (ids are 0..{self.size - 1})")
        values, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            raise broken(f"id {values[counts > 1][0]} is asked {counts.max()} times in one batch")
        return ids.astype(np.int64)

    def charged(self, queries: int, ids: np.ndarray, step: int) -> None:
        """After the oracle answered `ids` for `queries` queries: stop a method that keeps asking for free."""
        self.free_asks = 0 if queries else self.free_asks + 1
        if self.free_asks >= FREE_ASKS_IN_A_ROW:
            raise self.broken(step, f"{self.free_asks} asks in a row charged nothing (only architectures already "
                                    f"queried, with charge_repeats: false; the last asked {shown(ids)}), so the run "
                                    "would never end")


def shown(asked) -> str:
    """A batch as the user sees it in a message: its first ids and its size."""
    if isinstance(asked, np.ndarray) and asked.ndim == 1:
        items = asked[:SHOWN_IDS].tolist()
        more = f", ... ({asked.size} ids)" if asked.size > SHOWN_IDS else ""
        return f"[{', '.join(map(repr, items))}{more}]"
    if isinstance(asked, np.ndarray):
        return f"an array of shape {asked.shape}"
    text = " ".join(repr(asked).split())
    return text if len(text) <= 80 else text[:77] + "..."


def job_time_limit(config: dict, runtime_minutes: float | None = None,
                   estimate_seconds: float | None = None) -> tuple[float, str]:
    """(seconds, why): `max_job_seconds` of the config where it sets one; else the job's runtime (the search
    rule's `runtime`: `ESTIMATE_FACTOR` x its cost estimate, at least `MIN_JOB_SECONDS`) or the bound derived
    here from `estimate_seconds`; else one day. On SLURM its runtime less a margin, when that is shorter."""
    if "max_job_seconds" in config:
        seconds = float(config["max_job_seconds"])
        why = f"max_job_seconds: {seconds:g}"
    elif estimate_seconds is not None:
        seconds = max(MIN_JOB_SECONDS, ESTIMATE_FACTOR * estimate_seconds)
        why = f"{ESTIMATE_FACTOR}x the job's estimated {estimate_seconds:.0f} s, at least {MIN_JOB_SECONDS} s"
    elif runtime_minutes:
        seconds = float(runtime_minutes) * 60
        why = f"the job's runtime of {runtime_minutes:g} min ({ESTIMATE_FACTOR}x its estimated cost, at least " \
              f"{MIN_JOB_SECONDS // 60} min; max_job_seconds sets another)"
    else:
        seconds, why = float(DEFAULT_MAX_JOB_SECONDS), f"max_job_seconds: {DEFAULT_MAX_JOB_SECONDS}"
    if runtime_minutes and os.environ.get("SLURM_JOB_ID"):
        slurm = max(1.0, float(runtime_minutes) * 60 - SLURM_MARGIN_SECONDS)
        if slurm < seconds:
            seconds, why = slurm, f"the SLURM runtime of {runtime_minutes:g} min, less {SLURM_MARGIN_SECONDS} s"
    return seconds, why


def runtime_minutes(estimate_seconds: float) -> int:
    """A search job's runtime resource (its time limit, and SLURM's): `job_time_limit`'s bound, in minutes, with
    SLURM's margin on top."""
    return math.ceil((max(MIN_JOB_SECONDS, ESTIMATE_FACTOR * estimate_seconds) + SLURM_MARGIN_SECONDS) / 60)


def limit_time(seconds: float, why: str) -> None:
    """From now on, a job still running after `seconds` stops with one line saying where it was (SIGALRM;
    from the main thread). 0 lifts the limit."""

    def stop(signum, frame):
        inside = f": method {_running.method!r} was in {_running.doing}" if _running and _running.doing else ""
        raise NasReproError(f"stopped after {seconds:g} s, the job's time limit ({why}){inside}")

    signal.signal(signal.SIGALRM, stop if seconds else signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_REAL, seconds)
