"""The WeakNAS predictor: scikit-learn's MLPRegressor (as the reference code uses it) re-built in torch.

Mirrors sklearn's defaults: ReLU, Glorot-uniform weights and biases, Adam (1e-3, 0.9, 0.999, 1e-8),
loss = half mean squared error + 0.5 * alpha * ||W||^2 / batch (weights only), batch min(200, n),
reshuffled every epoch, and stop once the epoch loss fails to improve by `tol` for more than
`n_iter_no_change` consecutive epochs. Runs on the GPU when one is present.

Fast path, same maths: the L2 term enters as its gradient, Adam's `weight_decay` = alpha / len(batch)
on a weights-only parameter group (set per step: the last batch of an epoch may be shorter), so no
autograd pass runs over the weights; its value for the reported loss is a plain dot product. Adam is
the fused kernel; ReLU runs in place on the addmm output. Ranking runs through `predictors.scoring`: addmm
into two reused buffers, or on CPUs where a measured check finds it faster, oneDNN's fused linear + ReLU
(the same float32 maths, another summation order; `kernel_` names the one that ran).
`precision: bf16` runs the matrix products in bfloat16 (torch.autocast for training, weights cast once
for ranking); the master weights, Adam and the loss stay float32. It needs AVX512_BF16 or AMX on the CPU
(refused when the config is validated) or a GPU with bf16 (checked in the job).
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import numpy as np
from .. import lazy

torch = lazy.module("torch")  # loaded on first use (nasrepro.lazy)

from ..errors import NasReproError
from ..plugins import option
from . import scoring
from .base import Predictor

PRECISIONS = ("fp32", "bf16")


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        from ..errors import NasReproError

        raise NasReproError(f"predictor option device: {device!r}, but no CUDA GPU is visible to this job; "
                            "use device: auto (GPU when present) or cpu")
    return torch.device(device)


BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_bf16_flags() -> set[str]:
    """Which of AVX512_BF16 and AMX-BF16 this CPU has: /proc/cpuinfo's flags (no torch import, so validation
    stays light), else torch's cpuinfo. oneDNN's own check is not used: it says yes on any AVX-512 CPU,
    where it only emulates bfloat16, slower than fp32."""
    try:
        flags = {word for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")
                 for word in line.split(":", 1)[1].split()}
    except OSError:
        flags = {name for name, has in torch._C._cpu._get_cpu_capability().items() if has is True}
    return flags & set(BF16_CPU_FLAGS)


def bf16_supported(device: torch.device) -> bool:
    """Whether bfloat16 matrix products run natively: CUDA's own check; on the CPU, AVX512_BF16 or AMX."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and bool(cpu_bf16_flags())


def _gpu_visible() -> bool:
    """An NVIDIA GPU on this machine, without importing torch (device: auto would use it)."""
    gpus = Path("/proc/driver/nvidia/gpus")
    return gpus.is_dir() and any(gpus.iterdir())


def compute_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The dtype of the matrix products for `precision` on `device`; NasReproError where not supported."""
    if precision == "fp32":
        return torch.float32
    if precision != "bf16":
        raise NasReproError(f"precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    if not bf16_supported(device):
        where = "this GPU (torch.cuda.is_bf16_supported() is False)" if device.type == "cuda" else (
            f"this {device.type} (it needs AVX512_BF16 or AMX: CPU flags {' or '.join(BF16_CPU_FLAGS)})")
        raise NasReproError(f"precision 'bf16' is not supported on {where}; use precision: fp32")
    return torch.bfloat16


class MLPRegressor(Predictor):
    wants_gpu = True
    title = "MLP"
    options = {
        "hidden_layer_sizes": option([1000, 1000, 1000, 1000], "Width of each hidden layer.",
                                     type="array", items={"type": "integer", "minimum": 1}, minItems=1),
        "max_epochs": option(100, "Maximum passes over the training set (sklearn max_iter).", type="integer", minimum=1),
        "learning_rate": option(1e-3, "Adam learning rate.", type="number", exclusiveMinimum=0),
        "alpha": option(1e-4, "L2 penalty on the weights.", type="number", minimum=0),
        "batch_size": option(200, "Mini-batch size (min(batch_size, n) is used).", type="integer", minimum=1),
        "tol": option(1e-4, "Improvement of the training loss that counts as progress.", type="number", minimum=0),
        "n_iter_no_change": option(10, "Epochs without progress before training stops.", type="integer", minimum=1),
        "predict_batch_size": option(65536, "Rows per batch when ranking the space.", type="integer", minimum=1),
        "device": option("auto", "auto (GPU when present), cpu, or cuda.", enum=["auto", "cpu", "cuda"]),
        "precision": option("fp32", "Matrix products in fp32 (exact sklearn maths) or bf16 (bfloat16 autocast for the "
                            "training forward pass and the ranking; weights, Adam and loss stay fp32; about 2x faster "
                            "on CPUs with AVX512_BF16/AMX and on Ampere+ GPUs). bf16 where the hardware lacks it "
                            "(torch.cuda.is_bf16_supported(), or the CPU flags avx512_bf16 / amx_bf16) is an error.",
                            enum=list(PRECISIONS)),
    }

    @classmethod
    def resolve(cls, given, space=None) -> dict:
        """The options; bf16 that can run only on this CPU, which lacks AVX512_BF16 and AMX, is refused here,
        when the config is validated (CUDA's bf16 check runs in the job, on its GPU)."""
        options = super().resolve(given, space)
        on_cpu = options["device"] == "cpu" or (options["device"] == "auto" and not _gpu_visible())
        if options["precision"] == "bf16" and on_cpu and not cpu_bf16_flags():
            raise NasReproError(f"option precision: 'bf16' needs a CPU with AVX512_BF16 or AMX (flags "
                                f"{' or '.join(BF16_CPU_FLAGS)}) and this one has neither; use precision: fp32"
                                f"{', or device: cuda where the jobs get GPUs' if options['device'] == 'auto' else ''}")
        return options

    def _init_layers(self, n_features: int, generator: torch.Generator, device: torch.device):
        sizes = [n_features, *self.hidden_layer_sizes, 1]
        weights, biases = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            w = (torch.rand(fan_in, fan_out, generator=generator, dtype=torch.float64) * 2 - 1) * bound
            b = (torch.rand(fan_out, generator=generator, dtype=torch.float64) * 2 - 1) * bound
            weights.append(w.float().to(device).requires_grad_())
            biases.append(b.float().to(device).requires_grad_())
        return weights, biases

    @staticmethod
    def _forward(x: torch.Tensor, weights, biases) -> torch.Tensor:
        for w, b in zip(weights[:-1], biases[:-1]):
            x = torch.addmm(b, x, w).relu_()  # in place: relu's backward needs only its output
        return torch.addmm(biases[-1], x, weights[-1]).squeeze(1)

    def fit(self, X, y) -> "MLPRegressor":
        device = resolve_device(self.device)
        dtype = compute_dtype(self.precision, device)
        autocast = (torch.autocast(device.type, dtype=dtype) if dtype != torch.float32
                    else contextlib.nullcontext())
        generator = torch.Generator().manual_seed(int(self.random_state))
        X = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)
        y = torch.as_tensor(np.asarray(y, dtype=np.float32).reshape(-1), device=device)
        n = len(y)
        weights, biases = self._init_layers(X.shape[1], generator, device)
        # The penalty 0.5 * alpha * sum(W^2) / m enters as its gradient alpha * W / m: Adam's (L2, not
        # decoupled) weight_decay on the weights' group, set per batch since the last one may be shorter.
        decayed = {"params": weights, "weight_decay": 0.0}
        optimizer = torch.optim.Adam([decayed, {"params": biases, "weight_decay": 0.0}], lr=self.learning_rate,
                                     betas=(0.9, 0.999), eps=1e-8, fused=True)
        decayed = optimizer.param_groups[0]
        batch = min(self.batch_size, n)
        best_loss, stale = math.inf, 0
        self.loss_curve_ = []
        for _ in range(self.max_epochs):
            order = torch.randperm(n, generator=generator).to(device)
            epoch_loss = torch.zeros((), device=device)
            for start in range(0, n, batch):
                rows = order[start : start + batch]
                with autocast:
                    prediction = self._forward(X[rows], weights, biases)
                residual = prediction.float() - y[rows]
                loss = 0.5 * (residual * residual).mean()
                with torch.no_grad():  # the penalty's value, for the reported loss only
                    penalty = sum(torch.dot(w.view(-1), w.view(-1)) for w in weights)
                    epoch_loss += (loss.detach() + 0.5 * self.alpha * penalty / len(rows)) * len(rows)
                decayed["weight_decay"] = self.alpha / len(rows)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            epoch_loss = float(epoch_loss) / n
            self.loss_curve_.append(epoch_loss)
            stale = stale + 1 if epoch_loss > best_loss - self.tol else 0
            best_loss = min(best_loss, epoch_loss)
            if stale > self.n_iter_no_change:
                break
        self.n_epochs_ = len(self.loss_curve_)
        self.weights_ = [w.detach() for w in weights]
        self.biases_ = [b.detach() for b in biases]
        return self

    @lazy.no_grad
    def predict(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        device = self.weights_[0].device
        dtype = compute_dtype(self.precision, device)
        # bf16: what autocast would do per chunk (every operand of addmm in bf16), with the weights cast once
        weights = [w.to(dtype) for w in self.weights_]
        biases = [b.to(dtype) for b in self.biases_]
        out = np.empty(len(X), dtype=np.float32)
        step = min(self.predict_batch_size, max(len(X), 1))
        self.kernel_ = scoring.kernel_for(weights, biases, X, step) if dtype == torch.float32 else "reference"
        run = scoring.prepare(self.kernel_, weights, biases, step)
        for start in range(0, len(X), step):
            x = torch.as_tensor(X[start : start + step], device=device).to(dtype)
            out[start : start + len(x)] = run(x).float().cpu().numpy()
        return out
