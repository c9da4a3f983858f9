"""A student as its users run it: text → input stages → tokenizer → model.

Every attack queries the whole pipeline (rosearch.attack.wrapper), so a defence in front of the
model is attacked with it. Stages compose: each is a text → text callable with a name (the stage
gene's value), run in order. A pipeline may also vote (rosearch.robust.vote): the model then
classifies several substituted copies of each text after the stages, and answers their mean.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import datasets
import torch
from transformers import BatchEncoding, PreTrainedTokenizerBase

#: An input stage: text in, text out (the word recogniser, for one).
Stage = Callable[[str], str]


def split_key(split: str, stage_names: Sequence[str]) -> str:
    """The name of `split` tokenized after the named stages ("dev", "dev@recognizer")."""
    return "@".join((split, *stage_names))


def tokenize_through(data: datasets.Dataset, tokenizer: PreTrainedTokenizerBase, max_length: int,
                     stages: Sequence[tuple[str, Stage]]) -> datasets.Dataset:
    """`data` (a "text" column) with model inputs of its texts after `stages`, truncated at
    max_length (not padded: the loader's collator pads each batch)."""
    def encode(batch: dict) -> dict:
        texts = batch["text"]
        for _, stage in stages:
            texts = [stage(t) for t in texts]
        return tokenizer(texts, truncation=True, max_length=max_length)

    return data.map(encode, batched=True)


@dataclass(frozen=True)
class StudentPipeline:
    model: torch.nn.Module
    tokenizer: PreTrainedTokenizerBase
    max_length: int  # texts are truncated to this many tokens, as in training
    stages: tuple[tuple[str, Stage], ...] = ()  # (name, stage), in the order they run
    # Logits are divided by it (1: the model's own): temperature scaling, which changes no
    # prediction, only the probabilities a score-based attack ranks its edits by (rosearch.calibration).
    temperature: float = 1.0
    # Random-substitution voting after the stages (a rosearch.robust.vote.SubstitutionVote), or None.
    vote: Any = None

    @property
    def stage_names(self) -> tuple[str, ...]:
        """The stage gene's parts: the text stages in order, then "vote" when the pipeline votes."""
        return tuple(name for name, _ in self.stages) + (("vote",) if self.vote is not None else ())

    @property
    def model_passes(self) -> int:
        """Model rows one text costs: the vote's copies, else 1."""
        return 1 if self.vote is None else self.vote.copies

    def preprocess(self, text: str) -> str:
        """`text` after every stage."""
        for _, stage in self.stages:
            text = stage(text)
        return text

    def encode(self, texts: Sequence[str], *, preprocessed: bool = False) -> BatchEncoding:
        """Model inputs for `texts` (padded to the longest, truncated at max_length), on the
        model's device; `preprocessed`: the stages already ran."""
        texts = list(texts) if preprocessed else [self.preprocess(t) for t in texts]
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        return enc.to(next(self.model.parameters()).device)

    @torch.inference_mode()
    def logits(self, texts: Sequence[str], *, preprocessed: bool = False) -> torch.Tensor:
        """Float logits [N, K] on the CPU (the model in eval mode, where it is), over `temperature`;
        with a vote, the log of the mean probabilities of each text's copies."""
        self.model.eval()
        texts = list(texts) if preprocessed else [self.preprocess(t) for t in texts]
        if self.vote is None:
            logits = self.model(**self.encode(texts, preprocessed=True)).logits.float().cpu()
        else:
            # Each distinct copy once: a copy in which no word was swapped is the text itself, and
            # one copy in six of the demo's dev texts duplicated another.
            rows = self.vote.expand(texts)
            distinct = list(dict.fromkeys(rows))
            at = {row: i for i, row in enumerate(distinct)}
            answers = self.model(**self.encode(distinct, preprocessed=True)).logits.float().cpu()
            logits = self.vote.combine(answers[[at[row] for row in rows]])
        return logits if self.temperature == 1.0 else logits / self.temperature

    def predict_logits(self, texts: Sequence[str], *, batch_size: int = 64) -> torch.Tensor:
        """`logits` of many texts in their order, `batch_size` texts at a time, batched by length
        (shortest first) so that a batch pads to little more than its own texts: a vote's batch is
        `batch_size` × copies rows, and padded to the longest text of dev order the demo's dev split
        cost 1.4–1.8× as much (benchmarks/RESULTS.md). The students are padding-invariant: the same
        predictions."""
        if not texts:
            return torch.zeros(0)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        logits = torch.cat([self.logits([texts[i] for i in order[k:k + batch_size]]) for k in range(0, len(order), batch_size)])
        return logits[torch.tensor(order).argsort()]

    def tokenized(self, data: datasets.Dataset) -> datasets.Dataset:
        """`data`'s texts through the stages and the tokenizer (what clean evaluation reads, when
        the pipeline does not vote: one model row a text)."""
        return tokenize_through(data, self.tokenizer, self.max_length, self.stages)

    def with_model(self, model: torch.nn.Module) -> StudentPipeline:
        return replace(self, model=model)

    def with_temperature(self, temperature: float) -> StudentPipeline:
        return replace(self, temperature=float(temperature))
