"""The one style of every figure: colour-blind-safe colours (Okabe-Ito), labelled axes, PNG and PDF."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..io import atomic_path  # noqa: E402

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
# Fifteen lines, each its own colour and marker (Okabe-Ito without its yellow, then Paul Tol's darker
# colours, dashed): a method is told apart by two of colour, marker and dash even in greyscale.
COLOURS = [*OKABE_ITO[:6], "#000000", "#882255", "#332288", "#117733", "#999933", "#AA4499", "#661100", "#6699CC",
           "#888888"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p", "d", "8", "H"]
LINE_CYCLE = (matplotlib.cycler(color=COLOURS) + matplotlib.cycler(marker=MARKERS)
              + matplotlib.cycler(linestyle=["-"] * 7 + ["--"] * 8))
STYLE = {"axes.prop_cycle": matplotlib.cycler(color=COLOURS), "axes.grid": True, "grid.alpha": 0.3,
         "font.size": 9, "savefig.dpi": 200, "figure.constrained_layout.use": True}


def line_style(index: int) -> dict:
    """Plot keywords of the index-th line of a many-line figure (repeats past fifteen)."""
    return dict(list(LINE_CYCLE)[index % len(LINE_CYCLE)])


def save(figure, png: str | Path, pdf: str | Path) -> None:
    """Write the figure as PNG and PDF (each atomically) and close it."""
    for path in (png, pdf):
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format=Path(path).suffix.lstrip("."))
    plt.close(figure)
