"""augment: logit KD on a larger transfer set, the training texts plus masked-LM variants labelled
by the teacher (rosearch.kd.augment). Prepared once per study: that transfer set. `kd.epochs`
counts passes over the whole set: (1 + copies) × vanilla's steps."""

from __future__ import annotations

from pathlib import Path

import datasets

from rosearch.config import stable_hash, to_dict
from rosearch.kd.strategies.base import PrepareContext, Strategy, TrialContext
from rosearch.kd.strategies.generators import cached_generator
from rosearch.train import TrainPlan


class Augment(Strategy):
    name = "augment"

    def prepare(self, ctx: PrepareContext) -> datasets.Dataset:
        cfg, prep, a = ctx.cfg, ctx.prep, ctx.cfg.kd.augment
        key = stable_hash({"data": prep.keys["data"], "teacher": prep.keys["teacher"], "augment": to_dict(a), "generator": to_dict(cfg.kd.generator),
                           "seed": cfg.seed})
        folder = ctx.cache.get_or_build("augment", key, lambda tmp: _build(ctx, tmp))
        data = datasets.load_from_disk(str(folder))
        ctx.log(f"augment: a transfer set of {len(data)} texts ({len(prep.splits['train'])} originals, {a.copies} variants each)")
        return data

    def plan(self, ctx: TrialContext) -> TrainPlan:
        return TrainPlan(ctx.loader(ctx.rows_of(ctx.data)), ctx.kd_loss(), desc="distill (augment)")


def _build(ctx: PrepareContext, out: Path) -> None:
    from rosearch.kd.augment import augmented_transfer_set

    cfg, prep, a = ctx.cfg, ctx.prep, ctx.cfg.kd.augment
    generator = cached_generator(ctx, texts=prep.splits["train"], name="task")  # its own copy: moved, not shared
    ctx.log(f"augment: {a.copies} masked-LM variant(s) of each training text, {a.word_share:.0%} of its words re-filled, labelled by the teacher (cached after)")
    augmented_transfer_set(prep.splits["train"], prep.tokenizer, generator, prep.teacher, a, seed=cfg.seed, max_length=cfg.data.max_length,
                           batch_size=cfg.teacher.batch_size, accelerator=ctx.accelerator, log=ctx.log).save_to_disk(str(out))
