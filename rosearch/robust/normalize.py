"""A text-normalisation input stage: what a user can paste reaches the word recogniser (and the
tokenizer) as the words it means.

In order, on each text:
  1. Unicode NFKC: compatibility forms folded (fullwidth `ｍｏｖｉｅ`, mathematical `𝐦𝐨𝐯𝐢𝐞`,
     ligatures `ﬁ`, non-breaking spaces).
  2. Invisible characters removed where they sit after a letter, digit or mark (zero-width
     space/joiners, soft hyphen, word joiner, BOM, bidirectional controls, variation selectors,
     the combining grapheme joiner): inside a word they only split it. After anything else
     (an emoji's zero-width joiner or variation selector) they are kept, so emoji stay whole.
  3. Accents on Latin letters removed (`movié` → `movie`, `naïve` → `naive`), as the uncased BERT
     tokenizers do anyway, so the recogniser never sees an accent as a misspelling; marks on
     letters of other scripts (Devanagari vowel signs, kana voicing marks) are kept.
  4. Letters of other scripts that look like Latin ones (Unicode's confusables, TR39: Cyrillic
     `о`, Greek `ο`, Cherokee, …) folded to those Latin letters inside a word that also has Latin
     letters, or anywhere in a text whose letters are mostly Latin; a Russian or Greek text stays
     as it is, and East Asian characters are never folded.
  5. Digits and symbols inside words read as the letters they stand for (`m0vie`, `t3rrible`,
     `bor1ng`, `@wful`, `$tupid`): the reading that is a known word (the training vocabulary's
     counts), the most frequent one; with no known reading, digits strictly between letters are
     read as letters (the recogniser then mends the rest). Numbers, `90s`, `mp3`, `2nd` and words
     the vocabulary knows stay as they are.

Pure Python, standard library only: this file and `normalizer.json` (the fold table and the word
counts) ship with exported students, whose tokenizer runs it first. The fold table is built from
Unicode's data where the study is prepared (rosearch.robust.confusables).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import unicodedata
from pathlib import Path

#: Invisible characters beyond category Cf (format) that only split a word.
_INVISIBLE_EXTRA = {"\u034f", "\u115f", "\u1160", "\u3164", "\uffa0", "\u180b", "\u180c", "\u180d", "\u180e", "\u180f"}
#: What a digit or symbol inside a word can stand for (leetspeak and lookalikes), first the likeliest.
LEET = {"0": "o", "1": "il", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
        "@": "a", "$": "s", "!": "i", "|": "l", "+": "t", "€": "e"}
_RUN = re.compile(r"[A-Za-z0-9@$!|+€]+")
_WORD = re.compile(r"\w+")
_MAX_READINGS = 64  # readings tried per word (2 ** 6): longer runs of symbols are not words


def _invisible(ch: str) -> bool:
    if ch in _INVISIBLE_EXTRA or "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef":
        return True
    return unicodedata.category(ch) == "Cf"


def _wordlike(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNM"


def drop_invisible(text: str) -> str:
    """`text` without the invisible characters that follow a letter, digit or mark."""
    out: list[str] = []
    for ch in text:
        if _invisible(ch) and out and _wordlike(out[-1]):
            continue
        out.append(ch)
    return "".join(out)


def strip_latin_accents(text: str) -> str:
    """`text` with the combining marks on ASCII letters removed (other scripts' marks kept)."""
    if text.isascii():
        return text
    out: list[str] = []
    base_ascii = False
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            if not base_ascii:
                out.append(ch)
            continue
        base_ascii = ch.isascii() and ch.isalpha()
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _mostly_latin(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and 2 * sum(ch.isascii() for ch in letters) > len(letters)


def fold_confusables(text: str, fold: dict[str, str]) -> str:
    """`text` with lookalike letters folded to Latin ones, in words that mix them with Latin
    letters, or in every word when the text's letters are mostly Latin."""
    if text.isascii() or not fold:
        return text
    everywhere = _mostly_latin(text)

    def word(m: re.Match) -> str:
        w = m.group()
        if not any(ch in fold for ch in w) or not (everywhere or any(ch.isascii() and ch.isalpha() for ch in w)):
            return w
        return "".join(fold.get(ch, ch) for ch in w)

    return _WORD.sub(word, text)


def _case_like(template: str, word: str) -> str:
    letters = [ch for ch in template if ch.isalpha()]
    if len(letters) > 1 and all(ch.isupper() for ch in letters):
        return word.upper()
    return word[:1].upper() + word[1:] if template[:1].isupper() else word


def read_symbols(text: str, counts: dict[str, int]) -> str:
    """`text` with digits and symbols inside words read as letters (see the module docstring)."""
    def run(m: re.Match) -> str:
        token = m.group()
        core = token.rstrip("!|+")  # a trailing "!" is punctuation
        tail = token[len(core):]
        letters = sum(ch.isascii() and ch.isalpha() for ch in core)
        symbols = [i for i, ch in enumerate(core) if ch in LEET]
        if letters < 2 or not symbols or core.lower() in counts:
            return token
        low = core.lower()
        choices = [LEET[ch] if ch in LEET else ch for ch in low]
        if math.prod(len(c) for c in choices) > _MAX_READINGS:
            return token
        known = [w for w in ("".join(p) for p in itertools.product(*choices)) if w in counts]
        if known:
            return _case_like(core, max(known, key=lambda w: counts[w])) + tail
        inside = all(0 < i < len(core) - 1 and core[i - 1].isalpha() and core[i + 1].isalpha() for i in symbols)
        if inside and all(core[i].isdigit() for i in symbols):
            return _case_like(core, "".join(c[0] for c in choices)) + tail
        return token

    return _RUN.sub(run, text)


class TextNormalizer:
    """Normalises a text so that it reaches the recogniser as the words it means."""

    def __init__(self, fold: dict[str, str], counts: dict[str, int]) -> None:
        self.fold = dict(fold)
        self.counts = dict(counts)

    def __call__(self, text: str) -> str:
        text = unicodedata.normalize("NFKC", text)
        text = drop_invisible(text)
        text = strip_latin_accents(text)
        text = fold_confusables(text, self.fold)
        return read_symbols(text, self.counts)

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"fold": self.fold, "counts": self.counts}, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> TextNormalizer:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["fold"], data["counts"])
