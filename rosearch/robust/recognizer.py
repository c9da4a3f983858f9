"""A word-recognition input stage: misspelt or unknown words are mapped back to vocabulary words
before the text reaches the tokenizer (after Pruthi et al., 2019, "Combating Adversarial
Misspellings with Robust Word Recognition"; here a dictionary recogniser rather than their ScRNN).

How a word is recognised (lower case; words the vocabulary holds are left alone):
  1. scrambled inner letters: same first and last letter, same multiset inside ("mvoie" → "movie");
  2. one edit away (insertion, deletion, substitution or adjacent swap), found through a
     deletion index (SymSpell's idea: two words one edit apart share a one-deletion form),
     scored by log frequency plus bonuses for the likely typos (a keyboard-neighbour substitution
     +2, an adjacent swap +1, the same first and last letters +1).
  A word with no candidate is left as it is.

Pure Python with no dependency beyond the standard library: `recognizer.json` (vocabulary and
counts) ships with exported students, and this file is copied next to them (their tokenizer runs
it before tokenizing), so users of `from_pretrained` get the predictions the attacks measured.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Iterable

_WORD = re.compile(r"[A-Za-z]+")
_ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _keyboard() -> dict[str, set[str]]:
    near: dict[str, set[str]] = {}
    for r, row in enumerate(_ROWS):
        for c, ch in enumerate(row):
            near[ch] = {_ROWS[r + dr][j] for dr in (-1, 0, 1) if 0 <= r + dr < 3
                        for j in (c - 1, c, c + 1) if 0 <= j < len(_ROWS[r + dr])} - {ch}
    return near


_NEAR = _keyboard()


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _scramble_key(word: str) -> tuple[str, str, str]:
    return (word[0], word[-1], "".join(sorted(word[1:-1])))


def _one_edit(a: str, b: str) -> str | None:
    """The kind of the single edit turning a into b ('sub', 'swap', 'ins', 'del'), or None."""
    if a == b:
        return None
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        if len(diff) == 1:
            return "sub"
        if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
            return "swap"
        return None
    if abs(len(a) - len(b)) == 1:
        short, long = (a, b) if len(a) < len(b) else (b, a)
        if any(long[:i] + long[i + 1:] == short for i in range(len(long))):
            return "del" if len(a) > len(b) else "ins"
    return None


def _case_like(template: str, word: str) -> str:
    return word[:1].upper() + word[1:] if template[:1].isupper() and word[:1].islower() else word


class WordRecognizer:
    """Maps each word of a text to the vocabulary word it most likely misspells."""

    def __init__(self, counts: dict[str, int], *, min_length: int = 3) -> None:
        self.counts = dict(counts)
        self.min_length = min_length
        self._scrambles: dict[tuple[str, str, str], list[str]] = {}
        self._deleted: dict[str, list[str]] = {}
        for word in self.counts:
            if len(word) >= min_length:
                self._scrambles.setdefault(_scramble_key(word), []).append(word)
            for form in _deletions(word) | {word}:
                self._deleted.setdefault(form, []).append(word)
        self.word = functools.lru_cache(maxsize=1 << 16)(self._word)

    def cache_clear(self) -> None:
        """Forget the words recognised so far (latency is timed cold: rosearch.latency.stage_latency)."""
        self.word.cache_clear()

    @classmethod
    def from_texts(cls, texts: Iterable[str], *, min_count: int = 1, max_words: int = 50_000) -> WordRecognizer:
        """The vocabulary of `texts` (lower case), its `max_words` most frequent words seen at least `min_count` times."""
        counts = Counter(w.lower() for text in texts for w in _WORD.findall(text))
        return cls({w: c for w, c in counts.most_common(max_words) if c >= min_count})

    def _word(self, word: str) -> str:
        low = word.lower()
        if low in self.counts or len(low) < self.min_length:
            return word
        scrambled = self._scrambles.get(_scramble_key(low), [])
        if scrambled:
            return max(scrambled, key=lambda w: self.counts[w])
        candidates = {w for form in _deletions(low) | {low} for w in self._deleted.get(form, ())}
        scored = []
        for w in candidates:
            kind = _one_edit(low, w)
            if kind is None:
                continue
            keyboard = kind == "sub" and any(x != y and y in _NEAR.get(x, ()) for x, y in zip(low, w))
            ends = w[0] == low[0] and w[-1] == low[-1]
            scored.append((math.log(self.counts[w]) + 2 * keyboard + (kind == "swap") + ends, w))
        return max(scored)[1] if scored else word

    def __call__(self, text: str) -> str:
        """`text` with every word replaced by its recognised form (spacing, punctuation and a
        leading capital kept)."""
        return _WORD.sub(lambda m: _case_like(m.group(), self.word(m.group())), text)

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"min_length": self.min_length, "counts": self.counts}), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> WordRecognizer:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["counts"], min_length=data.get("min_length", 3))
