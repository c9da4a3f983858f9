"""The `unicode` recipe: DeepWordBug with the characters a user can paste instead of typos.

TextAttack has no recipe that attacks what lies outside ASCII letters, so this one is ours: it is
DeepWordBug (Gao et al., 2018) as TextAttack builds it — untargeted goal, greedy search by word
importance (deleting a word), no stop word or word changed twice, Levenshtein distance ≤ 30 — with
its four character edits replaced by four that keep a word readable to a person:
  homoglyph  one letter → a lookalike of another script (the table of TextAttack's
             WordSwapHomoglyphSwap, from the "Bad Characters" attack, Boucher et al., 2022 — not the
             confusables data the defence folds);
  symbol     one letter → the digit or symbol that stands for it (o → 0, e → 3, a → @, s → $, …);
  accent     one vowel → the same vowel with an accent (e → é);
  fullwidth  one letter → its fullwidth form (e → ｅ).
Each proposes one random edit per word, as DeepWordBug's do. Invisible characters are not among
them: TextAttack's word splitting breaks a word at a zero-width character, so a greedy word-level
search over them misplaces its later edits; `benchmarks/stages.py` measures them as random
noise instead.
"""

from __future__ import annotations

import random
from typing import Any

#: TextAttack 0.3.11's WordSwapHomoglyphSwap.homos (its letters). Copied because that class cannot
#: be built from the released package (its __init__ opens shared/intentional_homoglyphs.txt, which
#: the wheel does not ship).
HOMOGLYPHS = {"a": "ɑ", "b": "Ь", "c": "ϲ", "d": "ԁ", "e": "е", "f": "𝚏", "g": "ɡ", "h": "հ", "i": "і", "j": "ϳ", "k": "𝒌",
              "l": "ⅼ", "m": "ｍ", "n": "ո", "o": "о", "p": "р", "q": "ԛ", "r": "ⲅ", "s": "ѕ", "t": "𝚝", "u": "ս", "v": "ѵ",
              "w": "ԝ", "x": "×", "y": "у", "z": "ᴢ"}
#: What a letter can become in the symbol edit (leetspeak).
SYMBOLS = {"a": "4@", "b": "8", "e": "3", "g": "9", "i": "1!", "l": "1|", "o": "0", "s": "5$", "t": "7+", "z": "2"}
#: Accented forms of the vowels (precomposed, as a keyboard types them).
ACCENTS = {"a": "àáâäã", "e": "èéêë", "i": "ìíîï", "o": "òóôöõ", "u": "ùúûü", "y": "ýÿ"}


def one_edit(word: str, options: dict[str, str]) -> list[str]:
    """One random edit of `word`: a random position whose letter has options, a random option."""
    spots = [i for i, ch in enumerate(word) if ch.lower() in options]
    if not spots:
        return []
    i = random.choice(spots)
    return [word[:i] + random.choice(options[word[i].lower()]) + word[i + 1:]]


def build(model_wrapper: Any) -> Any:
    """The TextAttack `Attack` of the `unicode` recipe around `model_wrapper`."""
    from textattack import Attack
    from textattack.constraints.overlap import LevenshteinEditDistance
    from textattack.constraints.pre_transformation import RepeatModification, StopwordModification
    from textattack.goal_functions import UntargetedClassification
    from textattack.search_methods import GreedyWordSwapWIR
    from textattack.transformations import CompositeTransformation, WordSwap

    fullwidth = {ch: chr(ord(ch) - 0x21 + 0xFF01) for ch in "abcdefghijklmnopqrstuvwxyz"}

    class Edit(WordSwap):
        def __init__(self, options: dict[str, str]) -> None:
            super().__init__()
            self.options = options

        def _get_replacement_words(self, word: str) -> list[str]:
            return one_edit(word, self.options)

    transformation = CompositeTransformation([Edit(HOMOGLYPHS), Edit(SYMBOLS), Edit(ACCENTS), Edit(fullwidth)])
    return Attack(UntargetedClassification(model_wrapper), [RepeatModification(), StopwordModification(), LevenshteinEditDistance(30)],
                  transformation, GreedyWordSwapWIR())
