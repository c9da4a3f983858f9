"""Random-substitution voting (after SAFER, Ye et al., 2020, and RMLM's random-substitution
transform, Wang et al., 2023): the student classifies `copies` versions of the text, in each of
which every word with substitutes is replaced, with probability `rate`, by one of them drawn at
random, and the pipeline answers the mean of the copies' class probabilities. A word-substitution
attack has to move the whole neighbourhood of the text, not one point of it.

The substitutes are resolved once, where the study is prepared (`substitution_sets`, WordNet's
lemmas when WordNet is installed, else the teacher's embedding neighbours, each kept only when the
training text uses it at least `min_count` times, so every copy is made of words the student has
learnt), into a plain word → words table. The draws are seeded, so the pipeline is a deterministic
function (the same text, the same answer), as an attack's query log and a user's repeated request
expect, in one of two ways (`draw`):

- "text" (the default): one generator seeded by the whole text draws every word's fate in every
  copy (SAFER's fresh noise per input). Any edit anywhere redraws all the copies, so an attack's
  every query meets a new draw of the vote's noise.
- "word": a generator seeded by (seed, the word) draws the word's fate in each copy once, so each
  copy is a fixed word-by-word map and an edit changes only the edited word's copies.

Measured on one student behind the other stages (benchmarks/RESULTS.md, the vote's draw): the
text draw holds more under word substitutions (PWWS +3.4, embedding-swap +8.6 points: the fresh
noise misleads the attack's search) and the word draw more under character edits (Pruthi +4.2: a
typo the recogniser undoes no longer redraws the copies).

The cost is `copies` model passes a text; the stage's latency and the searched latency objective
include it.
"""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path
from typing import Callable, Collection, Iterable, Sequence

import torch

from .synonyms import _WORD, _case_like  # the synonym stage's words and casing (relative: shipped with exports)

#: How a vote's copies are drawn (module docstring).
DRAWS = ("text", "word")


def substitution_sets(counts: dict[str, int], words: Iterable[str], synonyms: Callable[[str], Sequence[str]], *,
                      min_count: int, stop_words: Collection[str] = ()) -> dict[str, list[str]]:
    """{word: its synonyms seen at least `min_count` times in training, sorted} for each of `words`
    (lower case, letters only, not a stop word) that has any; stop words are never substitutes
    either (WordNet would turn "a" into "amp", the unit, and "about" into "nearly")."""
    table: dict[str, list[str]] = {}
    stop = set(stop_words)
    for word in {w.lower() for w in words if w.isalpha()} - stop:
        kept = sorted({s for s in synonyms(word) if s.isalpha() and s != word and s not in stop and counts.get(s, 0) >= min_count})
        if kept:
            table[word] = kept
    return table


class SubstitutionVote:
    """The copies a text is classified as, and how their answers combine (module docstring)."""

    def __init__(self, table: dict[str, list[str]], *, copies: int, rate: float, seed: int = 0, draw: str = "text") -> None:
        if copies < 1 or not 0.0 <= rate <= 1.0:
            raise ValueError(f"copies must be ≥ 1 and rate in [0, 1], not {copies} and {rate}")
        if draw not in DRAWS:
            raise ValueError(f"draw must be one of {', '.join(DRAWS)}, not {draw!r}")
        self.table = {w: list(s) for w, s in table.items()}
        self.copies, self.rate, self.seed, self.draw = copies, rate, seed, draw
        self._fates: dict[str, list[str | None]] = {}  # draw="word": a word's substitute in each copy (None: kept)

    def variants(self, text: str) -> list[str]:
        """The `copies` randomly substituted versions of `text` (always the same ones for it)."""
        if self.draw == "word":
            return [_WORD.sub(lambda m, k=k: self._word_fate(m.group(), k), text) for k in range(self.copies)]
        rng = random.Random(f"{self.seed}\x00{text}")  # a str seed is hashed with SHA-512: stable across processes

        def swap(match: re.Match) -> str:
            options = self.table.get(match.group().lower())
            if not options or rng.random() >= self.rate:
                return match.group()
            return _case_like(match.group(), options[rng.randrange(len(options))])

        return [_WORD.sub(swap, text) for _ in range(self.copies)]

    def _word_fate(self, word: str, k: int) -> str:
        """`word` as copy k writes it (draw="word"): its fate in each copy is drawn once, from a
        generator seeded by (seed, the word), and remembered."""
        key = word.lower()
        options = self.table.get(key)
        if not options:  # never remembered: an attack's queries bring endless new strings
            return word
        if key not in self._fates:
            rng = random.Random(f"{self.seed}\x00{key}")
            self._fates[key] = [options[rng.randrange(len(options))] if rng.random() < self.rate else None
                                for _ in range(self.copies)]
        fate = self._fates[key][k]
        return word if fate is None else _case_like(word, fate)

    def expand(self, texts: Sequence[str]) -> list[str]:
        """Every text's variants, text after text (`copies` rows each)."""
        return [v for t in texts for v in self.variants(t)]

    def combine(self, logits: torch.Tensor) -> torch.Tensor:
        """[N × copies, K] logits of `expand`ed texts → [N, K]: the log of the copies' mean class
        probabilities (a softmax of them gives the mean; argmax is the soft vote)."""
        grouped = logits.float().reshape(-1, self.copies, logits.shape[-1])
        return torch.logsumexp(torch.log_softmax(grouped, dim=-1), dim=1) - math.log(self.copies)

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"copies": self.copies, "rate": self.rate, "seed": self.seed, "draw": self.draw, "table": self.table}),
                              encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> SubstitutionVote:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        # a vote.json written before `draw` existed drew by text, the default
        return cls(data["table"], copies=data["copies"], rate=data["rate"], seed=data["seed"], draw=data.get("draw", "text"))
