"""The searched front against the baselines' front (rosearch.report.fronts), on synthetic rows."""

from __future__ import annotations

import math

import pytest

from rosearch.report.fronts import compare_fronts, section
from rosearch.report.headline import Row

N = 100


def _row(label: str, kind: str, params: float, clean: int, held: int, *, with_clean: bool = True) -> Row:
    """A model that gets the first `clean` examples right and still holds the first `held`."""
    under = {"held": [i < held for i in range(N)], "accuracy_under_attack": held / N, "n": N}
    if with_clean:
        under["clean"] = [i < clean for i in range(N)]
    return Row(label, kind, label, params, clean / N, None, math.nan, {"deepwordbug": under})


BASELINES = [_row("small", "baseline", 200.0, 80, 40), _row("large", "baseline", 600.0, 85, 55)]


@pytest.mark.parametrize("student, expected", [
    (_row("#9", "searched", 300.0, 78, 30), {"small": True}),           # the smaller baseline is better on both: 10 pts held, p < 0.05
    (_row("#9", "searched", 300.0, 79, 39), {"small": False}),          # better by 1 example each: dominated within noise
    (_row("#9", "searched", 300.0, 82, 30), {}),                        # more accurate than every baseline no larger
    (_row("#9", "searched", 150.0, 10, 5), {}),                         # smaller than every baseline
    (_row("#9", "searched", 700.0, 70, 20), {"small": True, "large": True}),
])
def test_dominating_baselines_and_their_significance(student, expected) -> None:
    fronts = compare_fronts([*BASELINES, student], "deepwordbug", teacher_params=1000.0, num_labels=2, resamples=200)
    found = {d["baseline"]: d["significant"] for d in fronts["dominated_by"]["#9"]}
    assert found == expected


def test_a_front_that_adds_a_corner_has_more_volume_and_the_section_says_so() -> None:
    searched = [_row("#9", "searched", 100.0, 90, 60)]  # smaller, more accurate and more robust than both baselines
    fronts = compare_fronts([*BASELINES, *searched], "deepwordbug", teacher_params=1000.0, num_labels=2, resamples=300)
    # searched: (0.9 − 0.5) × 0.6 × 0.9; baselines: small 0.3 × 0.4 × 0.8 + large 0.35 × 0.55 × 0.4 − overlap 0.3 × 0.4 × 0.4
    assert fronts["a"] == pytest.approx(0.4 * 0.6 * 0.9)
    assert fronts["b"] == pytest.approx(0.3 * 0.4 * 0.8 + 0.35 * 0.55 * 0.4 - 0.3 * 0.4 * 0.4)
    assert fronts["difference_ci"][0] > 0 and fronts["n"] == N and fronts["dominated_by"] == {"#9": []}
    text = "\n".join(section(fronts))
    assert "searched − baselines" in text and "#9: not dominated" in text and f"n = {N}" in text


def test_without_per_example_clean_outcomes_it_says_what_to_run() -> None:
    old = [_row("small", "baseline", 200.0, 80, 40, with_clean=False), _row("#9", "searched", 300.0, 78, 30, with_clean=False)]
    fronts = compare_fronts(old, "deepwordbug", teacher_params=1000.0, num_labels=2)
    assert "--again" in fronts["missing"] and "Not computed" in section(fronts)[-1]
