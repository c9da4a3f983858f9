"""vanilla: logit KD (Hinton et al., 2015) from the study's cached (or the online) teacher logits."""

from __future__ import annotations

from rosearch.kd.strategies.base import Strategy, TrialContext
from rosearch.train import TrainPlan


class Vanilla(Strategy):
    name = "vanilla"

    def plan(self, ctx: TrialContext) -> TrainPlan:
        return TrainPlan(ctx.loader(ctx.train_split()), ctx.kd_loss(), desc="distill (vanilla)")
