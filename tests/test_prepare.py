"""The prepare stage on the tiny study: cached, deterministic, and the teacher logits are right."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rosearch.cache import DiskCache
from rosearch.config import load_study
from rosearch.train import loader, make_accelerator, predict


def test_prepare_is_deterministic_and_cached(tmp_path: Path) -> None:
    from rosearch.prepare import prepare

    cfg = load_study("tiny")
    accelerator = make_accelerator("no")
    logs: list[str] = []
    a = prepare(cfg, cache=DiskCache(tmp_path / "a"), accelerator=accelerator, log=logs.append, progress=False)
    b = prepare(cfg, cache=DiskCache(tmp_path / "b"), accelerator=accelerator, log=lambda _: None, progress=False)
    # the teacher is placed once, on the accelerator's device, in eval mode and frozen
    assert next(a.teacher.parameters()).device == accelerator.device
    assert not a.teacher.training and not any(p.requires_grad for p in a.teacher.parameters())
    assert any("fine-tuning" in line for line in logs)
    assert a.teacher_metrics["dev_accuracy"] == b.teacher_metrics["dev_accuracy"] > 0.6
    for x, y in zip(a.teacher.parameters(), b.teacher.parameters()):
        torch.testing.assert_close(x, y)
    assert a.attack_examples == b.attack_examples and len(a.attack_examples) == cfg.attack.n_examples
    np.testing.assert_array_equal(np.array(a.splits["train"]["teacher_logits"]), np.array(b.splits["train"]["teacher_logits"]))

    again_logs: list[str] = []
    c = prepare(cfg, cache=DiskCache(tmp_path / "a"), accelerator=accelerator, log=again_logs.append, progress=False)
    assert not any("fine-tuning" in line or "computing logits" in line for line in again_logs)
    assert c.teacher_metrics == a.teacher_metrics

    # the cached logits are the teacher's logits on the train split, in order
    sample = a.splits["train"].select(range(40))
    fresh, _ = predict(a.teacher, loader(sample, a.tokenizer, batch_size=16, shuffle=False), accelerator=accelerator)
    torch.testing.assert_close(torch.tensor(sample["teacher_logits"]), fresh, atol=1e-4, rtol=1e-4)

    # every attack example is a dev example the teacher classifies correctly
    dev = a.splits["dev"]
    for example in a.attack_examples:
        assert dev[example["dev_index"]]["text"] == example["text"]
        assert dev[example["dev_index"]]["labels"] == example["label"]


# (a change to the study, whether the teacher and its logits must be made anew)
KEY_CHANGES = [
    (("kd", "mixed_precision", "bf16"), True),  # autocast changes the fine-tune and the logits
    (("kd", "mixed_precision", "fp16"), True),
    (("teacher", "batch_size", 16), True),  # inference batches (the hash covers every teacher setting)
    (("kd", "lr", 0.01), False),  # the students' training: the teacher is the same
    (("attack", "n_examples", 5), False),
]


def test_the_teacher_key_holds_the_precision() -> None:
    """Two studies in one runs folder, fp32 and bf16, must not reuse each other's teacher and logits."""
    from dataclasses import replace

    from rosearch.prepare import teacher_cache_key

    cfg = load_study("tiny")
    base = teacher_cache_key(cfg, "data-key")
    for (section, key, value), differs in KEY_CHANGES:
        changed = replace(cfg, **{section: replace(getattr(cfg, section), **{key: value})})
        assert (teacher_cache_key(changed, "data-key") != base) is differs, (section, key, value)
    assert teacher_cache_key(cfg, "other-data") != base


def test_prepare_builds_each_offered_chain_of_input_stages(tmp_path: Path) -> None:
    """Every stage gene's chain runs in its order over dev and test once per study; the normaliser
    reads words against the recogniser's training-word counts."""
    from rosearch.prepare import prepare

    genes = ["none", "recognizer", "normalizer", "normalizer+recognizer", "normalizer+fgws+recognizer", "normalizer+fgws+recognizer+vote"]
    cfg = load_study("tiny", overrides={"space.input_stages": genes})
    prep = prepare(cfg, cache=DiskCache(tmp_path), accelerator=make_accelerator("no"), log=lambda _: None, progress=False)
    assert prep.normalizer is not None and prep.normalizer.counts == prep.recognizer.counts
    # the synonym stage: only words rarer than the threshold, each to a more frequent one
    counts = prep.recognizer.counts
    assert prep.fgws.table and all(counts.get(w, 0) < cfg.space.fgws_min_count and counts[s] > counts.get(w, 0) for w, s in prep.fgws.table.items())
    for gene, names in [("none", ()), ("recognizer", ("recognizer",)), ("normalizer", ("normalizer",)),
                        ("normalizer+recognizer", ("normalizer", "recognizer")),
                        ("normalizer+fgws+recognizer", ("normalizer", "fgws", "recognizer"))]:
        pipeline = prep.pipeline(torch.nn.Linear(1, 1), gene, max_length=cfg.data.max_length)
        assert pipeline.stage_names == names
        for split in ("dev", "test"):
            key = "@".join((split, *names))
            texts = [pipeline.preprocess(t) for t in prep.splits[split]["text"][:20]]
            expected = prep.tokenizer(texts, truncation=True, max_length=cfg.data.max_length)["input_ids"]
            assert prep.splits[key]["input_ids"][:20] == expected, key
    # the vote: after the text stages, on words the training text uses; its pipeline reads no pre-tokenized split
    voting = prep.pipeline(torch.nn.Linear(1, 1), "normalizer+fgws+recognizer+vote", max_length=cfg.data.max_length)
    assert voting.stage_names == ("normalizer", "fgws", "recognizer", "vote") and voting.vote is prep.vote
    assert (prep.vote.copies, prep.vote.rate) == (cfg.space.vote_copies, cfg.space.vote_rate) and prep.vote.table
    assert all(counts.get(s, 0) >= cfg.space.fgws_min_count for subs in prep.vote.table.values() for s in subs)
    assert not any(k.endswith("@vote") for k in prep.splits)
    both = prep.pipeline(torch.nn.Linear(1, 1), "normalizer+recognizer", max_length=cfg.data.max_length)
    assert both.preprocess("the m\u043evie was t3rrible") == both.preprocess("the movie was terrible") == "the movie was terrible"
    # the recogniser alone cannot read a word with a Cyrillic letter; the normaliser before it can
    assert prep.pipeline(torch.nn.Linear(1, 1), "recognizer", max_length=32).preprocess("the m\u043evie") != "the movie"
    assert both.preprocess("the mvo\u200bie") == "the movie"
