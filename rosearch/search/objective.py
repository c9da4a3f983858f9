"""The Optuna objective: one trial = suggest a genome, evaluate it, record everything."""

from __future__ import annotations

import optuna
import torch
from optuna_dashboard import save_note

from rosearch.config import StudyConfig
from rosearch.attack.run import AttackCrash
from rosearch.errors import ResourceUnavailable, TrialFailure
from rosearch.prepare import Prepared
from rosearch.search.evaluate import evaluate_genome
from rosearch.search.artifacts import TrialArtifacts
from rosearch.report.architecture import genome_svg
from rosearch.search.genome import suggest, suggest_strategy
from rosearch.search.note import trial_note
from rosearch.train import NonFiniteLoss

#: The one place that decides which failures are data (the trial fails, the study goes on).
#: Anything else is a bug and stops the study with its traceback.
#: Successful adversarial examples in each trial's CSV sample artifact.
SAMPLE_SIZE = 20

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
        limits = constraints(self.cfg, result.metrics)
        for key, value in limits.items():
            trial.set_constraint(key, value)
        trial.set_user_attr("metrics", result.metrics)
        trial.set_user_attr("fitness", result.metrics["fitness"])
        trial.set_user_attr("timings", result.timings)
        report = result.attack
        trial.set_user_attr("attacks", {report.recipe: {**report.metrics.to_dict(), "seconds": report.seconds}})
        examples = report.successes(self.cfg.attack.keep_examples)
        trial.set_user_attr("adversarial_examples", examples)
        save_note(trial, trial_note(
            number=trial.number, architecture=genome.describe(), strategy=strategy, recipe=report.recipe,
            metrics=result.metrics, constraints=limits, examples=examples,
        ))
        if self.artifacts is not None:
            self.artifacts.upload(trial, f"adversarial-{report.recipe}.jsonl", report.records)
            self.artifacts.upload_csv(trial, f"adversarial-sample-{report.recipe}.csv", [
                {k: r[k] for k in ("index", "label", "original_prediction", "perturbed_prediction", "original", "perturbed")}
                for r in report.successes(SAMPLE_SIZE)
            ])
            self.artifacts.upload_text(trial, "architecture.svg", genome_svg(genome, title=f"trial #{trial.number}"), "image/svg+xml")
        return tuple(float(result.metrics[o.metric]) for o in self.cfg.search.objectives)


def constraints(cfg: StudyConfig, metrics: dict[str, float]) -> dict[str, float]:
    """Optuna constraint values (feasible when ≤ 0) of the study's floors and ceilings."""
    values = {}
    if cfg.search.min_accuracy is not None:
        values["min_accuracy"] = cfg.search.min_accuracy - metrics["accuracy"]
    if cfg.search.max_latency_ms is not None:
        values["max_latency_ms"] = metrics["latency_ms"] - cfg.search.max_latency_ms
    return values
