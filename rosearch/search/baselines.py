"""Hand-designed baselines in the same run (a study's `baselines:` section).

Genomes in the study's space become trials, enqueued before the search with Optuna's
`enqueue_trial`: the same objective, data, distillation, seeds and attacks as every searched
student, and NSGA-II's first population includes them. Standard BERT shapes lie outside the space
(a trial without the space's parameters would empty NSGA-II's shared search space), so they are
distilled and measured the same way beside the study and stored in its user attr `references`.
"""

from __future__ import annotations

from typing import Any

import optuna
from accelerate import Accelerator
from optuna.trial import TrialState

from rosearch.config import StudyConfig, to_dict
from rosearch.config.schema import BaselineConfig, strategies
from rosearch.search.genome import to_params
from rosearch.search.seeds import SEED_ATTR
from rosearch.student.genome import Genome

#: The user attr that flags a baseline trial, and the study attr holding reference models.
BASELINE_ATTR = "baseline"
REFERENCES_ATTR = "references"


def enqueue_baselines(study: optuna.Study, cfg: StudyConfig) -> list[str]:
    """Enqueue the genome baselines the study does not hold yet; returns their names.

    A baseline is held by a trial that is waiting, running, complete or pruned, or that failed for a
    reason that is data (`fail_reason`: a NaN loss, out of memory; retrying would fail alike). A
    trial that failed without a reason was interrupted (Ctrl-C, a crash of the command): the
    baseline is enqueued again, with that trial's seed, so "run the same command again" resumes it.
    """
    held: set[str] = set()
    interrupted: dict[str, optuna.trial.FrozenTrial] = {}
    for t in study.get_trials(deepcopy=False):
        name = t.user_attrs.get(BASELINE_ATTR)
        if name is None:
            continue
        if t.state == TrialState.FAIL and "fail_reason" not in t.user_attrs:
            interrupted.setdefault(name, t)
        else:
            held.add(name)
    added = []
    for b in cfg.baselines:
        if b.genome is None or b.name in held:
            continue
        params = to_params(Genome.from_dict(b.genome), cfg.space)
        names = strategies(cfg.kd)
        if len(names) > 1:  # a searched strategy: the baseline gets the study's first (the plain one)
            params["kd_strategy"] = names[0]
        attrs: dict[str, Any] = {BASELINE_ATTR: b.name}
        if b.name in interrupted and SEED_ATTR in interrupted[b.name].user_attrs:
            attrs[SEED_ATTR] = interrupted[b.name].user_attrs[SEED_ATTR]  # the retry is that trial, as after kill -9
        study.enqueue_trial(params, user_attrs=attrs)
        added.append(b.name)
    return added


def reference_specs(cfg: StudyConfig) -> list[BaselineConfig]:
    return [b for b in cfg.baselines if b.bert is not None]


def reference_seed(cfg: StudyConfig) -> int:
    """Reference models train with the study seed (trials train with seed + number)."""
    return cfg.seed


def build_reference(b: BaselineConfig, cfg: StudyConfig, prep: Any, *, accelerator: Accelerator, progress: bool) -> Any:
    """The reference student, distilled with the study's first strategy and the study seed."""
    from rosearch.kd.strategies import distill_student

    assert b.bert is not None
    student, _ = distill_student(b.bert, cfg, prep, accelerator=accelerator, seed=reference_seed(cfg),
                                 strategy=strategies(cfg.kd)[0], progress=progress)
    return student


def evaluate_references(study: optuna.Study, cfg: StudyConfig, prep: Any, *, accelerator: Accelerator,
                        progress: bool, out: Any = print) -> list[str]:
    """Distil and measure (as a trial is measured) the reference models the study lacks; returns their names."""
    from rosearch.search.evaluate import measure_student

    done = dict(study.user_attrs.get(REFERENCES_ATTR, {}))
    added = []
    for b in reference_specs(cfg):
        if b.name in done:
            continue
        out(f"baseline {b.name}: distilling a BertForSequenceClassification {b.bert.num_layers}×{b.bert.hidden_size} (same data, KD and attack)")
        student = build_reference(b, cfg, prep, accelerator=accelerator, progress=progress)
        measured = measure_student(student, cfg, prep, accelerator=accelerator, recipes=[cfg.attack.recipe], progress=progress)
        report = measured.attacks[cfg.attack.recipe.name]
        done[b.name] = {"shape": to_dict(b.bert), "metrics": measured.metrics, "strategy": strategies(cfg.kd)[0], "seed": reference_seed(cfg),
                        "attacks": {report.recipe: {**report.metrics.to_dict(), "seconds": report.seconds}}}
        study.set_user_attr(REFERENCES_ATTR, done)
        added.append(b.name)
    return added


def baseline_name(trial: optuna.trial.FrozenTrial) -> str | None:
    return trial.user_attrs.get(BASELINE_ATTR)
