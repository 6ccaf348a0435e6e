"""Architecture encodings on hand-worked NAS-Bench-201 cells."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from nasrepro import encodings
from nasrepro.errors import NasReproError


def table_of(*cells) -> pd.DataFrame:
    frame = pd.DataFrame({"arch_id": np.arange(len(cells))})
    for e in range(6):
        frame[f"op{e}"] = [cell[e] for cell in cells]
    return frame


def test_onehot30_hand_worked():
    # ops (none, skip, 1x1, 3x3, pool, none) on edges 0..5 -> ones at 5*e + op
    features = encodings.encode("nb201", "onehot30", table_of((0, 1, 2, 3, 4, 0)))
    assert features.shape == (1, 30) and features.dtype == np.float32
    assert np.flatnonzero(features[0]).tolist() == [0, 6, 12, 18, 24, 25]
    assert features.sum() == 6


def test_onehot30_exactly_six_ones_at_5e_plus_op_for_every_cell():
    ops = np.array(list(itertools.product(range(5), repeat=6)))
    features = encodings.encode("nb201", "onehot30", table_of(*ops))
    assert features.shape == (15625, 30)
    assert (features.sum(axis=1) == 6).all()
    expected = 5 * np.arange(6) + ops
    assert (np.sort(np.argwhere(features == 1)[:, 1].reshape(-1, 6), axis=1) == expected).all()
    assert features.flags["C_CONTIGUOUS"]


def test_ops6_is_the_op_indices_as_floats():
    features = encodings.encode("nb201", "ops6", table_of((4, 2, 1, 2, 1, 1), (0, 0, 0, 0, 0, 3)))
    assert features.dtype == np.float32
    assert features.tolist() == [[4, 2, 1, 2, 1, 1], [0, 0, 0, 0, 0, 3]]


def test_path155_hand_computed_indices():
    # Cell (e0..e5) = (skip, 1x1, 3x3, pool, none, skip). Input->output paths and their op sequences:
    #   0->3          edge 3          : (pool)            -> 0 + 4                  = 4
    #   0->1->3       edges 0, 4      : (skip, none)      -> 5 + 1*5 + 0            = 10
    #   0->2->3       edges 1, 5      : (1x1, skip)       -> 5 + 2*5 + 1            = 16
    #   0->1->2->3    edges 0, 2, 5   : (skip, 3x3, skip) -> 30 + 1*25 + 3*5 + 1    = 71
    features = encodings.encode("nb201", "path155", table_of((1, 2, 3, 4, 0, 1)))
    assert features.shape == (1, 155)
    assert np.flatnonzero(features[0]).tolist() == [4, 10, 16, 71]


def test_path155_has_four_ones_unless_two_length2_paths_share_their_ops():
    ops = np.array(list(itertools.product(range(5), repeat=6)))
    features = encodings.encode("nb201", "path155", table_of(*ops))
    ones = features.sum(axis=1)
    same_length2_paths = (ops[:, 0] == ops[:, 1]) & (ops[:, 4] == ops[:, 5])
    assert (ones[~same_length2_paths] == 4).all()
    assert (ones[same_length2_paths] == 3).all()  # a set of paths, as in NASLib's path encoding
    # one path of each length 1 and 3; the length-2 block holds the remaining ones
    assert (features[:, :5].sum(axis=1) == 1).all()
    assert (features[:, 30:].sum(axis=1) == 1).all()
    # distinct cells can share a path encoding, but the encoding separates most of them
    assert len(np.unique(features, axis=0)) > 5000


def test_unknown_encoding_or_space_is_an_error():
    with pytest.raises(NasReproError, match="unknown encoding 'adjacency'.*known: onehot30, ops6, path155"):
        encodings.encode("nb201", "adjacency", table_of((0,) * 6))
    with pytest.raises(NasReproError, match="space 'nb101'"):
        encodings.encode("nb101", "onehot30", table_of((0,) * 6))
