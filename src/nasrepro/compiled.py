"""What the Numba-compiled training loops (`predictors/gin_compiled.py`, `searchers/bananas_compiled.py`) share."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def denormals_flushed():
    """Run with denormal floats flushed to zero (the CPU's FTZ/DAZ flags, via torch), then restore torch's
    default. Training makes tiny values (Adam's second moments of a parameter whose gradient stays zero
    decay by beta2 each step) on which x86 arithmetic runs ~100x slower; a value below 1.2e-38 becoming 0
    changes no loss curve (tests/test_compiled_trainers.py) and made BANANAS's compiled fits 4-5x faster."""
    import torch

    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
