"""Generic perturbation families for robustness training: random character edits and word
substitutions, applied to a share of a text's words. Pure and seeded (a `random.Random`).

Families (never a copy of an evaluation recipe — no model queries, no search for the worst edit):
  swap      two adjacent inner letters exchanged ("movie" → "mvoie")
  insert    a random letter inserted inside the word
  delete    an inner letter removed
  keyboard  a letter replaced by a QWERTY neighbour ("good" → "giod")
  synonym   the word replaced by a substitute from `substitutes` (WordNet synonyms when installed,
            else nearest neighbours in the teacher's embedding matrix: rosearch.robust.substitutes)

Stop words, numbers, punctuation and words of fewer than `min_length` letters are left alone, as
are the tokenizer's special tokens (they never appear in raw text, and `[CLS]`-like words are
skipped); the share counts the eligible words.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Callable, Sequence

CHAR_KINDS = ("swap", "insert", "delete", "keyboard")
KINDS = (*CHAR_KINDS, "synonym")

_KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SPECIAL = re.compile(r"\[[A-Z]+\]|</?[a-z]+>")


def _neighbours() -> dict[str, str]:
    """Each letter's QWERTY neighbours (same row and the rows above and below, offset by one)."""
    out: dict[str, str] = {}
    for r, row in enumerate(_KEYBOARD):
        for c, ch in enumerate(row):
            near = []
            for dr in (-1, 0, 1):
                if 0 <= r + dr < len(_KEYBOARD):
                    other = _KEYBOARD[r + dr]
                    near += [other[j] for j in (c - 1, c, c + 1) if 0 <= j < len(other) and other[j] != ch]
            out[ch] = "".join(near)
    return out


KEYBOARD_NEIGHBOURS = _neighbours()
Substitutes = Callable[[str], Sequence[str]]


@dataclass(frozen=True)
class PerturbConfig:
    share: float = 0.25  # share of eligible words edited
    kinds: tuple[str, ...] = KINDS
    min_length: int = 3


def _special(text: str, m: re.Match) -> bool:
    """Whether the word is the inside of a special token such as [SEP] or <s>."""
    return any(s.start() <= m.start() and m.end() <= s.end() for s in _SPECIAL.finditer(text, max(0, m.start() - 2), m.end() + 2))


def _case_like(template: str, word: str) -> str:
    return word.capitalize() if template[:1].isupper() else word


def char_edit(word: str, kind: str, rng: random.Random) -> str:
    """One character edit of `kind` inside `word` (its first and last letters are kept: readers
    and word recognisers rely on them, and so do the typo attacks of the field)."""
    if len(word) < 3:
        return word
    if kind == "swap":
        pairs = [j for j in range(1, len(word) - 2) if word[j] != word[j + 1]]  # a swap that changes the word
        if not pairs:
            return char_edit(word, "keyboard", rng)
        i = rng.choice(pairs)
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    i = rng.randrange(1, len(word) - 1)
    if kind == "insert":
        return word[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + word[i:]
    if kind == "delete":
        return word[:i] + word[i + 1:]
    if kind == "keyboard":
        near = KEYBOARD_NEIGHBOURS.get(word[i].lower())
        return word[:i] + rng.choice(near) + word[i + 1:] if near else word
    return word


def perturb_text(text: str, rng: random.Random, cfg: PerturbConfig, *, stopwords: frozenset[str] = frozenset(),
                 substitutes: Substitutes | None = None) -> str:
    """`text` with round(share × eligible words) (at least one when any is eligible) words edited,
    each by a kind drawn from `cfg.kinds` (synonym only where `substitutes` has one)."""
    spans = [m for m in _WORD.finditer(text)
             if len(m.group()) >= cfg.min_length and m.group().lower() not in stopwords and not _special(text, m)]
    if not spans or cfg.share <= 0:
        return text
    k = max(1, round(cfg.share * len(spans)))
    chosen = sorted(rng.sample(range(len(spans)), min(k, len(spans))))
    out, last = [], 0
    for idx in chosen:
        m = spans[idx]
        word, kind = m.group(), rng.choice(cfg.kinds)
        if kind == "synonym":
            options = [s for s in (substitutes(word.lower()) if substitutes else ()) if s.lower() != word.lower()]
            new = _case_like(word, rng.choice(options)) if options else char_edit(word, rng.choice(CHAR_KINDS), rng)
        else:
            new = char_edit(word, kind, rng)
        out += [text[last:m.start()], new]
        last = m.end()
    out.append(text[last:])
    return "".join(out)
