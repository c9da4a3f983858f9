"""Robustness-aware distillation strategies: each one's defining property, and each trains a tiny student."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from rosearch.config import StudyConfig, load_study
from rosearch.config._build import build
from rosearch.config.schema import STRATEGIES
from rosearch.errors import ConfigError
from rosearch.kd.kdiga import gradient_alignment, kdiga_loss, token_saliency
from rosearch.search.genome import Genome, Node
from rosearch.student.pipeline import StudentPipeline

GENOME = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")), Node((2, 1), ("attention", "maxpool3"))), n_heads=2)


@pytest.fixture(scope="module")
def prep(tmp_path_factory):
    """The tiny study prepared for every strategy (small generator training, small OOD set)."""
    from rosearch.cache import DiskCache
    from rosearch.prepare import prepare

    cfg = _cfg()
    return prepare(cfg, cache=DiskCache(tmp_path_factory.mktemp("cache")), accelerator=ACCELERATOR(), log=lambda _: None, progress=False)


def ACCELERATOR():  # noqa: N802 - the process's one Accelerator (Accelerate keeps one precision per process)
    from rosearch.train import make_accelerator

    return make_accelerator("no")


def _cfg(**kd) -> StudyConfig:
    base = load_study("tiny")
    raw = {
        "strategy": list(STRATEGIES), "epochs": 1.0, "batch_size": 32, "lr": 0.003, "max_train_examples": 256,
        "generator": {"mlm_steps": 20, "generator_steps": 2, "student_steps": 4},
        "zeroshot": {"max_examples": 256},
        "a2t": {"examples": 24, "query_budget": 30},
        "augment": {"copies": 2},
        **kd,
    }
    from rosearch.config import to_dict

    data = to_dict(base)
    data["kd"].update(raw)
    data["space"]["vocabularies"] = ["full", "seen:2"]
    return build(StudyConfig, data, "")


# --- KDIGA -----------------------------------------------------------------------------------


def test_alignment_term_is_zero_when_gradients_match_and_grows_with_the_gap() -> None:
    teacher = torch.randn(4, 12)
    assert gradient_alignment(teacher, teacher).item() == 0.0
    gaps = [gradient_alignment(teacher + eps * torch.ones_like(teacher), teacher).item() for eps in (0.0, 0.1, 0.5, 2.0)]
    assert gaps[0] == 0.0 and gaps == sorted(gaps) and gaps[-1] > gaps[1] > 0


def test_kdiga_term_on_real_models(prep) -> None:
    from rosearch.student import build_student
    from rosearch.train import loader

    batch = next(iter(loader(prep.splits["train"].select(range(8)), prep.tokenizer, batch_size=8, shuffle=False)))
    ids, mask, labels = batch["input_ids"], batch["attention_mask"], batch["labels"]
    # a model aligned with itself: the term is exactly zero
    _, s_a = token_saliency(prep.teacher, ids, mask, labels, create_graph=False)
    _, s_b = token_saliency(prep.teacher, ids, mask, labels, create_graph=False)
    assert gradient_alignment(s_a, s_b).item() == pytest.approx(0.0, abs=1e-7)
    # a student differs, and the term's gradient reaches the student's weights (double backward)
    torch.manual_seed(0)
    student = build_student(GENOME, vocab_size=len(prep.tokenizer), num_labels=2, pad_token_id=0, max_position_embeddings=32, dropout=0.0)
    logits, s_s = token_saliency(student, ids, mask, labels, create_graph=True)
    gap = gradient_alignment(s_s, s_a)
    assert gap.item() > 0
    (grad,) = torch.autograd.grad(gap, student.pre_classifier.weight)
    assert grad.abs().sum() > 0
    total = kdiga_loss(logits, prep.teacher(input_ids=ids, attention_mask=mask).logits.detach(), labels, s_s, s_a, temperature=1.0, alpha=0.5, gamma=0.5)
    without = kdiga_loss(logits, prep.teacher(input_ids=ids, attention_mask=mask).logits.detach(), labels, s_s, s_a, temperature=1.0, alpha=0.5, gamma=0.0)
    assert total.item() == pytest.approx(without.item() + 0.5 * gap.item(), rel=1e-5)


def test_cached_saliency_matches_the_teacher(prep) -> None:
    from rosearch.train import loader

    batch = next(iter(loader(prep.strategy_data["kdiga"].select(range(8)), prep.tokenizer, batch_size=8, shuffle=False, extra=("teacher_saliency",))))
    _, fresh = token_saliency(prep.teacher, batch["input_ids"], batch["attention_mask"], batch["labels"], create_graph=False)
    torch.testing.assert_close(batch["teacher_saliency"][:, : fresh.shape[1]], fresh, atol=1e-5, rtol=1e-4)


# --- MATE-KD ---------------------------------------------------------------------------------


def _generator_fixture(prep):
    from rosearch.student import build_student
    from rosearch.train import loader

    torch.manual_seed(0)
    student = build_student(GENOME, vocab_size=len(prep.tokenizer), num_labels=2, pad_token_id=0, max_position_embeddings=32, dropout=0.0).eval()
    batch = next(iter(loader(prep.splits["train"].select(range(16)).select_columns(["input_ids", "attention_mask"]), prep.tokenizer, batch_size=16, shuffle=False)))
    return copy.deepcopy(prep.strategy_data["mate"]), student, batch


def test_a_generator_step_raises_the_divergence_on_a_fixed_batch(prep) -> None:
    """Same masks and Gumbel noise before and after; the relaxed (soft) samples make the objective
    continuous, so one ascent step must raise it."""
    from rosearch.kd.mate import generator_divergence, generator_step

    cfg = _cfg().kd.generator
    generator, student, batch = _generator_fixture(prep)

    def divergence() -> float:
        torch.manual_seed(123)
        with torch.no_grad():
            return generator_divergence(generator, prep.teacher, student, batch, prep.tokenizer, cfg, temperature=1.0, rng=torch.Generator().manual_seed(7), hard=False).item()

    teacher_before = [p.clone() for p in prep.teacher.parameters()]
    student_before = [p.clone() for p in student.parameters()]
    before = divergence()
    torch.manual_seed(123)
    generator_step(generator, prep.teacher, student, batch, prep.tokenizer, cfg, torch.optim.SGD(generator.parameters(), lr=1e-2), temperature=1.0, rng=torch.Generator().manual_seed(7), hard=False)
    assert divergence() > before
    for p, q in zip([*prep.teacher.parameters(), *student.parameters()], [*teacher_before, *student_before]):
        assert torch.equal(p, q)  # only the generator moves


def test_the_straight_through_step_trains_the_generator(prep) -> None:
    from rosearch.kd.mate import generator_step

    cfg = _cfg().kd.generator
    generator, student, batch = _generator_fixture(prep)
    before = [p.clone() for p in generator.parameters()]
    generator_step(generator, prep.teacher, student, batch, prep.tokenizer, cfg, torch.optim.SGD(generator.parameters(), lr=1e-2), temperature=1.0, rng=torch.Generator().manual_seed(7))
    moved = sum(not torch.equal(p, q) for p, q in zip(generator.parameters(), before))
    assert moved > 0  # gradients reached the generator through the one-hot samples


def test_perturb_changes_only_real_non_special_tokens(prep) -> None:
    from rosearch.kd.mate import perturb
    from rosearch.train import loader

    batch = next(iter(loader(prep.splits["train"].select(range(16)).select_columns(["input_ids", "attention_mask"]), prep.tokenizer, batch_size=16, shuffle=False)))
    cfg = _cfg().kd.generator
    new = perturb(prep.strategy_data["mate"], batch, prep.tokenizer, cfg, rng=torch.Generator().manual_seed(0))
    changed = new != batch["input_ids"]
    assert changed.any()
    special = torch.isin(batch["input_ids"], torch.tensor(prep.tokenizer.all_special_ids))
    assert not (changed & special).any() and not (changed & ~batch["attention_mask"].bool()).any()
    assert changed.sum() <= (batch["attention_mask"].bool() & ~special).sum() * 0.6  # about 30% masked, not all


# --- zero-shot KD ----------------------------------------------------------------------------


def test_zero_shot_never_reads_task_text_or_labels(prep, monkeypatch) -> None:
    from rosearch.kd.distill import distill_student
    from rosearch.kd.strategies import base

    seen = []
    real_loader = base.loader

    def spy(ds, *args, **kwargs):
        seen.append(ds)
        return real_loader(ds, *args, **kwargs)

    monkeypatch.setattr(base, "loader", spy)
    distill_student(GENOME, _cfg(), prep, accelerator=ACCELERATOR(), seed=0, strategy="zeroshot", progress=False)
    (given,) = seen
    assert "labels" not in given.column_names and "label" not in given.column_names
    task_texts = set(prep.splits["train"]["text"]) | set(prep.splits["dev"]["text"]) | set(prep.splits["test"]["text"])
    assert not set(given["text"]) & task_texts
    assert len(given) > 0


def test_zero_shot_config_refuses_the_task_corpus() -> None:
    with pytest.raises(ConfigError, match="zero-shot KD must not train on it"):
        build(StudyConfig, {"kd": {"zeroshot": {"corpora": ["movie_snippets"]}}}, "")


# --- every strategy end to end -----------------------------------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_strategy_trains_a_tiny_student(prep, strategy: str) -> None:
    from rosearch.search.evaluate import evaluate_genome

    cfg = _cfg()
    result = evaluate_genome(GENOME, cfg, prep, accelerator=ACCELERATOR(), seed=0, strategy=strategy, progress=False)
    # 256 examples / 32 per batch, one epoch; augment: one epoch over the originals and their variants
    assert result.fit.steps == 8 * (1 + cfg.kd.augment.copies if strategy == "augment" else 1)
    assert torch.isfinite(torch.tensor(result.fit.last_loss))
    # the recorded figures are the measured ones: a share of the dev split, and the attack's own
    # accuracy under attack, which can only lose examples the student got right
    n_dev = len(prep.splits["dev"])
    assert abs(result.metrics["accuracy"] * n_dev - round(result.metrics["accuracy"] * n_dev)) < 1e-3
    attack = result.attack.metrics
    assert attack.n == len(prep.attack_examples) and result.metrics["attack_accuracy"] == attack.accuracy_under_attack
    assert attack.accuracy_under_attack <= attack.clean_accuracy and attack.succeeded + attack.failed + attack.skipped == attack.n


@pytest.mark.parametrize("strategy", ["vanilla", "kdiga", "mate"])  # the ones that read the embedding table themselves
def test_a_student_with_a_reduced_vocabulary_trains_and_reads_the_tokenizer_ids(prep, strategy: str) -> None:
    from dataclasses import replace

    from rosearch.kd.distill import distill_student
    from rosearch.student import count_params
    from rosearch.train import model_device

    vocabulary = prep.vocabulary("seen:2")
    assert 5 < vocabulary.size < len(prep.tokenizer) and vocabulary.id_map.shape == (len(prep.tokenizer),)
    counts = np.bincount(np.concatenate(prep.splits["train"]["input_ids"]), minlength=len(prep.tokenizer))
    assert set(np.flatnonzero(counts >= 2)) <= set(vocabulary.kept.tolist())  # every piece seen twice has its row
    cfg = _cfg()
    student, fitted = distill_student(replace(GENOME, vocabulary="seen:2"), cfg, prep, accelerator=ACCELERATOR(), seed=0, strategy=strategy,
                                      progress=False)
    full, _ = distill_student(GENOME, cfg, prep, accelerator=ACCELERATOR(), seed=0, strategy="vanilla", progress=False)
    assert count_params(full) - count_params(student) == (len(prep.tokenizer) - vocabulary.size) * GENOME.embedding_size
    assert fitted.steps == 8 and torch.isfinite(torch.tensor(fitted.last_loss))
    # pieces the training text never had read their back-off's row: the same logits as the text
    # with each such piece replaced by the kept piece it backs off to
    enc = prep.tokenizer(["a zyzzogeton qwxv film"], return_tensors="pt")
    ids = enc["input_ids"].to(model_device(student))
    backed = torch.from_numpy(vocabulary.kept[vocabulary.id_map[enc["input_ids"].numpy()]]).to(ids.device)
    assert (backed != ids).any()
    with torch.inference_mode():
        torch.testing.assert_close(student(input_ids=ids).logits, student(input_ids=backed).logits)


def test_strategy_is_searched_as_a_categorical_parameter() -> None:
    import optuna

    from rosearch.search.genome import suggest_strategy

    cfg = _cfg()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = {suggest_strategy(t, cfg.kd) for t in (study.ask() for _ in range(30))}
    assert seen == set(STRATEGIES)
    fixed = build(StudyConfig, {"kd": {"strategy": "kdiga"}}, "")
    trial = study.ask()
    assert suggest_strategy(trial, fixed.kd) == "kdiga" and "kd_strategy" not in trial.params


def test_adversarial_training_leaves_the_cached_generator_untouched(prep) -> None:
    from rosearch.kd.distill import distill_student

    before = [p.clone() for p in prep.strategy_data["mate"].parameters()]
    teacher_before = [p.clone() for p in prep.teacher.parameters()]
    distill_student(GENOME, _cfg(), prep, accelerator=ACCELERATOR(), seed=0, strategy="mate", progress=False)
    assert all(torch.equal(p, q) for p, q in zip(prep.strategy_data["mate"].parameters(), before))
    # the shared teacher is read where prepare placed it, frozen: never changed by a strategy
    assert all(torch.equal(p, q) for p, q in zip(prep.teacher.parameters(), teacher_before))
    assert not prep.teacher.training and not any(p.requires_grad for p in prep.teacher.parameters())


# --- perturbation-consistency KD ---------------------------------------------------------------


def test_consistency_passes_keep_the_clean_targets(prep) -> None:
    """Perturbed copies carry their clean text's cached teacher logits and label; about text_share of
    the texts are perturbed; the passes are seeded (built by prepare, cached)."""
    data, train = prep.strategy_data["consistency"], prep.splits["train"]
    assert data is not None and len(data) == len(train) * (max(data["pass"]) + 1)
    rows = data.select(range(300))
    for row in rows:
        source = train[row["source_index"]]
        assert row["teacher_logits"] == source["teacher_logits"] and row["labels"] == source["labels"]
        assert (row["text"] != source["text"]) <= row["perturbed"]  # only perturbed rows differ (a perturbed one may not)
    share = sum(data["perturbed"]) / len(data)
    assert abs(share - _cfg().kd.consistency.text_share) < 0.05
    assert sum(r["perturbed"] and r["text"] != train[r["source_index"]]["text"] for r in rows) > 100


@pytest.mark.parametrize("schedule, shares", [
    ("constant", [0.5, 0.5, 0.5]),
    ("ramp", [0.5 / 3, 1 / 3, 0.5]),
])
def test_consistency_schedule_sets_each_pass_share(schedule, shares) -> None:
    from rosearch.config.schema import ConsistencyConfig
    from rosearch.kd.consistency import pass_share

    cfg = ConsistencyConfig(text_share=0.5, schedule=schedule)
    assert [pass_share(cfg, p, 3) for p in range(3)] == pytest.approx(shares)


# --- transfer-set augmentation (TinyBERT) ------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("a good movie", [False, True, True, True, False]),          # [CLS] a good movie [SEP]
    ("the unwatchable film", None),                              # a multi-piece word is never replaced
    ("great , 42 times", [False, True, False, False, True, False]),  # punctuation and numbers stay
])
def test_only_whole_words_are_replaceable(prep, text, expected) -> None:
    from rosearch.kd.augment import replaceable, word_tokens

    enc = prep.tokenizer([text], return_tensors="pt")
    got = replaceable(enc["input_ids"], enc["attention_mask"], *word_tokens(prep.tokenizer))[0].tolist()
    tokens = prep.tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
    if expected is None:  # each piece of a split word, and the word before a continuation, is kept
        pieces = [i for i, t in enumerate(tokens) if t.startswith("##")]
        assert pieces, tokens
        assert not any(got[i] or got[i - 1] for i in pieces)
    else:
        assert got == expected, tokens


@pytest.mark.parametrize("eligible, share, expected", [
    ([1, 1, 1, 1, 1, 0], 0.4, 2),
    ([1, 0, 0, 0, 0, 0], 0.4, 1),   # at least one word where a row has any
    ([0, 0, 0, 0, 0, 0], 0.4, 0),
    ([1, 1, 1, 1, 1, 1], 1.0, 6),
])
def test_choose_words_takes_the_share_of_eligible_words(eligible, share, expected) -> None:
    from rosearch.kd.augment import choose_words

    e = torch.tensor([eligible], dtype=torch.bool)
    chosen = choose_words(e, share=share, generator=torch.Generator().manual_seed(0))
    assert int(chosen.sum()) == expected and not (chosen & ~e).any()
    assert torch.equal(chosen, choose_words(e, share=share, generator=torch.Generator().manual_seed(0)))  # seeded


def test_augmented_transfer_set_is_labelled_by_the_teacher(prep) -> None:
    """Originals first with their gold labels and cached logits; each text's variants change about
    word_share of its whole words; a variant carries the teacher's own logits on it and its argmax."""
    from rosearch.train import loader, predict

    cfg, train, data = _cfg(), prep.splits["train"], prep.strategy_data["augment"]
    copies = cfg.kd.augment.copies
    assert data is not None and len(data) == len(train) * (1 + copies)
    assert sorted(set(data["copy"])) == list(range(copies + 1))
    originals = data.select(range(len(train)))
    assert originals["text"] == train["text"] and originals["labels"] == train["labels"]
    assert originals["teacher_logits"] == train["teacher_logits"]
    variants = data.select(range(len(train), len(train) + 200))
    changed = [v["text"] != train[v["source_index"]]["text"] for v in variants]
    assert sum(changed) > 150
    for v in variants.select(range(20)):
        before, after = train[v["source_index"]]["text"].lower().split(), v["text"].split()
        if len(before) == len(after) and len(before) >= 5:  # no word split or merged by decoding: the share holds roughly
            assert sum(a != b for a, b in zip(before, after)) <= max(2, round(0.6 * len(before)))
    logits, _ = predict(prep.teacher, loader(variants.select(range(32)), prep.tokenizer, batch_size=32, shuffle=False), accelerator=ACCELERATOR())
    assert torch.allclose(logits, torch.tensor(variants["teacher_logits"][:32]), atol=1e-4)
    assert variants["labels"][:32] == logits.argmax(-1).tolist()


# --- adversarial augmentation at intervals (A2T) -------------------------------------------------


@pytest.mark.parametrize("total, per_epoch, start, every, expected", [
    (8, 8, 0.25, 0.25, [2, 4, 6]),
    (8, 8, 0.0, 0.5, [0, 4]),
    (16, 8, 1.0, 1.0, [8]),       # two epochs: a round after the first
    (8, 8, 1.0, 0.25, []),        # starts after training ends: plain KD
    (100, 40, 0.5, 0.1, list(range(20, 100, 4))),
])
def test_a2t_rounds_start_after_the_warm_up_and_repeat(total, per_epoch, start, every, expected) -> None:
    from rosearch.kd.a2t import round_steps

    assert round_steps(total, per_epoch, start=start, every=every) == expected


def test_a2t_rounds_attack_new_slices_of_the_training_set() -> None:
    from rosearch.kd.a2t import round_slice

    rounds = [round_slice(100, 30, r, seed=0) for r in range(4)]
    assert all(len(r) == 30 for r in rounds)
    assert not set(rounds[0]) & set(rounds[1]) and not set(rounds[1]) & set(rounds[2])
    assert len(set(rounds[0] + rounds[1] + rounds[2] + rounds[3])) == 100  # 120 draws cover all 100 once before repeating
    assert round_slice(100, 30, 1, seed=0) == rounds[1] != round_slice(100, 30, 1, seed=1)
    assert sorted(round_slice(10, 30, 0, seed=0)) == list(range(10))  # never more than the training set


@pytest.mark.parametrize("kinds, subs, check", [
    (["swap"], None, lambda w, c: all(sorted(x) == sorted(w) and x[0] == w[0] and x[-1] == w[-1] for x in c)),
    (["delete"], None, lambda w, c: all(len(x) == len(w) - 1 and x[0] == w[0] and x[-1] == w[-1] for x in c)),
    (["insert"], None, lambda w, c: all(len(x) == len(w) + 1 for x in c)),
    (["keyboard"], None, lambda w, c: all(len(x) == len(w) and sum(a != b for a, b in zip(x, w)) == 1 for x in c)),
    (["synonym"], lambda w: ["film", "picture", w], lambda w, c: c == ["film", "picture"]),
    (["synonym"], None, lambda w, c: c == []),
])
def test_a2t_candidates_come_from_the_perturbation_families(kinds, subs, check) -> None:
    from rosearch.kd.a2t import word_candidates

    cands = word_candidates("movie", kinds, seed=0, substitutes=subs)
    assert "movie" not in cands and len(cands) == len(set(cands))
    assert check("movie", cands), cands
    assert word_candidates("movie", kinds, seed=0, substitutes=subs) == cands  # seeded
    assert word_candidates("Movie", ["synonym"], seed=0, substitutes=lambda w: ["film"]) == ["Film"]  # case kept


def test_a2t_attack_finds_texts_the_student_gets_wrong(prep) -> None:
    """The generic attack flips a weak student on some training texts; each success is misclassified
    by the student and differs from its text only in words the families could produce."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from rosearch.attack.run import attack_examples
    from rosearch.attack.wrapper import make_wrapper
    from rosearch.kd.a2t import build_generic_attack, word_candidates
    from rosearch.kd.distill import distill_student

    cfg = _cfg()
    student, _ = distill_student(GENOME, cfg, prep, accelerator=ACCELERATOR(), seed=0, progress=False)
    wrapper = make_wrapper(StudentPipeline(student, prep.tokenizer, cfg.data.max_length))
    subs = prep.strategy_data["a2t"][1]
    attack = build_generic_attack(wrapper, cfg.kd.a2t, seed=0, substitutes=subs, stopwords=frozenset(ENGLISH_STOP_WORDS), batch_size=32)
    train = prep.splits["train"].select(range(40))
    report = attack_examples(attack, [{"text": t, "label": y} for t, y in zip(train["text"], train["labels"])], name="a2t", query_budget=30, progress=False)
    won = [r for r in report.records if r["status"] == "succeeded"]
    assert won, "a tiny student trained for 8 steps is easy to flip"
    for r in won:
        assert wrapper([r["perturbed"]]).argmax(-1).item() != r["label"]
        before, after = r["original"].split(), r["perturbed"].split()
        assert len(before) == len(after)
        for a, b in zip(before, after):
            if a != b:
                core = a.strip(".,!?;:'\"")
                assert b.strip(".,!?;:'\"") in word_candidates(core, cfg.kd.a2t.kinds, seed=0, substitutes=subs)


def test_a2t_trains_on_its_adversarial_texts(prep) -> None:
    from rosearch.search.evaluate import evaluate_genome

    # one epoch of plain KD first (a student after two steps is constant: nothing to flip), then a round every half epoch
    cfg = _cfg(epochs=2.0, a2t={"examples": 24, "query_budget": 30, "start": 1.0, "every": 0.5})
    result = evaluate_genome(GENOME, cfg, prep, accelerator=ACCELERATOR(), seed=0, strategy="a2t", progress=False)
    details = result.fit.details
    assert result.fit.steps == 16 and details["rounds"] == 2 and details["attacked"] == 2 * 24
    assert 0 < details["adversarial"] <= details["attacked"] and details["attack_seconds"] > 0
