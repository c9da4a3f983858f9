"""One Accelerate training loop for the teacher's fine-tuning and every student's distillation.

Follows Accelerate's examples/nlp_example.py: each command creates one `Accelerator` at its top
(`make_accelerator`, with the study's `kd.mixed_precision`) and passes it down; here one `prepare`
per run, `accelerator.backward`, `gather_for_metrics`. Accelerate keeps one precision per process,
so nothing below creates an Accelerator of its own.

Device placement is explicit: `fit` hands the model to `accelerator.prepare` (which places it on
`accelerator.device`, as Accelerate does); `predict` runs a model where it already is and never
moves the caller's model.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Iterator

import datasets
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import DataCollatorWithPadding, PreTrainedTokenizerBase, get_linear_schedule_with_warmup

from rosearch.config.schema import OptimConfig
from rosearch.train.plan import Run, TrainPlan

MODEL_COLUMNS = ("input_ids", "attention_mask", "token_type_ids", "labels")


class NonFiniteLoss(FloatingPointError):
    """Training diverged (NaN or infinite loss)."""


@dataclass
class FitResult:
    steps: int
    seconds: float
    last_loss: float
    details: dict[str, float] = field(default_factory=dict)  # what a strategy adds (a2t: its attack rounds)


def make_accelerator(mixed_precision: str) -> Accelerator:
    """The one Accelerator of a command (call it once, at the command's top)."""
    return Accelerator(mixed_precision=mixed_precision)


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def loader(ds: datasets.Dataset, tokenizer: PreTrainedTokenizerBase, *, batch_size: int, shuffle: bool, extra: tuple[str, ...] = (), seed: int = 0) -> DataLoader:
    """Batches padded to their own longest example (dynamic padding)."""
    keep = [c for c in (*MODEL_COLUMNS, *extra) if c in ds.column_names]
    collate = DataCollatorWithPadding(tokenizer)
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(ds.select_columns(keep), batch_size=batch_size, shuffle=shuffle, collate_fn=collate, generator=generator)


def fit(
    model: torch.nn.Module,
    plan: TrainPlan,
    *,
    accelerator: Accelerator,
    optim: OptimConfig,
    grad_clip: float | None,
    seed: int,
    progress: bool = True,
) -> FitResult:
    """Train `model` in place with AdamW for `optim.epochs` passes over `plan.data` (fractions
    allowed), each step's loss from `plan.loss`, the plan's hooks run before the steps."""
    set_seed(seed)
    if plan.epochs is not None:
        optim = replace(optim, epochs=plan.epochs)
    steps_per_epoch = len(plan.data)
    total = total_steps(optim, plan.data)
    optimizer, scheduler = make_optimizer(model, optim, total)
    model, optimizer, data, scheduler = accelerator.prepare(model, optimizer, plan.data, scheduler)
    run = Run(model=model, accelerator=accelerator, batches=cycle(data), total=total, steps_per_epoch=steps_per_epoch)
    for hook in plan.hooks:
        hook.start(run)
    model.train()
    start, loss_value = time.perf_counter(), float("nan")
    bar = progress_bar(total, plan.desc, accelerator, progress)
    for step in range(total):
        for hook in plan.hooks:
            hook.before_step(run, step)
        loss = plan.loss(model, next(run.batches))
        loss_value = optimizer_step(loss, model=model, optimizer=optimizer, scheduler=scheduler, accelerator=accelerator,
                                    grad_clip=grad_clip, where=f"{plan.desc}, step {step}")
        bar.update()
        bar.set_postfix(loss=f"{loss_value:.3f}", **plan.postfix(), refresh=False)
    bar.close()
    model.eval()
    # The Accelerator outlives this run (one per command): drop its references to this run's
    # model, optimizer, loader and scheduler, or every trial's would stay in memory.
    accelerator.free_memory()
    return FitResult(steps=total, seconds=time.perf_counter() - start, last_loss=loss_value, details=plan.details())


def cycle(data: DataLoader) -> Iterator[dict[str, torch.Tensor]]:
    """`data`'s batches, pass after pass, for loops that count steps rather than epochs."""
    while True:
        yield from data


def total_steps(optim: OptimConfig, train: DataLoader) -> int:
    return max(1, math.ceil(optim.epochs * len(train)))


def make_optimizer(model: torch.nn.Module, optim: OptimConfig, total: int) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW (no weight decay on norms and biases) with linear warm-up and decay over `total` steps."""
    decay = [p for n, p in model.named_parameters() if p.ndim > 1 and "norm" not in n.lower()]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim > 1 and "norm" not in n.lower())]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": optim.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=optim.lr)
    return optimizer, get_linear_schedule_with_warmup(optimizer, int(optim.warmup_ratio * total), total)


def optimizer_step(loss: torch.Tensor, *, model: torch.nn.Module, optimizer, scheduler, accelerator: Accelerator, grad_clip: float | None, where: str) -> float:
    """Backward, clip, step, schedule; a non-finite loss stops training (the trial fails as data)."""
    if not torch.isfinite(loss):
        raise NonFiniteLoss(f"{where}: loss became {loss.item()}")
    accelerator.backward(loss)
    if grad_clip:
        accelerator.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad()
    return loss.item()


def progress_bar(total: int, desc: str, accelerator: Accelerator, progress: bool) -> tqdm:
    return tqdm(total=total, desc=desc, leave=False, disable=not progress or not accelerator.is_local_main_process, dynamic_ncols=True)


@torch.inference_mode()
def predict(model: torch.nn.Module, data: DataLoader, *, accelerator: Accelerator) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits [N, K] and labels [N] over `data`, in order (gathered across processes).

    `model` must already sit on `accelerator.device` (the caller placed it); it is not moved, and
    it is left in eval mode. Mixed precision comes from the accelerator (the same autocast as in
    training), so every command measures a model in the precision the study trains it in.
    """
    assert model_device(model) == accelerator.device, f"predict: model on {model_device(model)}, accelerator on {accelerator.device}"
    # Only the loader is prepared (sharded across processes); inference needs no DDP wrapper.
    data = accelerator.prepare_data_loader(data)
    model.eval()
    all_logits, all_labels = [], []
    for batch in data:
        labels = batch.pop("labels")
        with accelerator.autocast():
            logits = model(**batch).logits
        logits, labels = accelerator.gather_for_metrics((logits, labels))
        all_logits.append(logits.float().cpu())
        all_labels.append(labels.cpu())
    accelerator.free_memory()  # the prepared loader is not kept by the command's Accelerator
    return torch.cat(all_logits), torch.cat(all_labels)


def predict_texts(model: torch.nn.Module, ds: datasets.Dataset, tokenizer: PreTrainedTokenizerBase, *, batch_size: int,
                  accelerator: Accelerator) -> torch.Tensor:
    """`predict`'s logits [N, K] on a tokenized dataset without labels (e.g. the teacher on new text)."""
    with_dummy = ds.add_column("labels", [0] * len(ds))  # `predict` batches a labels column; not used here
    logits, _ = predict(model, loader(with_dummy, tokenizer, batch_size=batch_size, shuffle=False), accelerator=accelerator)
    return logits


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float((logits.argmax(-1) == labels).float().mean())
