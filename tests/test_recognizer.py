"""The word-recognition input stage: each edit family is undone, vocabulary words are untouched."""

from __future__ import annotations

import random

import pytest

from rosearch.robust.perturb import CHAR_KINDS, PerturbConfig, char_edit, perturb_text
from rosearch.robust.recognizer import WordRecognizer

TEXTS = ["a wonderful movie with great acting", "the plot is terrible and the film is boring",
         "bad acting , bad plot , bad movie", "a great film"] * 3


@pytest.fixture(scope="module")
def recognizer() -> WordRecognizer:
    return WordRecognizer.from_texts(TEXTS)


@pytest.mark.parametrize("typo, word", [
    ("mvoie", "movie"),       # inner letters scrambled
    ("wonderfl", "wonderful"),  # deletion
    ("boringg", "boring"),    # insertion
    ("terrinle", "terrible"),  # keyboard neighbour (b → n)
    ("acitng", "acting"),     # adjacent swap
    ("bda", "bad"),           # a swap beats a rarer one-letter substitute
])
def test_each_typo_family_is_recognised(recognizer: WordRecognizer, typo: str, word: str) -> None:
    assert recognizer.word(typo) == word


def test_vocabulary_words_unknown_words_and_layout_are_kept(recognizer: WordRecognizer) -> None:
    text = "The plot, frankly, is terrible!"
    assert recognizer(text) == text  # every word known (case and punctuation kept)
    assert recognizer.word("xqzt") == "xqzt"  # no candidate: left as it is
    assert recognizer("Teh mvoie wsa gerat !") == "The movie wsa great !"  # "wsa": no known word one edit away


def test_random_character_edits_are_mostly_undone(recognizer: WordRecognizer) -> None:
    rng = random.Random(0)
    words = [w for text in TEXTS[:4] for w in text.split() if len(w) >= 4]
    restored = sum(recognizer.word(char_edit(w, rng.choice(CHAR_KINDS), rng)) == w for w in words for _ in range(5))
    assert restored / (5 * len(words)) > 0.8
    perturbed = perturb_text(TEXTS[0], random.Random(1), PerturbConfig(share=0.5, kinds=CHAR_KINDS))
    assert perturbed != TEXTS[0] and recognizer(perturbed) == TEXTS[0]


def test_save_and_load_round_trip(recognizer: WordRecognizer, tmp_path) -> None:
    recognizer.save(tmp_path / "recognizer.json")
    again = WordRecognizer.load(tmp_path / "recognizer.json")
    assert again.counts == recognizer.counts and again("a wondreful mvoie") == "a wonderful movie"
