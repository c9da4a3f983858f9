"""A frequency-guided synonym stage (after FGWS, Mozes et al., 2021, "Frequency-Guided Word
Substitutions for Detecting Textual Adversarial Examples"): each word seen fewer than `min_count`
times in the training text is replaced by its most frequent synonym, when that synonym was seen
more often than the word. Word-substitution attacks favour rare synonyms (a model has learnt
little about them); canonicalising them back to frequent words undoes much of such an attack
while ordinary, frequent words pass untouched.

Here the synonyms are resolved once, where the study is prepared (`canonical_map`, from WordNet's
lemmas when WordNet is installed, else from the teacher's embedding neighbours), into a plain
word → word table, so the stage itself is a dictionary lookup in pure Python: this file and
`fgws.json` ship with exported students, whose tokenizer runs it after the normaliser and before
the word recogniser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable, Iterable, Sequence

_WORD = re.compile(r"[A-Za-z]+")


def _case_like(template: str, word: str) -> str:
    if len(template) > 1 and template.isupper():
        return word.upper()
    return word[:1].upper() + word[1:] if template[:1].isupper() else word


def canonical_map(counts: dict[str, int], words: Iterable[str], synonyms: Callable[[str], Sequence[str]], *,
                  min_count: int) -> dict[str, str]:
    """{word: its canonical synonym} for each of `words` (lower case) seen fewer than `min_count`
    times whose most frequent synonym was seen more often (ties: the alphabetically first)."""
    table: dict[str, str] = {}
    for word in {w.lower() for w in words}:
        seen = counts.get(word, 0)
        if seen >= min_count or not word.isalpha():
            continue
        better = [(counts.get(s, 0), s) for s in synonyms(word) if s.isalpha() and counts.get(s, 0) > seen]
        if better:
            table[word] = min(better, key=lambda cs: (-cs[0], cs[1]))[1]
    return table


class SynonymCanonicalizer:
    """Replaces rare words by their frequent synonyms (see the module docstring)."""

    def __init__(self, table: dict[str, str], *, min_count: int) -> None:
        self.table = dict(table)
        self.min_count = min_count

    def __call__(self, text: str) -> str:
        return _WORD.sub(lambda m: _case_like(m.group(), self.table.get(m.group().lower(), m.group())), text)

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"min_count": self.min_count, "table": self.table}), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> SynonymCanonicalizer:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["table"], min_count=data["min_count"])
