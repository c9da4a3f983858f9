"""What the prepare stage hands every trial (`Prepared`), with what each KD strategy's own
preparation added under its name: plain data, built by rosearch.prepare and the strategies
(rosearch.kd.strategies), read by everything after them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import datasets
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from rosearch.config.space import stage_names
from rosearch.robust.normalize import TextNormalizer
from rosearch.robust.recognizer import WordRecognizer
from rosearch.robust.synonyms import SynonymCanonicalizer
from rosearch.robust.vote import SubstitutionVote
from rosearch.student.pipeline import StudentPipeline
from rosearch.student.vocab import Vocabulary


def stage_chain(gene: str, built: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The (name, text → text callable) stages a stage gene's value runs, in order, from the stages
    `built` by name."""
    stages = tuple((name, built[name]) for name in stage_names(gene) if name != "vote")  # a vote is not a text stage
    assert all(stage is not None for _, stage in stages), f"prepare builds the stages of {gene} when the space offers it"
    return stages


@dataclass(frozen=True)
class Prepared:
    """What every trial of a study reads (in memory). Built once by `prepare`, never changed after.

    The teacher sits on the command's `accelerator.device`, in eval mode, its parameters frozen.
    """

    tokenizer: PreTrainedTokenizerBase
    splits: datasets.DatasetDict  # tokenized; train also holds `teacher_logits`
    teacher: PreTrainedModel
    teacher_metrics: dict[str, Any]  # dev_accuracy, test_accuracy, params, flops, finetune_seconds
    attack_examples: list[dict[str, Any]]  # the in-trial subset: [{"text", "label", "dev_index"}], fixed for the study
    eval_examples: list[dict[str, Any]]  # the evaluation set, disjoint from attack_examples (same form)
    num_labels: int
    embedding_basis: torch.Tensor | None
    keys: dict[str, str] = field(default_factory=dict)  # cache keys, stored with the study
    # More in-trial examples, disjoint from both sets above, that promoted students are attacked on
    # too (search.fidelity.attack_examples; empty without multi-fidelity).
    more_attack_examples: list[dict[str, Any]] = field(default_factory=list)
    # What each of the study's KD strategies prepared for its trials, under the strategy's name
    # (rosearch.kd.strategies: kdiga's saliency column, mate's generator, zeroshot's text, ...).
    strategy_data: dict[str, Any] = field(default_factory=dict)
    # The word-recognition input stage (when the space offers it), built from the train texts;
    # splits then also hold "dev@recognizer" and "test@recognizer", tokenized after recognition.
    recognizer: WordRecognizer | None = None
    # The text-normalisation input stage (when the space offers it); splits then also hold
    # "dev@normalizer" (and "dev@normalizer@recognizer" where offered), and the same for test.
    normalizer: TextNormalizer | None = None
    # The frequency-guided synonym stage (when the space offers it).
    fgws: SynonymCanonicalizer | None = None
    # Random-substitution voting (when the space offers the vote stage): rosearch.robust.vote.
    vote: SubstitutionVote | None = None
    # The space's reduced vocabularies (rosearch.student.vocab), by rule; "full" is not among them.
    vocabularies: dict[str, Vocabulary] = field(default_factory=dict)
    # The weight-sharing supernet over the space (search.fidelity.estimate "supernet";
    # rosearch.search.weight_sharing), distilled once per study and cached; else None.
    supernet: Any = None

    @property
    def promoted_examples(self) -> list[dict[str, Any]]:
        """What a student promoted to the full fidelity is attacked on: the in-trial subset, then more."""
        return [*self.attack_examples, *self.more_attack_examples]

    def input_stages(self, gene: str) -> tuple[tuple[str, Any], ...]:
        """The (name, text → text callable) stages a stage gene's value runs, in order."""
        return stage_chain(gene, {"recognizer": self.recognizer, "normalizer": self.normalizer, "fgws": self.fgws})

    def vocabulary(self, rule: str) -> Vocabulary | None:
        """The reduced vocabulary a genome's gene names; None for "full"."""
        if rule == "full":
            return None
        assert rule in self.vocabularies, f"prepare builds the {rule} vocabulary when the space offers it"
        return self.vocabularies[rule]

    def pipeline(self, model: torch.nn.Module, input_stage: str, *, max_length: int) -> StudentPipeline:
        """`model` as users run it: the named input stage (the genome's gene), this study's
        tokenizer, the model (asked by vote where the gene says so)."""
        vote = None
        if "vote" in stage_names(input_stage):
            assert self.vote is not None, "prepare builds the vote when the space offers it"
            vote = self.vote
        return StudentPipeline(model, self.tokenizer, max_length, self.input_stages(input_stage), vote=vote)

    def with_strategies(self, data: dict[str, Any]) -> Prepared:
        """This preparation plus what the KD strategies' own step returned (by strategy name)."""
        return replace(self, strategy_data=dict(data))
