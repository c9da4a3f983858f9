"""Offline resources for TextAttack: what we provide, and the messages when something is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from rosearch.attack import resources
from rosearch.attack.resources import DEBIAN_WORDNET, NEEDS, Missing, ensure_stopwords, ensure_wordnet, missing_for
from rosearch.config import RECIPES


def test_every_recipe_has_its_needs_listed() -> None:
    assert set(NEEDS) == set(RECIPES)
    assert NEEDS["deepwordbug"] == NEEDS["pruthi"] == ()


def test_stopwords_are_provided(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ROSEARCH_CACHE", str(tmp_path))
    root = ensure_stopwords()
    words = (root / "corpora" / "stopwords" / "english").read_text().split()
    assert "the" in words and len(words) > 300
    from nltk.corpus import stopwords

    assert "the" in stopwords.words("english")


@pytest.mark.skipif(not (DEBIAN_WORDNET / "data.noun").is_file(), reason="Debian's wordnet-base is not installed")
def test_wordnet_is_built_from_debian_files(tmp_path: Path, monkeypatch) -> None:
    import nltk

    monkeypatch.setenv("ROSEARCH_CACHE", str(tmp_path))
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "nltk_data")])  # see only our folder
    assert ensure_wordnet()
    folder = tmp_path / "nltk_data" / "corpora" / "wordnet"
    assert not (folder / "data.noun").is_symlink()
    lexnames = (folder / "lexnames").read_text().splitlines()
    assert len(lexnames) == 45 and lexnames[0] == "00\tadj.all\t3" and lexnames[44] == "44\tadj.ppl\t3"
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    wn = WordNetCorpusReader(str(folder), None)
    assert "good" in {lemma.name() for s in wn.synsets("well") for lemma in s.lemmas()}


def test_missing_wordnet_says_how_to_get_it(monkeypatch) -> None:
    monkeypatch.setattr(resources, "ensure_wordnet", lambda: False)
    (missing,) = missing_for("pwws")
    assert isinstance(missing, Missing) and "WordNet" in missing.resource and "apt-get install wordnet-base" in missing.how
