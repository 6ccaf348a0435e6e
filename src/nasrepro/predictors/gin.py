"""The graph isomorphism network (GIN) predictors of NPENAS (Wei et al., "NPENAS: Neural predictor guided
evolution for neural architecture search", IEEE TNNLS 2022), after the authors' code auroua/NPENASv1:
`nas_lib/models/gin_predictor.py` (`NasBenchGINPredictorAgent`, NPENAS-NP),
`nas_lib/models/gin_uncertainty_predictor.py` and `..._relu.py` (`NasBenchGINGaussianAgent`, NPENAS-BO),
trained as `nas_lib/eigen/trainer_predictor.py` / `trainer_uncertainty_predictor.py` do, with the
optimizer and schedule of `nas_lib/utils/utils_solver.py` (`make_agent_optimizer`, `CosineLR`) and the
settings of `nas_lib/configs.py` (`algo_params_close_domain`, comparison "algorithm").

The model (the defaults): `layers` = 3 GIN convolutions, each x' = MLP(x + Σ_{predecessors} x) with the
MLP Linear(in, 32) → ReLU → Linear(32, 32) (PyG's GINConv, eps 0, messages along the edges), then the
activation (`activation`: relu for NPENAS-NP, celu for NPENAS-BO) and a BatchNorm over every node of
the batch; global mean pooling over the cell's vertices (all of them, padding vertices included, as the
authors' graphs carry an 'isolate' node there); then the head:
- `head: mean` (NPENAS-NP): Linear(32, 16) → activation → dropout 0.1 → Linear(16, 1) → sigmoid × `rate`
  (the authors' output scale: 100 on NAS-Bench-201, 10 on NAS-Bench-101; null: a linear output), MSE.
- `head: gaussian` (NPENAS-BO): that mean branch without the sigmoid, and a second branch Linear(32, 16)
  → activation → Linear(16, 1) → activation, σ = exp(·/2); the Gaussian negative log-likelihood
  (`nas_lib/layers/loss_gausian.py`). `predict_distribution` gives (mean, σ) on the label scale.
The head's linear layers are Kaiming-uniform (a=1) with zero biases, the GIN MLPs torch.nn.Linear's default.

Training: `target: error` fits 100 − y, the validation error in percent the authors fit (y must be an
accuracy in percent; `predict` returns 100 − the predicted error, higher = better); `target:
standardized` z-scores y with the training set's mean and SD (for other label scales, e.g. WeakNAS's
z-scored labels; the sigmoid is then dropped). Adam with betas (0.0, 0.9), lr `learning_rate` (0.005)
and L2 weight decay 1e-4 on the weights, twice the lr and no decay on every bias; the lr follows the
authors' CosineLR per step: lr_j = lr · ½(1 + cos(π (j + 2) / T)), T = ⌊epochs · n / batch⌋; batches of
`batch_size` (10: the authors fix it from the 10 initial samples) reshuffled every epoch, the last
one partial; `epochs` 300 (NPENAS-NP) or 1000 (NPENAS-BO).

Determinism: initialization, shuffling and dropout masks come from generators seeded with
`random_state`. Runs on CUDA when present (`device: auto`). On the CPU (`trainer: auto`) the training loop
is compiled with Numba (`gin_compiled.py`: the same draws and updates, 10-15x faster per step on one core);
`trainer: torch` runs the torch loop there too.
"""

from __future__ import annotations

import math

import numpy as np
from .. import lazy

torch = lazy.module("torch")  # loaded on first use (nasrepro.lazy)

from ..errors import NasReproError
from ..plugins import option
from ..spaces import Graphs
from .base import Predictor
from .mlp import resolve_device

LOG_SQRT_2PI = math.log(2.5066282746310002)  # the authors' Criterion: -log(sqrt(2 pi) sigma)
BN_MOMENTUM, BN_EPS = 0.1, 1e-5
ADAM_BETA2, ADAM_EPS = 0.9, 1e-8  # make_agent_optimizer: Adam(params, lr, (0.0, 0.9))



class GINRegressor(Predictor):
    input = "graph"
    wants_gpu = True
    options = {
        "head": option("mean", "mean (NPENAS-NP: one output, MSE) or gaussian (NPENAS-BO: mean and SD, Gaussian "
                       "negative log-likelihood).", enum=["mean", "gaussian"]),
        "activation": option("relu", "Activation after each convolution and in the head (NP relu, BO celu).",
                             enum=["relu", "celu"]),
        "hidden": option(32, "Width of every GIN convolution.", type="integer", minimum=1),
        "layers": option(3, "Number of GIN convolutions.", type="integer", minimum=1),
        "head_hidden": option(16, "Width of the head's hidden layer.", type="integer", minimum=1),
        "dropout": option(0.1, "Dropout in the head's mean branch.", type="number", minimum=0, exclusiveMaximum=1),
        "rate": option(100.0, "Mean head: output = sigmoid x rate on the error scale (the authors' 100 on nb201, "
                       "10 on nb101); null: a linear output.", by_space={"nb101": 10.0},
                       type=["number", "null"], exclusiveMinimum=0),
        "target": option("error", "error: fit 100 - y (the validation error in percent, y an accuracy in percent); "
                         "standardized: z-scored y, linear output.", enum=["error", "standardized"]),
        "epochs": option(300, "Training epochs (the authors: 300 NP, 1000 BO).", type="integer", minimum=1),
        "batch_size": option(10, "Mini-batch size (the last batch partial).", type="integer", minimum=1),
        "learning_rate": option(0.005, "Adam's base learning rate (biases twice it), cosine-annealed per step.",
                                type="number", exclusiveMinimum=0),
        "weight_decay": option(1e-4, "Adam's L2 weight decay on the weights (none on biases).", type="number",
                               minimum=0),
        "predict_batch_size": option(8192, "Graphs per batch when predicting.", type="integer", minimum=1),
        "device": option("auto", "auto (GPU when present), cpu, or cuda.", enum=["auto", "cpu", "cuda"]),
        "trainer": option("auto", "auto: on the CPU the training loop compiled with Numba (same maths, 10-15x "
                          "faster), torch's on CUDA; torch: torch's loop everywhere (the reference).",
                          enum=["auto", "torch"]),
    }

    # ------------------------------------------------------------------------------ parameters
    def _init_parameters(self, n_ops: int, generator: torch.Generator, device: torch.device) -> dict:
        def uniform(shape, bound):
            values = (torch.rand(*shape, generator=generator, dtype=torch.float64) * 2 - 1) * bound
            return values.float().to(device).requires_grad_()

        def linear_default(fan_in, fan_out):  # torch.nn.Linear.reset_parameters
            bound = 1 / math.sqrt(fan_in)
            return uniform((fan_in, fan_out), bound), uniform((fan_out,), bound)

        def linear_head(fan_in, fan_out):  # kaiming_uniform_(a=1), zero bias
            return (uniform((fan_in, fan_out), math.sqrt(3.0 / fan_in)),
                    torch.zeros(fan_out, device=device, requires_grad=True))

        p: dict[str, torch.Tensor] = {}
        for layer in range(self.layers):
            fan_in = n_ops if layer == 0 else self.hidden
            p[f"conv{layer}.w1"], p[f"conv{layer}.bias1"] = linear_default(fan_in, self.hidden)
            p[f"conv{layer}.w2"], p[f"conv{layer}.bias2"] = linear_default(self.hidden, self.hidden)
            p[f"bn{layer}.weight"] = torch.ones(self.hidden, device=device, requires_grad=True)
            p[f"bn{layer}.bias"] = torch.zeros(self.hidden, device=device, requires_grad=True)
        p["before.w"], p["before.bias"] = linear_head(self.hidden, self.head_hidden)
        p["mean.w"], p["mean.bias"] = linear_head(self.head_hidden, 1)
        if self.head == "gaussian":
            p["before_std.w"], p["before_std.bias"] = linear_head(self.hidden, self.head_hidden)
            p["std.w"], p["std.bias"] = linear_head(self.head_hidden, 1)
        return p

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.relu(x) if self.activation == "relu" else torch.nn.functional.celu(x)

    def _sigmoid_output(self) -> bool:
        return self.head == "mean" and self.rate is not None and self.target == "error"

    def _forward(self, p, ops, adjacency_t, generator=None):
        """(mean, sigma or None) on the fitted scale; training mode when `generator` is given."""
        training = generator is not None
        batch, vertices = ops.shape[:2]
        x = ops
        for layer in range(self.layers):
            aggregated = x + adjacency_t @ x  # (1 + eps) x_i + sum over predecessors j of x_j, eps = 0
            h = torch.nn.functional.relu(aggregated @ p[f"conv{layer}.w1"] + p[f"conv{layer}.bias1"])
            h = self._act(h @ p[f"conv{layer}.w2"] + p[f"conv{layer}.bias2"])
            flat = torch.nn.functional.batch_norm(h.reshape(batch * vertices, -1), self.running_[layer][0], self.running_[layer][1],
                                p[f"bn{layer}.weight"], p[f"bn{layer}.bias"], training, BN_MOMENTUM, BN_EPS)
            x = flat.reshape(batch, vertices, -1)
        pooled = x.mean(1)
        embedding = self._act(pooled @ p["before.w"] + p["before.bias"])
        if training and self.dropout:
            keep = torch.rand(embedding.shape, generator=generator, device=embedding.device) >= self.dropout
            embedding = embedding * keep / (1 - self.dropout)
        mean = (embedding @ p["mean.w"] + p["mean.bias"]).squeeze(-1)
        if self._sigmoid_output():
            mean = torch.sigmoid(mean) * self.rate
        if self.head != "gaussian":
            return mean, None
        spread = self._act(pooled @ p["before_std.w"] + p["before_std.bias"])
        sigma = torch.exp(self._act(spread @ p["std.w"] + p["std.bias"]).squeeze(-1) / 2)
        return mean, sigma

    @staticmethod
    def _tensors(graphs: Graphs, device: torch.device):
        adjacency, ops = (np.asarray(a, dtype=np.float32) for a in (graphs.adjacency, graphs.ops))
        adjacency = np.ascontiguousarray(np.swapaxes(adjacency, 1, 2))  # messages flow along the edges
        ops = ops if ops.flags.writeable else ops.copy()
        return torch.as_tensor(ops, device=device), torch.as_tensor(adjacency, device=device)

    # ------------------------------------------------------------------------------- fit/predict
    def _to_target(self, y: np.ndarray) -> np.ndarray:
        if self.target == "error":
            if y.size and (y.min() < 0 or y.max() > 100):
                raise NasReproError("gin predictor with target 'error' fits 100 - y and needs accuracies in percent; "
                                    "set target: standardized for other label scales")
            self.y_mean_, self.y_std_ = 0.0, 1.0
            return 100.0 - y
        self.y_mean_ = float(y.mean())
        self.y_std_ = float(y.std()) or 1.0
        return (y - self.y_mean_) / self.y_std_

    def _to_label(self, fitted: np.ndarray) -> np.ndarray:
        if self.target == "error":
            return 100.0 - fitted
        return fitted * self.y_std_ + self.y_mean_

    def fit(self, X: Graphs, y) -> "GINRegressor":
        device = resolve_device(self.device)
        generator = torch.Generator().manual_seed(int(self.random_state))
        device_generator = torch.Generator(device=device).manual_seed(int(self.random_state) + 1)
        ops, adjacency_t = self._tensors(X, device)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        target = torch.as_tensor(self._to_target(y), dtype=torch.float32, device=device)
        p = self._init_parameters(ops.shape[-1], generator, device)
        self.running_ = [(torch.zeros(self.hidden, device=device), torch.ones(self.hidden, device=device))
                         for _ in range(self.layers)]
        compiled = self.trainer == "auto" and device.type == "cpu"
        (self._train_compiled if compiled else self._train_torch)(p, ops, adjacency_t, target, generator,
                                                                  device_generator)
        self.n_epochs_ = self.epochs
        self.params_ = {k: v.detach() for k, v in p.items()}
        return self

    def _schedule(self, names: list[str], n: int) -> tuple[list[float], list[float], int]:
        """Per parameter: Adam's base learning rate and L2 decay (biases: twice the lr, no decay); CosineLR's
        total steps."""
        base_lr = [(2.0 if "bias" in k else 1.0) * self.learning_rate for k in names]
        decay = [0.0 if "bias" in k else self.weight_decay for k in names]
        return base_lr, decay, max(int(self.epochs * n / self.batch_size), 1)

    def _train_torch(self, p, ops, adjacency_t, target, generator, device_generator) -> None:
        """The reference loop (and the one on CUDA); torch.optim.Adam's update with betas (0, 0.9) and L2
        decay, on every parameter at once (foreach ops)."""
        device = ops.device
        names = list(p)
        params = [p[k] for k in names]
        n = len(target)
        base_lr, decay, total_steps = self._schedule(names, n)
        square_avg = [torch.zeros_like(v) for v in params]
        step = 0
        self.loss_curve_ = []
        for _ in range(self.epochs):
            order = torch.randperm(n, generator=generator).to(device)
            epoch_loss = torch.zeros((), device=device)
            batches = 0
            for start in range(0, n, self.batch_size):
                rows = order[start : start + self.batch_size]
                mean, sigma = self._forward(p, ops[rows], adjacency_t[rows], device_generator)
                if sigma is None:
                    loss = torch.mean((mean - target[rows]) ** 2)
                else:
                    loss = torch.mean(0.5 * (target[rows] - mean) ** 2 / sigma**2 + LOG_SQRT_2PI + torch.log(sigma))
                for v in params:
                    v.grad = None
                loss.backward()
                with torch.no_grad():
                    factor = 0.5 * (1 + math.cos(math.pi * (step + 2) / total_steps))
                    grads = torch._foreach_add([v.grad for v in params], torch._foreach_mul(params, decay))
                    torch._foreach_mul_(square_avg, ADAM_BETA2)
                    torch._foreach_addcmul_(square_avg, grads, grads, value=1 - ADAM_BETA2)
                    denominators = torch._foreach_sqrt(torch._foreach_div(square_avg, 1 - ADAM_BETA2 ** (step + 1)))
                    torch._foreach_add_(denominators, ADAM_EPS)
                    torch._foreach_mul_(grads, [-lr * factor for lr in base_lr])
                    torch._foreach_addcdiv_(params, grads, denominators)
                epoch_loss += loss.detach()
                batches += 1
                step += 1
            self.loss_curve_.append(float(epoch_loss) / batches)

    def _train_compiled(self, p, ops, adjacency_t, target, generator, device_generator) -> None:
        """The same training as `_train_torch`, compiled (`gin_compiled.train`), on the CPU."""
        from ..compiled import denormals_flushed
        from . import gin_compiled

        names = list(p)
        n = len(target)
        base_lr, decay, total_steps = self._schedule(names, n)
        sizes = [p[k].numel() for k in names]
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        flat = torch.cat([p[k].detach().reshape(-1) for k in names]).numpy().copy()
        learning_rates = np.repeat(np.float32(base_lr), sizes)
        decays = np.repeat(np.float32(decay), sizes)
        # drawn as the torch loop draws them: one shuffle per epoch, then the masks in step order
        orders = torch.stack([torch.randperm(n, generator=generator) for _ in range(self.epochs)]).numpy()
        draws = self.epochs * n * self.head_hidden if self.dropout else 0
        dropout_draws = torch.rand(draws, generator=device_generator).numpy()
        with denormals_flushed():
            losses, running_mean, running_var = gin_compiled.train(
                ops.numpy(), adjacency_t.numpy(), target.numpy(), flat, starts, learning_rates, decays, orders,
                dropout_draws, self.layers, self.hidden, self.head_hidden, self.head == "gaussian",
                self.activation == "celu", float(self.rate) if self._sigmoid_output() else 0.0, float(self.dropout),
                self.batch_size, total_steps, ADAM_BETA2, ADAM_EPS, LOG_SQRT_2PI)
        with torch.no_grad():
            for k, start, size in zip(names, starts, sizes):
                p[k].copy_(torch.from_numpy(flat[start : start + size]).reshape(p[k].shape))
        self.running_ = [(torch.from_numpy(m), torch.from_numpy(v)) for m, v in zip(running_mean, running_var)]
        self.loss_curve_ = losses.tolist()

    @lazy.no_grad
    def _predict_fitted(self, X: Graphs) -> tuple[np.ndarray, np.ndarray | None]:
        device = self.params_["before.w"].device
        means = np.empty(len(X), dtype=np.float64)
        sigmas = np.empty(len(X), dtype=np.float64) if self.head == "gaussian" else None
        for start in range(0, len(X), self.predict_batch_size):
            part = X[start : start + self.predict_batch_size]
            mean, sigma = self._forward(self.params_, *self._tensors(part, device))
            means[start : start + len(part)] = mean.double().cpu().numpy()
            if sigmas is not None:
                sigmas[start : start + len(part)] = sigma.double().cpu().numpy()
        return means, sigmas

    def predict(self, X: Graphs) -> np.ndarray:
        return self._to_label(self._predict_fitted(X)[0]).astype(np.float32)

    def predict_distribution(self, X: Graphs) -> tuple[np.ndarray, np.ndarray]:
        """(mean, SD) of the predicted label (head 'gaussian'), on the label scale."""
        if self.head != "gaussian":
            raise NasReproError("predict_distribution needs the gin predictor's gaussian head (head: gaussian)")
        mean, sigma = self._predict_fitted(X)
        return self._to_label(mean), sigma * (1.0 if self.target == "error" else self.y_std_)
