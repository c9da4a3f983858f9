"""What the prepare stage hands every trial (`Prepared`), and what the KD strategies' own
preparation adds to it (`StrategyData`): plain data, built by rosearch.prepare and
rosearch.kd.prepare, read by everything after them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

import datasets
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from rosearch.robust.recognizer import WordRecognizer


@dataclass(frozen=True)
class StrategyData:
    """What the study's strategies add to the preparation (see `Prepared.with_strategies`)."""

    train_columns: dict[str, list[Any]] = field(default_factory=dict)  # kdiga: teacher_saliency
    generators: dict[str, PreTrainedModel] = field(default_factory=dict)  # mate: "task", zeroshot: "ood"
    ood: datasets.Dataset | None = None  # zeroshot: out-of-domain text with the teacher's logits
    consistency: datasets.Dataset | None = None  # consistency: the perturbed training passes
    # a2t: (source, word → substitutes) for the attack's synonym candidates
    substitutes: tuple[str, Callable[[str], Any]] | None = None
    augmented: datasets.Dataset | None = None  # augment: the originals plus their teacher-labelled variants



@dataclass(frozen=True)
class Prepared:
    """What every trial of a study reads (in memory). Built once by `prepare`, never changed after.

    The teacher sits on the command's `accelerator.device`, in eval mode, its parameters frozen.
    """

    tokenizer: PreTrainedTokenizerBase
    splits: datasets.DatasetDict  # tokenized; train also holds `teacher_logits` (+ strategy columns)
    teacher: PreTrainedModel
    teacher_metrics: dict[str, Any]  # dev_accuracy, test_accuracy, params, flops, finetune_seconds
    attack_examples: list[dict[str, Any]]  # the in-trial subset: [{"text", "label", "dev_index"}], fixed for the study
    eval_examples: list[dict[str, Any]]  # the evaluation set, disjoint from attack_examples (same form)
    num_labels: int
    embedding_basis: torch.Tensor | None
    keys: dict[str, str] = field(default_factory=dict)  # cache keys, stored with the study
    generators: dict[str, PreTrainedModel] = field(default_factory=dict)  # mate: "task", zeroshot: "ood"
    ood: datasets.Dataset | None = None  # zero-shot KD's out-of-domain text, with teacher logits
    consistency: datasets.Dataset | None = None  # consistency KD's perturbed training passes
    substitutes: tuple[str, Any] | None = None  # a2t: (source, word → substitutes) for its attack's candidates
    augmented: datasets.Dataset | None = None  # augment: the training texts plus their teacher-labelled variants
    # The word-recognition input stage (when the space offers it), built from the train texts;
    # splits then also hold "dev@recognizer" and "test@recognizer", tokenized after recognition.
    recognizer: WordRecognizer | None = None

    def input_stage(self, name: str) -> WordRecognizer | None:
        """The input stage called `name` (a text → text callable), None for "none"."""
        if name == "none":
            return None
        assert name == "recognizer" and self.recognizer is not None, f"prepare builds the {name} stage when the space offers it"
        return self.recognizer

    def with_strategies(self, added: StrategyData) -> Prepared:
        """This preparation plus what the KD strategies' own step returned."""
        splits = datasets.DatasetDict(self.splits)
        for name, values in added.train_columns.items():
            splits["train"] = splits["train"].add_column(name, values)
        return replace(self, splits=splits, generators=dict(added.generators), ood=added.ood, consistency=added.consistency,
                       substitutes=added.substitutes, augmented=added.augmented)
