"""Measure every time the README quotes, on this machine, and print them as Markdown (the README quotes this output).

    NASREPRO_MIRROR=../shared/benchmarks .venv/bin/python benchmarks/readme_figures.py [compare smoke test-fast]

Each measurement runs in a fresh temporary working directory (nothing cached in results/): `nasrepro compare`
of the README's HillClimber (tests/plugins/my_methods.py) against WeakNAS, R-EA and random search, 5 seeds, with
`--report`; `make smoke`'s workflow (config/smoke.yaml); `make test-fast`'s pytest selection. Wall seconds, and
CPU seconds of the command and every process it started (user + system, from the kernel's accounting of
waited-for children). The machine line names the CPU, its cores and the load average when each began: a loaded
machine's wall time is not an idle machine's.
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONFIGS = [str(REPO / name) for name in ("config.yaml", "config/offline.yaml", "config/cpu-ablations.yaml")]


def compare(work: Path) -> list[str]:
    shutil.copy(REPO / "tests" / "plugins" / "my_methods.py", work / "my_methods.py")
    return [str(BIN / "nasrepro"), "compare", "my_methods.py:HillClimber", "--options", '{"patience": 5}', "--report",
            "--against", "weaknas,regularized_evolution,random", "--config", *CONFIGS, "--seeds", "5"]


def smoke(work: Path) -> list[str]:
    return [str(BIN / "snakemake"), "-s", str(REPO / "Snakefile"), "--cores", "all", "--configfile",
            str(REPO / "config" / "smoke.yaml")]


def test_fast(work: Path) -> list[str]:
    return [str(BIN / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m",
            "not e2e and not slurm and not slow", str(REPO / "tests")]


MEASURES = {"compare": (compare, "`nasrepro compare` (README's command, 5 seeds, --report), fresh folder"),
            "smoke": (smoke, "`make smoke`'s workflow (config/smoke.yaml), fresh folder"),
            "test-fast": (test_fast, "`make test-fast`'s tests")}


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    return f"{model}, {len(os.sched_getaffinity(0))} cores, {platform.system()} {platform.release()}"


def measure(name: str) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds of the command's processes, load average at the start, exit status)."""
    command_of, _ = MEASURES[name]
    with tempfile.TemporaryDirectory(prefix=f"readme-{name}-") as folder:
        work = Path(folder)
        command = command_of(work)
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        status = subprocess.call(command, cwd=work if name != "test-fast" else REPO, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, load, status


def main(names: list[str]) -> int:
    print(f"Machine: {machine()}; Python {platform.python_version()}\n")
    print("| what | wall | CPU | load average at start | exit |\n|---|---|---|---|---|")
    for name in names or list(MEASURES):
        wall, cpu, load, status = measure(name)
        print(f"| {MEASURES[name][1]} | {wall:.0f} s | {cpu:.0f} s | {load:.1f} | {status} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
