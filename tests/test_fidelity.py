"""Multi-fidelity search: the promotion rule (table-driven), the trial record's fidelity, the front
on full figures, resuming in the middle of a promotion, and the promoted students' extra examples."""

from __future__ import annotations

from dataclasses import replace

from types import SimpleNamespace

import optuna
import pytest
from optuna.study import StudyDirection

from rosearch.config import StudyConfig
from rosearch.config._build import build
from rosearch.errors import ConfigError
from rosearch.search import fidelity, record
from rosearch.search import objective as objective_module
from rosearch.search.front import feasible, in_full, pareto, trial_line
from rosearch.search.objective import Objective

UP, DOWN = StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE
DIRS = [UP, UP, DOWN]  # accuracy, under attack, params


@pytest.mark.parametrize(
    "candidate, penalty, population, penalties, max_rank, expected",
    [
        # the first candidate has nothing to be dominated by
        ((0.7, 0.2, 5.0), 0.0, [], [], 0, (True, 0)),
        # dominated by one trial (better on all three): second front
        ((0.7, 0.2, 5.0), 0.0, [(0.8, 0.3, 4.0)], [0.0], 0, (False, 1)),
        # … promoted when the second front is allowed
        ((0.7, 0.2, 5.0), 0.0, [(0.8, 0.3, 4.0)], [0.0], 1, (True, 1)),
        # a trade-off (smaller, less accurate) is not dominated
        ((0.7, 0.2, 2.0), 0.0, [(0.8, 0.3, 4.0)], [0.0], 0, (True, 0)),
        # equal figures do not dominate
        ((0.8, 0.3, 4.0), 0.0, [(0.8, 0.3, 4.0)], [0.0], 0, (True, 0)),
        # a dominating trial that is infeasible does not count: it ranks after every feasible one
        ((0.7, 0.2, 5.0), 0.0, [(0.8, 0.3, 4.0)], [0.1], 0, (True, 0)),
        # an infeasible candidate is never promoted, whatever its figures
        ((0.9, 0.9, 1.0), 0.05, [(0.8, 0.3, 4.0)], [0.0], 3, (False, 1)),
        # third front: dominated by a chain of two
        ((0.5, 0.1, 6.0), 0.0, [(0.7, 0.2, 5.0), (0.8, 0.3, 4.0)], [0.0, 0.0], 1, (False, 2)),
    ],
    ids=["first", "dominated", "rank-1-allowed", "trade-off", "tie", "infeasible-dominator", "infeasible-candidate", "third-front"],
)
def test_promotion(candidate, penalty, population, penalties, max_rank, expected) -> None:
    assert fidelity.promotion(candidate, penalty, population, penalties, DIRS, max_rank=max_rank) == expected


@pytest.mark.parametrize("limits, expected", [({}, 0.0), ({"min_accuracy": -0.1}, 0.0), ({"min_accuracy": 0.05, "max_latency_ms": 1.5}, 1.55)])
def test_penalty_sums_violations(limits, expected) -> None:
    assert fidelity.penalty(limits) == pytest.approx(expected)


def test_cheap_config_shortens_only_the_distillation() -> None:
    cfg = _cfg()
    cheap = fidelity.cheap_config(cfg)
    assert cheap.kd.epochs == 0.25 and cfg.kd.epochs == 1.0
    assert cheap.kd.lr == cfg.kd.lr and cheap.attack == cfg.attack and cheap.search.fidelity is None


@pytest.mark.parametrize(
    "fid, key",
    [({"cheap_epochs": 1.0}, "search.fidelity.cheap_epochs"), ({"attack_examples": 50}, "search.fidelity.attack_examples"),
     ({"promote_rank": -1}, "promote_rank"), ({"cheap_epochs": 0}, "cheap_epochs"),
     ({"cheap_attack_examples": 101}, "search.fidelity.cheap_attack_examples"), ({"estimate": "oneshot"}, "search.fidelity.estimate"),
     ({"supernet_epochs": 0}, "search.fidelity.supernet_epochs"), ({"finetune_epochs": -0.5}, "search.fidelity.finetune_epochs"),
     ({"supernet_rule": "bignas"}, "search.fidelity.supernet_rule"), ({"promote_share": 0}, "search.fidelity.promote_share"),
     ({"promote_share": 1.5}, "search.fidelity.promote_share")],
)
def test_fidelity_settings_are_checked(fid, key) -> None:
    with pytest.raises(ConfigError, match=key):
        build(StudyConfig, {"kd": {"epochs": 1.0}, "attack": {"n_examples": 100}, "search": {"fidelity": fid}}, "")


# --- the objective, on fake evaluations -------------------------------------------------------

#: Per trial: (cheap figures, full figures) as (accuracy, under attack, params).
FIGURES = [
    ((0.70, 0.30, 4e6), (0.80, 0.40, 4e6)),  # 0: the first trial, promoted
    ((0.60, 0.20, 5e6), (0.90, 0.90, 5e6)),  # 1: dominated by #0's cheap figures: not promoted (its full figures are never seen)
    ((0.72, 0.10, 2e6), (0.78, 0.15, 2e6)),  # 2: a trade-off: promoted
    ((0.50, 0.50, 1e6), (0.55, 0.55, 1e6)),  # 3: under min_accuracy when cheap: infeasible, not promoted
]


def _cfg(**search) -> StudyConfig:
    return build(StudyConfig, {"space": {"hidden_sizes": [16, 32], "embedding_sizes": [16], "n_cells": [1, 2]},
                               "attack": {"n_examples": 2},
                               "search": {"fidelity": {"cheap_epochs": 0.25, "attack_examples": 3}, "min_accuracy": 0.55, **search}}, "")


def _fake(calls: list) -> object:
    from rosearch.attack.metrics import summarise
    from rosearch.attack.run import AttackReport
    from rosearch.search.evaluate import TrialResult
    from rosearch.train.loop import FitResult

    def fake_evaluate(genome, cfg, prep, *, accelerator, seed, progress, strategy="vanilla", examples=None):
        level = "cheap" if cfg.kd.epochs < 1.0 else "full"
        calls.append((level, seed, examples))
        trial = seed  # the study seed is 0: the seed is the trial number
        acc, rob, params = FIGURES[trial][0 if level == "cheap" else 1]
        metrics = {"accuracy": acc, "attack_accuracy": rob, "params": params, "latency_ms": 1.0, "fitness": acc + rob}
        return TrialResult(metrics, {"total": 2.0, "train": 1.0, "attack": 0.5}, AttackReport("deepwordbug", summarise([]), 0.0, []),
                           FitResult(1, 1.0, 0.1), None)

    return fake_evaluate


def calls_of(calls: list, level: str) -> list:
    return [c for c in calls if c[0] == level]


PREP = SimpleNamespace(attack_examples=["a", "b"], promoted_examples=["a", "b", "c"])


def test_objective_promotes_on_cheap_figures_and_records_the_fidelity(monkeypatch) -> None:
    calls: list = []
    monkeypatch.setattr(objective_module, "evaluate_genome", _fake(calls))
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0))
    study.set_metric_names(["accuracy", "attack_accuracy", "params"])
    study.optimize(Objective(_cfg(), prep=PREP, accelerator=None, config_hash="h", progress=False), n_trials=4)
    t = study.trials
    assert [record.level(x) for x in t] == ["full", "cheap", "full", "cheap"]
    # NSGA-II sees every trial's cheap figures; the record keeps both
    assert [tuple(x.values) for x in t] == [cheap for cheap, _ in FIGURES]
    assert record.metrics(t[0])["accuracy"] == 0.80 and record.fidelity(t[0])["cheap"]["accuracy"] == 0.70
    assert record.metrics(t[1])["accuracy"] == 0.60 and record.fidelity(t[1])["rank"] == 1
    assert record.fidelity(t[2]) | {"cheap": None} == {"level": "full", "cheap": None, "values": [0.72, 0.10, 2e6], "constraints": {"min_accuracy": 0.55 - 0.72},
                                                       "seconds": 2.0, "promoted": True, "rank": 0, "population": 2,
                                                       "full_constraints": {"min_accuracy": pytest.approx(0.55 - 0.78)}}
    # the full run attacks the promoted examples; the cheap one the in-trial subset (None: the default)
    assert [c[2] for c in calls_of(calls, "full")] == [PREP.promoted_examples] * 2 and {c[2] for c in calls_of(calls, "cheap")} == {None}
    # the cheap constraint (what NSGA-II compares) is on the trial; feasibility for the front is the full run's
    assert t[3].constraints["min_accuracy"] > 0 and not feasible(t[3])
    assert [in_full(x) for x in t] == [True, False, True, False]
    # the front: among promoted trials, on full figures (#1's full figures would dominate, but it was never promoted)
    assert sorted(x.number for x in pareto(study)) == [0, 2]
    assert "[full: promoted at the first trial" in trial_line(t[0]) and "[cheap estimate: rank 1 among 1, not promoted]" in trial_line(t[1])


@pytest.mark.parametrize("promoted, searched, share, expected", [
    (0, 1, None, True), (50, 51, None, True),  # no cap
    (0, 1, 0.1, True),  # the first searched candidate may be promoted
    (1, 2, 0.1, False), (1, 10, 0.1, False), (1, 11, 0.1, True),  # then one in ten
    (3, 30, 0.1, False), (2, 30, 0.1, True),
    (1, 2, 1.0, True), (2, 2, 1.0, False),
])
def test_the_promoted_share_caps_promotions_in_trial_order(promoted, searched, share, expected) -> None:
    assert fidelity.within_share(promoted, searched, share) is expected


@pytest.mark.parametrize("share, levels", [(None, ["full", "cheap", "full", "cheap"]), (0.5, ["full", "cheap", "full", "cheap"]),
                                           (0.3, ["full", "cheap", "cheap", "cheap"])])
def test_the_objective_promotes_within_the_share(monkeypatch, share, levels) -> None:
    """#0 and #2 are on the cheap front; with a share of 0.3 the second of them (one promoted of
    three searched candidates already) stays cheap, its rank recorded."""
    calls: list = []
    monkeypatch.setattr(objective_module, "evaluate_genome", _fake(calls))
    cfg = _cfg()
    cfg = replace(cfg, search=replace(cfg.search, fidelity=replace(cfg.search.fidelity, promote_share=share)))
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(Objective(cfg, prep=PREP, accelerator=None, config_hash="h", progress=False), n_trials=4)
    assert [record.level(x) for x in study.trials] == levels
    assert record.fidelity(study.trials[2])["rank"] == 0 and len(calls_of(calls, "full")) == levels.count("full")


def test_a_retry_resumes_in_the_middle_of_a_promotion(monkeypatch) -> None:
    """A trial that stopped during its full run is retried with a copy of its user attrs (Optuna's
    heartbeat callback, or baselines re-enqueued): the retry goes straight to the full run, with the
    cheap figures and the decision recorded before it stopped."""
    calls: list = []
    monkeypatch.setattr(objective_module, "evaluate_genome", _fake(calls))
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0))
    study.set_metric_names(["accuracy", "attack_accuracy", "params"])
    estimate = {"level": "cheap", "cheap": {"accuracy": 0.70}, "values": [0.70, 0.30, 4e6], "constraints": {"min_accuracy": -0.15},
                "seconds": 2.0, "promoted": True, "rank": 0, "population": 0}
    study.enqueue_trial({"hidden_size": 16}, user_attrs={record.SEED: 0, record.FIDELITY: estimate})
    study.optimize(Objective(_cfg(), prep=PREP, accelerator=None, config_hash="h", progress=False), n_trials=1)
    t = study.trials[0]
    assert [c[0] for c in calls] == ["full"]  # no second cheap estimate
    assert tuple(t.values) == (0.70, 0.30, 4e6) and record.level(t) == "full" and record.metrics(t)["accuracy"] == 0.80


def test_an_interrupted_baseline_is_enqueued_with_its_estimate() -> None:
    from rosearch.search.baselines import enqueue_baselines

    cfg = build(StudyConfig, {"space": {"hidden_sizes": [16], "embedding_sizes": [16], "n_cells": [1], "n_nodes": 1, "ops": ["conv3", "skip"]},
                              "baselines": [{"name": "b", "genome": {"hidden_size": 16, "embedding_size": 16, "n_cells": 1,
                                                                      "nodes": [{"inputs": [1, 1], "ops": ["conv3", "skip"]}]}}]}, "")
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"])
    estimate = {"level": "cheap", "cheap": {}, "values": [0.7, 0.3, 1.0], "constraints": {}, "seconds": 1.0, "promoted": True, "rank": 0, "population": 0}
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, user_attrs={record.BASELINE: "b", record.SEED: 3, record.FIDELITY: estimate}))
    assert enqueue_baselines(study, cfg) == ["b"]
    waiting = study.get_trials(states=(optuna.trial.TrialState.WAITING,))[0]
    assert record.estimate(waiting) == estimate and record.seed(waiting, 0) == 3


def test_the_cheap_estimate_can_attack_fewer_examples(monkeypatch) -> None:
    calls: list = []
    monkeypatch.setattr(objective_module, "evaluate_genome", _fake(calls))
    cfg = _cfg()
    cfg.search.fidelity.cheap_attack_examples = 1
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0))
    study.set_metric_names(["accuracy", "attack_accuracy", "params"])
    study.optimize(Objective(cfg, prep=PREP, accelerator=None, config_hash="h", progress=False), n_trials=1)
    assert [(c[0], c[2]) for c in calls] == [("cheap", ["a"]), ("full", PREP.promoted_examples)]


def test_a_study_without_multi_fidelity_keeps_optunas_front(monkeypatch) -> None:
    calls: list = []
    monkeypatch.setattr(objective_module, "evaluate_genome", _fake(calls))
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(Objective(_cfg(fidelity=None), prep=PREP, accelerator=None, config_hash="h", progress=False), n_trials=3)
    assert {c[0] for c in calls} == {"full"} and not any(record.fidelity(t) for t in study.trials)
    assert [t.number for t in pareto(study)] == [t.number for t in study.best_trials]


def test_promoted_students_get_more_examples_disjoint_from_both_sets() -> None:
    from rosearch.prepare import more_attack_examples, select_attack_sets

    texts = [f"t{i}" for i in range(60)]
    labels = [i % 2 for i in range(60)]
    preds = [l if i % 5 else 1 - l for i, l in enumerate(labels)]  # every fifth example wrong
    search, evaluation = select_attack_sets(texts, labels, preds, n=10, n_eval=20, seed=0)
    more = more_attack_examples(texts, labels, preds, taken=search + evaluation, n=12, seed=0)
    assert more == more_attack_examples(texts, labels, preds, taken=search + evaluation, n=12, seed=0)
    indices = [e["dev_index"] for e in more]
    assert len(indices) == 12 and indices == sorted(indices)
    assert not set(indices) & {e["dev_index"] for e in search + evaluation}
    assert all(preds[i] == labels[i] for i in indices)  # only examples the teacher gets right
    # capped at what is left (48 right, 30 taken)
    assert len(more_attack_examples(texts, labels, preds, taken=search + evaluation, n=100, seed=0)) == 18


def test_a_supernet_study_estimates_by_inherited_weights_and_promotes_to_a_full_distillation(monkeypatch) -> None:
    """search.fidelity.estimate "supernet": the cheap estimate is the study supernet's (on the cheap
    examples), never a short distillation; a promoted candidate is distilled in full as before."""
    calls: list = []
    fake = _fake(calls)
    shared: list = []

    def fake_estimate(supernet, genome, cfg, prep, *, accelerator, seed, examples, progress):
        shared.append((supernet, seed, examples))
        return fake(genome, fidelity.cheap_config(cfg), prep, accelerator=accelerator, seed=seed, progress=progress)  # the fake: "cheap" figures

    monkeypatch.setattr(objective_module, "evaluate_genome", fake)
    monkeypatch.setattr(objective_module, "estimate_trial", fake_estimate)
    cfg = _cfg()
    cfg.search.fidelity.estimate = "supernet"
    prep = SimpleNamespace(**vars(PREP), supernet="the supernet")
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0))
    study.set_metric_names(["accuracy", "attack_accuracy", "params"])
    study.optimize(Objective(cfg, prep=prep, accelerator=None, config_hash="h", progress=False), n_trials=4)
    assert shared == [("the supernet", n, None) for n in range(4)]  # every candidate estimated from the supernet
    assert [c[0] for c in calls] == ["cheap", "full", "cheap", "cheap", "full", "cheap"]  # the fake's "cheap" calls are the estimates
    assert [record.level(t) for t in study.trials] == ["full", "cheap", "full", "cheap"]
