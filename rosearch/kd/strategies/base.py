"""The one shape of a distillation strategy.

A strategy is one file (this folder) with a `Strategy` subclass: `prepare` builds what it needs once
per study (its own data, cached under a key that names everything it depends on; the result is kept
in `Prepared.strategy_data[name]`), and `plan` returns the `TrainPlan` of one trial's training run:
its batches, each step's loss terms, and hooks between steps. `rosearch.kd.distill.distill_student`
builds the student and runs the plan in the one training loop (`rosearch.train.fit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import datasets
import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader

from rosearch.cache import DiskCache
from rosearch.config import StudyConfig
from rosearch.prepared import Prepared
from rosearch.student.pipeline import StudentPipeline
from rosearch.train import TrainPlan, kd_loss, loader

Log = Callable[[str], None]


@dataclass(frozen=True)
class PrepareContext:
    """What a strategy's once-per-study preparation may use."""

    cfg: StudyConfig
    prep: Prepared  # the teacher, tokenizer, splits and cache keys (without any strategy's data)
    source: str  # where the teacher's pretrained weights come from (generators start from them)
    cache: DiskCache
    accelerator: Accelerator
    log: Log


@dataclass(frozen=True)
class TrialContext:
    """What a strategy's plan for one trial may use, and the helpers most plans share."""

    cfg: StudyConfig
    prep: Prepared
    data: Any  # what this strategy's `prepare` returned for the study (None if it prepares nothing)
    seed: int
    teacher_logits: str  # "cached" (the study's cached teacher logits) or "online" (the teacher runs each step)
    pipeline: StudentPipeline  # the student being trained, with its input stages and tokenizer

    def train_split(self) -> datasets.Dataset:
        """The training examples (the first `kd.max_train_examples`, already shuffled with data.seed)."""
        train = self.prep.splits["train"]
        cap = self.cfg.kd.max_train_examples
        return train.select(range(cap)) if cap is not None and len(train) > cap else train

    def rows_of(self, derived: datasets.Dataset) -> datasets.Dataset:
        """The rows of a dataset derived from the whole train split (column source_index) that
        come from the examples `train_split` holds."""
        n = len(self.train_split())
        return derived if n == len(self.prep.splits["train"]) else derived.filter(lambda i: i < n, input_columns="source_index")

    def loader(self, ds: datasets.Dataset, extra: tuple[str, ...] = ("teacher_logits",)) -> DataLoader:
        """Shuffled training batches of `ds` (seeded by the trial), with the `extra` columns."""
        return loader(ds, self.prep.tokenizer, batch_size=self.cfg.kd.batch_size, shuffle=True, extra=extra, seed=self.seed)

    def kd_loss(self) -> Callable[[torch.nn.Module, dict[str, torch.Tensor]], torch.Tensor]:
        """Logit KD (Hinton et al.) against the batch's cached teacher logits, or the teacher's
        online ones; (1 − α) cross-entropy on the labels."""
        d = self.cfg.kd
        teacher = self.prep.teacher if self.teacher_logits == "online" else None  # already on the accelerator's device

        def loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            cached = batch.pop("teacher_logits")
            labels = batch.pop("labels")
            if teacher is None:
                target = cached
            else:
                with torch.no_grad():
                    target = teacher(**batch).logits
            return kd_loss(model(**batch).logits, target, labels, temperature=d.temperature, alpha=d.alpha)

        return loss


class Strategy:
    """A distillation strategy: subclass it, give it a `name`, and write `plan` (and `prepare`
    when it needs data of its own)."""

    name: str = ""

    def prepare(self, ctx: PrepareContext) -> Any:
        """What every trial of the study needs from this strategy (cached by the strategy); None
        when nothing."""
        return None

    def plan(self, ctx: TrialContext) -> TrainPlan:
        """One trial's training run."""
        raise NotImplementedError
