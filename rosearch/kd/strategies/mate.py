"""mate: MATE-KD (Rashid et al., ACL 2021), adversarial masked-LM augmentation with labels
(rosearch.kd.mate). Prepared once per study: a generator trained briefly on the task's train text."""

from __future__ import annotations

from transformers import PreTrainedModel

from rosearch.kd.mate import AdversarialGame
from rosearch.kd.strategies.base import PrepareContext, Strategy, TrialContext
from rosearch.kd.strategies.generators import cached_generator
from rosearch.train import TrainPlan


class MATE(Strategy):
    name = "mate"

    def prepare(self, ctx: PrepareContext) -> PreTrainedModel:
        return cached_generator(ctx, texts=ctx.prep.splits["train"], name="task")

    def plan(self, ctx: TrialContext) -> TrainPlan:
        return adversarial_plan(ctx, ctx.train_split(), generator=ctx.data, with_labels=True)


def adversarial_plan(ctx: TrialContext, data, *, generator: PreTrainedModel, with_labels: bool) -> TrainPlan:  # noqa: ANN001 - a Dataset
    """The adversarial game on `data` (MATE-KD with labels; zero-shot KD without)."""
    d = ctx.cfg.kd
    game = AdversarialGame(generator, ctx.prep.teacher, ctx.prep.tokenizer, d.generator, temperature=d.temperature, seed=ctx.seed,
                           with_labels=with_labels)
    return TrainPlan(ctx.loader(data), game.loss, desc="adversarial KD", hooks=[game], postfix=game.postfix)
