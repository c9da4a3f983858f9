"""The trial record: the one module that knows the user-attr keys a trial is stored under.

Every trial writes its record through the writers here (the objective) and every reader — show,
export, report, the dashboard, attack, benchmarks — reads it through the readers here, so a key
is spelt once. `record_version` says which shape of the record a trial holds; trials stored before
it existed are version 0 and read the same (their keys are those of version 1).

Keys (version 1):
    worker              {host, pid} of the process running the trial (crash recovery)
    seed                the training seed (a retry inherits the trial's, rosearch.search.seeds)
    baseline            the hand-designed baseline's name, for enqueued baselines
    genome              the canonical genome (rosearch.student.genome.Genome.to_dict)
    kd_strategy         the distillation strategy
    architecture        the genome in words
    config_hash         the study configuration's hash
    metrics, fitness    what the trial measured (accuracy, attack_accuracy, params, …), its fitness
    timings, training   seconds per part; a strategy's own training details (A2T's rounds)
    attacks             the in-trial attack's metrics per recipe
    adversarial_examples  a few successful adversarial examples
    fail_reason         why a trial failed for a reason that is data (NaN loss, out of memory, …)
    duplicate_of        the trial this one repeated (pruned)
    fidelity            multi-fidelity studies only (rosearch.search.fidelity): {level: cheap | full,
                        promoted, rank, population, cheap: the cheap estimate's metrics, values and
                        constraints: its objective values and constraint values (what NSGA-II saw),
                        seconds; and, at level full, full_constraints}. `metrics` are then the
                        highest fidelity's; a trial without this key was measured in full.
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from rosearch.errors import RosearchError
from rosearch.student.genome import Genome

#: The record's shape; bumped when a key changes meaning.
VERSION = 1
VERSION_ATTR = "record_version"

WORKER = "worker"
SEED = "seed"
BASELINE = "baseline"
GENOME = "genome"
STRATEGY = "kd_strategy"
ARCHITECTURE = "architecture"
CONFIG_HASH = "config_hash"
METRICS = "metrics"
FITNESS = "fitness"
TIMINGS = "timings"
TRAINING = "training"
ATTACKS = "attacks"
EXAMPLES = "adversarial_examples"
FAIL_REASON = "fail_reason"
DUPLICATE_OF = "duplicate_of"
FIDELITY = "fidelity"

Trial = FrozenTrial | optuna.Trial


# --- readers ----------------------------------------------------------------------------------

def version(trial: Trial) -> int:
    """The record's version (0: stored before records had one; same keys as 1)."""
    return int(trial.user_attrs.get(VERSION_ATTR, 0))


def baseline(trial: Trial) -> str | None:
    """The hand-designed baseline this trial is, or None for a searched trial."""
    return trial.user_attrs.get(BASELINE)


def is_baseline(trial: Trial) -> bool:
    return bool(baseline(trial))


def genome(trial: Trial) -> Genome:
    """The trial's genome; a clear error for a trial that never got one (failed or pruned early)."""
    if GENOME not in trial.user_attrs:
        state = trial.state.name if isinstance(trial, FrozenTrial) else "RUNNING"
        raise RosearchError(f"Trial {trial.number} has no stored genome (state {state}).")
    return Genome.from_dict(trial.user_attrs[GENOME])


def input_stage(trial: Trial) -> str:
    """The trial's input stage gene ("none" or a stage's name)."""
    return genome(trial).input_stage


def strategy(trial: Trial, default: str) -> str:
    """The KD strategy the trial used (`default`: the study's first, for records without one)."""
    return trial.user_attrs.get(STRATEGY) or trial.params.get("kd_strategy") or default


def seed(trial: Trial, study_seed: int) -> int:
    """The training seed the trial recorded (or inherited as a retry), else study seed + number."""
    return int(trial.user_attrs.get(SEED, study_seed + trial.number))


def metrics(trial: Trial) -> dict[str, Any]:
    return dict(trial.user_attrs.get(METRICS, {}))


def fitness(trial: Trial, default: float = float("nan")) -> float:
    """RoSearch's fitness the trial measured (`default` when it measured nothing)."""
    return float(trial.user_attrs.get(FITNESS, default))


def architecture(trial: Trial) -> str:
    return trial.user_attrs.get(ARCHITECTURE, "")


def timings(trial: Trial) -> dict[str, float]:
    return dict(trial.user_attrs.get(TIMINGS, {}))


def attacks(trial: Trial) -> dict[str, Any]:
    return dict(trial.user_attrs.get(ATTACKS, {}))


def examples(trial: Trial) -> list[dict[str, Any]]:
    return list(trial.user_attrs.get(EXAMPLES, []))


def duplicate_of(trial: Trial) -> int | None:
    return trial.user_attrs.get(DUPLICATE_OF)


def worker(trial: Trial) -> dict[str, Any]:
    return dict(trial.user_attrs.get(WORKER) or {})


def has_genome(trial: Trial) -> bool:
    return GENOME in trial.user_attrs


def fail_reason(trial: Trial) -> str | None:
    return trial.user_attrs.get(FAIL_REASON)


def fidelity(trial: Trial) -> dict[str, Any]:
    """The trial's multi-fidelity record ({} for a trial measured in full only)."""
    return dict(trial.user_attrs.get(FIDELITY) or {})


def level(trial: Trial) -> str:
    """"full" (trained and attacked in full: promoted, or a study without multi-fidelity) or "cheap"."""
    return fidelity(trial).get("level", "full")


def estimate(trial: Trial) -> dict[str, Any] | None:
    """A cheap estimate the trial already made and the promotion decided on it — one a retry
    inherits from the trial it replaces, so resuming in the middle of a promotion goes straight to
    the full run — or None."""
    f = fidelity(trial)
    return f if "cheap" in f and "promoted" in f else None


def front_figures(trial: FrozenTrial, names: list[str]) -> tuple[list[float], dict[str, float]] | None:
    """What the front is decided on: a trial's full objective values (metrics `names`) and
    constraint values; None for a trial that has only a cheap estimate."""
    f = fidelity(trial)
    if not f:
        return list(trial.values), dict(trial.constraints)
    if f.get("level") != "full":
        return None
    m = metrics(trial)
    return [float(m[name]) for name in names], dict(f.get("full_constraints", {}))


def interrupted(trial: FrozenTrial) -> bool:
    """Failed without a reason of ours: stopped from outside (Ctrl-C, a crash of the command)."""
    return trial.state == TrialState.FAIL and FAIL_REASON not in trial.user_attrs


# --- writers (the objective) -----------------------------------------------------------------

def start(trial: optuna.Trial, *, worker: dict[str, Any], seed: int) -> None:
    """What a trial records before any work: its version, worker and seed."""
    trial.set_user_attr(VERSION_ATTR, VERSION)
    trial.set_user_attr(WORKER, worker)
    trial.set_user_attr(SEED, seed)


def describe(trial: optuna.Trial, genome: Genome, strategy: str, config_hash: str) -> None:
    trial.set_user_attr(GENOME, genome.to_dict())
    trial.set_user_attr(STRATEGY, strategy)
    trial.set_user_attr(ARCHITECTURE, genome.describe())
    trial.set_user_attr(CONFIG_HASH, config_hash)


def duplicate(trial: optuna.Trial, twin: int) -> None:
    trial.set_user_attr(DUPLICATE_OF, twin)


def failed(trial: optuna.Trial, reason: str) -> None:
    trial.set_user_attr(FAIL_REASON, reason[:2000])


def estimated(trial: optuna.Trial, *, cheap: dict[str, Any], values: list[float], constraints: dict[str, float],
              seconds: float, promoted: bool, rank: int, population: int) -> None:
    """The cheap estimate and the promotion decided on it, written before any full run."""
    trial.set_user_attr(FIDELITY, {"level": "cheap", "cheap": cheap, "values": values, "constraints": constraints,
                                   "seconds": seconds, "promoted": promoted, "rank": rank, "population": population})


def reached_full(trial: optuna.Trial, constraints: dict[str, float]) -> None:
    """The promoted trial's full run finished: its metrics are the full ones."""
    trial.set_user_attr(FIDELITY, {**fidelity(trial), "level": "full", "full_constraints": constraints})


def measured(trial: optuna.Trial, *, metrics: dict[str, Any], timings: dict[str, float], training: dict[str, Any] | None,
             attacks: dict[str, Any], examples: list[dict[str, Any]]) -> None:
    trial.set_user_attr(METRICS, metrics)
    trial.set_user_attr(FITNESS, metrics["fitness"])
    trial.set_user_attr(TIMINGS, timings)
    if training:
        trial.set_user_attr(TRAINING, training)
    trial.set_user_attr(ATTACKS, attacks)
    trial.set_user_attr(EXAMPLES, examples)
