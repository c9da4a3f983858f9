"""Wilson intervals and the exact McNemar test against hand-computed cases."""

from __future__ import annotations

import math

import pytest

from rosearch.stats import Proportion, format_ci, from_rate, mcnemar, wilson


def _wilson_by_hand(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize("k, n, low, high", [
    (0, 10, 0.0, 0.2775),      # no successes: the interval still reaches 28%
    (5, 10, 0.2366, 0.7634),
    (10, 10, 0.7225, 1.0),
    (25, 50, 0.3664, 0.6336),  # n = 50: about ±13 points around one half
    (95, 500, 0.1576, 0.2271),
])
def test_wilson_matches_hand_computed_values(k: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson(k, n)
    assert lo == pytest.approx(low, abs=5e-4) and hi == pytest.approx(high, abs=5e-4)
    assert (lo, hi) == pytest.approx(_wilson_by_hand(k, n), abs=1e-9)


def test_proportion_and_its_text() -> None:
    p = Proportion(95, 500)
    assert p.value == 0.19 and p.to_dict()["ci95"] == pytest.approx(list(wilson(95, 500)))
    assert str(p) == "19.0% [15.8–22.7]"
    assert from_rate(0.19, 500) == p
    assert format_ci(0.5, None) == "50.0%"
    assert wilson(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize("a, b, a_only, b_only, p", [
    # 10 discordant pairs, all for A: two-sided exact p = 2 / 2**10
    ([True] * 10 + [False] * 5, [False] * 10 + [False] * 5, 10, 0, 2 / 1024),
    # 3 against 1 discordant: p = 2 * P(X <= 1), X ~ Bin(4, 1/2) = 2 * 5/16
    ([True, True, True, False, True, False], [False, False, False, True, True, False], 3, 1, 0.625),
    # concordant only: nothing to tell them apart
    ([True, False, True], [True, False, True], 0, 0, 1.0),
])
def test_mcnemar_exact(a, b, a_only: int, b_only: int, p: float) -> None:
    result = mcnemar(a, b)
    assert (result.a_only, result.b_only) == (a_only, b_only)
    assert result.p_value == pytest.approx(p)
    assert result.difference == pytest.approx((a_only - b_only) / len(a))


def test_mcnemar_needs_the_same_examples() -> None:
    with pytest.raises(ValueError, match="same examples"):
        mcnemar([True], [True, False])
