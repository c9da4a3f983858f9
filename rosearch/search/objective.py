"""The Optuna objective: one trial = suggest a genome, evaluate it, record everything."""

from __future__ import annotations

from typing import Callable

import optuna
import torch
from accelerate import Accelerator

from rosearch.search import fidelity, record
from rosearch.attack.run import AttackCrash
from rosearch.config import StudyConfig
from rosearch.errors import TrialFailure
from rosearch.prepare import Prepared
from rosearch.search.evaluate import TrialResult, evaluate_genome
from rosearch.search.fidelity import cheap_config, cheap_examples
from rosearch.search.genome import Genome, suggest, suggest_strategy
from rosearch.search.seeds import trial_seed
from rosearch.search.weight_sharing import estimate_trial
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
        if self.cfg.search.fidelity is None:
            result = self._evaluate(trial, genome, strategy, self.cfg, None, seed)
            self._measured(trial, genome, strategy, result)
            return self._values(result.metrics)
        return self._multi_fidelity(trial, genome, strategy, seed)

    def _multi_fidelity(self, trial: optuna.Trial, genome: Genome, strategy: str, seed: int) -> tuple[float, ...]:
        """A cheap estimate, the promotion decided on it (recorded before any full run, so a retry
        resumes from it), the full run if promoted. Returns the cheap figures: what NSGA-II ranks
        is the same quantity for every trial."""
        earlier = record.estimate(trial)
        if earlier is None or not earlier["promoted"]:  # (a retry of an unpromoted trial stopped before its record: estimate again)
            cheap = self._cheap(trial, genome, strategy, seed)
            cheap_limits = constraints(self.cfg, cheap.metrics)
            values = self._values(cheap.metrics)
            promoted, rank, population = self._promotion(trial, values, cheap_limits)
            record.estimated(trial, cheap=cheap.metrics, values=list(values), constraints=cheap_limits,
                             seconds=cheap.timings["total"], promoted=promoted, rank=rank, population=population)
            if not promoted:
                self._measured(trial, genome, strategy, cheap)
                return values
            earlier = record.fidelity(trial)
        full = self._evaluate(trial, genome, strategy, self.cfg, self.prep.promoted_examples, seed)
        record.reached_full(trial, self._measured(trial, genome, strategy, full, set_limits=False))
        for key, value in earlier["constraints"].items():  # the cheap estimate's, like its values
            trial.set_constraint(key, value)
        return tuple(float(v) for v in earlier["values"])

    def _promotion(self, trial: optuna.Trial, values: tuple[float, ...], limits: dict[str, float]) -> tuple[bool, int, int]:
        """(promoted, rank, population size): a baseline always (it is what the search is judged
        against); else by the rank of its cheap figures among the study's finished trials', within
        search.fidelity.promote_share of the searched trials that have an estimate (every state)."""
        trials = trial.study.get_trials(deepcopy=False)  # one read of the storage for both counts
        done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE and t.values is not None]
        promoted, rank = fidelity.promotion(values, fidelity.penalty(limits), [t.values for t in done],
                                            [fidelity.penalty(t.constraints) for t in done], trial.study.directions,
                                            max_rank=self.cfg.search.fidelity.promote_rank)
        if record.is_baseline(trial):
            return True, rank, len(done)
        searched = [f for t in trials if t.number != trial.number and not record.is_baseline(t) and (f := record.fidelity(t))]
        within = fidelity.within_share(sum(bool(f.get("promoted")) for f in searched), len(searched) + 1, self.cfg.search.fidelity.promote_share)
        return promoted and within, rank, len(done)

    def _cheap(self, trial: optuna.Trial, genome: Genome, strategy: str, seed: int) -> TrialResult:
        """The cheap estimate: the candidate's student with the study supernet's weights
        (search.fidelity.estimate "supernet"), or a short distillation of its own."""
        examples = cheap_examples(self.cfg, self.prep)
        if self.cfg.search.fidelity.estimate == "supernet":
            return self._tolerating(trial, lambda: estimate_trial(self.prep.supernet, genome, self.cfg, self.prep, accelerator=self.accelerator,
                                                                   seed=seed, examples=examples, progress=self.progress))
        return self._evaluate(trial, genome, strategy, cheap_config(self.cfg), examples, seed)

    def _evaluate(self, trial: optuna.Trial, genome: Genome, strategy: str, cfg: StudyConfig, examples: list[dict] | None, seed: int) -> TrialResult:
        return self._tolerating(trial, lambda: evaluate_genome(genome, cfg, self.prep, accelerator=self.accelerator, seed=seed, strategy=strategy,
                                                               examples=examples, progress=self.progress))

    def _tolerating(self, trial: optuna.Trial, work: Callable[[], TrialResult]) -> TrialResult:
        """`work()`, a failure that is data (`tolerated`) recorded on the trial as its reason."""
        try:
            return work()
        except Exception as err:
            if not tolerated(err):
                raise
            reason = f"{type(err).__name__}: {err}"
            record.failed(trial, reason)
            raise TrialFailure(reason) from err

    def _measured(self, trial: optuna.Trial, genome: Genome, strategy: str, result: TrialResult, *, set_limits: bool = True) -> dict[str, float]:
        """Record what `result` measured (and publish it); its constraint values, set on the trial
        unless `set_limits` is False."""
        limits = constraints(self.cfg, result.metrics)
        if set_limits:
            for key, value in limits.items():
                trial.set_constraint(key, value)
        report = result.attack
        record.measured(trial, metrics=result.metrics, timings=result.timings, training=result.fit.details,  # a2t: attack rounds
                        attacks={report.recipe: {**report.metrics.to_dict(), "seconds": report.seconds}},
                        examples=report.successes(self.cfg.attack.keep_examples))
        if self.publish is not None:
            self.publish(trial, genome, strategy, result, limits)
        return limits

    def _values(self, metrics: dict[str, float]) -> tuple[float, ...]:
        return tuple(float(metrics[o.metric]) for o in self.cfg.search.objectives)


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
