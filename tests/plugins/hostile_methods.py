"""Methods that try to cheat or to leave without a word, one way each (tests/test_isolation.py). Each raises
`Found` when it reaches a label it did not pay for, so a run that ends normally proves it found none."""

import gc
import os
import sys
from pathlib import Path

import numpy as np

from nasrepro.searchers import Searcher


class Found(Exception):
    pass


class Hostile(Searcher):
    def __init__(self, space, seed, **options):
        super().__init__(space, seed, **options)
        self.rng = np.random.default_rng(seed)

    def ask(self, max_queries):
        self.cheat()
        return self.rng.choice(self.space.size, size=min(max_queries, 5), replace=False)

    def tell(self, ids, labels):
        pass

    def cheat(self):
        pass


class ReadsTheOracle(Hostile):
    """Finds the oracle's test labels through the garbage collector."""

    def cheat(self):
        for thing in gc.get_objects():
            if type(thing).__name__ == "Oracle" and hasattr(thing, "_test"):
                raise Found(f"the oracle's test labels: {int(np.argmax(thing._test))}")


class ClearsTheRecord(Hostile):
    """Empties the oracle's record after each round, so its queries would go uncounted."""

    def tell(self, ids, labels):
        for thing in gc.get_objects():
            if type(thing).__name__ == "Oracle":
                thing._rows.clear()
                raise Found("the oracle's record")


class WalksTheStack(Hostile):
    """Walks up the call stack to the runner's benchmark."""

    def cheat(self):
        frame = sys._getframe()
        while frame is not None:
            if "benchmark" in frame.f_locals or "oracle" in frame.f_locals:
                raise Found("the runner's benchmark on the stack")
            frame = frame.f_back


class ReadsTheTable(Hostile):
    """Opens the canonical tables on disk and catches the refusal (which must still end the run)."""

    def cheat(self):
        for table in Path("resources/tables").glob("*.parquet"):
            try:
                table.read_bytes()
            except Exception:
                pass
            raise Found(f"{table} was read")


class Exits(Hostile):
    def cheat(self):
        sys.exit(0)


class ExitsHard(Hostile):
    def cheat(self):
        os._exit(0)


class Forks(Hostile):
    """Starts a process of its own (which no audit hook would follow)."""

    def cheat(self):
        if os.fork() == 0:
            os._exit(0)
