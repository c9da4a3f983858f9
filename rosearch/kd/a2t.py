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

import random
from typing import Any, Callable, Iterator, Sequence

import datasets
import numpy as np
import torch
from torch.utils.data import DataLoader
from transformers import PreTrainedTokenizerBase

from rosearch.config.schema import A2TConfig
from rosearch.robust.perturb import CHAR_KINDS, char_edit
from rosearch.student.pipeline import StudentPipeline
from rosearch.train import LossFn, Run, loader
from rosearch.train.loop import cycle

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


class AttackRounds:
    """A2T as a hook of the one training loop (rosearch.train.fit) and its loss.

    Before the steps `round_steps` names, the student as it is (eval mode) is attacked — through
    its input stage when it has one — on the next slice of `train` (text, labels, teacher_logits);
    the texts it flips join a pool, and from then on every step adds `a2t.weight` × the loss of a
    batch of the pool. `details`: rounds, examples attacked, adversarial texts kept, attack seconds.
    """

    def __init__(self, train: datasets.Dataset, tokenizer: PreTrainedTokenizerBase, loss_fn: LossFn, *, a2t: A2TConfig, seed: int, max_length: int,
                 batch_size: int, substitutes: Callable[[str], Sequence[str]] | None, stopwords: frozenset[str],
                 pipeline: StudentPipeline) -> None:
        self.tokenizer, self.loss_fn, self.a2t, self.seed = tokenizer, loss_fn, a2t, seed
        self.max_length, self.batch_size, self.substitutes, self.stopwords = max_length, batch_size, substitutes, stopwords
        self.pipeline = pipeline  # the student's stages and tokenizer (its model: the one in training)
        self.texts, self.labels, self.logits = train["text"], train["labels"], train["teacher_logits"]
        self.pool: dict[str, list] = {"text": [], "labels": [], "teacher_logits": []}
        self.adversarial: Iterator[dict[str, torch.Tensor]] | None = None
        self.summary = {"rounds": 0, "attacked": 0, "adversarial": 0, "attack_seconds": 0.0}

    def start(self, run: Run) -> None:
        self.device = run.accelerator.device
        self.rounds = set(round_steps(run.total, run.steps_per_epoch, start=self.a2t.start, every=self.a2t.every))

    def before_step(self, run: Run, step: int) -> None:
        if step not in self.rounds:
            return
        from rosearch.attack.run import attack_examples
        from rosearch.attack.window import within_window
        from rosearch.attack.wrapper import make_wrapper

        a2t = self.a2t
        run.model.eval()  # the attack queries the student as it is now (no dropout)
        wrapper = make_wrapper(self.pipeline.with_model(run.accelerator.unwrap_model(run.model)))
        attack = build_generic_attack(wrapper, a2t, seed=self.seed + self.summary["rounds"], substitutes=self.substitutes,
                                      stopwords=self.stopwords, batch_size=self.batch_size)
        picked = round_slice(len(self.texts), a2t.examples, self.summary["rounds"], seed=self.seed)
        report = attack_examples(attack, [{"text": within_window(self.texts[i], self.max_length), "label": self.labels[i]} for i in picked],
                                 name="a2t", query_budget=a2t.query_budget, seed=self.seed, progress=False)
        run.model.train()
        for i, record in zip(picked, report.records):
            if record["status"] == "succeeded":
                self.pool["text"].append(self.pipeline.preprocess(record["perturbed"]))  # what the stages pass on
                self.pool["labels"].append(self.labels[i])
                self.pool["teacher_logits"].append(self.logits[i])
        self.summary["rounds"] += 1
        self.summary["attacked"] += len(picked)
        self.summary["attack_seconds"] += report.seconds
        if self.pool["text"]:
            self.adversarial = cycle(_adversarial_loader(self.pool, self.tokenizer, max_length=self.max_length, batch_size=self.batch_size,
                                                         seed=self.seed + step))

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        loss = self.loss_fn(model, batch)
        if self.adversarial is not None:
            adv = {k: v.to(self.device) for k, v in next(self.adversarial).items()}
            loss = loss + self.a2t.weight * self.loss_fn(model, adv)
        return loss

    def postfix(self) -> dict[str, int]:
        return {"adversarial": len(self.pool["text"])}

    def details(self) -> dict[str, float]:
        return {**self.summary, "adversarial": len(self.pool["text"])}


def _adversarial_loader(pool: dict[str, list], tokenizer: PreTrainedTokenizerBase, *, max_length: int, batch_size: int,
                        seed: int) -> DataLoader:
    tokens = tokenizer(pool["text"], truncation=True, max_length=max_length)
    ds = datasets.Dataset.from_dict({**tokens, "labels": pool["labels"], "teacher_logits": pool["teacher_logits"]})
    return loader(ds, tokenizer, batch_size=batch_size, shuffle=True, extra=("teacher_logits",), seed=seed)
