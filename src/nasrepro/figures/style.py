"""The one style of every figure: colour-blind-safe colours (Okabe-Ito), labelled axes, PNG and PDF."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..io import atomic_path  # noqa: E402

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
# past eight methods the colours repeat with another dash
LINE_CYCLE = matplotlib.cycler(linestyle=["-", "--", ":"]) * matplotlib.cycler(color=OKABE_ITO)
STYLE = {"axes.prop_cycle": LINE_CYCLE, "axes.grid": True, "grid.alpha": 0.3,
         "font.size": 9, "savefig.dpi": 200, "figure.constrained_layout.use": True}


def save(figure, png: str | Path, pdf: str | Path) -> None:
    """Write the figure as PNG and PDF (each atomically) and close it."""
    for path in (png, pdf):
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format=Path(path).suffix.lstrip("."))
    plt.close(figure)
