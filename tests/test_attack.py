from __future__ import annotations

import pytest
import torch

from rosearch.attack.metrics import Outcome, summarise
from rosearch.prepare import select_attack_subset


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


def test_attack_subset_is_seeded_and_only_teacher_correct() -> None:
    texts = [f"text {i}" for i in range(100)]
    labels = [i % 2 for i in range(100)]
    preds = [y if i % 3 else 1 - y for i, y in enumerate(labels)]  # wrong on every third
    a = select_attack_subset(texts, labels, preds, n=20, seed=0)
    assert a == select_attack_subset(texts, labels, preds, n=20, seed=0)
    assert a != select_attack_subset(texts, labels, preds, n=20, seed=1)
    assert len(a) == 20 and all(e["dev_index"] % 3 for e in a)
    assert [e["dev_index"] for e in a] == sorted(e["dev_index"] for e in a)


def test_deepwordbug_runs_for_real_on_a_tiny_model(tokenizer) -> None:
    from rosearch.attack import run_attack
    from rosearch.config import AttackConfig
    from rosearch.search.genome import Genome, Node
    from rosearch.student import build_student

    torch.manual_seed(0)
    genome = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")),))
    model = build_student(genome, vocab_size=len(tokenizer), num_labels=2, pad_token_id=0, max_position_embeddings=32, dropout=0.0)
    texts = ["a wonderful , moving film", "dull and far too long", "the cast is great", "a mess of a movie", "i loved every minute"]
    with torch.no_grad():
        preds = model(**tokenizer(texts, return_tensors="pt", padding=True)).logits.argmax(-1).tolist()
    examples = [{"text": t, "label": p} for t, p in zip(texts, preds)]  # the model is right on all
    report = run_attack(model, tokenizer, examples, AttackConfig(recipe="deepwordbug", n_examples=5), max_length=32, progress=False)
    m = report.metrics
    assert m.n == 5 and m.skipped == 0 and m.succeeded + m.failed == 5
    assert m.avg_queries > 0
    for ex in report.examples:
        assert ex["original"] != ex["perturbed"] and ex["perturbed_prediction"] != ex["label"]
