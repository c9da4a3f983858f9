"""Perturbation-consistency KD: the student learns the teacher's distribution on the *clean* text
(cached logits) from randomly perturbed copies of the training texts, so invariance to generic
character edits and word substitutions is taught without running the teacher online.

The training data for `passes` passes is built once per study (cached like the teacher's logits):
in pass e, each text is replaced by a perturbed copy with probability `text_share` (or, with
`schedule: ramp`, text_share · (e + 1) / passes: a curriculum from near-clean to full strength),
drawn with a seed of its own (study seed, e, index). The loss is the vanilla KD loss; a perturbed row carries
its clean text's teacher logits and label. Cost: the tokenized passes (one copy of the train split
per pass) and nothing per step beyond vanilla KD.
"""

from __future__ import annotations

import math
import random
from typing import Callable, Sequence

import datasets
from transformers import PreTrainedTokenizerBase

from rosearch.config.schema import ConsistencyConfig
from rosearch.robust.perturb import PerturbConfig, perturb_text


def passes_for(epochs: float) -> int:
    """Distinct perturbation draws: one per (started) epoch of the study's distillation."""
    return max(1, math.ceil(epochs))


def pass_share(cfg: ConsistencyConfig, p: int, passes: int) -> float:
    """The share of texts perturbed in pass `p` (from 0) of `passes`."""
    return cfg.text_share * (p + 1) / passes if cfg.schedule == "ramp" else cfg.text_share


def perturbed_passes(train: datasets.Dataset, tokenizer: PreTrainedTokenizerBase, cfg: ConsistencyConfig, *, passes: int,
                     seed: int, max_length: int, stopwords: frozenset[str],
                     substitutes: Callable[[str], Sequence[str]] | None) -> datasets.Dataset:
    """`passes` copies of `train` (which has text, labels, teacher_logits), a seeded share of each
    pass's texts perturbed and re-tokenized; columns source_index, pass and perturbed tell them apart."""
    perturb = PerturbConfig(share=cfg.word_share, kinds=tuple(cfg.kinds))
    texts, labels, logits = train["text"], train["labels"], train["teacher_logits"]
    rows: dict[str, list] = {"text": [], "labels": [], "teacher_logits": [], "source_index": [], "pass": [], "perturbed": []}
    for p in range(passes):
        share = pass_share(cfg, p, passes)
        for i, text in enumerate(texts):
            rng = random.Random(f"{seed}/{p}/{i}")
            edit = rng.random() < share
            rows["text"].append(perturb_text(text, rng, perturb, stopwords=stopwords, substitutes=substitutes) if edit else text)
            rows["labels"].append(labels[i])
            rows["teacher_logits"].append(logits[i])
            rows["source_index"].append(i)
            rows["pass"].append(p)
            rows["perturbed"].append(edit)
    ds = datasets.Dataset.from_dict(rows)
    return ds.map(lambda b: tokenizer(b["text"], truncation=True, max_length=max_length), batched=True, desc="tokenize perturbed passes")
