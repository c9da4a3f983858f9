"""Seeds: of each trial's training, and of the sampler's draws for each trial.

Both derive from the study seed and the trial's *number*, which the storage hands out atomically
(one per trial, across every worker on the database). So a single worker is reproducible (trial n
always draws and trains with `seed + n`), while workers started at the same moment never share a
seed: seeding a sampler once per worker with "study seed + trials stored" gave every worker that
opened the study together the same draws.
"""

from __future__ import annotations

import random
from typing import Any, Callable, Sequence

import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from rosearch.search import record
from optuna.trial import FrozenTrial, TrialState


#: The user attr where a trial records its training seed. A trial whose worker died is retried
#: with a copy of its user attrs (Optuna's RetryHeartbeatStaleTrialCallback), so the retry trains
#: with the seed of the trial it replaces: it is that trial, not a new draw.
SEED_ATTR = record.SEED


def trial_seed(study_seed: int, trial: FrozenTrial | optuna.Trial) -> int:
    """The training seed of a trial: the one it recorded (or inherited as a retry), else study
    seed + its number."""
    return record.seed(trial, study_seed)


class TrialSeededSampler(BaseSampler):
    """A sampler that draws each trial with its own fresh sampler, seeded `seed + trial.number`.

    Why by hand: Optuna's samplers take one seed per instance, and one instance per worker is
    what makes simultaneous workers draw alike. NSGA-II, TPE and random sampling keep their
    population and history in the storage, not in the instance, so a fresh instance per trial
    samples exactly as a long-lived one would, with a per-trial random stream.
    """

    def __init__(self, make: Callable[[int], BaseSampler], *, seed: int) -> None:
        self._make = make
        self._seed = seed
        self._samplers: dict[int, BaseSampler] = {}

    def _for(self, trial: FrozenTrial) -> BaseSampler:
        if trial.number not in self._samplers:
            self._samplers[trial.number] = self._make(self._seed + trial.number)
        return self._samplers[trial.number]

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._for(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        """The inner sampler's draw; when it repeats a trial the study already has (NSGA-II's
        crossover of two similar parents often reproduces one of them), a quarter of its genes,
        chosen with the trial's seed, are left to random sampling, as NSGA-II's mutation does."""
        drawn = self._for(trial).sample_relative(study, trial, search_space)
        if not drawn:
            return drawn
        taken = {_key(t.params, drawn) for t in study.get_trials(deepcopy=False) if t.number != trial.number}
        if _key(drawn, drawn) not in taken:
            return drawn
        mutated = random.Random(self._seed + trial.number).sample(sorted(drawn), max(1, len(drawn) // 4))
        return {name: value for name, value in drawn.items() if name not in mutated}

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution) -> Any:
        return self._for(trial).sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._for(trial).before_trial(study, trial)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        self._for(trial).after_trial(study, trial, state, values)
        self._samplers.pop(trial.number, None)

    def reseed_rng(self) -> None:
        pass  # every trial's sampler is seeded from its number; nothing to reseed


def _key(params: dict[str, Any], like: dict[str, Any]) -> tuple:
    """`params` restricted to the names drawn in `like` (the relative search space)."""
    return tuple(sorted((name, repr(params.get(name))) for name in like))
