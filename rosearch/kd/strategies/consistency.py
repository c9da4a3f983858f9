"""consistency: logit KD on randomly perturbed copies of the training texts, each with its clean
text's cached teacher logits (rosearch.kd.consistency). Prepared once per study: the perturbed
passes of the train split, one per started epoch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets

from rosearch.config import stable_hash, to_dict
from rosearch.kd.consistency import passes_for, perturbed_passes
from rosearch.kd.strategies.base import PrepareContext, Strategy, TrialContext
from rosearch.train import TrainPlan


class Consistency(Strategy):
    name = "consistency"

    def prepare(self, ctx: PrepareContext) -> datasets.Dataset:
        from rosearch.robust.substitutes import substitutes_for

        cfg, prep, c = ctx.cfg, ctx.prep, ctx.cfg.kd.consistency
        passes = passes_for(cfg.kd.epochs)
        # `substitutes: auto` resolves by what is installed (WordNet or not): the key holds the resolved source
        source, substitutes = substitutes_for(prep.teacher.get_input_embeddings().weight, prep.tokenizer, source=c.substitutes)
        key = stable_hash({"data": prep.keys["data"], "teacher": prep.keys["teacher"], "consistency": to_dict(c), "substitutes": source,
                           "passes": passes, "seed": cfg.seed})
        folder = ctx.cache.get_or_build("consistency", key, lambda tmp: _passes(ctx, passes, source, substitutes, tmp))
        data = datasets.load_from_disk(str(folder))
        ctx.log(f"consistency: {passes} pass(es) of the train split, {sum(data['perturbed'])} of {len(data)} texts perturbed")
        return data

    def plan(self, ctx: TrialContext) -> TrainPlan:
        # The perturbed passes of the same examples, in one loader: `kd.epochs` still counts passes over the data.
        passes = max(ctx.data["pass"]) + 1
        return TrainPlan(ctx.loader(ctx.rows_of(ctx.data)), ctx.kd_loss(), desc="distill (consistency)", epochs=ctx.cfg.kd.epochs / passes)


def _passes(ctx: PrepareContext, passes: int, source: str, substitutes: Any, out: Path) -> None:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    c = ctx.cfg.kd.consistency
    ctx.log(f"consistency: perturbing the train split for {passes} pass(es) ({', '.join(c.kinds)}; synonyms from {source}; cached after)")
    perturbed_passes(ctx.prep.splits["train"], ctx.prep.tokenizer, c, passes=passes, seed=ctx.cfg.seed, max_length=ctx.cfg.data.max_length,
                     stopwords=frozenset(ENGLISH_STOP_WORDS), substitutes=substitutes).save_to_disk(str(out))
