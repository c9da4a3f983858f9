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


#: What the CPU allocator raised here for a student of embedding width 1,000,000 (a plain RuntimeError).
CPU_OOM = RuntimeError("[enforce fail at alloc_cpu.cpp:119] data. DefaultCPUAllocator: can't allocate memory: you tried to allocate 122088000000 bytes. Error code 12 (Cannot allocate memory)")


@pytest.mark.parametrize(
    "error",
    [NonFiniteLoss("distill: loss became nan at step 3"), torch.OutOfMemoryError("CUDA out of memory"), CPU_OOM, AttackCrash("deepwordbug: IndexError: boom")],
    ids=["nan", "cuda-oom", "cpu-oom", "attack-crash"],
)
def test_tolerated_failure_marks_the_trial_and_the_study_goes_on(monkeypatch, error) -> None:
    calls = []

    def fake_evaluate(genome, cfg, prep, *, accelerator, seed, progress, strategy="vanilla", examples=None):
        calls.append(seed)
        raise error

    monkeypatch.setattr(objective_module, "evaluate_genome", fake_evaluate)
    cfg = StudyConfig(space=SpaceConfig(hidden_sizes=[16], embedding_sizes=[16], n_cells=[1]))
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"])
    study.optimize(Objective(cfg, prep=None, accelerator=None, config_hash="h", progress=False), n_trials=3, catch=(TrialFailure,))
    assert len(calls) == 3 and calls == [0, 1, 2]  # seed + trial number
    for trial in study.trials:
        assert trial.state == optuna.trial.TrialState.FAIL
        assert str(error) in trial.user_attrs["fail_reason"]
        assert trial.user_attrs["genome"]  # the genome is recorded even for failed trials


@pytest.mark.parametrize(
    "error",
    [ResourceUnavailable("no recipe resources"), ValueError("a bug"), RuntimeError("shape mismatch: a bug, not memory")],
    ids=["user-problem", "bug", "other-runtime-error"],
)
def test_other_errors_stop_the_study(monkeypatch, error) -> None:
    monkeypatch.setattr(objective_module, "evaluate_genome", lambda *a, **k: (_ for _ in ()).throw(error))
    cfg = StudyConfig(space=SpaceConfig(hidden_sizes=[16], embedding_sizes=[16], n_cells=[1]))
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"])
    with pytest.raises(type(error)):
        study.optimize(Objective(cfg, prep=None, accelerator=None, config_hash="h", progress=False), n_trials=2, catch=(TrialFailure,))
    assert len(study.trials) == 1


@pytest.mark.parametrize(
    "search, expected_feasible, constraint, front",
    [
        # A near-constant classifier cannot be flipped and looks robust; the floor keeps it off the front.
        ({"min_accuracy": 0.7}, [False, True, True], ("min_accuracy", 0.7 - 0.53), [1]),
        # "at most N ms": the slow student #1 leaves the front.
        ({"max_latency_ms": 5.0}, [True, False, True], ("max_latency_ms", 0.0 - 5.0), [0, 2]),
        ({"min_accuracy": 0.7, "max_latency_ms": 5.0}, [False, False, True], ("max_latency_ms", 0.0 - 5.0), [2]),
    ],
    ids=["min-accuracy", "max-latency", "both"],
)
def test_constraints_make_students_infeasible(monkeypatch, search, expected_feasible, constraint, front) -> None:
    from optuna_dashboard._note import get_note_from_system_attrs

    from rosearch.attack.metrics import summarise
    from rosearch.attack.run import AttackReport
    from rosearch.config._build import build
    from rosearch.dashboard.publish import publish_trial
    from rosearch.search.evaluate import TrialResult
    from rosearch.search.front import feasible, trial_line
    from rosearch.train.loop import FitResult

    results = iter([(0.53, 0.46, 0.0), (0.80, 0.20, 9.0), (0.78, 0.10, 1.0)])  # (accuracy, under attack, latency ms)

    def fake_evaluate(genome, cfg, prep, *, accelerator, seed, progress, strategy="vanilla", examples=None):
        acc, rob, ms = next(results)
        metrics = {"accuracy": acc, "attack_accuracy": rob, "params": 1e6, "latency_ms": ms, "fitness": acc + rob}
        report = AttackReport("deepwordbug", summarise([]), 0.0, [])
        return TrialResult(metrics, {"total": 1.0, "train": 1.0, "attack": 0.0}, report, FitResult(1, 1.0, 0.1), None)

    monkeypatch.setattr(objective_module, "evaluate_genome", fake_evaluate)
    cfg = build(StudyConfig, {"space": {"hidden_sizes": [16], "embedding_sizes": [16], "n_cells": [1]}, "search": search}, "")
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"])
    publish = lambda *a: publish_trial(None, *a)  # noqa: E731 - notes only, no artifact store
    study.optimize(Objective(cfg, prep=None, accelerator=None, config_hash="h", progress=False, publish=publish), n_trials=3)
    assert [feasible(t) for t in study.trials] == expected_feasible
    key, value = constraint
    assert study.trials[0].constraints[key] == pytest.approx(value)
    assert sorted(t.number for t in study.best_trials) == front  # infeasible trials never enter the front
    for t, ok in zip(study.trials, expected_feasible):
        assert ("infeasible" in trial_line(t)) == (not ok)
        # optuna-dashboard's note for the trial: architecture, metrics, fitness, feasibility
        note = get_note_from_system_attrs(study._storage.get_study_system_attrs(study._study_id), t._trial_id)["body"]
        assert f"Trial {t.number}: RoSearch fitness {t.user_attrs['fitness']:.3f}" in note
        assert t.user_attrs["architecture"].split("; cell: ")[0] in note and "accuracy under attack" in note
        assert ("Infeasible" in note) == (not ok)


def test_a_student_too_large_for_memory_fails_as_cpu_oom() -> None:
    """The real error of `embedding_sizes: [16, 1000000]` on the CPU is the one tolerated."""
    from rosearch.search.objective import tolerated
    from rosearch.student import build_student
    from rosearch.student.genome import Genome, Node

    genome = Genome(16, 1_000_000, 1, (Node((0, 1), ("conv3", "skip")),))
    with pytest.raises(RuntimeError) as info:
        build_student(genome, vocab_size=30522, num_labels=2, pad_token_id=0, max_position_embeddings=32, dropout=0.0)
    assert tolerated(info.value), str(info.value)
    assert not tolerated(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))


def test_trial_seed_is_recorded_and_kept_by_a_retry() -> None:
    """A retried trial (Optuna copies the dead trial's user attrs) trains with the dead trial's seed."""
    from rosearch.search.seeds import SEED_ATTR, trial_seed

    fresh = optuna.trial.create_trial(state=optuna.trial.TrialState.WAITING, user_attrs={})
    assert trial_seed(10, fresh) == 10 + fresh.number
    retry = optuna.trial.create_trial(state=optuna.trial.TrialState.WAITING, user_attrs={SEED_ATTR: 17})
    assert trial_seed(10, retry) == 17


def test_a_repeated_genome_is_pruned_not_trained_again(monkeypatch) -> None:
    """Two trials with the same parameters (e.g. two workers' simultaneous draws): the second is
    pruned with the trial it repeats, and says so in the optimize log."""
    from rosearch.search.front import trial_line
    from rosearch.search.genome import suggest, to_params

    calls = []
    monkeypatch.setattr(objective_module, "evaluate_genome", lambda *a, **k: calls.append(1) or (_ for _ in ()).throw(NonFiniteLoss("x")))
    cfg = StudyConfig(space=SpaceConfig(hidden_sizes=[16], embedding_sizes=[16], n_cells=[1]))
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"])
    first = study.ask()
    genome = suggest(first, cfg.space)
    first.set_user_attr("genome", genome.to_dict())
    first.set_user_attr("kd_strategy", "vanilla")  # `first` stays RUNNING, as on another worker
    study.enqueue_trial(to_params(genome, cfg.space))
    objective = Objective(cfg, prep=None, accelerator=None, config_hash="h", progress=False)
    study.optimize(objective, n_trials=1, catch=(TrialFailure,))
    repeat = study.trials[-1]
    assert repeat.state == optuna.trial.TrialState.PRUNED and repeat.user_attrs["duplicate_of"] == first.number
    assert calls == [] and f"same architecture and strategy as trial #{first.number}" in trial_line(repeat)
