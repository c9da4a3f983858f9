"""Robustness metrics as the field reports them (TextAttack's summary table), as pure math."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from rosearch.stats import wilson

Status = Literal["succeeded", "failed", "skipped"]


@dataclass(frozen=True)
class Outcome:
    """One attacked example: skipped (model already wrong), failed (still right) or succeeded."""

    status: Status
    words_perturbed: int = 0
    words: int = 1
    queries: int = 0


@dataclass(frozen=True)
class AttackMetrics:
    n: int
    succeeded: int
    failed: int
    skipped: int
    clean_accuracy: float  # on the attack subset, before the attack
    accuracy_under_attack: float  # examples still right after the attack / n
    success_rate: float  # succeeded / (succeeded + failed): attacks on examples the model got right
    avg_perturbed_share: float  # mean share of words changed, over successful attacks
    avg_queries: float  # mean model queries, over attacked (non-skipped) examples
    clean_ci: tuple[float, float] = (0.0, 1.0)  # 95% Wilson interval of clean_accuracy
    under_attack_ci: tuple[float, float] = (0.0, 1.0)  # 95% Wilson interval of accuracy_under_attack

    def to_dict(self) -> dict[str, float | int | list[float]]:
        data = asdict(self)
        data["clean_ci"], data["under_attack_ci"] = list(self.clean_ci), list(self.under_attack_ci)
        return data


def summarise(outcomes: list[Outcome]) -> AttackMetrics:
    n = len(outcomes)
    succeeded = [o for o in outcomes if o.status == "succeeded"]
    failed = sum(o.status == "failed" for o in outcomes)
    skipped = sum(o.status == "skipped" for o in outcomes)
    attacked = [o for o in outcomes if o.status != "skipped"]
    return AttackMetrics(
        n=n,
        succeeded=len(succeeded),
        failed=failed,
        skipped=skipped,
        clean_accuracy=(n - skipped) / n if n else 0.0,
        accuracy_under_attack=failed / n if n else 0.0,
        success_rate=len(succeeded) / len(attacked) if attacked else 0.0,
        avg_perturbed_share=sum(o.words_perturbed / max(o.words, 1) for o in succeeded) / len(succeeded) if succeeded else 0.0,
        avg_queries=sum(o.queries for o in attacked) / len(attacked) if attacked else 0.0,
        clean_ci=wilson(n - skipped, n),
        under_attack_ci=wilson(failed, n),
    )
