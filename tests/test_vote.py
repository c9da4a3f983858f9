"""Random-substitution voting (rosearch.robust.vote): its substitutes, its copies, how their
answers combine, and a voting pipeline end to end."""

from __future__ import annotations

import json
import math

import pytest
import torch

from rosearch.config.space import VOTE_DRAWS, SpaceConfig, valid_stage_gene
from rosearch.errors import ConfigError
from rosearch.robust.vote import DRAWS, SubstitutionVote, substitution_sets
from rosearch.student.pipeline import StudentPipeline

COUNTS = {"movie": 50, "film": 20, "flick": 1, "awful": 9, "terrible": 12, "good": 40}
SYNONYMS = {"picture": ["movie", "film", "flick"], "dreadful": ["awful", "terrible", "atrocious"], "movie": ["film", "flick", "movie"],
            "film": ["movie", "picture"], "odd": ["rum"], "x2": ["movie"]}


@pytest.mark.parametrize("min_count, expected", [
    # every synonym the training text uses ≥ min_count times, sorted; the word itself never
    (4, {"picture": ["film", "movie"], "dreadful": ["awful", "terrible"], "movie": ["film"], "film": ["movie"]}),
    (10, {"picture": ["film", "movie"], "dreadful": ["terrible"], "movie": ["film"], "film": ["movie"]}),
    (1, {"picture": ["film", "flick", "movie"], "dreadful": ["awful", "terrible"], "movie": ["film", "flick"], "film": ["movie"]}),
    (100, {}),  # "odd": its one synonym unseen; "x2": not a word of letters
])
def test_substitutes_are_synonyms_the_training_text_uses(min_count: int, expected: dict[str, list[str]]) -> None:
    assert substitution_sets(COUNTS, [*SYNONYMS, "Picture"], lambda w: SYNONYMS.get(w, []), min_count=min_count) == expected


def test_stop_words_are_neither_replaced_nor_substitutes() -> None:
    counts = {"a": 900, "amp": 5, "about": 300, "nearly": 40, "movie": 50, "film": 20}
    synonyms = {"a": ["amp"], "about": ["nearly"], "movie": ["film", "about"], "nearly": ["about", "almost"]}
    table = substitution_sets(counts, synonyms, lambda w: synonyms.get(w, []), min_count=4, stop_words={"a", "about"})
    assert table == {"movie": ["film"]}


TABLE = {"movie": ["film", "picture"], "dreadful": ["awful", "terrible"]}


@pytest.mark.parametrize("draw", ["word", "text"])
def test_copies_are_fixed_by_the_text_and_substitute_only_from_the_table(draw: str) -> None:
    vote = SubstitutionVote(TABLE, copies=16, rate=0.5, seed=0, draw=draw)
    text = "A dreadful Movie, truly DREADFUL and long"
    copies = vote.variants(text)
    assert len(copies) == 16 and copies == vote.variants(text)  # the same text, the same copies (a deterministic pipeline)
    assert copies != SubstitutionVote(TABLE, copies=16, rate=0.5, seed=1, draw=draw).variants(text)  # another seed, other draws
    assert len(set(copies)) > 1 and text in copies  # words replaced at random, about half of them
    allowed = [{"A"}, {"dreadful", "awful", "terrible"}, {"Movie,", "Film,", "Picture,"}, {"truly"}, {"DREADFUL", "AWFUL", "TERRIBLE"},
               {"and"}, {"long"}]  # case and punctuation kept; words without substitutes untouched
    for copy in copies:
        assert all(word in options for word, options in zip(copy.split(), allowed, strict=True)), copy


@pytest.mark.parametrize("draw", ["word", "text"])
@pytest.mark.parametrize("rate, changed", [(0.0, False), (1.0, True)])
def test_the_rate_is_each_words_chance_of_a_substitute(rate: float, changed: bool, draw: str) -> None:
    copies = SubstitutionVote(TABLE, copies=8, rate=rate, draw=draw).variants("a dreadful movie")
    assert all(("dreadful" not in c and "movie" not in c) is changed for c in copies)


@pytest.mark.parametrize("draw", ["word", "text"])
def test_the_rate_holds_over_many_words(draw: str) -> None:
    words = [f"x{a}{b}" for a in "abcdefghijklmnopqrstuvwxyz" for b in "abcdefghijklmnopqrstuvwxyz"]  # 676 words, one substitute each
    copies = SubstitutionVote(dict.fromkeys(words, ["sub"]), copies=4, rate=0.25, draw=draw).variants(" ".join(words))
    share = sum(c.split().count("sub") for c in copies) / (4 * len(words))
    assert 0.225 < share < 0.275  # 2,704 draws at 0.25: ±0.025 is about 3 standard errors


def test_a_word_drawn_copies_change_only_where_the_text_changes() -> None:
    """draw="word": an edit redraws the edited word's copies only (an attack cannot re-roll the
    rest of the vote by editing one letter); draw="text" redraws every copy."""
    words = ["dreadful", "movie", "dreadful", "movie", "dreadful", "movie"]
    before, after = " ".join(words), " ".join(["dreadfull", *words[1:]])  # a typo in the first word, which has no substitutes now
    kept = {}
    for draw in ("word", "text"):
        vote = SubstitutionVote(TABLE, copies=16, rate=0.5, seed=3, draw=draw)
        kept[draw] = sum(a.split()[1:] == b.split()[1:] for a, b in zip(vote.variants(before), vote.variants(after)))
    assert kept["word"] == 16 and kept["text"] < 4  # text: every copy redrawn (each of 5 words kept with p = 0.5: 1/32 a copy)


def test_a_word_drawn_copy_writes_a_word_the_same_way_wherever_it_stands() -> None:
    vote = SubstitutionVote(TABLE, copies=16, rate=0.5, seed=0, draw="word")
    copies = [copy.replace(",", "").lower().split() for copy in vote.variants("movie and movie, then the Movie")]
    assert all(c[0] == c[2] == c[5] for c in copies), copies
    assert len({c[0] for c in copies}) == 3  # movie, film, picture: each copy its own draw


@pytest.mark.parametrize("draw", ["word", "text"])
def test_save_load_round_trip(tmp_path, draw: str) -> None:
    vote = SubstitutionVote(TABLE, copies=4, rate=0.3, seed=7, draw=draw)
    vote.save(tmp_path / "vote.json")
    again = SubstitutionVote.load(tmp_path / "vote.json")
    assert (again.copies, again.rate, again.seed, again.draw, again.table) == (4, 0.3, 7, draw, TABLE)
    assert again.variants("a dreadful movie") == vote.variants("a dreadful movie")


def test_a_vote_file_from_before_the_draw_setting_draws_by_text(tmp_path) -> None:
    (tmp_path / "vote.json").write_text(json.dumps({"copies": 4, "rate": 0.5, "seed": 1, "table": TABLE}))
    again = SubstitutionVote.load(tmp_path / "vote.json")
    assert again.draw == "text"
    assert again.variants("a dreadful movie") == SubstitutionVote(TABLE, copies=4, rate=0.5, seed=1, draw="text").variants("a dreadful movie")


def test_the_config_and_the_vote_know_the_same_draws() -> None:
    assert VOTE_DRAWS == DRAWS


@pytest.mark.parametrize("copies, rate, draw", [(0, 0.5, "word"), (2, 1.5, "word"), (2, -0.1, "word"), (2, 0.5, "copy")])
def test_bad_settings_are_refused(copies: int, rate: float, draw: str) -> None:
    with pytest.raises(ValueError):
        SubstitutionVote(TABLE, copies=copies, rate=rate, draw=draw)


@pytest.mark.parametrize("gene, valid", [("vote", True), ("recognizer+vote", True), ("normalizer+fgws+recognizer+vote", True),
                                         ("vote+recognizer", False), ("vote+vote", False)])
def test_the_vote_comes_last_in_a_stage_gene(gene: str, valid: bool) -> None:
    assert valid_stage_gene(gene) is valid


@pytest.mark.parametrize("key, value", [("vote_copies", 0), ("vote_rate", 0.0), ("vote_rate", 1.5), ("vote_draw", "copy")])
def test_vote_settings_are_checked(key: str, value: float) -> None:
    with pytest.raises(ConfigError, match=key):
        SpaceConfig(**{key: value})


class Rows(torch.nn.Module):
    """Logits (number of real tokens, 0), and a count of the rows it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.rows = 0

    def forward(self, input_ids, attention_mask, **_):  # noqa: ANN001, ANN201
        from types import SimpleNamespace

        self.rows += len(input_ids)
        n = attention_mask.sum(-1, keepdim=True).float()
        return SimpleNamespace(logits=torch.cat([n, torch.zeros_like(n)], -1) + self.w)


def test_a_voting_pipeline_asks_the_model_about_every_copy(tokenizer) -> None:
    """After its text stages the pipeline classifies the vote's copies of each text and answers
    their combination; its name for the gene ends with "vote"; latency counts the copies' rows."""
    vote = SubstitutionVote({"movie": ["cinematographic"]}, copies=4, rate=0.5, seed=0)  # a substitute of more word pieces
    model = Rows()
    lower = ("lower", str.lower)
    p = StudentPipeline(model, tokenizer, 16, (lower,), vote=vote)
    assert p.stage_names == ("lower", "vote") and p.model_passes == 4
    texts = ["A MOVIE", "the movie, the movie"]
    got = p.logits(texts)
    distinct = set(vote.expand([t.lower() for t in texts]))
    assert model.rows == len(distinct) < 8 and got.shape == (2, 2)  # each distinct copy once (an unswapped copy is the text)
    plain = StudentPipeline(Rows(), tokenizer, 16)
    expected = vote.combine(plain.logits(vote.expand([t.lower() for t in texts])))
    torch.testing.assert_close(got, expected)
    assert not torch.equal(got, plain.logits([t.lower() for t in texts]))  # the copies differ from the text itself
    torch.testing.assert_close(p.predict_logits(texts * 3, batch_size=4), torch.cat([got] * 3))


def test_a_voting_student_is_attacked_through_its_vote(tokenizer) -> None:
    """End to end on a tiny student: the attack's queries reach the model as the vote's copies."""
    from rosearch.attack import run_attack
    from rosearch.config import RecipeConfig
    from rosearch.search.genome import Genome, Node
    from rosearch.student import build_student

    torch.manual_seed(0)
    student = build_student(Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")),)), vocab_size=len(tokenizer), num_labels=2,
                            pad_token_id=0, max_position_embeddings=32, dropout=0.0).eval()
    rows = []
    student.register_forward_hook(lambda module, args, kwargs, out: rows.append(len(kwargs["input_ids"])), with_kwargs=True)
    vote = SubstitutionVote({"film": ["movie", "picture"], "great": ["good", "bang-up"]}, copies=3, rate=0.5)
    p = StudentPipeline(student, tokenizer, 32, vote=vote)
    texts = ["a wonderful , moving film", "the cast is great", "a mess of a movie"]
    examples = [{"text": t, "label": int(y)} for t, y in zip(texts, p.logits(texts).argmax(-1))]
    rows.clear()
    expand, asked = vote.expand, []
    vote.expand = lambda texts: (out := expand(texts), asked.append(len(set(out))))[0]  # type: ignore[method-assign]
    report = run_attack(p, examples, RecipeConfig(name="deepwordbug"), progress=False, workers=1)
    assert report.metrics.n == 3 and report.metrics.skipped == 0
    assert rows and rows == asked  # every model call: the distinct copies of the queried texts
