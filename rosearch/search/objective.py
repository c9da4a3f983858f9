"""The Optuna objective: one trial = suggest a genome, evaluate it, record everything."""

from __future__ import annotations

import optuna
import torch

from rosearch.config import StudyConfig
from rosearch.attack.run import AttackCrash
from rosearch.errors import ResourceUnavailable, TrialFailure
from rosearch.prepare import Prepared
from rosearch.search.evaluate import evaluate_genome
from rosearch.search.artifacts import TrialArtifacts
from rosearch.search.genome import suggest, suggest_strategy
from rosearch.train import NonFiniteLoss

#: The one place that decides which failures are data (the trial fails, the study goes on).
#: Anything else is a bug and stops the study with its traceback.
TOLERATED: tuple[type[BaseException], ...] = (NonFiniteLoss, torch.OutOfMemoryError, AttackCrash)


class Objective:
    def __init__(self, cfg: StudyConfig, prep: Prepared, *, config_hash: str, progress: bool = True, artifacts: TrialArtifacts | None = None) -> None:
        self.cfg = cfg
        self.prep = prep
        self.config_hash = config_hash
        self.progress = progress
        self.artifacts = artifacts

    def __call__(self, trial: optuna.Trial) -> tuple[float, ...]:
        genome = suggest(trial, self.cfg.space)
        strategy = suggest_strategy(trial, self.cfg.kd)
        trial.set_user_attr("genome", genome.to_dict())
        trial.set_user_attr("kd_strategy", strategy)
        trial.set_user_attr("architecture", genome.describe())
        trial.set_user_attr("config_hash", self.config_hash)
        try:
            result = evaluate_genome(genome, self.cfg, self.prep, seed=self.cfg.seed + trial.number, strategy=strategy, progress=self.progress)
        except ResourceUnavailable:
            raise  # a user problem, not this trial's: stop with the message
        except TOLERATED as err:
            reason = f"{type(err).__name__}: {err}"
            trial.set_user_attr("fail_reason", reason[:2000])
            raise TrialFailure(reason) from err
        if self.cfg.search.min_accuracy is not None:  # feasible when ≤ 0
            trial.set_constraint("min_accuracy", self.cfg.search.min_accuracy - result.metrics["accuracy"])
        trial.set_user_attr("metrics", result.metrics)
        trial.set_user_attr("fitness", result.metrics["fitness"])
        trial.set_user_attr("timings", result.timings)
        report = result.attack
        trial.set_user_attr("attacks", {report.recipe: {**report.metrics.to_dict(), "seconds": report.seconds}})
        trial.set_user_attr("adversarial_examples", report.successes(self.cfg.attack.keep_examples))
        if self.artifacts is not None:
            self.artifacts.upload(trial, f"adversarial-{report.recipe}.jsonl", report.records)
        return tuple(float(result.metrics[o.metric]) for o in self.cfg.search.objectives)
