"""Failures inside a trial are data: the trial is marked FAIL with its reason, the study goes on."""

from __future__ import annotations

import optuna
import pytest
import torch

from rosearch.attack.run import AttackCrash
from rosearch.config import SpaceConfig, StudyConfig
from rosearch.errors import ResourceUnavailable, TrialFailure
from rosearch.search import objective as objective_module
from rosearch.search.objective import Objective
from rosearch.train import NonFiniteLoss


@pytest.mark.parametrize(
    "error",
    [NonFiniteLoss("distill: loss became nan at step 3"), torch.OutOfMemoryError("CUDA out of memory"), AttackCrash("deepwordbug: IndexError: boom")],
    ids=["nan", "oom", "attack-crash"],
)
def test_tolerated_failure_marks_the_trial_and_the_study_goes_on(monkeypatch, error) -> None:
    calls = []

    def fake_evaluate(genome, cfg, prep, *, seed, progress, strategy="vanilla"):
        calls.append(seed)
        raise error

    monkeypatch.setattr(objective_module, "evaluate_genome", fake_evaluate)
    cfg = StudyConfig(space=SpaceConfig(hidden_sizes=[16], embedding_sizes=[16], n_cells=[1]))
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"])
    study.optimize(Objective(cfg, prep=None, config_hash="h", progress=False), n_trials=3, catch=(TrialFailure,))
    assert len(calls) == 3 and calls == [0, 1, 2]  # seed + trial number
    for trial in study.trials:
        assert trial.state == optuna.trial.TrialState.FAIL
        assert str(error) in trial.user_attrs["fail_reason"]
        assert trial.user_attrs["genome"]  # the genome is recorded even for failed trials


@pytest.mark.parametrize("error", [ResourceUnavailable("no recipe resources"), ValueError("a bug")], ids=["user-problem", "bug"])
def test_other_errors_stop_the_study(monkeypatch, error) -> None:
    monkeypatch.setattr(objective_module, "evaluate_genome", lambda *a, **k: (_ for _ in ()).throw(error))
    cfg = StudyConfig(space=SpaceConfig(hidden_sizes=[16], embedding_sizes=[16], n_cells=[1]))
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"])
    with pytest.raises(type(error)):
        study.optimize(Objective(cfg, prep=None, config_hash="h", progress=False), n_trials=2, catch=(TrialFailure,))
    assert len(study.trials) == 1


def test_min_accuracy_makes_near_chance_students_infeasible(monkeypatch) -> None:
    """A near-constant classifier cannot be flipped and looks robust; the floor keeps it off the front."""
    from rosearch.attack.metrics import summarise
    from rosearch.attack.run import AttackReport
    from rosearch.config._build import build
    from rosearch.search.evaluate import TrialResult
    from rosearch.search.front import feasible, trial_line
    from rosearch.train.loop import FitResult

    results = iter([(0.53, 0.46), (0.80, 0.20), (0.78, 0.10)])  # (accuracy, accuracy under attack)

    def fake_evaluate(genome, cfg, prep, *, seed, progress, strategy="vanilla"):
        acc, rob = next(results)
        metrics = {"accuracy": acc, "attack_accuracy": rob, "params": 1e6, "fitness": acc + rob}
        report = AttackReport("deepwordbug", summarise([]), 0.0, [])
        return TrialResult(metrics, {"total": 1.0, "train": 1.0, "attack": 0.0}, report, FitResult(1, 1.0, 0.1), None)

    monkeypatch.setattr(objective_module, "evaluate_genome", fake_evaluate)
    cfg = build(StudyConfig, {"space": {"hidden_sizes": [16], "embedding_sizes": [16], "n_cells": [1]}, "search": {"min_accuracy": 0.7}}, "")
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"])
    study.optimize(Objective(cfg, prep=None, config_hash="h", progress=False), n_trials=3)
    assert [feasible(t) for t in study.trials] == [False, True, True]
    assert study.trials[0].constraints == {"min_accuracy": pytest.approx(0.7 - 0.53)}
    assert [t.number for t in study.best_trials] == [1]  # #0 would dominate on robustness, but is infeasible
    assert "infeasible" in trial_line(study.trials[0]) and "infeasible" not in trial_line(study.trials[1])
