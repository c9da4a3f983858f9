"""Attack only what the model reads.

A model with a window of `max_length` tokens never sees the words beyond it, so no edit there can
change its prediction; attacking them costs queries (a 20,000-character text: over 1,600 queries an
example, against 42 for 200 characters) and memory (every query's text is kept for the attack's
cache). Every whitespace-separated word yields at least one token, under any input stage that maps
words to words, so the first `max_length` words hold every token the model reads: cutting there
changes no prediction and leaves the attack nothing it could have used.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\S+")


def within_window(text: str, max_length: int) -> str:
    """`text` up to the end of its `max_length`-th word (unchanged when it is shorter)."""
    for i, match in enumerate(_WORD.finditer(text)):
        if i + 1 == max_length:
            return text[: match.end()]
    return text
