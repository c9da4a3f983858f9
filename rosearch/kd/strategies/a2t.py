"""a2t: logit KD plus adversarial texts from a cheap attack on the student at intervals, after A2T
(Yoo & Qi, 2021; rosearch.kd.a2t). Prepared once per study: the word-substitute source of its
attack's synonym candidates. With an input stage, the attack queries stage + student."""

from __future__ import annotations

from typing import Any, Callable

from rosearch.kd.a2t import AttackRounds
from rosearch.kd.strategies.base import PrepareContext, Strategy, TrialContext
from rosearch.train import TrainPlan


class A2T(Strategy):
    name = "a2t"

    def prepare(self, ctx: PrepareContext) -> tuple[str, Callable[[str], Any]]:
        from rosearch.robust.substitutes import substitutes_for

        a = ctx.cfg.kd.a2t
        source = substitutes_for(ctx.prep.teacher.get_input_embeddings().weight, ctx.prep.tokenizer, source=a.substitutes)
        ctx.log(f"a2t: attack candidates from {', '.join(a.kinds)} (synonyms from {source[0]})")
        return source  # (source name, word → substitutes)

    def plan(self, ctx: TrialContext) -> TrainPlan:
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        d = ctx.cfg.kd
        train = ctx.train_split()
        rounds = AttackRounds(train, ctx.prep.tokenizer, ctx.kd_loss(), a2t=d.a2t, seed=ctx.seed, max_length=ctx.cfg.data.max_length,
                              batch_size=d.batch_size, substitutes=ctx.data[1], stopwords=frozenset(ENGLISH_STOP_WORDS), pipeline=ctx.pipeline)
        return TrainPlan(ctx.loader(train), rounds.loss, desc="distill (a2t)", hooks=[rounds], postfix=rounds.postfix, details=rounds.details)
