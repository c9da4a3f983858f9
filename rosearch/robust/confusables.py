"""The fold table of the normalisation stage: each character that Unicode's confusables data
(UTS #39, `confusables.txt`, as the confusable-homoglyphs package ships it) says looks like one
Latin letter, mapped to that letter — apart from what NFKC already folds and from East Asian
wide characters. Read from the package's data once per preparation (I/O at the edge; the stage
itself, rosearch.robust.normalize, gets the table and ships it in normalizer.json)."""

from __future__ import annotations

import json
import unicodedata
from importlib import resources


def latin_fold() -> dict[str, str]:
    """{character: the Latin letter it looks like}, for single non-ASCII characters."""
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text(encoding="utf-8"))
    fold: dict[str, str] = {}
    for ch, entries in data.items():
        if len(ch) != 1 or ch.isascii() or unicodedata.east_asian_width(ch) in ("W", "F"):
            continue
        if unicodedata.normalize("NFKC", ch) != ch:  # NFKC runs first and folds it already
            continue
        latin = [e["c"] for e in entries if len(e["c"]) == 1 and e["c"].isascii() and e["c"].isalpha()]
        if latin:
            fold[ch] = latin[0]
    return fold
