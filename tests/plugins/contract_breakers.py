"""Methods that break the searcher contract, one way each (tests/test_bad_inputs.py, docs/bad-inputs.md)."""

import numpy as np

from nasrepro.searchers import Searcher


class Asks(Searcher):
    """Asks `batch(max_queries)`; a well-behaved random search unless a subclass says otherwise."""

    def __init__(self, space, seed, **options):
        super().__init__(space, seed, **options)
        self.rng = np.random.default_rng(seed)

    def batch(self, max_queries):
        return self.rng.choice(self.space.size, size=min(max_queries, 5), replace=False)

    def ask(self, max_queries):
        return self.batch(max_queries)

    def tell(self, ids, labels):
        pass


class TooMany(Asks):
    def batch(self, max_queries):
        return np.arange(max_queries + 2)


class Negative(Asks):
    def batch(self, max_queries):
        return np.array([3, -1])


class OutOfRange(Asks):
    def batch(self, max_queries):
        return np.array([self.space.size])


class Floats(Asks):
    def batch(self, max_queries):
        return np.array([3.7])


class Mask(Asks):
    def batch(self, max_queries):
        return np.zeros(self.space.size, dtype=bool)


class Repeats(Asks):
    def batch(self, max_queries):
        return np.array([4, 4, 5])


class NoneAsk(Asks):
    def batch(self, max_queries):
        return None


class Text(Asks):
    def batch(self, max_queries):
        return "12"


class TwoD(Asks):
    def batch(self, max_queries):
        return np.array([[1, 2], [3, 4]])


class SameAgain(Asks):
    """Asks for architecture 0 forever: with charge_repeats: false nothing is ever charged again."""

    def batch(self, max_queries):
        return np.array([0])


class Done(Asks):
    """Asks once, then has nothing left to ask (an empty batch: the run ends, stopped by the searcher)."""

    def batch(self, max_queries):
        self.calls = getattr(self, "calls", 0) + 1
        return np.array([1, 2]) if self.calls == 1 else np.array([], dtype=np.int64)


class Endless(Asks):
    def ask(self, max_queries):
        while True:
            pass


class RaisesInInit(Asks):
    def __init__(self, space, seed, **options):
        super().__init__(space, seed, **options)
        raise ValueError("no such setting")


class RaisesInAsk(Asks):
    def ask(self, max_queries):
        return self.history[-1]  # never set: an AttributeError


class RaisesInTell(Asks):
    def tell(self, ids, labels):
        return labels["best"]
