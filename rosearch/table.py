"""The one table formatter: aligned text for the terminal, or markdown for reports, notes and
model cards."""

from __future__ import annotations

from typing import Literal, Sequence


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, style: Literal["text", "markdown"] = "text") -> str:
    """`rows` of already formatted cells under `header`; text right-aligns every column."""
    if style == "markdown":
        return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).rjust(w) for c, w in zip(row, widths)) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
