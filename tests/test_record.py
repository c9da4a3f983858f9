"""The trial record (rosearch.search.record): what the objective writes is what every reader reads,
and trials stored before the record had a version read the same."""

from __future__ import annotations

import math

import optuna
import pytest

from rosearch.errors import RosearchError
from rosearch.search import record
from rosearch.student.genome import Genome, Node

GENOME = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")),), input_stage="recognizer")


def test_what_the_objective_writes_the_readers_read() -> None:
    study = optuna.create_study(directions=["maximize"])
    trial = study.ask()
    record.start(trial, worker={"host": "h", "pid": 1}, seed=17)
    record.describe(trial, GENOME, "kdiga", "hash")
    metrics = {"accuracy": 0.8, "attack_accuracy": 0.4, "params": 10, "fitness": 1.1}
    record.measured(trial, metrics=metrics, timings={"train": 2.0}, training={}, attacks={"deepwordbug": {"n": 10}},
                    examples=[{"original": "a", "perturbed": "b"}])
    study.tell(trial, 0.8)
    frozen = study.trials[0]
    assert record.version(frozen) == record.VERSION == 1
    assert record.seed(frozen, 0) == 17 and record.worker(frozen) == {"host": "h", "pid": 1}
    assert record.genome(frozen) == GENOME and record.input_stage(frozen) == "recognizer"
    assert record.strategy(frozen, "vanilla") == "kdiga" and record.metrics(frozen) == metrics and record.fitness(frozen) == 1.1
    assert record.timings(frozen) == {"train": 2.0} and record.attacks(frozen) == {"deepwordbug": {"n": 10}}
    assert record.examples(frozen) == [{"original": "a", "perturbed": "b"}] and record.architecture(frozen) == GENOME.describe()
    assert record.TRAINING not in frozen.user_attrs  # nothing written for a strategy without details
    assert not record.is_baseline(frozen) and record.fail_reason(frozen) is None and not record.interrupted(frozen)


def test_a_trial_stored_before_the_record_had_a_version_reads_the_same() -> None:
    old = optuna.trial.create_trial(value=0.5, params={}, distributions={}, user_attrs={
        "genome": GENOME.to_dict(), "kd_strategy": "mate", "baseline": "transformer-s", "metrics": {"accuracy": 0.5}, "seed": 3})
    assert record.version(old) == 0
    assert record.genome(old) == GENOME and record.strategy(old, "vanilla") == "mate" and record.baseline(old) == "transformer-s"
    assert record.seed(old, 100) == 3 and record.metrics(old) == {"accuracy": 0.5}


@pytest.mark.parametrize("attrs,params,expected", [
    ({"kd_strategy": "mate"}, {"kd_strategy": "kdiga"}, "mate"),  # the recorded one first
    ({}, {"kd_strategy": "kdiga"}, "kdiga"),  # then the searched parameter
    ({}, {}, "vanilla"),  # then the study's default
])
def test_the_strategy_is_worked_out_one_way(attrs: dict, params: dict, expected: str) -> None:
    distributions = {"kd_strategy": optuna.distributions.CategoricalDistribution(["kdiga", "mate"])} if params else {}
    trial = optuna.trial.create_trial(value=0.0, params=params, distributions=distributions, user_attrs=attrs)
    assert record.strategy(trial, "vanilla") == expected


def test_missing_parts_read_as_empty_or_refuse_clearly() -> None:
    bare = optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL)
    assert record.metrics(bare) == {} and math.isnan(record.fitness(bare)) and record.interrupted(bare)
    with pytest.raises(RosearchError, match="no stored genome"):
        record.genome(bare)
    reasoned = optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, user_attrs={"fail_reason": "NonFiniteLoss"})
    assert not record.interrupted(reasoned)
