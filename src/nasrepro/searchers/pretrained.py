"""Methods that search in an embedding learned without labels (arch2vec, CATE): the pretraining step and the
BO loop they share.

Pretraining is a workflow step of its own (rules/pretrain.smk): it reads only the cell columns of one table of
the space (never a label), learns the embedding of every architecture, and writes it as a float32 .npy,
`resources/pretrained/{space}-{model}-{digest}.npy`, the digest a hash of the pretraining's settings (its seed
included). A method declares what it needs with the classmethod `pretraining(options)` (the settings, or None);
`runs.inputs` then hands the search job that file as its features, so every job of the space and settings
reads the one file, and the search itself runs as any method on `space.features`.

The loop (`EmbeddingBO`, arch2vec's `search_methods/dngo_search_NB201_8x8.py` and CATE's
`search_methods/dngo_ls_nasbench101.py`): `num_init` (16) uniform random architectures, then each iteration a
DNGO (`bayes.DNGO`: 128 tanh units, `dngo_epochs` epochs, lr 0.01, batch 10) fitted on the embeddings of the
queried architectures and their labels as fractions (the authors' accuracies, `normalize_output=False`), the
expected improvement of every unqueried architecture, and the `k` best queried. The authors' EI: u = (μ −
1.0)/v, EI = v(uΦ(u) + φ(u)) with v the DNGO's predictive VARIANCE where EI takes a standard deviation, and the
incumbent 1.0 (100%) rather than the best label; `ei_spread: sd` and `ei_incumbent: best` give the textbook
EI. Deviation: the authors take the top k of all architectures and drop the visited ones (so an iteration may
query fewer than k); here the top k of the unqueried.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from ..errors import NasReproError
from ..plugins import option
from ..spaces import get_space
from .base import SearchSpace
from .batched import QueryLog

LABEL_SCALE = 0.01  # percent -> the authors' fractions
PRETRAINING_MODELS = ("arch2vec", "cate")  # modules of this package, each with `pretrain(space, cells, spec)`


def pretrained_file(space: str, spec: dict) -> str:
    digest = hashlib.sha256(json.dumps({"space": space, **spec}, sort_keys=True).encode()).hexdigest()[:10]
    return f"resources/pretrained/{space}-{spec['model']}-{digest}.npy"


def load_cells(table_path: str | Path) -> tuple[str, pd.DataFrame]:
    """(space, the table's cell columns): the columns a search method may read, never a label column."""
    import pyarrow.parquet as pq

    from ..benchmark import Benchmark

    space = Benchmark.read_meta(table_path)["space"]
    names = [c for c in pq.read_schema(table_path).names if c in get_space(space).cell_columns]
    return space, pq.read_table(table_path, columns=names).to_pandas()


def pretrain(space: str, cells: pd.DataFrame, spec: dict) -> np.ndarray:
    """The embedding of every architecture (row i: id i) that `spec` describes, from the cells alone."""
    if spec["model"] not in PRETRAINING_MODELS:
        raise NasReproError(f"unknown pretraining model {spec['model']!r}; known: {', '.join(PRETRAINING_MODELS)}")
    module = importlib.import_module(f"{__package__}.{spec['model']}")
    embedding = np.ascontiguousarray(module.pretrain(space, cells, spec), dtype=np.float32)
    if embedding.shape[0] != len(cells) or not np.isfinite(embedding).all():
        raise NasReproError(f"{spec['model']} pretraining gave no finite embedding of every architecture")
    return embedding


def pretrain_file(table_path, spec: dict, out) -> None:
    started = time.process_time()
    space, cells = load_cells(table_path)
    np.save(out, pretrain(space, cells, spec), allow_pickle=False)
    logging.getLogger(__name__).info("%s pretrained on %d cells of %s in %.0f CPU seconds (%s)", spec["model"],
                                     len(cells), space, time.process_time() - started, spec)


class EmbeddingBO(QueryLog):
    """The shared loop; a subclass names its pretraining `model` and which options are pretraining settings."""

    needs = frozenset({"graphs"})  # the pretraining reads the cell graphs
    prefix_stable = True
    model: ClassVar[str]
    pretraining_options: ClassVar[tuple[str, ...]]
    embedding_option: ClassVar[str]  # the option giving the embedding's width
    BO_OPTIONS = {
        "num_init": option(16, "Uniform random architectures before the first DNGO (init_size).", type="integer",
                           minimum=1),
        "k": option(1, "Architectures queried per iteration, the best by EI.", type="integer", minimum=1),
        "dngo_epochs": option(100, "DNGO training epochs.", type="integer", minimum=1),
        "ei_spread": option("variance", "What divides the improvement in EI: variance (the authors' code) or sd.",
                            enum=["variance", "sd"]),
        "ei_incumbent": option("one", "EI's incumbent: one (1.0 = 100%, the authors' code) or best (the best "
                               "queried).", enum=["one", "best"]),
    }

    @classmethod
    def input_needed(cls, options: dict) -> str:
        return "features"

    @classmethod
    def pretraining(cls, options: dict) -> dict:
        return {"model": cls.model, **{name: options[name] for name in cls.pretraining_options}}

    def __init__(self, space: SearchSpace, seed: int, **options):
        super().__init__(space, seed, **options)
        width = getattr(self, self.embedding_option)
        if space.features.ndim != 2 or space.features.shape[1] != width:
            raise NasReproError(f"{self.model} searches in its pretrained embedding ({width} dimensions): give it "
                                f"{pretrained_file(space.space, self.pretraining(vars(self)))} as its features, "
                                f"not a {space.features.shape[-1]}-dimension encoding")
        self.embedding = np.asarray(space.features, dtype=np.float64)

    def initial(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return rng.choice(np.flatnonzero(~self.queried), size=min(count, int((~self.queried).sum())), replace=False)

    def by_ei(self, rng: np.random.Generator, count: int, plus_spread: bool = False) -> np.ndarray:
        """The `count` unqueried architectures of largest EI under a DNGO fitted on the queried ones."""
        from .bayes import DNGO, expected_improvement

        started = time.perf_counter()
        y = np.asarray(self.labels) * LABEL_SCALE
        model = DNGO(epochs=self.dngo_epochs, seed=int(rng.integers(2**31))).fit(self.embedding[self.ids], y)
        free = np.flatnonzero(~self.queried)
        mean, variance = model.predict(self.embedding[free])
        spread = variance if self.ei_spread == "variance" else np.sqrt(variance)
        ei = expected_improvement(mean, spread, 1.0 if self.ei_incumbent == "one" else float(y.max()))
        if plus_spread:
            ei = ei + spread
        order = np.lexsort((-mean, -ei))[:count]
        self._note(n_train=len(self.ids), fit_seconds=time.perf_counter() - started)
        return free[order]
