"""Multi-fidelity search: which candidates earn the full budget (the pure rule; the objective acts on it).

Every candidate first gets a cheap estimate (a short distillation, the in-trial attack subset).
Its cheap figures are ranked with the cheap figures of every finished trial of the study by
constrained non-dominated sorting — the ranking NSGA-II selects its parents by — and a candidate of
rank `promote_rank` or better is trained and attacked in full. Optuna 5 has no pruner for
multi-objective studies, so the decision is taken inside the objective; what NSGA-II sees stays the
cheap figures of every trial, so its populations compare like with like, and the front the user
gets is decided on the full figures of promoted trials (rosearch.search.front.pareto).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

import numpy as np
from optuna.study import StudyDirection
from optuna.study._multi_objective import _fast_non_domination_rank

from rosearch.config import StudyConfig


def losses(values: Sequence[Sequence[float]], directions: Sequence[StudyDirection]) -> np.ndarray:
    """`values` as losses (every objective lower-is-better), shape (n, objectives)."""
    sign = np.array([-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in directions])
    return np.asarray(values, dtype=float).reshape(len(values), len(directions)) * sign


def ranks(values: Sequence[Sequence[float]], directions: Sequence[StudyDirection],
          penalties: Sequence[float] | None = None) -> np.ndarray:
    """The non-domination rank of each row (0: on the front), infeasible rows (penalty > 0)
    ranked after every feasible one, as NSGA-II's constrained sort does (Optuna's own sort: the
    promotion rule and the sampler's selection must agree)."""
    if len(values) == 0:
        return np.array([], dtype=int)
    penalty = None if penalties is None else np.asarray(penalties, dtype=float)
    return _fast_non_domination_rank(losses(values, directions), penalty=penalty)


def penalty(constraints: dict[str, float] | Sequence[float]) -> float:
    """One number per trial from its constraint values (feasible when ≤ 0): the sum of violations."""
    values = constraints.values() if isinstance(constraints, dict) else constraints
    return float(sum(max(0.0, float(v)) for v in values))


def promotion(candidate: Sequence[float], candidate_penalty: float, population: Sequence[Sequence[float]],
              population_penalties: Sequence[float], directions: Sequence[StudyDirection], *, max_rank: int) -> tuple[bool, int]:
    """(promoted?, rank) of a candidate among the population's cheap figures: promoted when it
    is feasible and its rank in population ∪ {candidate} is at most `max_rank`."""
    rows = [*population, candidate]
    rank = int(ranks(rows, directions, [*population_penalties, candidate_penalty])[-1])
    return candidate_penalty <= 0 and rank <= max_rank, rank


def within_share(promoted: int, searched: int, share: float | None) -> bool:
    """Whether one more searched candidate may be promoted when `promoted` of the `searched`
    searched candidates so far (this one included) already were: always without a share (None),
    else while promoted < share × searched — the first candidate may be, then about one in 1/share.
    Why a share: early in a study almost every candidate is on the cheap front of the few before
    it (3 objectives), so rank alone would train nearly all of them in full."""
    return share is None or promoted < share * searched


def cheap_examples(cfg: StudyConfig, prep: Any) -> list[dict[str, Any]] | None:
    """What a cheap estimate is attacked on: the first search.fidelity.cheap_attack_examples of
    the in-trial subset (None: all of it, measure_student's default)."""
    assert cfg.search.fidelity is not None
    k = cfg.search.fidelity.cheap_attack_examples
    return None if k is None else prep.attack_examples[:k]


def cheap_config(cfg: StudyConfig) -> StudyConfig:
    """The study's config for a cheap estimate: the distillation shortened to
    search.fidelity.cheap_epochs passes (its schedule, warm-up and decay included, fitted to them)."""
    assert cfg.search.fidelity is not None
    return replace(cfg, kd=replace(cfg.kd, epochs=cfg.search.fidelity.cheap_epochs), search=replace(cfg.search, fidelity=None))
