"""Adversarial augmentation at intervals, after A2T (Yoo & Qi, 2021, "Towards improving adversarial
training of NLP models", arXiv 2109.00544).

A2T's idea: adversarial training is affordable when the attack is cheap. After a warm-up of
ordinary training, the current model is attacked at intervals on a slice of the training set, and
from then on it trains on clean and adversarial texts together (loss = clean + α · adversarial).
Here the target of an adversarial text is its clean text's cached teacher distribution (and label),
so the teacher never runs online.

The attack is ours, not a copy of an evaluation recipe (and A2T's own recipe needs
counter-fitted embeddings and a sentence encoder from the network): candidates come from the
generic perturbation families of rosearch.robust.perturb (adjacent swap, insertion, deletion,
keyboard neighbour; WordNet synonyms or the teacher's embedding neighbours), words are visited in
order of importance (leave-one-out, TextAttack's GreedyWordSwapWIR "delete") and the search stops at
the first flip, within a query budget and a cap on the share of words changed. TextAttack's
`Attack` and `Attacker` run it; nothing in TextAttack offers a transformation over these families,
hence the small `WordSwap` subclass below.

Cost per round: `examples` attacks of at most `query_budget` student queries each (no teacher);
after the first round each step runs one more forward/backward (the adversarial batch).
With an input stage, the attack queries stage + student and the student trains on what the stage
passes on. Single process: under data parallelism every process would attack its own copy.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any, Callable, Iterator, Sequence

import datasets
import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from transformers import PreTrainedTokenizerBase

from rosearch.config.schema import A2TConfig, OptimConfig
from rosearch.robust.perturb import CHAR_KINDS, char_edit
from rosearch.train.loop import FitResult, LossFn, cycle, loader, make_optimizer, optimizer_step, progress_bar, total_steps

#: Character-edit candidates drawn per kind for one word.
EDITS_PER_KIND = 2
#: Synonym candidates per word.
SYNONYMS = 4


def round_steps(total: int, steps_per_epoch: int, *, start: float, every: float) -> list[int]:
    """The optimizer steps (0-based, < total) before which an attack round runs."""
    first = round(start * steps_per_epoch)
    gap = max(1, round(every * steps_per_epoch))
    return list(range(first, total, gap))


def round_slice(n_train: int, examples: int, round_index: int, *, seed: int) -> list[int]:
    """Training indices attacked in round `round_index`: consecutive slices of one seeded
    permutation (no example twice until all have been attacked)."""
    order = np.random.default_rng([seed, 3]).permutation(n_train)
    start = (round_index * examples) % n_train
    return [int(order[(start + j) % n_train]) for j in range(min(examples, n_train))]


def word_candidates(word: str, kinds: Sequence[str], *, seed: int,
                    substitutes: Callable[[str], Sequence[str]] | None) -> list[str]:
    """A word's substitution candidates from the perturbation families (seeded per word, so a
    round's attack is reproducible): EDITS_PER_KIND edits of each character kind, up to SYNONYMS
    substitutes; the word itself and duplicates left out."""
    rng = random.Random(f"{seed}/{word}")
    out: list[str] = []
    for kind in kinds:
        if kind in CHAR_KINDS:
            out += [char_edit(word, kind, rng) for _ in range(EDITS_PER_KIND)]
        elif kind == "synonym" and substitutes is not None and word.isalpha():
            subs = [s for s in substitutes(word.lower()) if s.lower() != word.lower()][:SYNONYMS]
            out += [s.capitalize() if word[:1].isupper() else s for s in subs]
    seen: set[str] = {word}
    return [w for w in out if not (w in seen or seen.add(w))]


def build_generic_attack(wrapper: Any, cfg: A2TConfig, *, seed: int, substitutes: Callable[[str], Sequence[str]] | None,
                         stopwords: frozenset[str], batch_size: int) -> Any:
    """A cheap untargeted TextAttack `Attack` over the perturbation families."""
    from rosearch.attack.resources import import_textattack

    textattack = import_textattack()
    from textattack.constraints.overlap import MaxWordsPerturbed
    from textattack.constraints.pre_transformation import MinWordLength, RepeatModification, StopwordModification
    from textattack.goal_functions import UntargetedClassification
    from textattack.search_methods import GreedyWordSwapWIR
    from textattack.transformations import WordSwap

    class GenericWordSwap(WordSwap):
        def _get_replacement_words(self, word: str) -> list[str]:
            return word_candidates(word, cfg.kinds, seed=seed, substitutes=substitutes)

    goal = UntargetedClassification(wrapper, query_budget=cfg.query_budget, model_batch_size=batch_size)
    constraints = [RepeatModification(), StopwordModification(stopwords=stopwords), MinWordLength(3),
                   MaxWordsPerturbed(max_percent=cfg.max_word_share)]
    return textattack.Attack(goal, constraints, GenericWordSwap(), GreedyWordSwapWIR(wir_method="delete"))


def fit_a2t(
    student: torch.nn.Module,
    train: datasets.Dataset,
    tokenizer: PreTrainedTokenizerBase,
    loss_fn: LossFn,
    *,
    accelerator: Accelerator,
    optim: OptimConfig,
    a2t: A2TConfig,
    grad_clip: float | None,
    seed: int,
    max_length: int,
    batch_size: int,
    substitutes: Callable[[str], Sequence[str]] | None,
    stopwords: frozenset[str],
    stage: Callable[[str], str] | None = None,
    progress: bool = True,
) -> FitResult:
    """Train `student` for `optim.epochs` passes over `train` (text, labels, teacher_logits, tokens)
    with `loss_fn`, adding A2T's attack rounds and adversarial batches. The result's `details`:
    rounds, examples attacked, adversarial texts kept, attack seconds."""
    from rosearch.attack.run import attack_examples
    from rosearch.attack.window import within_window
    from rosearch.attack.wrapper import make_wrapper

    set_seed(seed)
    clean = loader(train, tokenizer, batch_size=batch_size, shuffle=True, extra=("teacher_logits",), seed=seed)
    total = total_steps(optim, clean)
    rounds = set(round_steps(total, len(clean), start=a2t.start, every=a2t.every))
    optimizer, scheduler = make_optimizer(student, optim, total)
    model, optimizer, clean, scheduler = accelerator.prepare(student, optimizer, clean, scheduler)
    texts, labels, logits = train["text"], train["labels"], train["teacher_logits"]
    pool: dict[str, list] = {"text": [], "labels": [], "teacher_logits": []}
    adversarial: Iterator[dict[str, torch.Tensor]] | None = None
    summary = {"rounds": 0, "attacked": 0, "adversarial": 0, "attack_seconds": 0.0}
    start, step, loss_value = time.perf_counter(), 0, math.nan
    bar = progress_bar(total, "distill (a2t)", accelerator, progress)
    while step < total:
        for batch in clean:
            if step in rounds:
                model.eval()  # the attack queries the student as it is now (no dropout)
                wrapper = make_wrapper(accelerator.unwrap_model(model), tokenizer, max_length=max_length, preprocess=stage)
                attack = build_generic_attack(wrapper, a2t, seed=seed + summary["rounds"], substitutes=substitutes,
                                              stopwords=stopwords, batch_size=batch_size)
                picked = round_slice(len(train), a2t.examples, summary["rounds"], seed=seed)
                report = attack_examples(attack, [{"text": within_window(texts[i], max_length), "label": labels[i]} for i in picked], name="a2t",
                                         query_budget=a2t.query_budget, seed=seed, progress=False)
                model.train()
                for i, record in zip(picked, report.records):
                    if record["status"] == "succeeded":
                        pool["text"].append(stage(record["perturbed"]) if stage else record["perturbed"])
                        pool["labels"].append(labels[i])
                        pool["teacher_logits"].append(logits[i])
                summary["rounds"] += 1
                summary["attacked"] += len(picked)
                summary["attack_seconds"] += report.seconds
                if pool["text"]:
                    adversarial = cycle(_adversarial_loader(pool, tokenizer, max_length=max_length, batch_size=batch_size, seed=seed + step))
            loss = loss_fn(model, batch)
            if adversarial is not None:
                adv = {k: v.to(accelerator.device) for k, v in next(adversarial).items()}
                loss = loss + a2t.weight * loss_fn(model, adv)
            loss_value = optimizer_step(loss, model=model, optimizer=optimizer, scheduler=scheduler, accelerator=accelerator,
                                        grad_clip=grad_clip, where=f"distill (a2t), step {step}")
            step += 1
            bar.update()
            bar.set_postfix(loss=f"{loss_value:.3f}", adversarial=len(pool["text"]), refresh=False)
            if step >= total:
                break
    bar.close()
    model.eval()
    accelerator.free_memory()  # the command's Accelerator keeps no reference to this run
    summary["adversarial"] = len(pool["text"])
    return FitResult(steps=step, seconds=time.perf_counter() - start, last_loss=loss_value, details=summary)


def _adversarial_loader(pool: dict[str, list], tokenizer: PreTrainedTokenizerBase, *, max_length: int, batch_size: int,
                        seed: int) -> DataLoader:
    tokens = tokenizer(pool["text"], truncation=True, max_length=max_length)
    ds = datasets.Dataset.from_dict({**tokens, "labels": pool["labels"], "teacher_logits": pool["teacher_logits"]})
    return loader(ds, tokenizer, batch_size=batch_size, shuffle=True, extra=("teacher_logits",), seed=seed)
