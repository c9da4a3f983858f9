"""Perturbation families: seeded, the share respected, stop words and special tokens untouched."""

from __future__ import annotations

import random
import re

import pytest

from rosearch.robust.perturb import CHAR_KINDS, KEYBOARD_NEIGHBOURS, PerturbConfig, char_edit, perturb_text

TEXT = "The acting is wonderful and the story moves quickly, but [SEP] the ending feels rushed and predictable."
STOP = frozenset({"the", "and", "but", "is"})
ELIGIBLE = ["acting", "wonderful", "story", "moves", "quickly", "ending", "feels", "rushed", "predictable"]


def _changed(before: str, after: str) -> list[tuple[str, str]]:
    a, b = re.findall(r"\S+", before), re.findall(r"\S+", after)
    assert len(a) == len(b)
    return [(x, y) for x, y in zip(a, b) if x != y]


@pytest.mark.parametrize("kind, check", [
    ("swap", lambda w, e: sorted(w) == sorted(e) and len(e) == len(w)),
    ("insert", lambda w, e: len(e) == len(w) + 1),
    ("delete", lambda w, e: len(e) == len(w) - 1),
    ("keyboard", lambda w, e: len(e) == len(w) and sum(a != b for a, b in zip(w, e)) == 1
     and all(b in KEYBOARD_NEIGHBOURS[a] for a, b in zip(w, e) if a != b)),
])
def test_each_character_edit_keeps_first_and_last_letters(kind: str, check) -> None:
    for seed in range(20):
        edited = char_edit("wonderful", kind, random.Random(seed))
        assert edited != "wonderful" and edited[0] == "w" and edited[-1] == "l" and check("wonderful", edited), edited


@pytest.mark.parametrize("share, expected", [(0.25, 2), (0.5, 4), (1.0, 9), (0.01, 1)])
@pytest.mark.parametrize("kinds", [CHAR_KINDS, ("synonym",)], ids=["characters", "synonyms"])
def test_share_seed_stop_words_and_special_tokens(share: float, expected: int, kinds) -> None:
    cfg = PerturbConfig(share=share, kinds=kinds)
    subs = lambda w: ("splendid",) if w == "wonderful" else (w.upper() + "x",)  # noqa: E731
    out = perturb_text(TEXT, random.Random(7), cfg, stopwords=STOP, substitutes=subs)
    assert out == perturb_text(TEXT, random.Random(7), cfg, stopwords=STOP, substitutes=subs)  # seeded
    changed = _changed(TEXT, out)
    assert len(changed) == expected  # round(share × 9 eligible words), at least one
    originals = [re.sub(r"[^A-Za-z]", "", x) for x, _ in changed]
    assert all(w in ELIGIBLE for w in originals)  # never a stop word, never [SEP]
    assert "[SEP]" in out
    if share < 1.0 or kinds == CHAR_KINDS:  # (every word, one substitute each: nothing left to draw)
        many = {perturb_text(TEXT, random.Random(s), cfg, stopwords=STOP, substitutes=subs) for s in range(10)}
        assert len(many) > 1  # another seed, another perturbation


def test_synonym_without_substitutes_falls_back_to_a_character_edit() -> None:
    out = perturb_text("wonderful", random.Random(0), PerturbConfig(share=1.0, kinds=("synonym",)), substitutes=lambda w: ())
    assert out != "wonderful" and out[0] == "w" and out[-1] == "l"


def test_embedding_neighbours_are_whole_words(tokenizer) -> None:
    import torch

    from rosearch.robust.substitutes import embedding_neighbours

    torch.manual_seed(0)
    emb = torch.randn(len(tokenizer), 8)
    good = tokenizer.convert_tokens_to_ids("good")
    emb[tokenizer.convert_tokens_to_ids("great")] = emb[good] * 2  # the same direction: the nearest by cosine
    neighbours = embedding_neighbours(emb, tokenizer, k=3)("good")
    assert neighbours[0] == "great" and all(n.isalpha() and n != "good" for n in neighbours)
    assert embedding_neighbours(emb, tokenizer)("qzxqzx") == ()
    assert embedding_neighbours(emb, tokenizer, k=3, min_similarity=0.99)("good") == ("great",)  # the floor drops the rest
