"""Hypervolume of fronts and its paired bootstrap, against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from rosearch.search.hypervolume import Outcomes, compare, hypervolume

T = 1000.0  # the teacher's parameters


@pytest.mark.parametrize("points, expected", [
    ([], 0.0),
    ([(1.0, 1.0, 0.0)], 0.5),                          # (1 − 0.5) × 1 × 1: a perfect, free student
    ([(0.9, 0.5, 500.0)], 0.4 * 0.5 * 0.5),
    # two students: 0.1 + 0.12 − their overlap (acc ≤ 0.7, held ≤ 0.5, size ≥ 0.5: 0.2 × 0.5 × 0.5)
    ([(0.9, 0.5, 500.0), (0.7, 0.8, 250.0)], 0.1 + 0.12 - 0.05),
    ([(0.9, 0.5, 500.0), (0.8, 0.4, 600.0)], 0.1),     # a dominated student adds nothing
    ([(0.9, 0.5, 500.0), (0.45, 0.9, 10.0)], 0.1),     # below chance: outside the reference box
    ([(0.9, 0.5, 1500.0)], 0.0),                       # larger than the teacher
])
def test_hypervolume_of_hand_computed_fronts(points, expected) -> None:
    assert hypervolume(points, teacher_params=T, num_labels=2) == pytest.approx(expected)


def test_three_labels_move_the_reference_to_a_third() -> None:
    assert hypervolume([(1.0, 1.0, 0.0)], teacher_params=T, num_labels=3) == pytest.approx(2 / 3)


def _student(params: float, clean_right: int, held: int, n: int = 100) -> Outcomes:
    return Outcomes(params, np.arange(n) < clean_right, np.arange(n) < held)


def test_the_bootstrap_brackets_the_estimates_and_the_difference() -> None:
    a = [_student(500.0, 90, 50)]
    b = [_student(500.0, 90, 30)]
    c = compare(a, b, teacher_params=T, num_labels=2, resamples=500)
    assert c.a == pytest.approx(0.4 * 0.5 * 0.5) and c.b == pytest.approx(0.4 * 0.3 * 0.5) and c.difference == pytest.approx(0.04)
    assert c.a_ci[0] < c.a < c.a_ci[1] and c.b_ci[0] < c.b < c.b_ci[1]
    # 100 examples: the held share's standard error is ~0.05, so each volume's interval is some
    # ±0.02 wide, and the difference's too: above 0, below twice the estimate
    assert 0.0 < c.difference_ci[0] < c.difference < c.difference_ci[1] < 0.08
    assert compare(a, b, teacher_params=T, num_labels=2, resamples=500).to_dict() == c.to_dict()  # seeded


def test_the_bootstrap_is_paired_identical_fronts_differ_by_exactly_zero() -> None:
    rng = np.random.default_rng(1)
    same = [Outcomes(300.0, rng.random(200) < 0.8, rng.random(200) < 0.4)]
    c = compare(same, same, teacher_params=T, num_labels=2, resamples=200)
    assert c.difference_ci == (0.0, 0.0) and c.a_ci[1] > c.a_ci[0]  # each volume varies; their difference never
