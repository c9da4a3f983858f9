"""zeroshot: zero-shot KD (Rashid et al., arXiv 2012.15495), the MATE-KD game on out-of-domain text
with no task data and no labels. Prepared once per study: the out-of-domain texts with the
teacher's logits, and a generator trained on that text only (so no task text reaches the zero-shot
student, not even through the generator)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import datasets
from transformers import PreTrainedModel

from rosearch.config import stable_hash, to_dict
from rosearch.kd.strategies.base import PrepareContext, Strategy, TrialContext
from rosearch.kd.strategies.generators import cached_generator
from rosearch.kd.strategies.mate import adversarial_plan
from rosearch.kd.zeroshot import ood_texts
from rosearch.train import TrainPlan, predict_texts


@dataclass(frozen=True)
class ZeroShotData:
    texts: datasets.Dataset  # out-of-domain text, tokenized, with teacher_logits
    generator: PreTrainedModel  # trained on `texts` only


class ZeroShot(Strategy):
    name = "zeroshot"

    def prepare(self, ctx: PrepareContext) -> ZeroShotData:
        cfg = ctx.cfg
        key = stable_hash({"teacher": ctx.prep.keys["teacher"], "zeroshot": to_dict(cfg.kd.zeroshot), "max_length": cfg.data.max_length, "seed": cfg.seed})
        folder = ctx.cache.get_or_build("ood", key, lambda tmp: _ood(ctx, tmp))
        ood = datasets.load_from_disk(str(folder))
        z = cfg.kd.zeroshot
        ctx.log(f"zero-shot: {len(ood)} out-of-domain texts ({', '.join(z.corpora) if z.source == 'embedded' else z.source})")
        return ZeroShotData(ood, cached_generator(ctx, texts=ood, name="ood"))

    def plan(self, ctx: TrialContext) -> TrainPlan:
        return adversarial_plan(ctx, ctx.data.texts, generator=ctx.data.generator, with_labels=False)


def _ood(ctx: PrepareContext, out: Path) -> None:
    cfg, prep = ctx.cfg, ctx.prep
    texts = ood_texts(cfg.kd.zeroshot, seed=cfg.seed)
    task = set(prep.splits["train"]["text"]) | set(prep.splits["dev"]["text"]) | set(prep.splits["test"]["text"])
    texts = [t for t in texts if t not in task]  # never a task text, even by coincidence
    ctx.log(f"zero-shot: tokenizing {len(texts)} out-of-domain texts and computing the teacher's logits (cached after)")
    ds = datasets.Dataset.from_dict({"text": texts}).map(
        lambda b: prep.tokenizer(b["text"], truncation=True, max_length=cfg.data.max_length), batched=True, desc="tokenize"
    )
    logits = predict_texts(prep.teacher, ds, prep.tokenizer, batch_size=cfg.teacher.batch_size, accelerator=ctx.accelerator)
    ds.add_column("teacher_logits", logits.tolist()).save_to_disk(str(out))
