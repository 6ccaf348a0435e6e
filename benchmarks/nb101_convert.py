"""Speed and memory benchmark: convert a full-size NAS-Bench-101 `nasbench_only108.tfrecord` to the table.

    python benchmarks/nb101_convert.py [--cells 423624] [--out /tmp/nb101_bench.tfrecord] [--keep]

The official file cannot be brought onto these machines, so this script first WRITES a synthetic file
in the real format (TFRecord framing, JSON records, base64 proto2 ModelMetrics with 3 evaluation_data
entries and gs:// checkpoint paths; records of about the real mean size), `--cells` cells x 3 repeats
at 108 epochs. Building 423,624 distinct valid cells is not needed for a speed test: the cells cycle
through a pool of a few thousand real valid pruned cells, and every cell gets its own distinct 32-hex
hash (the reader trusts the file's hashes; it only checks that one hash always has one cell). Repeats
are interleaved in blocks, so they are not adjacent in the file.

It then converts the file with `nb101_reader.convert` in a fresh Python process and prints that
process's wall time for the conversion, its peak resident memory (ru_maxrss), the file size and the
record count. The file is deleted afterwards unless --keep is given (an existing --out file of the
right size is reused, so a kept file can be converted again without regenerating it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from nasrepro.spaces.nb101 import cells as nb101
from nasrepro.spaces.nb101.reader import FINAL_EPOCHS, REPEATS, encode_metrics, record_bytes
from nasrepro.spaces.nb101.tfrecord import write_records

REAL_RECORDS = 1_270_872
REAL_BYTES = 499_000_000  # "about 499 MB" (README): ~393 bytes per framed record
BLOCK = 1000  # cells per interleaving block: repeat 0 of the block, then repeat 1, then repeat 2

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
started = time.perf_counter()
from nasrepro.spaces.nb101 import reader as nb101_reader
imported = time.perf_counter()
table, meta = nb101_reader.convert(Path(sys.argv[1]), "valid", expected_cells=int(sys.argv[2]))
done = time.perf_counter()
print(json.dumps({"import_s": imported - started, "convert_s": done - imported, "rows": len(table),
                  "records": meta["records"], "records_108": meta["records_108"],
                  "table_mb": table.memory_usage(deep=True).sum() / 2**20,
                  "best_fit": float(table["fit_label"].max()),
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# Rough share of pruned cells by vertex count (most NAS-Bench-101 cells have all 7 vertices); it only
# makes the record sizes realistic.
VERTEX_SHARE = {7: 0.8476, 6: 0.1352, 5: 0.0147, 4: 0.0021, 3: 0.0003, 2: 0.0001}


def random_pruned_cell(rng: np.random.Generator, n: int) -> np.ndarray | None:
    """A random n-vertex upper-triangular matrix that is already pruned (every vertex gets an in-edge
    and an out-edge, so it lies on an input->output path), or None if it has more than 9 edges."""
    matrix = np.zeros((n, n), dtype=np.int64)
    for v in range(1, n):
        matrix[rng.integers(0, v), v] = 1
    for v in range(n - 1):
        if not matrix[v].any():
            matrix[v, rng.integers(v + 1, n)] = 1
    r, c = np.triu_indices(n, k=1)
    extra = rng.random(len(r)) < rng.uniform(0.0, 0.3)
    matrix[r[extra], c[extra]] = 1
    return matrix if matrix.sum() <= nb101.MAX_EDGES else None


def cell_pool(size: int, seed: int) -> list[tuple[np.ndarray, list[str]]]:
    """`size` distinct valid pruned cells (matrix, ops), with about the real share of each vertex count;
    each is checked with nb101.valid_spec (which must leave it unchanged)."""
    rng = np.random.default_rng(seed)
    pool, seen = [], set()
    for n in sorted(VERTEX_SHARE):  # 7 last: it takes what the small counts (few cells exist) leave
        wanted = size - len(pool) if n == nb101.MAX_VERTICES else max(1, round(VERTEX_SHARE[n] * size))
        for _ in range(wanted * 100):
            if wanted == 0:
                break
            matrix = random_pruned_cell(rng, n)
            if matrix is None:
                continue
            ops = [nb101.INPUT, *rng.choice(nb101.INTERIOR_OPS, n - 2).tolist(), nb101.OUTPUT]
            key = (matrix.tobytes(), tuple(ops))
            if key in seen:
                continue
            spec = nb101.valid_spec(matrix, ops)
            assert spec is not None and spec.matrix.numpy().tolist() == matrix.tolist(), (matrix, ops)
            seen.add(key)
            pool.append((matrix, ops))
            wanted -= 1
    order = rng.permutation(len(pool))
    return [pool[i] for i in order]


def records(cells: int, pool: list[tuple[np.ndarray, list[str]]], seed: int):
    """The data of every record, repeats interleaved block by block."""
    rng = np.random.default_rng(seed)
    for start in range(0, cells, BLOCK):
        block = range(start, min(start + BLOCK, cells))
        hashes = [hashlib.md5(f"nb101-benchmark-cell-{i}".encode()).hexdigest() for i in block]
        quality = rng.uniform(0.80, 0.94, len(block))
        params = rng.integers(200_000, 50_000_000, len(block))
        for repeat in range(REPEATS):
            noise = rng.normal(0.0, 0.003, (len(block), 4))
            seconds = rng.uniform(1000.0, 5000.0, len(block))
            for j, i in enumerate(block):
                matrix, ops = pool[i % len(pool)]
                # With 3 full evaluation_data entries the real mean record size leaves room for one short
                # checkpoint path at most, so only the end-of-training entry carries one.
                run = f"gs://nasbench/{hashes[j][:8]}/{repeat + 1}/ckpt-"
                metrics = encode_metrics(
                    [
                        {"current_epoch": 0.0, "training_time": 0.0, "train_accuracy": 0.1 + noise[j, 0],
                         "validation_accuracy": 0.1 + noise[j, 1], "test_accuracy": 0.1 + noise[j, 2]},
                        {"current_epoch": 54.0, "training_time": seconds[j] / 2, "train_accuracy": quality[j] - 0.05,
                         "validation_accuracy": quality[j] - 0.08, "test_accuracy": quality[j] - 0.08 + noise[j, 3]},
                        {"current_epoch": 108.0, "training_time": seconds[j], "train_accuracy": 1.0,
                         "validation_accuracy": quality[j] + noise[j, 1], "test_accuracy": quality[j] + noise[j, 2],
                         "checkpoint_path": run + "42187"},
                    ],
                    trainable_parameters=int(params[j]),
                    total_time=seconds[j] * 1.3,
                )
                yield record_bytes(hashes[j], FINAL_EPOCHS, matrix, ops, metrics)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=nb101.NUM_CELLS, help="unique cells (x3 records)")
    parser.add_argument("--out", type=Path, default=None, help="where to write the file (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--pool", type=int, default=3000, help="distinct real cells to cycle through")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    tmpdir = None
    if args.out is None:
        tmpdir = tempfile.mkdtemp(prefix="nb101_bench_")
        args.out = Path(tmpdir) / "nasbench_only108.tfrecord"
    try:
        if args.out.exists() and args.keep:
            print(f"reusing {args.out}")
        else:
            started = time.perf_counter()
            pool = cell_pool(args.pool, args.seed)
            count = write_records(args.out, records(args.cells, pool, args.seed))
            print(f"generated {count:,} records ({args.cells:,} cells x {REPEATS}, pool of {len(pool)} cells) "
                  f"in {time.perf_counter() - started:.1f} s")
        size = args.out.stat().st_size
        n_records = args.cells * REPEATS
        print(f"file {args.out}: {size:,} bytes, {size / n_records:.1f} bytes per framed record "
              f"(real nasbench_only108: about {REAL_BYTES / REAL_RECORDS:.0f})")

        started = time.perf_counter()
        child = subprocess.run([sys.executable, "-c", CHILD, str(args.out), str(args.cells)],
                               check=False, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if child.returncode != 0:
            sys.exit(f"conversion failed:\n{child.stderr.strip()}")
        result = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"converted {result['records']:,} records ({result['records_108']:,} at 108 epochs) -> "
              f"{result['rows']:,} rows: convert {result['convert_s']:.1f} s "
              f"({1e6 * result['convert_s'] / result['records']:.1f} us/record), import {result['import_s']:.1f} s, "
              f"child process wall {wall:.1f} s")
        print(f"peak RSS of the converting process: {result['maxrss_mb']:.0f} MiB; "
              f"table in memory {result['table_mb']:.0f} MiB")
    finally:
        if not args.keep:
            args.out.unlink(missing_ok=True)
            if tmpdir is not None:
                os.rmdir(tmpdir)


if __name__ == "__main__":
    main()
