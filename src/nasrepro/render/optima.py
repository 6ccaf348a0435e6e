"""What the runs recorded of each benchmark's optima: the test optimum, the validation (fitting) optimum and
that architecture's own test accuracy, the floor of any search that selects by validation."""

from __future__ import annotations

import pandas as pd


def optima(summary: pd.DataFrame, trajectories: pd.DataFrame) -> pd.DataFrame:
    """Per benchmark: `test_optimum`; `fit_optimum`, the best fitting label (exact where a run queried the
    fitting optimum, `fit_known`; else the best any run queried, a lower bound); and `fit_optimum_test`, the
    test accuracy of the architecture with that fitting label (NaN where no run queried the optimum)."""
    rows = []
    for bench, runs in summary.groupby("benchmark", sort=False):
        queried = trajectories[trajectories["benchmark"] == bench]
        fit_known = bool(runs["queries_to_fit_optimum"].notna().any())
        best = queried.iloc[queried["fit_label"].to_numpy().argmax()] if len(queried) else None
        rows.append({"benchmark": bench, "test_optimum": float(runs["test_optimum"].iloc[0]),
                     "fit_optimum": float(best["fit_label"]) if best is not None else float("nan"),
                     "fit_known": fit_known, "fit_is_test": bool(runs.get("fit_is_test", pd.Series([False])).iloc[0]),
                     "fit_optimum_test": float(best["test_label"]) if fit_known else float("nan")})
    return pd.DataFrame(rows).set_index("benchmark")
