"""The `fitness` and `search` sections: RoSearch's weighted score, and the Optuna study."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rosearch.config._checks import fraction, positive
from rosearch.errors import ConfigError

#: The paths each supernet step trains (rosearch.search.weight_sharing.PathSampler says how).
SUPERNET_RULES = ("uniform", "sandwich")


#: Metrics a study can optimise; the direction of each is set in `search.objectives`.
KNOWN_METRICS = ("accuracy", "attack_accuracy", "attack_success_rate", "params", "flops", "latency_ms", "fitness")


@dataclass
class FitnessConfig:
    """RoSearch's weighted fitness: w_acc·accuracy + w_rob·attack_accuracy − w_size·params/teacher_params."""

    accuracy: float = 1.0
    robustness: float = 1.0
    size: float = 0.5

    def __post_init__(self) -> None:
        for name in ("accuracy", "robustness", "size"):
            if getattr(self, name) < 0:
                raise ConfigError(name, getattr(self, name), "Weights are 0 or more.")


@dataclass
class ObjectiveConfig:
    metric: str = "accuracy"
    direction: Literal["maximize", "minimize"] = "maximize"

    def __post_init__(self) -> None:
        if self.metric not in KNOWN_METRICS:
            raise ConfigError("metric", self.metric, f"Use one of: {', '.join(KNOWN_METRICS)}.")


def _default_objectives() -> list[ObjectiveConfig]:
    return [
        ObjectiveConfig("accuracy", "maximize"),
        ObjectiveConfig("attack_accuracy", "maximize"),
        ObjectiveConfig("params", "minimize"),
    ]


@dataclass
class FidelityConfig:
    """Multi-fidelity search (rosearch.search.fidelity): every candidate first gets a cheap
    estimate — a distillation of `cheap_epochs` passes, attacked on the in-trial subset — and only
    those whose cheap figures are of Pareto rank `promote_rank` or better among the study's are
    trained for kd.epochs and attacked on `attack_examples` in-trial examples. NSGA-II sees every
    trial's cheap figures (comparable across the population); the front is decided on full ones."""

    cheap_epochs: float = 0.25
    # In-trial examples the cheap estimate is attacked on (the first of the subset); null: all
    # attack.n_examples of it.
    cheap_attack_examples: int | None = None
    # 0: only candidates on the cheap front are promoted; 1: also the next front; ...
    promote_rank: int = 0
    # At most this share of the searched (not baseline) candidates is promoted, in trial order:
    # a candidate of rank ≤ promote_rank is promoted while fewer than share × (searched candidates
    # so far) were; null: no cap (early in a study nearly every candidate is on the cheap front).
    promote_share: float | None = None
    # In-trial examples a promoted student is attacked on: the subset (attack.n_examples) and more
    # drawn the same way, disjoint from the evaluation set, so the front is ranked on figures whose
    # intervals are a few points wide (±5 points at 300 against ±9 at 100).
    attack_examples: int = 300
    # What the cheap estimate is: "distill" (a distillation of cheap_epochs passes from scratch) or
    # "supernet" (weight sharing, rosearch.search.weight_sharing: the candidate's student takes its
    # weights from a supernet over the space, distilled once per study for supernet_epochs passes,
    # then finetune_epochs more passes of its own — 0: none — before it is measured).
    estimate: Literal["distill", "supernet"] = "distill"
    supernet_epochs: float = 4.0
    # The paths each supernet step trains: "uniform" (one drawn genome) or "sandwich" (the widest
    # and narrowest versions of two drawn genomes and a third as drawn: about 3× a step's cost).
    supernet_rule: Literal["uniform", "sandwich"] = "uniform"
    finetune_epochs: float = 0.0

    def __post_init__(self) -> None:
        if self.estimate not in ("distill", "supernet"):
            raise ConfigError("estimate", self.estimate, "Use distill (a short distillation) or supernet (weight sharing).")
        positive("supernet_epochs", self.supernet_epochs)
        if self.supernet_rule not in SUPERNET_RULES:
            raise ConfigError("supernet_rule", self.supernet_rule, "Use uniform (one path a step) or sandwich (widest, narrowest and one drawn path a step).")
        if not self.finetune_epochs >= 0:  # also refuses NaN
            raise ConfigError("finetune_epochs", self.finetune_epochs, "Use 0 (the inherited weights as they are) or more passes.")
        positive("cheap_epochs", self.cheap_epochs)
        if self.promote_share is not None and not 0 < self.promote_share <= 1:
            raise ConfigError("promote_share", self.promote_share, "Use a share in (0, 1], e.g. 0.1 (one candidate in ten at most), or null for no cap.")
        if self.promote_rank < 0:
            raise ConfigError("promote_rank", self.promote_rank, "Use 0 (the cheap front only) or more.")
        positive("attack_examples", self.attack_examples)
        positive("cheap_attack_examples", self.cheap_attack_examples, allow_none=True)


@dataclass
class SearchConfig:
    """The Optuna study: sampler, objectives, trials and storage."""

    sampler: Literal["nsga2", "tpe", "random"] = "nsga2"
    # NSGA-II generation size.
    population_size: int = 8
    # Trials one `optimize` call adds (the CLI's --n-trials overrides it).
    n_trials: int = 12
    objectives: list[ObjectiveConfig] = field(default_factory=_default_objectives)
    # An Optuna storage URL; null: sqlite:///<runs_dir>/<study name>/study.db.
    storage: str | None = None
    # Clean accuracy a student must reach to be feasible (an Optuna constraint: infeasible trials
    # leave the Pareto front). A near-constant classifier cannot be flipped, so it looks "robust";
    # this floor keeps such students out. null: no floor.
    min_accuracy: float | None = None
    # Most PyTorch latency (ms, batch 1 at latency.seq_len; see `latency`) a student may have to be
    # feasible, an Optuna constraint like min_accuracy. null: no limit.
    max_latency_ms: float | None = None
    # Seconds between heartbeats of a running trial; a trial silent for 2× this is failed and
    # retried once by the next worker (crash recovery). Only for RDB storages.
    heartbeat_interval: int = 60
    # Multi-fidelity search (see FidelityConfig); null: every candidate trained and attacked in full.
    fidelity: FidelityConfig | None = None

    def __post_init__(self) -> None:
        if self.population_size < 2:
            raise ConfigError("population_size", self.population_size, "NSGA-II needs a population of 2 or more.")
        positive("n_trials", self.n_trials)
        positive("heartbeat_interval", self.heartbeat_interval)
        if self.min_accuracy is not None:
            fraction("min_accuracy", self.min_accuracy)
        positive("max_latency_ms", self.max_latency_ms, allow_none=True)
        if not self.objectives:
            raise ConfigError("objectives", self.objectives, "Name at least one metric to optimise.")
        metrics = [o.metric for o in self.objectives]
        if len(set(metrics)) != len(metrics):
            raise ConfigError("objectives", metrics, "Each metric can be an objective only once.")
