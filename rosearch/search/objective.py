"""The Optuna objective: one trial = suggest a genome, evaluate it, record everything."""

from __future__ import annotations

from typing import Callable

import optuna
import torch
from accelerate import Accelerator

from rosearch.search import record
from rosearch.attack.run import AttackCrash
from rosearch.config import StudyConfig
from rosearch.errors import TrialFailure
from rosearch.prepare import Prepared
from rosearch.search.evaluate import TrialResult, evaluate_genome
from rosearch.search.genome import Genome, suggest, suggest_strategy
from rosearch.search.seeds import trial_seed
from rosearch.search.storage import worker_id
from rosearch.train import NonFiniteLoss

#: Receives each finished trial's structured result while the trial is live (notes, artifacts).
Publish = Callable[[optuna.Trial, Genome, str, TrialResult, dict[str, float]], None]

#: The message of the CPU allocator's out-of-memory error (a plain RuntimeError, unlike CUDA's
#: torch.OutOfMemoryError).
CPU_OOM = "DefaultCPUAllocator: can't allocate memory"


def tolerated(err: BaseException) -> bool:
    """The one place that decides which failures are data (the trial fails, the study goes on):
    a diverged loss, running out of GPU or CPU memory, a crash inside TextAttack. Anything else is
    a bug (or a user's mistake) and stops the study with its message."""
    if isinstance(err, (NonFiniteLoss, torch.OutOfMemoryError, AttackCrash)):
        return True
    return isinstance(err, RuntimeError) and CPU_OOM in str(err)


class Objective:
    def __init__(self, cfg: StudyConfig, prep: Prepared, *, accelerator: Accelerator, config_hash: str,
                 progress: bool = True, publish: Publish | None = None) -> None:
        self.cfg = cfg
        self.prep = prep
        self.accelerator = accelerator
        self.config_hash = config_hash
        self.progress = progress
        self.publish = publish

    def __call__(self, trial: optuna.Trial) -> tuple[float, ...]:
        seed = trial_seed(self.cfg.seed, trial)
        record.start(trial, worker=worker_id(), seed=seed)  # the worker lets a restarted run see that this process died
        genome = suggest(trial, self.cfg.space)
        strategy = suggest_strategy(trial, self.cfg.kd)
        twin = duplicate_of(trial, genome.to_dict(), strategy)
        if twin is not None:  # the sampler avoids these; two workers may still draw one at once
            record.duplicate(trial, twin)
            raise optuna.TrialPruned(f"the same architecture and strategy as trial #{twin}")
        record.describe(trial, genome, strategy, self.config_hash)
        try:
            result = evaluate_genome(genome, self.cfg, self.prep, accelerator=self.accelerator,
                                     seed=seed, strategy=strategy, progress=self.progress)
        except Exception as err:
            if not tolerated(err):
                raise
            reason = f"{type(err).__name__}: {err}"
            record.failed(trial, reason)
            raise TrialFailure(reason) from err
        limits = constraints(self.cfg, result.metrics)
        for key, value in limits.items():
            trial.set_constraint(key, value)
        report = result.attack
        record.measured(trial, metrics=result.metrics, timings=result.timings, training=result.fit.details,  # a2t: attack rounds
                        attacks={report.recipe: {**report.metrics.to_dict(), "seconds": report.seconds}},
                        examples=report.successes(self.cfg.attack.keep_examples))
        if self.publish is not None:
            self.publish(trial, genome, strategy, result, limits)
        return tuple(float(result.metrics[o.metric]) for o in self.cfg.search.objectives)


def duplicate_of(trial: optuna.Trial, genome: dict, strategy: str) -> int | None:
    """The number of a complete or running trial with this genome and strategy, if any: training
    it again would only spend a trial."""
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.RUNNING)
    for other in trial.study.get_trials(deepcopy=False, states=states):
        if other.number != trial.number and other.user_attrs.get(record.GENOME) == genome and other.user_attrs.get(record.STRATEGY) == strategy:
            return other.number
    return None


def constraints(cfg: StudyConfig, metrics: dict[str, float]) -> dict[str, float]:
    """Optuna constraint values (feasible when ≤ 0) of the study's floors and ceilings."""
    values = {}
    if cfg.search.min_accuracy is not None:
        values["min_accuracy"] = cfg.search.min_accuracy - metrics["accuracy"]
    if cfg.search.max_latency_ms is not None:
        values["max_latency_ms"] = metrics["latency_ms"] - cfg.search.max_latency_ms
    return values
