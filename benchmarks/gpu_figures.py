"""GPU figures for the cost model, on a machine with a CUDA device (one prepared script for a lent GPU):

- the SemiNAS and NAO training step as `SemiNAS._train` runs it on a GPU (the torch loop, `trainer: torch`: the
  compiled step is the CPU's), batches of 100 NAS-Bench-201 (6 tokens) and NAS-Bench-101 (27 tokens) sequences;
- one WeakNAS scoring pass over NAS-Bench-101: 423,624 rows of seq45's shape through the paper's 4 x 1000 MLP
  (`MLPRegressor.predict`, the transfers included), fp32 and bf16.

Wall seconds after `torch.cuda.synchronize()`, the best of --repeats after a warm-up. `--merge` writes them as
the `gpu` entry of the cost model (src/nasrepro/resources/cost_model.yaml), which `nasrepro cost` prints.

    python benchmarks/gpu_figures.py [--device cuda] [--merge]
    python benchmarks/gpu_figures.py --device cpu --rows 20000 --repeats 1   # the script itself, without a GPU
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cost_calibration import write_model  # noqa: E402
from seminas_step import SPACES, sequences_for  # noqa: E402

MODEL = Path(__file__).resolve().parents[1] / "src/nasrepro/resources/cost_model.yaml"
STEPS_PER_EPOCH = 10  # 1,000 sequences, batch 100


def synchronized(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_seconds(run, device: torch.device, repeats: int) -> float:
    run()  # warm-up: kernels chosen, memory pooled
    times = []
    for _ in range(repeats):
        synchronized(device)
        started = time.perf_counter()
        run()
        synchronized(device)
        times.append(time.perf_counter() - started)
    return min(times)


def step_seconds(method: str, space: str, device: torch.device, epochs: int, repeats: int) -> float:
    """Seconds a training step of the torch loop on `device`."""
    from nasrepro.searchers import searcher_class
    from nasrepro.searchers.seminas import EPD

    rng = np.random.default_rng(0)
    sequences = torch.as_tensor(sequences_for(space, 100 * STEPS_PER_EPOCH, rng), device=device)
    targets = torch.as_tensor(rng.normal(size=len(sequences)), dtype=torch.float32, device=device)
    searcher = object.__new__(searcher_class(method))  # `_train` reads only the options
    searcher.__dict__.update(searcher_class(method).resolve({"trainer": "torch"}, space))
    torch.manual_seed(0)
    model = EPD(SPACES[space][1], searcher.hidden_size, searcher.mlp_hidden_size, searcher.dropout).to(device)
    seconds = best_seconds(lambda: searcher._train(model, sequences, targets, epochs), device, repeats)
    return seconds / (epochs * STEPS_PER_EPOCH)


def scoring_seconds(rows: int, precision: str, device: torch.device, repeats: int) -> float:
    """Seconds of one pass of the paper's MLP over `rows` seq45-shaped rows."""
    from nasrepro.predictors.mlp import MLPRegressor

    net = MLPRegressor(hidden_layer_sizes=[1000] * 4, device=str(device.type), precision=precision, random_state=0)
    weights, biases = net._init_layers(45, torch.Generator().manual_seed(0), device)
    net.weights_, net.biases_ = [w.detach() for w in weights], [b.detach() for b in biases]
    features = (np.random.default_rng(0).random((rows, 45)) < 0.25).astype(np.float32)
    return best_seconds(lambda: net.predict(features), device, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--rows", type=int, default=423_624, help="rows of the scoring pass (NAS-Bench-101's cells)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of 10 steps per step measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--merge", action="store_true", help="write the figures into the cost model's `gpu` entry")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit(f"gpu_figures: --device {args.device}, but torch sees no CUDA device here")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (the script's own check)"
    figures = {"measured_on": f"{name}, torch {torch.__version__}, {time.strftime('%Y-%m-%d')}",
               "step_seconds": {method: {str(SPACES[space][0]): round(step_seconds(method, space, device, args.epochs,
                                                                                      args.repeats), 6)
                                         for space in SPACES} for method in ("seminas", "nao")},
               "scoring_seconds": {"rows": args.rows, **{precision: round(scoring_seconds(args.rows, precision, device,
                                                                                          args.repeats), 4)
                                                         for precision in ("fp32", "bf16")}}}
    print(yaml.safe_dump({"gpu": figures}, sort_keys=False), end="")
    if args.merge:
        if device.type != "cuda":
            sys.exit("gpu_figures: --merge writes GPU figures; these were measured on the CPU")
        model = yaml.safe_load(MODEL.read_text())
        model["gpu"] = figures
        write_model(model, MODEL)
        print(f"wrote the gpu entry of {MODEL}")


if __name__ == "__main__":
    main()
