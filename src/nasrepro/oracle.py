"""The one place that answers and counts queries, for every method alike."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import NasReproError
from .metrics import competition_ranks

TRAJECTORY_COLUMNS = ["query", "arch_id", "fit_label", "test_label", "test_rank", "iteration", "repeat"]



class Oracle:
    """Answers fitting labels and keeps the trajectory. Test labels (and the test rank among all
    architectures) are recorded, never returned.

    Every answered architecture costs one query; with `charge_repeats=False` an architecture asked
    again is answered for free (and not recorded twice).
    """

    def __init__(self, fit_labels: np.ndarray, test_labels: np.ndarray, charge_repeats: bool = True):
        self._fit = np.asarray(fit_labels, dtype=np.float64)
        self._test = np.asarray(test_labels, dtype=np.float64)
        self.test_ranks = competition_ranks(self._test)
        self.charge_repeats = charge_repeats
        self._seen = np.zeros(len(self._fit), dtype=bool)
        self._rows: list[tuple] = []

    @property
    def used(self) -> int:
        return len(self._rows)

    def query(self, ids, iteration: int) -> np.ndarray:
        asked = np.asarray(ids)
        if asked.dtype.kind not in "iu" and asked.size:
            # never truncate: a float id (3.7 answered as 3) or a bool mask is a searcher bug
            raise NasReproError(f"the searcher asked for architecture ids of type {asked.dtype} "
                                f"(e.g. {asked.ravel()[:3].tolist()}); ids must be integers")
        ids = asked.astype(np.int64).ravel()
        if ids.size and (ids.min() < 0 or ids.max() >= len(self._fit)):
            raise IndexError(f"architecture id out of range 0..{len(self._fit) - 1}")
        for arch_id in ids:
            repeat = bool(self._seen[arch_id])
            if repeat and not self.charge_repeats:
                continue
            self._seen[arch_id] = True
            self._rows.append((self.used + 1, int(arch_id), self._fit[arch_id], self._test[arch_id],
                               int(self.test_ranks[arch_id]), iteration, repeat))
        return self._fit[ids].copy()

    def has_queried(self, arch_id: int) -> bool:
        return bool(self._seen[arch_id])

    def trajectory(self) -> pd.DataFrame:
        return pd.DataFrame(self._rows, columns=TRAJECTORY_COLUMNS)
