"""Numbers with their uncertainty: Wilson intervals for proportions, and the exact McNemar test
for two models attacked on the same examples. Pure functions over counts and per-example flags;
scipy does the statistics (binomtest), we only arrange the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

#: Confidence of every interval the tool shows.
CONFIDENCE = 0.95


def wilson(k: int, n: int, *, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The Wilson score interval of k successes in n trials ((0, 1) when n is 0)."""
    if n == 0:
        return 0.0, 1.0
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class Proportion:
    """k of n, with its Wilson interval."""

    k: int
    n: int

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    def to_dict(self) -> dict[str, float | int | list[float]]:
        return {"value": self.value, "k": self.k, "n": self.n, "ci95": list(self.interval)}

    def __str__(self) -> str:
        return format_ci(self.value, self.interval)


def from_rate(rate: float, n: int) -> Proportion:
    """The proportion behind a rate measured on n examples (rate · n is a whole count)."""
    return Proportion(int(round(rate * n)), n)


def format_ci(value: float, interval: tuple[float, float] | list[float] | None) -> str:
    """e.g. "81.2% [78.1–84.0]"; just the value when no interval is known."""
    if interval is None:
        return f"{value:.1%}"
    low, high = interval
    return f"{value:.1%} [{100 * low:.1f}–{100 * high:.1f}]"


@dataclass(frozen=True)
class PairedComparison:
    """Models A and B on the same examples: the exact McNemar test on "held" (still correct)."""

    n: int
    a_only: int  # examples A holds and B loses
    b_only: int  # examples B holds and A loses
    p_value: float

    @property
    def difference(self) -> float:
        """A's share held minus B's, over the same n examples."""
        return (self.a_only - self.b_only) / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {"n": self.n, "a_only": self.a_only, "b_only": self.b_only, "difference": self.difference, "p_value": self.p_value}


def mcnemar(a: Sequence[bool], b: Sequence[bool]) -> PairedComparison:
    """Exact McNemar test: a binomial test of the discordant pairs against 1/2 (two-sided).

    `a[i]` and `b[i]` say whether each model is still correct on example i after the attack.
    """
    if len(a) != len(b):
        raise ValueError(f"paired comparison needs the same examples: {len(a)} against {len(b)}")
    a_only = sum(1 for x, y in zip(a, b) if x and not y)
    b_only = sum(1 for x, y in zip(a, b) if y and not x)
    if a_only + b_only == 0:
        return PairedComparison(len(a), 0, 0, 1.0)
    from scipy.stats import binomtest

    return PairedComparison(len(a), a_only, b_only, float(binomtest(a_only, a_only + b_only, 0.5).pvalue))
