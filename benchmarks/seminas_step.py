"""SemiNAS / NAO training step, before and after a change of `searchers/seminas_compiled.py`, side by side in one
process on one thread: CPU ms per step of the torch loop (`trainer: torch`), of the compiled step at a git
revision (`--before`, loaded from `git show REV:src/nasrepro/searchers/seminas_compiled.py`) and of the working
tree's, each as `SemiNAS._train` runs it (the torch draws of shuffles and dropout masks included), on batches of
100 NAS-Bench-201 (6 tokens) and NAS-Bench-101 (27 tokens; random tokens at SemiNAS's connection / op positions:
a step's cost does not depend on the values) sequences; and the kernel alone (`train_step` on fixed masks).
The largest relative difference of the loss curves from the torch loop's is printed beside the times.

    python benchmarks/seminas_step.py --before e0811e2 --repeats 3 --epochs 3
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MODULE = "src/nasrepro/searchers/seminas_compiled.py"
SPACES = {"nb201": (6, 6), "nb101": (27, 7)}  # tokens, vocabulary


def load_revision(revision: str):
    """seminas_compiled.py as it was at `revision`, imported as its own module."""
    text = subprocess.run(["git", "show", f"{revision}:{MODULE}"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout
    folder = Path(tempfile.mkdtemp(prefix="seminas_before_"))
    path = folder / f"seminas_compiled_{revision}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(f"seminas_compiled_{revision}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    if not hasattr(module, "dropout_mask"):  # before the masks were drawn here: torch draws them, as it did
        import torch

        module.mt_state = lambda state: (None, None)
        module.with_mt_state = lambda state, words, position: torch.get_rng_state().numpy()

        def dropout_mask(words, position, keep, scale, out):
            out[...] = torch.empty(out.shape).bernoulli_(keep).div_(keep).numpy()

        module.dropout_mask = dropout_mask
    return module


def sequences_for(space: str, count: int, rng) -> np.ndarray:
    length, vocabulary = SPACES[space]
    if space == "nb101":  # connection tokens 1-2, op tokens 3-6 where SemiNAS's sequence has them
        from nasrepro.spaces.nb101 import cells

        ops = np.zeros(length, dtype=bool)
        ops[cells.SEQUENCE_OP_POSITIONS] = True
        return np.where(ops, rng.integers(3, 7, (count, length)), rng.integers(1, 3, (count, length)))
    return rng.integers(1, vocabulary, (count, length))


def cpu_ms(fn, steps: int) -> float:
    started = time.process_time()
    fn()
    return (time.process_time() - started) / steps * 1e3


def train_ms(method: str, space: str, trainer: str, module, epochs: int) -> tuple[float, list[float]]:
    """CPU ms a step of `SemiNAS._train` (1000 sequences, batch 100: 10 steps an epoch) and its loss curve."""
    import torch

    from nasrepro import searchers
    from nasrepro.searchers import searcher_class
    from nasrepro.searchers.seminas import EPD

    rng = np.random.default_rng(0)
    sequences = torch.as_tensor(sequences_for(space, 1000, rng))
    targets = torch.as_tensor(rng.normal(size=1000), dtype=torch.float32)
    searcher = object.__new__(searcher_class(method))  # `_train` reads only the options
    searcher.__dict__.update(searcher_class(method).resolve({"trainer": trainer}, space))
    torch.manual_seed(0)
    model = EPD(SPACES[space][1], searcher.hidden_size, searcher.mlp_hidden_size, searcher.dropout)
    saved = searchers.seminas_compiled
    searchers.seminas_compiled = module  # `_train_compiled` imports it from the package
    try:
        curve: list[float] = []
        ms = cpu_ms(lambda: curve.extend(searcher._train(model, sequences, targets, 1) for _ in range(epochs)),
                    epochs * 10)
    finally:
        searchers.seminas_compiled = saved
    return ms, curve


def kernel_ms(space: str, module, steps: int) -> float:
    """CPU ms of `train_step` alone, on one fixed batch and fixed masks."""
    import torch

    from nasrepro.compiled import denormals_flushed
    from nasrepro.searchers.seminas import EPD

    length, vocabulary = SPACES[space]
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    params = list(EPD(vocabulary, 64, 16, 0.1).parameters())
    starts = np.concatenate([[0], np.cumsum([p.numel() for p in params])]).astype(np.int64)
    flat = torch.cat([p.detach().reshape(-1) for p in params]).numpy().copy()
    grads, exp_avg, exp_avg_sq = np.zeros_like(flat), np.zeros_like(flat), np.zeros_like(flat)
    source = sequences_for(space, 100, rng)
    target = rng.normal(size=100).astype(np.float32)
    masks = [(rng.random(shape) > 0.1).astype(np.float32) / np.float32(0.9)
             for shape in ((100, length, 64), (100, length, 64), (100, 16), (100, 64))]
    arena = np.empty(module.arena_size(100, length, 64, 16, vocabulary), dtype=np.float32)

    def run():
        for step in range(1, steps + 1):
            module.train_step(flat, starts, grads, exp_avg, exp_avg_sq, step, source, target, *masks, 64, 16, 1e-3,
                              1e-4, 0.9, 0.999, 1e-8, 0.8, 5.0, arena)

    with denormals_flushed():
        run()  # warm-up
        return cpu_ms(run, steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="e0811e2", help="git revision of the compiled step to compare with")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3, help="epochs of 10 steps per measurement")
    parser.add_argument("--spaces", nargs="+", default=list(SPACES))
    parser.add_argument("--methods", nargs="+", default=["seminas", "nao"])
    parser.add_argument("--no-torch", action="store_true", help="leave out the torch loop")
    args = parser.parse_args()
    import scipy.linalg.cython_blas  # noqa: F401  (Numba's BLAS: load it, then limit its threads too)
    import threadpoolctl
    import torch

    from nasrepro.searchers import seminas_compiled

    threadpoolctl.threadpool_limits(1)
    torch.set_num_threads(1)
    before = load_revision(args.before)
    loops = {f"compiled {args.before}": ("auto", before), "compiled now": ("auto", seminas_compiled)}
    if not args.no_torch:
        loops = {"torch loop": ("torch", seminas_compiled), **loops}
    print("| space | step | CPU ms per step (median of repeats) | loss curve: largest rel. diff from the first |")
    print("|---|---|---|---|")
    for space in args.spaces:
        times: dict[str, list[float]] = {}
        curves: dict[str, list[float]] = {}
        for name, module in ((f"kernel {args.before}", before), ("kernel now", seminas_compiled)):
            kernel_ms(space, module, 2)
        for _ in range(args.repeats):
            for method in args.methods:
                for name, (trainer, module) in loops.items():
                    ms, curve = train_ms(method, space, trainer, module, args.epochs)
                    times.setdefault(f"{method}, {name}", []).append(ms)
                    curves.setdefault(f"{method}, {name}", curve)
            for name, module in ((f"kernel {args.before}", before), ("kernel now", seminas_compiled)):
                times.setdefault(f"train_step alone, {name}", []).append(kernel_ms(space, module, 10 * args.epochs))
        for what, values in times.items():
            first = curves.get(f"{what.split(',')[0]}, {next(iter(loops))}")
            diff = (f"{np.max(np.abs(np.subtract(curves[what], first)) / np.abs(first)):.1e}"
                    if what in curves else "")
            print(f"| {space} | {what} | {np.median(values):.2f} | {diff} |", flush=True)


if __name__ == "__main__":
    main()
