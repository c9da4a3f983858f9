"""Which trials to export: the Pareto front (study.best_trials), the best RoSearch fitness, or
trials named by number (a hand-designed baseline, to re-distil it with the same budget as a
searched student)."""

from __future__ import annotations

from typing import Literal

import optuna

from rosearch.search import record
from rosearch.errors import RosearchError
from rosearch.search.front import feasible, in_full, pareto
from rosearch.search.study import completed

Selection = Literal["pareto", "fitness"]


def select_trials(study: optuna.Study, how: Selection, top: int | None = None) -> list[optuna.trial.FrozenTrial]:
    """Feasible completed trials, best fitness first: the Pareto-optimal ones (`pareto`; Optuna
    leaves infeasible trials out of best_trials) or all of them (`fitness`); at most `top`."""
    pool = pareto(study) if how == "pareto" else [t for t in completed(study) if feasible(t) and in_full(t)]
    ranked = sorted(pool, key=lambda t: (-record.fitness(t, float("-inf")), t.number))
    return ranked[:top] if top is not None else ranked


def named_trials(study: optuna.Study, numbers: list[int]) -> list[optuna.trial.FrozenTrial]:
    """The completed trials with these numbers, in the order given (feasible or not: asked for by name)."""
    done = {t.number: t for t in completed(study)}
    missing = [n for n in numbers if n not in done]
    if missing:
        raise RosearchError(f"--trial {' '.join(map(str, missing))}: no completed trial with that number in study '{study.study_name}' "
                            f"(completed: {', '.join(f'#{n}' for n in sorted(done)) or 'none'}); `rosearch-optuna show` lists them.")
    return [done[n] for n in dict.fromkeys(numbers)]


def folder_name(number: int, metrics: dict[str, float]) -> str:
    """e.g. trial-0007_acc78.5_adv41.0_0.21M: the trial and its key metrics, sortable and path-safe
    (…_augment when re-distilled with another KD strategy)."""
    strategy = f"_{metrics['retrain_strategy']}" if metrics.get("retrain_strategy") else ""
    return f"trial-{number:04d}_acc{100 * metrics['accuracy']:.1f}_adv{100 * metrics['attack_accuracy']:.1f}_{metrics['params'] / 1e6:.2f}M{strategy}"
