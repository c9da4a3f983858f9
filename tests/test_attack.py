from __future__ import annotations

import pytest
import torch

from rosearch.attack.metrics import Outcome, summarise
from rosearch.attack.resources import ensure_wordnet
from rosearch.config import RecipeConfig
from rosearch.errors import ResourceUnavailable
from rosearch.prepare import select_attack_sets
from rosearch.student.pipeline import StudentPipeline


def test_metrics_against_hand_counts() -> None:
    outcomes = [
        Outcome("succeeded", 1, 10, 20),
        Outcome("succeeded", 3, 6, 40),
        Outcome("failed", 0, 5, 30),
        Outcome("skipped", 0, 4, 0),
    ]
    m = summarise(outcomes)
    assert (m.n, m.succeeded, m.failed, m.skipped) == (4, 2, 1, 1)
    assert m.clean_accuracy == pytest.approx(3 / 4)
    assert m.accuracy_under_attack == pytest.approx(1 / 4)
    assert m.success_rate == pytest.approx(2 / 3)
    assert m.avg_perturbed_share == pytest.approx((0.1 + 0.5) / 2)
    assert m.avg_queries == pytest.approx(30.0)


def test_metrics_of_nothing_attacked() -> None:
    m = summarise([Outcome("skipped"), Outcome("skipped")])
    assert (m.accuracy_under_attack, m.success_rate, m.avg_queries) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("n, n_eval, expect_eval", [(20, 30, 30), (20, 500, 46), (66, 10, 0)], ids=["room", "capped", "none-left"])
def test_attack_sets_are_seeded_disjoint_stable_and_teacher_correct(n: int, n_eval: int, expect_eval: int) -> None:
    texts = [f"text {i}" for i in range(100)]
    labels = [i % 2 for i in range(100)]
    preds = [y if i % 3 else 1 - y for i, y in enumerate(labels)]  # wrong on every third: 66 correct
    search, evaluation = select_attack_sets(texts, labels, preds, n=n, n_eval=n_eval, seed=0)
    assert (search, evaluation) == select_attack_sets(texts, labels, preds, n=n, n_eval=n_eval, seed=0)
    if n < 66:  # another seed, another draw (unless every correct example is taken)
        assert search != select_attack_sets(texts, labels, preds, n=n, n_eval=n_eval, seed=1)[0]
    assert len(search) == n and len(evaluation) == expect_eval
    ids = [e["dev_index"] for e in search], [e["dev_index"] for e in evaluation]
    assert not set(ids[0]) & set(ids[1])  # the reported figure is never measured on the search's subset
    assert all(i % 3 for i in ids[0] + ids[1]) and all(x == sorted(x) for x in ids)
    # a larger evaluation set keeps the in-trial subset as it was (stable across settings)
    assert select_attack_sets(texts, labels, preds, n=n, n_eval=n_eval + 5, seed=0)[0] == search


@pytest.fixture(scope="module")
def tiny_model(tokenizer):
    from rosearch.search.genome import Genome, Node
    from rosearch.student import build_student

    torch.manual_seed(0)
    genome = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")),))
    return build_student(genome, vocab_size=len(tokenizer), num_labels=2, pad_token_id=0, max_position_embeddings=32, dropout=0.0).eval()


TEXTS = ["a wonderful , moving film", "dull and far too long", "the cast is great", "a mess of a movie", "i loved every minute"]


def _examples(model, tokenizer):
    with torch.no_grad():
        preds = model(**tokenizer(TEXTS, return_tensors="pt", padding=True)).logits.argmax(-1).tolist()
    return [{"text": t, "label": p} for t, p in zip(TEXTS, preds)]  # the model is right on all


OFFLINE = ["deepwordbug", "pruthi", "unicode"] + (["pwws", "embedding-swap"] if ensure_wordnet() else [])


@pytest.mark.parametrize("recipe", OFFLINE)
def test_offline_recipes_run_for_real_on_a_tiny_model(tiny_model, tokenizer, recipe: str) -> None:
    from rosearch.attack import run_attack

    report = run_attack(StudentPipeline(tiny_model, tokenizer, 32), _examples(tiny_model, tokenizer), RecipeConfig(name=recipe), progress=False)
    m = report.metrics
    assert m.n == 5 and m.skipped == 0 and m.succeeded + m.failed == 5
    assert m.avg_queries > 0 and report.examples_per_second > 0
    assert len(report.records) == 5
    for rec in report.records:
        if rec["status"] == "succeeded":
            assert rec["original"] != rec["perturbed"] and rec["perturbed_prediction"] != rec["label"]
            assert 0 < rec["words_perturbed"] <= rec["words"]


def test_the_unicode_recipe_edits_only_outside_ascii_letters(tiny_model, tokenizer) -> None:
    """Its adversarial texts differ from the originals only by lookalikes, symbols, accents and
    fullwidth letters: mapped back (the edits' own tables, inverted), they are the originals."""
    from rosearch.attack import run_attack
    from rosearch.attack.unicode_recipe import ACCENTS, HOMOGLYPHS, SYMBOLS

    back: dict[str, set[str]] = {}  # each edited character: the letters it can stand for
    for table in (HOMOGLYPHS, SYMBOLS, ACCENTS, {ch: chr(ord(ch) - 0x21 + 0xFF01) for ch in "abcdefghijklmnopqrstuvwxyz"}):
        for letter, forms in table.items():
            for form in forms:
                back.setdefault(form, set()).add(letter)
    report = run_attack(StudentPipeline(tiny_model, tokenizer, 32), _examples(tiny_model, tokenizer), RecipeConfig(name="unicode"), progress=False)
    changed = [r for r in report.records if r["status"] == "succeeded"]
    assert changed, "the attack flipped none of the tiny model's predictions"
    for rec in changed:
        edited = [(a, b) for a, b in zip(rec["original"], rec["perturbed"]) if a != b]
        assert len(rec["original"]) == len(rec["perturbed"]) and edited
        assert all(a.lower() in back.get(b, ()) for a, b in edited), edited


VALENCE = {"good": 1.9, "bad": -2.5, "terrible": -2.1, "terrific": 2.1, "great": 3.1, "boring": -1.3, "exciting": 2.2}
ANTONYMS = {"good": {"bad", "evil"}, "happy": {"unhappy"}}


@pytest.mark.parametrize("word, candidate, kept", [
    ("good", "great", True),          # same sign
    ("good", "bad", False),           # an antonym (and opposite sentiment)
    ("bad", "good", False),           # the antonym listed the other way round only
    ("Happy", "unhappy", False),      # any case
    ("terrible", "terrific", False),  # no antonym in the table, opposite valence
    ("boring", "exciting", False),
    ("movie", "film", True),          # neither in the lexicon
    ("movie", "terrible", True),      # one neutral word: no sign to oppose
])
def test_embedding_swap_vetoes_antonyms_and_opposite_sentiment(word: str, candidate: str, kept: bool) -> None:
    from rosearch.attack.embedding_recipe import keeps_label

    assert keeps_label(word, candidate, lambda w: ANTONYMS.get(w, set()), VALENCE) is kept


@pytest.mark.skipif(not ensure_wordnet(), reason="WordNet (Debian's wordnet-base) is not installed: the recipe's antonym veto needs it")
def test_embedding_swap_candidates_are_encoder_neighbours_not_wordnet_synonyms(tiny_model, tokenizer) -> None:
    """Every text the built attack would query differs from the original in one word, swapped for
    one of its 50 nearest neighbours in all-MiniLM-L6-v2's token embeddings that keeps the label;
    some are no WordNet synonym of the word they replace (the candidates' source is not WordNet)."""
    from textattack.shared import AttackedText
    from transformers import AutoModel, AutoTokenizer

    from rosearch.attack.embedding_recipe import encoder_path, keeps_label, vader_valences, wordnet_antonyms
    from rosearch.attack.recipes import build_attack
    from rosearch.attack.wrapper import make_wrapper
    from rosearch.robust.substitutes import embedding_neighbours, wordnet_synonyms

    attack = build_attack(RecipeConfig(name="embedding-swap"), make_wrapper(StudentPipeline(tiny_model, tokenizer, 32)))
    path = encoder_path()
    neighbours = embedding_neighbours(AutoModel.from_pretrained(path).get_input_embeddings().weight, AutoTokenizer.from_pretrained(path), k=50)
    antonyms, valence, synonyms = wordnet_antonyms(), vader_valences(), wordnet_synonyms()
    swaps = []
    for text in ("a wonderful , moving film", "the plot is good but the acting is terrible"):
        original = AttackedText(text)
        for candidate in attack.get_transformations(original, original):
            (i,) = original.all_words_diff(candidate)
            swaps.append((original.words[i], candidate.words[i]))
    assert len(swaps) >= 5, swaps
    assert all(b.lower() in neighbours(a.lower()) and keeps_label(a, b, antonyms, valence) for a, b in swaps), swaps
    assert ("good", "bad") not in swaps and ("terrible", "terrific") not in swaps
    assert any(b.lower() not in synonyms(a.lower()) for a, b in swaps), swaps


def test_skipped_examples_are_counted(tiny_model, tokenizer) -> None:
    from rosearch.attack import run_attack

    examples = _examples(tiny_model, tokenizer)
    examples[0] = {**examples[0], "label": 1 - examples[0]["label"]}  # the model is now wrong on one
    report = run_attack(StudentPipeline(tiny_model, tokenizer, 32), examples, RecipeConfig(name="deepwordbug"), progress=False)
    assert report.metrics.skipped == 1 and report.records[0]["status"] == "skipped"
    assert report.metrics.clean_accuracy == pytest.approx(0.8)


def test_recipe_parameters_reach_the_textattack_objects(tiny_model, tokenizer) -> None:
    from textattack.constraints.overlap import MaxWordsPerturbed

    from rosearch.attack.recipes import build_attack
    from rosearch.attack.wrapper import make_wrapper

    wrapper = make_wrapper(StudentPipeline(tiny_model, tokenizer, 32))
    attack = build_attack(RecipeConfig(name="pruthi", query_budget=7, max_word_share=0.25), wrapper, batch_size=16)
    assert attack.goal_function.query_budget == 7 and attack.goal_function.batch_size == 16
    caps = [c for c in attack.constraints if isinstance(c, MaxWordsPerturbed)]
    assert len(caps) == 1 and caps[0].max_percent == 0.25  # replaces Pruthi's own one-word cap


def test_query_budget_limits_queries(tiny_model, tokenizer) -> None:
    from rosearch.attack import run_attack

    report = run_attack(StudentPipeline(tiny_model, tokenizer, 32), _examples(tiny_model, tokenizer), RecipeConfig(name="deepwordbug", query_budget=3), progress=False)
    assert all(r["queries"] <= 3 for r in report.records)


@pytest.mark.parametrize("recipe", ["textfooler", "bert-attack", "bae", "textbugger"])
def test_download_recipes_fail_first_with_what_is_missing(recipe: str) -> None:
    from rosearch.attack.resources import NEEDS, missing_for, preflight
    from rosearch.hub import reachable

    if not missing_for(recipe):
        pytest.skip(f"{recipe} has its resources on this machine")
    with pytest.raises(ResourceUnavailable) as info:
        preflight(recipe)
    message = str(info.value)
    assert recipe in message and "Missing:" in message and "deepwordbug" in message
    if not reachable("https://tfhub.dev") and "use" in NEEDS[recipe]:
        assert "Universal Sentence Encoder" in message


def test_our_wrapper_predicts_like_textattacks(tiny_model, tokenizer) -> None:
    from textattack.models.wrappers import HuggingFaceModelWrapper

    from rosearch.attack.resources import import_textattack
    from rosearch.attack.wrapper import make_wrapper

    import_textattack()
    ours = make_wrapper(StudentPipeline(tiny_model, tokenizer, 32))
    tokenizer.model_max_length = 32
    stock = HuggingFaceModelWrapper(tiny_model, tokenizer)
    torch.testing.assert_close(ours(TEXTS), stock(TEXTS).float(), atol=1e-5, rtol=1e-4)


def test_the_attack_queries_the_input_stage_with_the_model(tiny_model, tokenizer) -> None:
    """An input stage is part of the model under attack: every query goes through it."""
    from rosearch.attack.wrapper import make_wrapper

    seen = []
    wrapper = make_wrapper(StudentPipeline(tiny_model, tokenizer, 32, (("test", lambda t: seen.append(t) or t.replace("bda", "bad")),)))
    a, b = wrapper(["a bda film", "a bad film"])
    assert seen == ["a bda film", "a bad film"] and torch.equal(a, b)


def test_each_distinct_model_input_runs_the_model_once(tiny_model, tokenizer) -> None:
    """Texts the stage maps to one model input, and repeated queries, cost one forward pass; the
    answers equal the uncached model's."""
    from rosearch.attack.resources import import_textattack
    from rosearch.attack.wrapper import make_wrapper

    import_textattack()
    batches = []
    handle = tiny_model.register_forward_hook(lambda module, args, kwargs, output: batches.append(kwargs["input_ids"].shape[0]), with_kwargs=True)
    try:
        wrapper = make_wrapper(StudentPipeline(tiny_model, tokenizer, 32, (("test", lambda t: t.replace("bda", "bad").replace("fiml", "film")),)))
        first = wrapper(["a bda film", "a bad film", "a bad fiml", "a good film"])
        again = wrapper(["a good film", "a bda fiml", "dull"])
    finally:
        handle.remove()
    assert batches == [2, 1]  # {"a bad film", "a good film"}, then only "dull" is new
    plain = make_wrapper(StudentPipeline(tiny_model, tokenizer, 32))(["a bad film", "a good film", "dull"])
    torch.testing.assert_close(first, plain[[0, 0, 0, 1]], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(again, plain[[1, 0, 2]], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("recipe", ["deepwordbug", "pruthi"])
def test_results_are_the_same_in_any_number_of_worker_processes(tiny_model, tokenizer, recipe: str) -> None:
    """Each example is seeded on its own: sharing the examples among processes changes nothing,
    and an example's result does not depend on the examples attacked before it."""
    from rosearch.attack import run_attack
    from rosearch.attack.forked import can_fork

    if not can_fork():
        pytest.skip("forked workers run on Linux only")
    pipeline, examples = StudentPipeline(tiny_model, tokenizer, 32), _examples(tiny_model, tokenizer)
    one = run_attack(pipeline, examples, RecipeConfig(name=recipe), progress=False, workers=1)
    two = run_attack(pipeline, examples, RecipeConfig(name=recipe), progress=False, workers=2)
    assert two.records == one.records and two.metrics == one.metrics
    assert [r["index"] for r in two.records] == list(range(len(examples)))
    alone = run_attack(pipeline, examples[3:4], RecipeConfig(name=recipe), progress=False, seed=3)
    assert alone.records[0]["perturbed"] == one.records[3]["perturbed"]  # seed + index: the same draw on its own
