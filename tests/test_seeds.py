"""The per-trial seeded sampler (rosearch.search.seeds): seeds from trial numbers, and a draw that
repeats a stored trial is partly re-drawn."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.distributions import IntDistribution
from optuna.samplers import BaseSampler

from rosearch.search.seeds import TrialSeededSampler

GENES = ("a", "b", "c", "d", "e", "f", "g", "h")


class Fixed(BaseSampler):
    """Draws every gene 1 (a crossover of two identical parents), 7 where asked independently."""

    def __init__(self, seed: int, made: list[int]) -> None:
        made.append(seed)

    def infer_relative_search_space(self, study, trial) -> dict[str, Any]:  # noqa: ANN001
        return {name: IntDistribution(0, 9) for name in GENES}

    def sample_relative(self, study, trial, search_space) -> dict[str, Any]:  # noqa: ANN001
        return {name: 1 for name in search_space}

    def sample_independent(self, study, trial, param_name, param_distribution) -> Any:  # noqa: ANN001
        return 7


def _run(seed: int, n: int) -> tuple[list[dict[str, Any]], list[int]]:
    made: list[int] = []
    study = optuna.create_study(sampler=TrialSeededSampler(lambda s: Fixed(s, made), seed=seed))
    study.optimize(lambda t: sum(t.suggest_int(name, 0, 9) for name in GENES), n_trials=n)
    return [t.params for t in study.trials], made


def test_each_trial_samples_with_seed_plus_its_number() -> None:
    _, made = _run(100, 3)
    assert made == [100, 101, 102]


def test_a_draw_that_repeats_a_stored_trial_leaves_a_quarter_of_its_genes_to_random_sampling() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    params, _ = _run(5, 3)
    assert params[0] == dict.fromkeys(GENES, 1)  # nothing stored yet: the draw stands
    for later in params[1:]:
        redrawn = {name for name, value in later.items() if value == 7}
        assert len(redrawn) == len(GENES) // 4 and all(later[name] == 1 for name in set(GENES) - redrawn)
    assert _run(5, 3)[0] == params  # which genes, from the trial's seed: reproducible
    assert any(_run(seed, 2)[0][1] != params[1] for seed in range(6, 12))  # and not the same genes for every seed
