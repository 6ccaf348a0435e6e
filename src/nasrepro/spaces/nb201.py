"""NAS-Bench-201 as a search-space plugin: the cell space, the public CSV files, the conversion to one
canonical table, its encodings, and the search operators over its 15,625 cells."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import NasReproError
from ..sources import Source, by_name
from . import Graphs, Operators, Space

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NUM_EDGES = 6
NUM_CELLS = len(OPS) ** NUM_EDGES  # 15,625
# Edge e of the cell string joins EDGE_SOURCE[e] -> EDGE_TARGET[e]: 1<-0 | 2<-0, 2<-1 | 3<-0, 3<-1, 3<-2.
EDGE_SOURCE = (0, 0, 1, 0, 1, 2)
EDGE_TARGET = (1, 2, 2, 3, 3, 3)
CELL_COLUMNS = ["cell", *[f"op{e}" for e in range(NUM_EDGES)], "iso_class"]  # what a search method may read
INCOMING_EDGES = {node: [e for e in range(NUM_EDGES) if EDGE_TARGET[e] == node] for node in (1, 2, 3)}

# dataset -> (file with x-valid, its test split name, nats_bench.csv test column)
DATASETS = {
    "cifar10-valid": ("nb201-cifar10_avg", "ori-test", None),
    "cifar100": ("nb201-cifar100_avg", "x-test", "CIFAR100TestAccuracy200Epochs"),
    "ImageNet16-120": ("nb201-ImageNet16-120_avg", "x-test", "ImageNetTestAccuracy200Epochs"),
    "cifar10": (None, "ori-test", "CIFAR10TestAccuracy200Epochs"),
}
FIT_SPLITS = ("x-valid", "test")
AVG_COLUMNS = ["index", "arch_str", "train-accuracy", "valid-accuracy", "test-accuracy", "train-all-time"]
NATS_COLUMNS = ["ArchitectureString", "UniqueString"]


def parse_cell(cell: str) -> tuple[int, ...]:
    """'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' -> six op indices in edge order."""
    try:
        tokens = [tok for node in cell.strip().split("+") for tok in node.strip("|").split("|")]
        ops = tuple(OPS.index(tok.split("~")[0]) for tok in tokens)
        sources = tuple(int(tok.split("~")[1]) for tok in tokens)
    except (ValueError, IndexError):
        raise NasReproError(f"malformed NAS-Bench-201 cell string {cell!r}") from None
    if sources != EDGE_SOURCE:
        raise NasReproError(f"malformed NAS-Bench-201 cell string {cell!r}")
    return ops


def cell_string(ops) -> str:
    names = [f"{OPS[op]}~{src}" for op, src in zip(ops, EDGE_SOURCE)]
    return f"|{names[0]}|+|{'|'.join(names[1:3])}|+|{'|'.join(names[3:6])}|"


def required_sources(dataset: str, fit_split: str) -> list[str]:
    """Source names that the canonical table of (dataset, fit_split) is built from."""
    check_choice(dataset, fit_split)
    avg_source, _, _ = DATASETS[dataset]
    needs_avg = avg_source is not None and (fit_split == "x-valid" or dataset == "cifar10-valid")
    return ([avg_source] if needs_avg else []) + ["nb201-nats_bench"]


def check_choice(dataset: str, fit_split: str) -> None:
    if dataset not in DATASETS:
        raise NasReproError(f"unknown NAS-Bench-201 dataset {dataset!r}; known: {', '.join(DATASETS)}")
    if fit_split not in FIT_SPLITS:
        raise NasReproError(f"unknown fit_split {fit_split!r}; known: {', '.join(FIT_SPLITS)}")
    if fit_split == "x-valid" and DATASETS[dataset][0] is None:
        raise NasReproError(f"dataset {dataset!r} has no x-valid split; use fit_split: test")


def _read_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as error:  # pandas' parser and empty-data errors are ValueErrors
        raise NasReproError(f"{path}: cannot read as CSV ({error})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise NasReproError(f"{path}: missing column(s) {', '.join(missing)}")
    if len(frame) != NUM_CELLS:
        raise NasReproError(f"{path}: expected {NUM_CELLS} NAS-Bench-201 rows, found {len(frame)}")
    return frame


def _accuracy(frame: pd.DataFrame, column: str, path: Path, percent: bool = True) -> pd.Series:
    """A column of accuracies (or, `percent=False`, times) as floats; the first non-numeric, non-finite or
    out-of-range value stops the conversion with one line naming the file, the line and the value."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = ~np.isfinite(values.to_numpy()) & raw.notna().to_numpy()  # NaN where a value was given: not a number
    if percent:
        bad |= np.isfinite(values.to_numpy()) & ((values.to_numpy() < 0) | (values.to_numpy() > 100))
    else:
        bad |= np.isfinite(values.to_numpy()) & (values.to_numpy() < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        expected = "a finite accuracy in [0, 100] %" if percent else "a finite non-negative number"
        value = raw.iloc[row]
        shown = repr(value) if isinstance(value, str) else f"{float(value):g}"
        raise NasReproError(f"{path}: line {row + 2} (architecture {row}), column {column!r}: {shown} is not "
                            f"{expected} ({int(bad.sum())} such value(s)); the file is corrupt: delete it and fetch it again")
    return values


def convert(dataset: str, fit_split: str, files: dict[str, Path]) -> tuple[pd.DataFrame, dict]:
    """Build the canonical table and its provenance from the raw files named by `required_sources`.

    Row i is NAS-Bench-201 architecture index i in every source; the cell strings are checked to agree.
    """
    missing = [name for name in required_sources(dataset, fit_split) if name not in files]
    if missing:
        raise NasReproError(f"dataset {dataset!r} with fit_split {fit_split!r} needs source(s) {', '.join(missing)}")
    avg_source, test_split, nats_column = DATASETS[dataset]
    nats_path = Path(files["nb201-nats_bench"])
    nats = _read_csv(nats_path, NATS_COLUMNS + ([nats_column] if nats_column else []))
    table = pd.DataFrame({"arch_id": np.arange(NUM_CELLS), "cell": nats["ArchitectureString"].astype(str)})
    try:
        ops = np.array([parse_cell(c) for c in table["cell"]], dtype=np.int8)
    except NasReproError as error:
        raise NasReproError(f"{nats_path}: {error}") from None
    for e in range(NUM_EDGES):
        table[f"op{e}"] = ops[:, e]
    if len(np.unique(_codes(ops))) != NUM_CELLS:
        raise NasReproError(f"{nats_path}: cells are not the {NUM_CELLS} distinct NAS-Bench-201 cells")

    label_file = {"test_label": nats_path}
    if avg_source in files:
        avg_path = Path(files[avg_source])
        avg = _read_csv(avg_path, AVG_COLUMNS)
        if not (avg["index"].to_numpy() == table["arch_id"].to_numpy()).all():
            raise NasReproError(f"{avg_path}: column 'index' is not 0..{NUM_CELLS - 1} in order")
        if not (avg["arch_str"].astype(str).to_numpy() == table["cell"].to_numpy()).all():
            raise NasReproError(f"{avg_path}: arch_str disagrees with {nats_path} on the cell of some index")
        table["test_label"] = _accuracy(avg, "test-accuracy", avg_path)
        table["train_label"] = _accuracy(avg, "train-accuracy", avg_path)
        table["train_time"] = _accuracy(avg, "train-all-time", avg_path, percent=False)
        label_file["test_label"] = avg_path
        if fit_split == "x-valid":
            table["fit_label"] = _accuracy(avg, "valid-accuracy", avg_path)
            label_file["fit_label"] = avg_path
    else:
        table["test_label"] = _accuracy(nats, nats_column, nats_path)
    if fit_split == "test":
        table["fit_label"] = table["test_label"]
        label_file["fit_label"] = label_file["test_label"]
    table["iso_class"] = pd.factorize(nats["UniqueString"])[0].astype(np.int32)
    for column, path in label_file.items():
        if table[column].isna().any():
            raise NasReproError(f"{path}: {column} has missing values for dataset {dataset!r}")

    fit_name = "x-valid" if fit_split == "x-valid" else test_split
    meta = {
        "space": "nb201",
        "dataset": dataset,
        "fit_split": fit_name,
        "test_split": test_split,
        "fit_is_test": fit_split == "test",
        "label_note": (
            f"fit on {dataset} x-valid (mean over seeds), report {test_split}"
            if fit_split == "x-valid"
            else f"NO VALIDATION SPLIT AVAILABLE: search fits on the {test_split} accuracy itself, "
            f"the same label that is reported"
        ),
    }
    return table[_column_order(table)], meta


def _column_order(table: pd.DataFrame) -> list[str]:
    first = ["arch_id", "cell"] + [f"op{e}" for e in range(NUM_EDGES)] + ["fit_label", "test_label"]
    return first + [c for c in table.columns if c not in first]


def _codes(ops: np.ndarray) -> np.ndarray:
    """Base-5 code of each op tuple (edge 0 most significant)."""
    return (ops.astype(np.int64) * (len(OPS) ** np.arange(NUM_EDGES - 1, -1, -1))).sum(axis=1)


class CellIndex:
    """Maps op tuples to architecture ids of one canonical table."""

    def __init__(self, ops: np.ndarray):
        self.ops = np.asarray(ops, dtype=np.int8)
        self._id_of_code = np.full(NUM_CELLS, -1, dtype=np.int64)
        self._id_of_code[_codes(self.ops)] = np.arange(len(self.ops))

    def id_of(self, ops) -> int:
        return int(self._id_of_code[_codes(np.asarray(ops, dtype=np.int8)[None, :])[0]])


# ---------------------------------------------------------------------------------------- encodings
# The four input->output paths of a NAS-Bench-201 cell, as edge indices (see EDGE_SOURCE).
NB201_PATHS = ((3,), (0, 4), (1, 5), (0, 2, 5))


def edge_ops(table: pd.DataFrame) -> np.ndarray:
    return table[[f"op{e}" for e in range(NUM_EDGES)]].to_numpy(dtype=np.int64)


def onehot30(table: pd.DataFrame) -> np.ndarray:
    """Each edge's op as a 5-way one-hot, edge by edge (WeakNAS's `--mlp_onehot`, its default)."""
    ops = edge_ops(table)
    eye = np.eye(len(OPS), dtype=np.float32)
    return eye[ops].reshape(len(ops), -1)


def ops6(table: pd.DataFrame) -> np.ndarray:
    """The six op indices as floats (the old WeakNAS code's default without `--mlp_onehot`)."""
    return edge_ops(table).astype(np.float32)


def path155(table: pd.DataFrame) -> np.ndarray:
    """One-hot over op sequences of the 4 input->output paths: 5 + 25 + 125 = 155 dimensions."""
    ops = edge_ops(table)
    n_ops = len(OPS)
    features = np.zeros((len(ops), n_ops + n_ops**2 + n_ops**3), dtype=np.float32)
    rows = np.arange(len(ops))
    for path in NB201_PATHS:
        offset = sum(n_ops**k for k in range(1, len(path)))
        index = np.zeros(len(ops), dtype=np.int64)
        for edge in path:
            index = index * n_ops + ops[:, edge]
        features[rows, offset + index] = 1.0
    return features


# naszilla's op order (nas_bench_201/cell_201.py OPS): its path indices, hence which paths a cutoff keeps
NASZILLA_OPS = ("avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3", "none", "skip_connect")


def truncated_path(cutoff: int):
    """naszilla's `encode_freq_paths(cutoff)`: the first `cutoff` path indices of its path encoding, a path's
    index being the offset of its length (0; 5 for both length-2 paths; 30) plus sum_j op_j 5^j over its ops
    from the input, ops in naszilla's order. Cutoff 30 (naszilla's default, `cutoff=0`) keeps every path of
    length 1 and 2; naszilla/bananas' 40 also the first ten of length 3."""
    rank = np.array([NASZILLA_OPS.index(op) for op in OPS])

    def encode(table: pd.DataFrame) -> np.ndarray:
        ops = rank[edge_ops(table)]
        features = np.zeros((len(ops), cutoff), dtype=np.float32)
        rows = np.arange(len(ops))
        for path, offset in zip(NB201_PATHS, (0, 5, 5, 30)):
            index = offset + sum(ops[:, edge] * 5**j for j, edge in enumerate(path))
            keep = index < cutoff
            features[rows[keep], index[keep]] = 1.0
        return features

    encode.__doc__ = f"naszilla's truncated path encoding, cutoff {cutoff} (`truncated_path`)."
    return encode


ENCODINGS = {"onehot30": onehot30, "ops6": ops6, "path155": path155, "truncpath30": truncated_path(30),
             "truncpath40": truncated_path(40)}
# autodl: one node, one incoming edge, a different op; naslib: one edge uniformly, a different op; naszilla
# (cell_201.py `mutate`, mutate_encoding 'adj'): each of the six ops changed with probability 1/(6 - 2) to a
# different op; nasbowl (generate_test_graphs.py `_banana_mutate`): with probability 1/5 (1 / its 5 ops).
MUTATIONS = ("autodl", "naslib", "naszilla", "nasbowl")
PER_OP_MUTATION = {"naszilla": 1 / (NUM_EDGES - 2), "nasbowl": 1 / len(OPS)}
# The cell graph with operations on nodes (as NPENAS and arch2vec draw it): node 0 the input, node 1 + e
# the op of edge e, node 7 the output. Edge e's op feeds every edge leaving its target node.
GRAPH_OPS = ("input", *OPS, "output")
GRAPH_NODES = NUM_EDGES + 2


def _graph_adjacency() -> np.ndarray:
    adjacency = np.zeros((GRAPH_NODES, GRAPH_NODES), dtype=np.float32)
    for e, (source, target) in enumerate(zip(EDGE_SOURCE, EDGE_TARGET)):
        if source == 0:
            adjacency[0, 1 + e] = 1
        for later in range(NUM_EDGES):
            if EDGE_SOURCE[later] == target:
                adjacency[1 + e, 1 + later] = 1
        if target == 3:
            adjacency[1 + e, GRAPH_NODES - 1] = 1
    return adjacency


class NB201Operators(Operators):
    def __init__(self, cells: pd.DataFrame):
        super().__init__(cells)
        self.ops = edge_ops(cells).astype(np.int8)
        self.index = CellIndex(self.ops)

    def neighbours(self, arch_id: int) -> np.ndarray:
        """The 24 cells with one edge's op changed, edge by edge, ops in index order."""
        ops = self.ops[arch_id]
        found = []
        for edge in range(NUM_EDGES):
            for op in range(len(OPS)):
                if op != ops[edge]:
                    child = ops.copy()
                    child[edge] = op
                    found.append(self.index.id_of(child))
        return np.array(found, dtype=np.int64)

    def mutate(self, arch_id: int, genotype, rng: np.random.Generator, mutation: str) -> tuple[int, None]:
        """'autodl' (AutoDL's R-EA): one of the three intermediate nodes, then one of its incoming edges,
        then a different op; 'naslib': the edge uniformly among the six, then a different op; 'naszilla' /
        'nasbowl': each edge's op, with probability 1/4 / 1/5, changed to a different op (the child may be the
        parent itself)."""
        ops = self.ops[arch_id].copy()
        if mutation in PER_OP_MUTATION:
            for edge in np.flatnonzero(rng.random(NUM_EDGES) < PER_OP_MUTATION[mutation]):
                ops[edge] = (ops[edge] + 1 + rng.integers(len(OPS) - 1)) % len(OPS)
            return self.index.id_of(ops), None
        if mutation == "autodl":
            node = int(rng.integers(1, 4))
            edges = INCOMING_EDGES[node]
            edge = edges[int(rng.integers(len(edges)))]
        else:
            edge = int(rng.integers(NUM_EDGES))
        others = [op for op in range(len(OPS)) if op != ops[edge]]
        ops[edge] = others[int(rng.integers(len(others)))]
        return self.index.id_of(ops), None

    def graphs(self) -> Graphs:
        node_ops = np.zeros((self.size, GRAPH_NODES), dtype=np.int64)
        node_ops[:, 1:-1] = self.ops + 1
        node_ops[:, -1] = len(GRAPH_OPS) - 1
        adjacency = np.broadcast_to(_graph_adjacency(), (self.size, GRAPH_NODES, GRAPH_NODES))
        return Graphs(adjacency, np.eye(len(GRAPH_OPS), dtype=np.float32)[node_ops])

    def sequences(self) -> np.ndarray:
        """The cell sequence: the op of each of the six edges in cell-string order (1<-0, 2<-0, 2<-1, 3<-0,
        3<-1, 3<-2), token op index + 1; the connections are fixed, so they take no tokens."""
        return self.ops.astype(np.int64) + 1

    def sequence_tokens(self) -> np.ndarray:
        allowed = np.ones((NUM_EDGES, len(OPS) + 1), dtype=bool)
        allowed[:, 0] = False
        return allowed

    def id_of_sequence(self, sequence) -> int | None:
        ops = np.asarray(sequence, dtype=np.int64) - 1
        if ops.shape != (NUM_EDGES,) or ops.min() < 0 or ops.max() >= len(OPS):
            return None
        found = self.index.id_of(ops)
        return None if found < 0 else found


NAS_LANDSCAPES = (
    "https://raw.githubusercontent.com/gabro8a/NAS-Landscapes/"
    "abd5221948d901f765e3bc61d0175a3c1c52b802/data/accuracy/"
)
SOURCES = by_name(
    Source(
        name="nb201-cifar10_avg",
        url=NAS_LANDSCAPES + "cifar10_avg.csv",
        mirror_path="nb201/cifar10_avg.csv",
        sha256="1fc89edb42c804223ea2f520a3a65b5e10d8c34bc2d1bbca6bc4b4b38a193827",
        git_blob="be9057c7dd7a0e509cd1b1848c3bce3b54872d61",
        description="NAS-Bench-201 cifar10-valid: train, x-valid, ori-test (mean of seeds, 200 epochs)",
    ),
    Source(
        name="nb201-cifar100_avg",
        url=NAS_LANDSCAPES + "cifar100_avg.csv",
        mirror_path="nb201/cifar100_avg.csv",
        git_blob="bef5955f78e981b71c9caea194377a713410b635",
        description="NAS-Bench-201 cifar100: train, x-valid, x-test",
    ),
    Source(
        name="nb201-ImageNet16-120_avg",
        url=NAS_LANDSCAPES + "ImageNet16-120_avg.csv",
        mirror_path="nb201/ImageNet16-120_avg.csv",
        git_blob="e095424c2fb6d2260ea895692db99dc7a4efee49",
        description="NAS-Bench-201 ImageNet16-120: train, x-valid, x-test",
    ),
    Source(
        name="nb201-nats_bench",
        url=(
            "https://raw.githubusercontent.com/v-tao/nats-bench-landscape/"
            "b307ae5fe6e8d7043cd4fe7d1c3532288271adb7/nats_bench.csv"
        ),
        mirror_path="nb201/nats_bench.csv",
        sha256="cb5d777ec3368be83c8f9b3aa4d520696051cb0eb8d94b8f85b519f9ea4afa3e",
        git_blob="a15806cde5e774239a51874d4ba1db74950a5127",
        description="NATS-Bench topology: test accuracy on cifar10, cifar100, ImageNet16-120; isomorphism string",
    ),
)


class NB201(Space):
    name = "nb201"
    size = NUM_CELLS
    datasets = tuple(DATASETS)
    fit_splits = FIT_SPLITS
    encodings = ENCODINGS
    default_encoding = "onehot30"
    cell_columns = CELL_COLUMNS
    mutations = MUTATIONS
    operators_class = NB201Operators
    sources = SOURCES

    def check(self, bench: dict) -> None:
        check_choice(bench["dataset"], bench["fit_split"])

    def required_sources(self, bench: dict) -> list[str]:
        return required_sources(bench["dataset"], bench["fit_split"])

    def convert(self, bench: dict, files: dict[str, Path]) -> tuple[pd.DataFrame, dict]:
        return convert(bench["dataset"], bench["fit_split"], files)
