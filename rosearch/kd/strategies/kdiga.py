"""kdiga: logit KD plus input-gradient alignment with the teacher (rosearch.kd.kdiga).

Prepared once per study: the teacher's per-token input gradients on the train split (cached),
kept as the train split with a `teacher_saliency` column."""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import torch

from rosearch.config import stable_hash
from rosearch.kd.kdiga import kdiga_loss, token_saliency
from rosearch.kd.strategies.base import PrepareContext, Strategy, TrialContext
from rosearch.train import TrainPlan, loader, model_device


class KDIGA(Strategy):
    name = "kdiga"

    def prepare(self, ctx: PrepareContext) -> datasets.Dataset:
        key = stable_hash({"teacher": ctx.prep.keys["teacher"], "what": "saliency"})
        folder = ctx.cache.get_or_build("teacher_saliency", key, lambda tmp: _saliency(ctx, tmp))
        return ctx.prep.splits["train"].add_column("teacher_saliency", np.load(folder / "train_saliency.npy").tolist())

    def plan(self, ctx: TrialContext) -> TrainPlan:
        k = ctx.cfg.kd.kdiga
        train = ctx.data.select(range(len(ctx.train_split())))  # the same examples as the other strategies

        def loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            mask = batch["attention_mask"]
            logits, saliency = token_saliency(model, batch["input_ids"], mask, batch["labels"], create_graph=True)
            teacher_saliency = batch["teacher_saliency"][:, : mask.shape[1]]  # cached at max_length: [B, L]
            return kdiga_loss(logits, batch["teacher_logits"], batch["labels"], saliency, teacher_saliency,
                              temperature=k.temperature, alpha=k.alpha, gamma=k.gamma)

        return TrainPlan(ctx.loader(train, extra=("teacher_logits", "teacher_saliency")), loss, desc="distill (kdiga)")


def _saliency(ctx: PrepareContext, out: Path) -> None:
    ctx.log("kdiga: computing the teacher's input gradients on train (cached after)")
    cfg, prep = ctx.cfg, ctx.prep
    teacher = prep.teacher
    device = model_device(teacher)  # batches go where the teacher is; the teacher is not moved
    rows = []
    for batch in loader(prep.splits["train"], prep.tokenizer, batch_size=cfg.teacher.batch_size, shuffle=False):
        batch = {k: v.to(device) for k, v in batch.items()}
        _, s = token_saliency(teacher, batch["input_ids"], batch["attention_mask"], batch["labels"], create_graph=False)
        padded = torch.zeros(s.shape[0], cfg.data.max_length)
        padded[:, : s.shape[1]] = s.detach().float().cpu()
        rows.append(padded)
    np.save(out / "train_saliency.npy", torch.cat(rows).numpy())
