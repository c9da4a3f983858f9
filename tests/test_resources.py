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


WORKER = """
import sys, time
from pathlib import Path
import nltk
nltk.data.path[:] = [sys.argv[2] + "/nltk_data"]  # see only this cache's folder
from rosearch.nltk_data import ensure_stopwords, ensure_wordnet
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # every worker starts at the same moment
ensure_stopwords()
print(ensure_wordnet(Path(sys.argv[1])))
"""


def test_workers_started_together_on_an_empty_cache_each_get_the_corpora(tmp_path: Path) -> None:
    """Several processes (a study's workers on one machine, the test suite's) providing the stop
    words and WordNet at the same moment: each succeeds, the result is whole and no temporary copy is
    left. (Before, every process copied into the same temporary folder and removed it first; the
    window is milliseconds wide, so this passed then too on this machine: it guards the behaviour.)"""
    import os
    import subprocess
    import sys
    import time

    source = tmp_path / "debian-wordnet"
    source.mkdir()
    for name in ("data.noun", "index.noun", "data.verb", "index.verb"):
        (source / name).write_text(name * 200_000)  # a few MB each: copies overlap in time
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k != "NLTK_DATA"} | {"ROSEARCH_CACHE": str(cache)}
    start = str(time.time() + 8)  # after every worker's imports
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(source), str(cache), start], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-1500:] for _, err in results]
    assert [out.strip() for out, _ in results] == ["True"] * 4
    folder = cache / "nltk_data" / "corpora" / "wordnet"
    assert sorted(p.name for p in folder.iterdir()) == ["data.noun", "data.verb", "index.noun", "index.verb", "lexnames"]
    assert (folder / "data.verb").read_text() == "data.verb" * 200_000
    assert not list(folder.parent.glob("wordnet.*")) and not list((folder.parent / "stopwords").glob("*.tmp"))  # no leftovers
    assert "the" in (cache / "nltk_data" / "corpora" / "stopwords" / "english").read_text().split()
