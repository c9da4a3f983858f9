"""Which trials to export: the Pareto front (study.best_trials) or the best RoSearch fitness."""

from __future__ import annotations

from typing import Literal

import optuna

from rosearch.search.front import feasible
from rosearch.search.study import completed

Selection = Literal["pareto", "fitness"]


def select_trials(study: optuna.Study, how: Selection, top: int | None = None) -> list[optuna.trial.FrozenTrial]:
    """Feasible completed trials, best fitness first: the Pareto-optimal ones (`pareto`; Optuna
    leaves infeasible trials out of best_trials) or all of them (`fitness`); at most `top`."""
    pool = list(study.best_trials) if how == "pareto" else [t for t in completed(study) if feasible(t)]
    ranked = sorted(pool, key=lambda t: (-t.user_attrs.get("fitness", float("-inf")), t.number))
    return ranked[:top] if top is not None else ranked


def folder_name(number: int, metrics: dict[str, float]) -> str:
    """e.g. trial-0007_acc78.5_adv41.0_0.21M: the trial and its key metrics, sortable and path-safe."""
    return f"trial-{number:04d}_acc{100 * metrics['accuracy']:.1f}_adv{100 * metrics['attack_accuracy']:.1f}_{metrics['params'] / 1e6:.2f}M"
