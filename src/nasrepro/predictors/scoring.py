"""The MLP's ranking pass (the forward pass over every architecture): the kernels and the measured choice.

Two kernels compute the same float32 maths and differ only in rounding (summation order):
- `reference`: `torch.addmm` into two reused buffers + in-place ReLU (MKL's sgemm on x86 builds of torch);
  every precision and device, and the only kernel for bf16 and CUDA.
- `onednn`: oneDNN's fused linear + ReLU (`torch.ops.mkldnn._linear_pointwise`) over tiles of TILE rows,
  with the weights reordered once into oneDNN's blocked layout (`torch.ops.mkldnn._reorder_linear_weight`, what torch.compile's
  CPU freezing pass emits); CPU fp32 only. oneDNN may win where MKL takes a slower path (MKL runs its AVX2
  code on AMD CPUs); on the Zen 4 EPYC of benchmarks/RESULTS-mlp.md oneDNN gains only in tiles.

`kernel_for` picks one for a CPU fp32 pass of at least `MIN_ROWS` rows by a measured check: both kernels
time a representative block (the model's own weights, `CHECK_ROWS` of the rows it ranks), alternating,
best of `CHECK_ROUNDS` (CPU seconds with one torch thread, so a busy machine does not sway it; wall seconds
with several); oneDNN is chosen only when it is at least `MARGIN` faster, so that near-ties
keep the reference. The verdict is cached per process and per machine (a JSON file keyed by CPU, torch
version, threads and layer shapes), so runs on one machine keep one kernel and so one trajectory per seed.
NASREPRO_FP32_KERNEL=reference|onednn pins the choice. Smaller passes (NAS-Bench-201's 15,625 rows) use
the reference: the check would cost more than it saves.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from .. import lazy
from ..errors import NasReproError

torch = lazy.module("torch")

KERNELS = ("reference", "onednn")
PIN_ENV = "NASREPRO_FP32_KERNEL"
CACHE_ENV = "NASREPRO_KERNEL_CACHE"  # the verdicts file (default ~/.cache/nasrepro/fp32-kernels.json)
MIN_ROWS = 100_000
TILE = 1024  # oneDNN's rows per call (measured here: 1,024-row tiles beat 16,384 by ~9%)
CHECK_ROWS = 8192
CHECK_ROUNDS = 3
MARGIN = 1.03  # a near-tie keeps the reference (on a Zen 4 EPYC oneDNN's tiles were 5-15% faster per 65,536 rows)
_verdicts: dict[str, str] = {}


def reference(weights, biases, rows: int):
    """addmm(out=) into two reused buffers + relu_: `run(x)` returns the (len(x),) scores."""
    width = max(w.shape[1] for w in weights[:-1])
    buffers = [torch.empty(rows * width, dtype=weights[0].dtype, device=weights[0].device)
               for _ in range(min(2, len(weights) - 1))]

    def run(x):
        for layer, (w, b) in enumerate(zip(weights[:-1], biases[:-1])):
            h = buffers[layer % 2][: len(x) * w.shape[1]].view(len(x), w.shape[1])
            x = torch.addmm(b, x, w, out=h).relu_()
        return torch.addmm(biases[-1], x, weights[-1]).squeeze(1)

    return run


def onednn(weights, biases, rows: int):
    """oneDNN linear with fused ReLU, weights reordered once, over tiles of at most TILE rows (CPU fp32)."""
    packed = [torch.ops.mkldnn._reorder_linear_weight(w.t().contiguous(), min(rows, TILE)) for w in weights]
    hidden = len(weights) - 1

    def run(x):
        out = torch.empty(len(x), dtype=x.dtype)
        for start in range(0, len(x), TILE):
            h = x[start : start + TILE]
            for layer, (w, b) in enumerate(zip(packed, biases)):
                h = torch.ops.mkldnn._linear_pointwise(h, w, b, "relu" if layer < hidden else "none", [], "")
            out[start : start + len(h)] = h.squeeze(1)
        return out

    return run


def prepare(kernel: str, weights, biases, rows: int):
    return {"reference": reference, "onednn": onednn}[kernel](weights, biases, rows)


def onednn_usable(weights) -> bool:
    return weights[0].device.type == "cpu" and weights[0].dtype == torch.float32 and torch.backends.mkldnn.is_available()


def kernel_for(weights, biases, X, rows: int) -> str:
    """The kernel for ranking the float32 rows X (a numpy array) with these weights: see the module note."""
    pinned = os.environ.get(PIN_ENV)
    if pinned:
        if pinned not in KERNELS:
            raise NasReproError(f"${PIN_ENV}: {pinned!r}, expected one of {', '.join(KERNELS)}")
        if pinned == "onednn" and not onednn_usable(weights):
            raise NasReproError(f"${PIN_ENV}: 'onednn' runs float32 on the CPU only (with torch's oneDNN)")
        return pinned
    if len(X) < MIN_ROWS or not onednn_usable(weights):
        return "reference"
    key = _machine_key(weights)
    if key not in _verdicts:
        _verdicts[key] = _load_cache().get(key) or _store(key, measure(weights, biases, X, rows)["kernel"])
    return _verdicts[key]


def measure(weights, biases, X, rows: int) -> dict:
    """Best-of-CHECK_ROUNDS seconds per kernel on one batch of X (at most CHECK_ROWS rows), and the verdict."""
    block = torch.as_tensor(X[: min(CHECK_ROWS, rows)])
    runs = {kernel: prepare(kernel, weights, biases, len(block)) for kernel in KERNELS}
    seconds = {kernel: [] for kernel in KERNELS}
    # one thread: its CPU seconds, which other processes on the machine do not inflate; threads: wall seconds
    clock = time.process_time if torch.get_num_threads() == 1 else time.perf_counter
    with torch.no_grad():
        for run in runs.values():  # warm-up: oneDNN builds its primitive on the first call
            run(block[:256])
        for round_ in range(CHECK_ROUNDS):
            for kernel in KERNELS if round_ % 2 == 0 else KERNELS[::-1]:
                started = clock()
                runs[kernel](block)
                seconds[kernel].append(clock() - started)
    best = {kernel: min(times) for kernel, times in seconds.items()}
    faster = best["reference"] >= MARGIN * best["onednn"]
    return {"kernel": "onednn" if faster else "reference", "seconds": best}


def _machine_key(weights) -> str:
    flags = torch._C._cpu._get_cpu_capability()
    cpu = flags.get("cpu_name") or platform.processor() or platform.machine()
    isa = ",".join(sorted(k for k, v in flags.items() if v is True))
    shapes = "x".join(str(w.shape[0]) for w in weights) + f"x{weights[-1].shape[1]}"
    return f"{cpu}|{isa}|torch {torch.__version__}|threads {torch.get_num_threads()}|{shapes}"


def _cache_path() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "nasrepro" / "fp32-kernels.json")


def _load_cache() -> dict:
    try:
        return json.loads(_cache_path().read_text())
    except (OSError, ValueError):  # no file yet, or unreadable: the check runs (and is kept in this process)
        return {}


def _store(key: str, kernel: str) -> str:
    path = _cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        partial.write_text(json.dumps({**_load_cache(), key: kernel}, indent=1, sort_keys=True))
        os.replace(partial, path)  # atomic: parallel jobs see the old file or the new one
    except OSError:  # a read-only home (a sandbox): the verdict holds for this process only
        pass
    return kernel
