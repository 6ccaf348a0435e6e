"""One escaping helper per format, used for every piece of text a writer puts in it (titles, protocol lines,
labels, cells, captions): a method's label or a benchmark's name is the user's text, and must stay text.
Light on purpose (no pandas): the Snakefile's report captions use `rst_text`."""

from __future__ import annotations

import html
import re


def markdown_text(text, line: bool = False) -> str:
    """Text in one Markdown table cell, or (`line`) a line's text after its `- ` or `# `: one line, `|` and `\\`
    escaped, no raw HTML tag, and on a line no block marker (heading, quote, list) at its start."""
    text = " ".join(str(text).split()).replace("\\", "\\\\").replace("|", "\\|")
    text = re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text)
    return "\\" + text if line and text[:1] in MARKDOWN_BLOCK_MARKERS else text


MARKDOWN_BLOCK_MARKERS = tuple("#>-+*=`~")


def html_text(text) -> str:
    return html.escape(str(text))


def rst_text(text) -> str:
    """Text inside a reStructuredText paragraph (the report's captions): one line, so no directive can start,
    and inline markup (emphasis, literals, links, substitutions) escaped."""
    return re.sub(r"([\\*`|_:<>\[\]])", r"\\\1", " ".join(str(text).split()))


LATEX_SPECIAL = str.maketrans({"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                               "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}",
                               "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"})


def latex_text(text) -> str:
    """Text in a LaTeX cell or caption: one line (a blank line would end the paragraph), specials escaped."""
    return " ".join(str(text).split()).translate(LATEX_SPECIAL)


def figure_text(text) -> str:
    """A label as matplotlib draws it: plain text, never mathtext (`$\\cmd$` in a label would stop the figure)."""
    return str(text).replace("$", r"\$")
