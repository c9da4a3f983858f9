"""The frequency-guided synonym stage (rosearch.robust.synonyms) and the stage gene's values."""

from __future__ import annotations

import pytest

from rosearch.config.space import SpaceConfig, valid_stage_gene
from rosearch.errors import ConfigError
from rosearch.robust.synonyms import SynonymCanonicalizer, canonical_map

COUNTS = {"movie": 50, "film": 20, "awful": 9, "terrible": 12, "dreadful": 1, "good": 40}
SYNONYMS = {"picture": ["movie", "film", "flick"], "dreadful": ["awful", "terrible", "atrocious"], "flick": ["movie", "film"],
            "film": ["movie", "picture"], "atrocious": ["awful", "dreadful"], "unrelated": ["nothing"], "fine": ["good", "ok"]}


@pytest.mark.parametrize("min_count, expected", [
    # rare (seen < min_count) words go to their most frequent synonym, if it was seen more often
    (4, {"picture": "movie", "dreadful": "terrible", "flick": "movie", "atrocious": "awful", "fine": "good"}),
    # "film" (20) is rare below 25: its synonym "movie" (50) is more frequent
    (25, {"picture": "movie", "dreadful": "terrible", "flick": "movie", "atrocious": "awful", "fine": "good", "film": "movie"}),
    # nothing is rare
    (1, {"picture": "movie", "flick": "movie", "atrocious": "awful", "fine": "good"}),  # unseen words (count 0) are still rare
])
def test_rare_words_map_to_their_most_frequent_synonym(min_count: int, expected: dict[str, str]) -> None:
    table = canonical_map(COUNTS, [*SYNONYMS, "Movie"], lambda w: SYNONYMS.get(w, []), min_count=min_count)
    assert table == expected


def test_the_stage_replaces_words_keeping_case_and_punctuation(tmp_path) -> None:
    stage = SynonymCanonicalizer({"picture": "movie", "dreadful": "terrible"}, min_count=4)
    assert stage("A dreadful Picture, truly DREADFUL!") == "A terrible Movie, truly TERRIBLE!"
    assert stage("a good movie") == "a good movie"
    stage.save(tmp_path / "fgws.json")
    assert SynonymCanonicalizer.load(tmp_path / "fgws.json")("dreadful") == "terrible"


@pytest.mark.parametrize("gene, valid", [
    ("none", True), ("recognizer", True), ("normalizer+recognizer", True), ("normalizer+fgws+recognizer", True), ("fgws", True),
    ("normalizer+fgws", True), ("recognizer+fgws", False), ("recognizer+normalizer", False), ("fgws+fgws", False), ("spellcheck", False), ("", False), ("none+fgws", False),
])
def test_stage_genes_are_known_stages_in_their_order(gene: str, valid: bool) -> None:
    assert valid_stage_gene(gene) is valid
    if not valid:
        with pytest.raises(ConfigError, match="in this order"):
            SpaceConfig(input_stages=["none", gene])
    else:
        assert SpaceConfig(input_stages=[gene]).input_stages == [gene]


def test_the_threshold_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="fgws_min_count"):
        SpaceConfig(fgws_min_count=0)
