"""A method defined outside the package, exactly as the README's "Adding a method" shows it."""

import numpy as np

from nasrepro.plugins import option
from nasrepro.searchers import Searcher


class HillClimber(Searcher):
    needs = frozenset({"neighbours"})  # what it asks of a space beyond sampling (nasrepro.spaces.CAPABILITIES)
    options = {"patience": option(3, "Non-improving steps before a restart.", type="integer", minimum=1)}

    def __init__(self, space, seed, **options):
        super().__init__(space, seed, **options)  # sets self.patience (given or default)
        self.rng = np.random.default_rng(seed)
        self.current, self.current_label, self.stale = None, -np.inf, 0

    def ask(self, max_queries):
        if self.current is None or self.stale >= self.patience:  # (re)start
            self.current, self.current_label, self.stale = None, -np.inf, 0
            return np.array([self.space.operators.sample(self.rng)])
        return self.rng.choice(self.space.operators.neighbours(self.current), size=1)

    def tell(self, ids, labels):
        if labels[0] > self.current_label:
            self.current, self.current_label, self.stale = int(ids[0]), float(labels[0]), 0
        else:
            self.stale += 1


class ZeroCostGuided(HillClimber):
    needs = frozenset({"neighbours", "zero_cost"})  # a capability of its own that no built-in space offers
