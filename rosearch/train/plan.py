"""What one training run is made of (`TrainPlan`): the batches, the loss of a step, and hooks that
run before steps. `rosearch.train.loop.fit` runs every plan the same way, so the teacher's
fine-tuning and all seven distillation strategies share one loop (one optimizer, schedule,
precision, clipping, progress bar and divergence check).

A strategy adds to a step through its plan: loss terms (inside `loss`), extra batches (its `loss`
draws them), and work between steps (a `Hook`: MATE-KD's generator blocks, A2T's attack rounds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol, Sequence

import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader

#: loss(model, batch) → scalar loss; batch holds input_ids, attention_mask, labels (+ extras).
LossFn = Callable[[torch.nn.Module, dict[str, torch.Tensor]], torch.Tensor]


@dataclass
class Run:
    """What a hook sees of the run in progress (set up by `fit` after `accelerator.prepare`)."""

    model: torch.nn.Module  # as prepared (the loss and hooks call this one)
    accelerator: Accelerator
    batches: Iterator[dict[str, torch.Tensor]]  # the training batches, pass after pass (hooks may draw from it)
    total: int  # optimizer steps of the run
    steps_per_epoch: int


class Hook(Protocol):
    """Work a strategy does around the steps (it may change the model's train/eval mode, then
    must restore train mode)."""

    def start(self, run: Run) -> None:
        """Once, after the model, optimizer and loader are prepared, before step 0."""

    def before_step(self, run: Run, step: int) -> None:
        """Before optimizer step `step` (0-based) draws its batch."""


@dataclass
class TrainPlan:
    """One training run: `data`'s batches, each step's `loss`, and the strategy's hooks."""

    data: DataLoader
    loss: LossFn
    desc: str = "train"  # the progress bar's label, and where a non-finite loss is reported
    epochs: float | None = None  # passes over `data` when not the run's `optim.epochs` (consistency: its passes are epochs)
    hooks: Sequence[Hook] = ()
    # What the progress bar shows beside the loss, and what the run reports when it ends
    # (FitResult.details: a2t's attack rounds, for example).
    postfix: Callable[[], dict[str, Any]] = field(default=dict)
    details: Callable[[], dict[str, float]] = field(default=dict)
