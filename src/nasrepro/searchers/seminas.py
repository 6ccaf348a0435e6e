"""SemiNAS (Luo et al., "Semi-Supervised Neural Architecture Search", NeurIPS 2020) and NAO (Luo et al.,
"Neural Architecture Optimization", NeurIPS 2018) as SemiNAS without pseudo-labels, after the authors'
NAS-Bench-101 code (renqianluo/SemiNAS, nasbench/: train_seminas.py, controller.py, encoder.py,
decoder.py, utils.py; its argparse defaults are this class's NAS-Bench-101 defaults).

The model (encoder-predictor-decoder, "EPD"): an architecture is a token sequence (the space's
`Operators.sequences()`; NAS-Bench-101: SemiNAS's length-27 sequence, per vertex 1..6 one connection
token per earlier vertex then an op token; NAS-Bench-201: the six edge ops of the cell string, the
connections being fixed). Encoder: Embedding(vocab, 64), dropout 0.1, a 1-layer bidirectional LSTM(64),
a 128 -> 64 projection added to the embedding, each position L2-normalized; the architecture embedding
is the L2-normalized mean over positions. Predictor: 64 -> 16 -> 64 (ReLU, dropout after each), added to
its input and scaled by sqrt(0.5), then 64 -> 1. Decoder: its own Embedding(vocab, 64), a 1-layer
LSTM(64) started from (embedding, embedding), residual connections scaled by sqrt(0.5), dot-product
attention over the encoder's positions (input projection, then tanh of a projection of [context,
input], both without bias), a 64 -> vocab output. Training: teacher forcing from the start token 0,
loss `trade_off` 0.8 x MSE(prediction, z-scored label) + 0.2 x NLL(sequence), Adam (lr 1e-3, L2 1e-4 as
Adam's weight decay, a fresh optimizer for each training phase as `train_controller` creates one), batch
100 reshuffled every epoch, gradient norm clipped at 5. Generation: the encoder's per-position outputs
are moved along the gradient of the predicted value (step size 1, 2, ... until `new_arch` new cells exist,
at most `max_step_size` + 1 steps as the authors' loop runs), re-normalized, pooled, and decoded greedily
with constrained decoding: each position takes the best token among those allowed there
(`Operators.sequence_tokens()`: a connection token or an op token, as the authors' decoder slices its
output). A decoded sequence that is not a valid cell of the benchmark (NAS-Bench-101: an output op
inside the cell, no input->output path, more than 9 edges after pruning, or a cell not in the table;
`Operators.id_of_sequence`) is dropped, as the authors drop `not nasbench.is_valid(arch)`.

One run (`train_seminas.py::main`): `initial` architectures (the authors' 1,100) from one shuffled order of
the benchmark; then rounds of: train the EPD on every labelled architecture for `epochs` (1000; the model
is kept across rounds and trained `epochs` again each round, as the authors' "pre-train" runs every
iteration), pseudo-label `unlabelled` (10,000) random architectures not labelled with the encoder's
prediction, train `pseudo_epochs` (500) on the labelled ones repeated `up_sample_ratio` (10) times plus the
pseudo-labelled ones, take the `top_k` (100) of labelled and pseudo-labelled by their (true or predicted)
z-score, and generate `new_arch` (300) new architectures from them, which are queried next. `rounds`
rounds (the authors' 3: 1,100 + 3 x 300 = 2,000 queries, Table 4's budget); null: until the run's budget.

Where this differs from the authors' code (each stated in the tables through the method's options):
- Labels are z-scored with the fitting label's whole-benchmark mean and SD (`space.fit_label_mean/std`);
  the authors hard-code NAS-Bench-101's (0.908192301, 0.023961, on the 0-1 scale).
- A generated architecture is new when its id was never queried in the run; the authors compare
  sequences with the labelled ones, so an isomorphic re-encoding of a labelled cell (or a cell their
  filter discarded) would be queried again. Where fewer than `new_arch` new architectures are found after
  the last step size, the batch is filled with uniform unqueried ones (`filled_uniform` in the run's
  iteration notes); the authors would query fewer.
- The authors' NAS-Bench-101 labels are `nasbench.query`'s one random repeat: the experiment's
  `label_mode: random_seed_per_arch` gives that; `avg` fits on the mean of the repeats.

`initial_filter`: `none` (default) counts every query. `authors` reproduces `utils.generate_arch(..,
need_perf=True)`: architectures are queried in the shuffled order and those with fitting label below
`filter_threshold` (the authors' 0.9 validation accuracy: 90.0 on our percent scale) are discarded until
`initial` pass. Every discarded query is charged by the oracle like any other (the runner counts all it
is asked); the iteration notes record `hidden_queries` (discarded so far) and `authors_count` (the
labelled architectures, the count the authors' log prints), so a table can print both.

NAS-Bench-201 adaptation (no authors' code; the same model on the 6-token cell sequence): the budget is
scaled to the 27x smaller space while keeping a few rounds inside Table 4's NAS-Bench-201 budgets of
100-1000 queries: `initial` 100, `new_arch` 100 per round, `top_k` 100, `unlabelled` 1,000, and rounds until
the run's budget (`rounds: null`); the epochs, model and optimizer are the authors'.

NAO (`type: nao`) is this class with `unlabelled: 0` (the issue's "SemiNAS with m = 0"): each round
trains `epochs` on the labelled ones, then `pseudo_epochs` on them repeated `up_sample_ratio` times.

Seeds: the shuffled order and the pseudo-labelled draw from numpy generators of (seed, purpose, round);
the model's initialization, dropout and batch order from torch seeded by (seed, round) inside a forked
RNG state. Runs on the GPU when present (`device: auto`), CPU otherwise; the same seed gives the same
trajectory on the same device. On the CPU (`trainer: auto`) each training step is one Numba-compiled call
(`seminas_compiled.py`: the same maths, shuffles, dropout masks and Adam, loss curves equal to float32
rounding); `trainer: torch` runs the torch loop there too (the reference, and the loop on CUDA).
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..plugins import option
from .base import Searcher, SearchSpace

FILTERS = ("none", "authors")


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


class SemiNAS(Searcher):
    needs = frozenset({"sequences"})
    prefix_stable = True
    options = {
        "initial": option(1100, "Labelled architectures before the first round (the authors' n).", type="integer",
                          minimum=1, by_space={"nb201": 100}),
        "rounds": option(3, "Rounds of train / pseudo-label / generate (the authors' 3 iterations); null: until the "
                         "budget.",
                             type=["integer", "null"], minimum=1, by_space={"nb201": None}),
        "new_arch": option(300, "New architectures generated and queried per round.", type="integer", minimum=1,
                           by_space={"nb201": 100}),
        "top_k": option(100, "Architectures (labelled or pseudo-labelled) the new ones are generated from.",
                        type="integer", minimum=1),
        "unlabelled": option(10000, "Random unlabelled architectures pseudo-labelled per round (the authors' m; "
                             "0 is NAO).", type="integer", minimum=0, by_space={"nb201": 1000}),
        "up_sample_ratio": option(10, "Times the labelled data is repeated beside the pseudo-labelled data.",
                                  type="integer", minimum=1),
        "epochs": option(1000, "Epochs on the labelled data each round (the authors' pretrain_epochs).",
                         type="integer", minimum=0),
        "pseudo_epochs": option(500, "Epochs on labelled x up_sample_ratio + pseudo-labelled (the authors' epochs).",
                                type="integer", minimum=0),
        "batch_size": option(100, "Mini-batch size.", type="integer", minimum=1),
        "learning_rate": option(1e-3, "Adam learning rate.", type="number", exclusiveMinimum=0),
        "l2_reg": option(1e-4, "Adam weight decay.", type="number", minimum=0),
        "trade_off": option(0.8, "Weight of the MSE; 1 - trade_off weighs the decoder's NLL.", type="number",
                            minimum=0, maximum=1),
        "grad_bound": option(5.0, "Gradient-norm clip.", type="number", exclusiveMinimum=0),
        "hidden_size": option(64, "Embedding and LSTM width.", type="integer", minimum=1),
        "mlp_hidden_size": option(16, "The predictor's bottleneck width.", type="integer", minimum=1),
        "dropout": option(0.1, "Dropout.", type="number", minimum=0, maximum=1),
        "max_step_size": option(100, "Largest gradient step tried before giving up on new architectures.",
                                type="integer", minimum=1),
        "initial_filter": option("none", "none: every query counted; authors: discard initial architectures below "
                                 "filter_threshold (each discarded query still charged and recorded).",
                                 enum=list(FILTERS)),
        "filter_threshold": option(90.0, "The authors' filter: fitting label (percent) an initial architecture needs.",
                                   type="number"),
        "device": option("auto", "auto (the GPU when present), cpu or cuda.", enum=["auto", "cpu", "cuda"]),
        "trainer": option("auto", "auto: on the CPU the training step compiled with Numba (same maths and draws), "
                          "torch's on CUDA; torch: torch's loop everywhere (the reference).", enum=["auto", "torch"]),
    }

    @classmethod
    def wants_gpu(cls, options: dict) -> bool:
        return options.get("device", "auto") != "cpu"

    def __init__(self, space: SearchSpace, seed: int, **options):
        super().__init__(space, seed, **options)
        operators = space.operators
        self.sequences = np.asarray(operators.sequences(), dtype=np.int64)
        self.allowed = np.asarray(operators.sequence_tokens(), dtype=bool)
        self.order = np.random.default_rng([seed, 0x1417]).permutation(space.size)  # the authors' shuffled keys
        self.cursor = 0
        self.queried = np.zeros(space.size, dtype=bool)
        self.pool_ids: list[int] = []  # labelled: the authors' arch_pool
        self.pool_labels: list[float] = []
        self.hidden = 0  # initial queries discarded by the authors' filter
        self.initial_done = False
        self.queue: np.ndarray = np.empty(0, dtype=np.int64)
        self.rounds_done = 0
        self.phase = "initial"
        self.model = None
        self._decoded: dict[tuple, int | None] = {}

    # ------------------------------------------------------------------------------------ ask
    def ask(self, max_queries: int) -> np.ndarray:
        if max_queries < 1:
            return np.empty(0, dtype=np.int64)
        if not self.initial_done:
            need = self.initial - len(self.pool_ids)
            if need > 0 and self.cursor < self.space.size:
                ids = self.order[self.cursor : self.cursor + min(need, max_queries)]
                self.cursor += len(ids)
                self.phase = "initial"
                return ids
            self.initial_done = True
        if len(self.queue) == 0:
            if (self.rounds is not None and self.rounds_done >= self.rounds) or self.queried.all():
                return np.empty(0, dtype=np.int64)
            self.queue = self.generate_round()
            self.rounds_done += 1
        ids, self.queue = self.queue[:max_queries], self.queue[max_queries:]
        self.phase = "generated"
        return ids

    # ------------------------------------------------------------------------------------ tell
    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        labels = np.asarray(labels, dtype=np.float64)
        self.queried[ids] = True
        keep = np.ones(len(ids), dtype=bool)
        if self.phase == "initial" and self.initial_filter == "authors":
            keep = labels >= self.filter_threshold
            self.hidden += int((~keep).sum())
        self.pool_ids += ids[keep].tolist()
        self.pool_labels += labels[keep].tolist()
        self._note(phase=self.phase, batch=len(ids), discarded=int((~keep).sum()),
                   hidden_queries=self.hidden, authors_count=len(self.pool_ids))
        self.iteration += 1


    # ------------------------------------------------------------------------------- one round
    def generate_round(self) -> np.ndarray:
        import torch

        started = time.perf_counter()
        device = torch.device("cuda" if self.device == "auto" and torch.cuda.is_available() else
                              ("cpu" if self.device == "auto" else self.device))
        labelled = np.asarray(self.pool_ids, dtype=np.int64)
        z = (np.asarray(self.pool_labels) - self.space.fit_label_mean) / max(self.space.fit_label_std, 1e-12)
        rng = np.random.default_rng([self.seed, 0x5E3A, self.rounds_done])
        with torch.random.fork_rng(devices=[torch.cuda.current_device()] if device.type == "cuda" else []):
            torch.manual_seed(_seed(self.seed, self.rounds_done))
            if self.model is None:
                self.model = EPD(self.allowed.shape[1], self.hidden_size, self.mlp_hidden_size, self.dropout).to(device)
            model = self.model
            sequences = torch.as_tensor(self.sequences[labelled], device=device)
            targets = torch.as_tensor(z, dtype=torch.float32, device=device)
            loss_labelled = self._train(model, sequences, targets, self.epochs)
            # pseudo-labels: random architectures that are not labelled
            free = np.flatnonzero(~np.isin(np.arange(self.space.size), labelled))
            pseudo = rng.permutation(free)[: self.unlabelled]
            pseudo_targets = torch.empty(0, device=device)
            if len(pseudo):
                pseudo_targets = model.predict(torch.as_tensor(self.sequences[pseudo], device=device))
            all_sequences = torch.cat([sequences.repeat(self.up_sample_ratio, 1),
                                       torch.as_tensor(self.sequences[pseudo], device=device).reshape(-1, sequences.shape[1])])
            all_targets = torch.cat([targets.repeat(self.up_sample_ratio), pseudo_targets])
            loss_all = self._train(model, all_sequences, all_targets, self.pseudo_epochs)
            # the top-k of labelled (true z) and pseudo-labelled (predicted z)
            candidates = np.concatenate([labelled, pseudo])
            values = np.concatenate([z, pseudo_targets.cpu().numpy().astype(np.float64)])
            top = candidates[np.argsort(-values, kind="stable")[: self.top_k]]
            new, steps = self._generate(model, top, device)
        filled = self.new_arch - len(new)
        if filled > 0:
            free = np.flatnonzero(~self.queried)
            free = free[~np.isin(free, new)]
            new = np.concatenate([new, rng.choice(free, size=min(filled, len(free)), replace=False)])
        self._note(round=self.rounds_done, n_train=len(labelled), n_pseudo=len(pseudo), step_size=steps,
                   filled_uniform=max(filled, 0), loss_labelled=loss_labelled, loss_all=loss_all,
                   fit_seconds=time.perf_counter() - started)
        return new.astype(np.int64)

    def _train(self, model, sequences, targets, epochs: int) -> float | None:
        import torch
        import torch.nn.functional as F

        if epochs == 0 or len(sequences) == 0:
            return None
        if self.trainer == "auto" and sequences.device.type == "cpu":
            return self._train_compiled(model, sequences, targets, epochs)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.learning_rate, weight_decay=self.l2_reg)
        model.train()
        n = len(sequences)
        total = 0.0
        for _ in range(epochs):
            order = torch.randperm(n).to(sequences.device)
            total, seen = 0.0, 0
            for start in range(0, n, self.batch_size):
                rows = order[start : start + self.batch_size]
                source = sequences[rows]
                decoder_input = torch.cat([torch.zeros_like(source[:, :1]), source[:, :-1]], dim=1)
                predicted, log_probs = model(source, decoder_input)
                mse = F.mse_loss(predicted, targets[rows])
                nll = F.nll_loss(log_probs.reshape(-1, log_probs.shape[-1]), source.reshape(-1))
                loss = self.trade_off * mse + (1 - self.trade_off) * nll
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), self.grad_bound)
                optimizer.step()
                total += float(loss.detach()) * len(rows)
                seen += len(rows)
        return total / max(seen, 1)

    def _train_compiled(self, model, sequences, targets, epochs: int) -> float:
        """The same training as `_train`'s torch loop, each step one compiled call (`seminas_compiled.train_step`):
        the same shuffles and dropout masks, drawn from torch's generator in the torch loop's order (per epoch
        the shuffle, per step the encoder's, the decoder's and the predictor's two masks; the masks by
        `seminas_compiled.dropout_mask`, torch's `bernoulli_` draws from the generator's state, 2.6x faster), the
        same Adam."""
        import scipy.linalg.cython_blas  # noqa: F401  (the BLAS Numba calls: loaded now, so that its threads are limited)
        import threadpoolctl
        import torch

        from ..compiled import denormals_flushed
        from . import seminas_compiled

        names = [name for name, _ in model.named_parameters()]
        assert tuple(names) == seminas_compiled.PARAMETERS, names
        params = list(model.parameters())
        sizes = [p.numel() for p in params]
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        flat = torch.cat([p.detach().reshape(-1) for p in params]).numpy().copy()
        grads, exp_avg, exp_avg_sq = np.zeros_like(flat), np.zeros_like(flat), np.zeros_like(flat)
        source_all, target_all = sequences.numpy(), targets.numpy()
        n, length = source_all.shape
        hidden, mlp_hidden = model.decoder_rnn.hidden_size, model.mlp[0].out_features
        p = float(model.dropout)
        arena = np.empty(seminas_compiled.arena_size(min(self.batch_size, n), length, hidden, mlp_hidden,
                                                     model.out.out_features), dtype=np.float32)

        scale = np.float32(torch.ones(1).div_(1 - p).item()) if p < 1 else np.float32(0.0)

        def noise(*shape):  # F.dropout's multipliers, drawn as torch draws them from its generator's state
            if p == 0 or p == 1:
                return np.full(shape, 1.0 - p, dtype=np.float32)
            out = np.empty(shape, dtype=np.float32)
            seminas_compiled.dropout_mask(words, position, 1 - p, scale, out)
            return out

        step = 0
        total, seen = 0.0, 0
        with denormals_flushed(), threadpoolctl.threadpool_limits(torch.get_num_threads(), user_api="blas"):
            for _ in range(epochs):
                order = torch.randperm(n).numpy()
                state = torch.get_rng_state().numpy()
                words, position = seminas_compiled.mt_state(state)
                total, seen = 0.0, 0
                for start in range(0, n, self.batch_size):
                    rows = order[start : start + self.batch_size]
                    count = len(rows)
                    masks = (noise(count, length, hidden), noise(count, length, hidden), noise(count, mlp_hidden),
                             noise(count, hidden))
                    step += 1
                    loss = seminas_compiled.train_step(
                        flat, starts, grads, exp_avg, exp_avg_sq, step, source_all[rows], target_all[rows], *masks,
                        hidden, mlp_hidden, self.learning_rate, self.l2_reg, 0.9, 0.999, 1e-8, self.trade_off,
                        self.grad_bound, arena)
                    total += float(loss) * count
                    seen += count
                torch.set_rng_state(torch.from_numpy(seminas_compiled.with_mt_state(state, words, position)))
        with torch.no_grad():
            for param, start, size in zip(params, starts, sizes):
                param.copy_(torch.from_numpy(flat[start : start + size]).reshape(param.shape))
        return total / max(seen, 1)

    def _generate(self, model, top: np.ndarray, device) -> tuple[np.ndarray, int]:
        import torch

        allowed = torch.as_tensor(self.allowed, device=device)
        source = torch.as_tensor(self.sequences[top], device=device)
        new: list[int] = []
        chosen: set[int] = set()
        step = 0
        model.eval()
        while len(new) < self.new_arch:
            step += 1
            decoded = model.generate(source, float(step), allowed).cpu().numpy()
            for sequence in decoded:
                key = tuple(sequence.tolist())
                if key not in self._decoded:
                    self._decoded[key] = self.space.operators.id_of_sequence(sequence)
                arch_id = self._decoded[key]
                if arch_id is not None and not self.queried[arch_id] and arch_id not in chosen:
                    chosen.add(arch_id)
                    new.append(arch_id)
                if len(new) >= self.new_arch:
                    break
            if step > self.max_step_size:
                break
        return np.asarray(new, dtype=np.int64), step


class NAO(SemiNAS):
    """NAO: SemiNAS without pseudo-labelled data (`unlabelled: 0`); see `SemiNAS`."""

    options = {**SemiNAS.options,
               "unlabelled": option(0, "Pseudo-labelled architectures per round (NAO: none).", type="integer",
                                    minimum=0)}


# --------------------------------------------------------------------------------- the model
def EPD(vocabulary: int, hidden: int, mlp_hidden: int, dropout: float):
    """The encoder-predictor-decoder (built lazily so that importing this module does not import torch)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.dropout = dropout
            self.encoder_embedding = nn.Embedding(vocabulary, hidden)
            self.encoder_rnn = nn.LSTM(hidden, hidden, 1, batch_first=True, bidirectional=True)
            self.encoder_projection = nn.Linear(2 * hidden, hidden)
            self.mlp = nn.ModuleList([nn.Linear(hidden, mlp_hidden), nn.Linear(mlp_hidden, hidden)])
            self.regressor = nn.Linear(hidden, 1)
            self.decoder_embedding = nn.Embedding(vocabulary, hidden)
            self.decoder_rnn = nn.LSTM(hidden, hidden, 1, batch_first=True)
            self.attention_input = nn.Linear(hidden, hidden, bias=False)
            self.attention_output = nn.Linear(2 * hidden, hidden, bias=False)
            self.out = nn.Linear(hidden, vocabulary)

        # encoder and predictor
        def encode(self, source):
            x = F.dropout(self.encoder_embedding(source), self.dropout, self.training)
            outputs, _ = self.encoder_rnn(x)
            return F.normalize(self.encoder_projection(outputs) + x, 2, dim=-1)

        @staticmethod
        def pool(outputs):
            return F.normalize(outputs.mean(dim=1), 2, dim=-1)

        def predictor(self, embedding):
            x = embedding
            for layer in self.mlp:
                x = F.dropout(F.relu(layer(x)), self.dropout, self.training)
            return self.regressor((embedding + x) * math.sqrt(0.5)).squeeze(-1)

        # decoder
        def decode_steps(self, inputs, state, encoder_outputs):
            x = F.dropout(self.decoder_embedding(inputs), self.dropout, self.training)
            y, state = self.decoder_rnn(x, state)
            x = (x + y) * math.sqrt(0.5)
            scores = torch.bmm(self.attention_input(x), encoder_outputs.transpose(1, 2)).softmax(dim=-1)
            context = torch.bmm(scores, encoder_outputs)
            attended = torch.tanh(self.attention_output(torch.cat([context, x], dim=-1)))
            x = (x + attended) * math.sqrt(0.5)
            return self.out(x), state

        def forward(self, source, decoder_input):
            outputs = self.encode(source)
            embedding = self.pool(outputs)
            state = (embedding.unsqueeze(0).contiguous(), embedding.unsqueeze(0).contiguous())
            logits, _ = self.decode_steps(decoder_input, state, outputs)
            return self.predictor(embedding), F.log_softmax(logits, dim=-1)

        @torch.no_grad()
        def predict(self, source, batch: int = 4096):
            self.eval()
            return torch.cat([self.predictor(self.pool(self.encode(source[i : i + batch])))
                              for i in range(0, len(source), batch)])

        def generate(self, source, step_size: float, allowed):
            """Move the encoder outputs up the predicted value's gradient by `step_size`, decode greedily
            among the allowed tokens of each position."""
            self.eval()
            with torch.enable_grad():
                outputs = self.encode(source).detach().requires_grad_(True)
                value = self.predictor(self.pool(outputs))
                (gradient,) = torch.autograd.grad(value.sum(), outputs)
            with torch.no_grad():
                moved = F.normalize(outputs + step_size * gradient, 2, dim=-1)
                embedding = self.pool(moved)
                state = (embedding.unsqueeze(0).contiguous(), embedding.unsqueeze(0).contiguous())
                token = torch.zeros(len(source), 1, dtype=torch.long, device=source.device)
                decoded = []
                for position in range(allowed.shape[0]):
                    logits, state = self.decode_steps(token, state, moved)
                    logits = logits[:, 0].masked_fill(~allowed[position], float("-inf"))
                    token = logits.argmax(dim=-1, keepdim=True)
                    decoded.append(token)
                return torch.cat(decoded, dim=1)

    return Model()
