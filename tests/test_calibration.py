"""Calibration (rosearch.calibration) against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rosearch.calibration import expected_calibration_error, fit_temperature, nll

P = math.log(0.9 / 0.1)  # a binary logit margin that gives confidence 0.9


@pytest.mark.parametrize("logits, labels, bins, expected", [
    # four examples at confidence 0.9, three right: one bin, |0.75 − 0.9|
    ([[0, P]] * 4, [1, 1, 1, 0], 10, 0.15),
    # all right at 0.9: under-confident by 0.1
    ([[0, P]] * 2, [1, 1], 10, 0.1),
    # two bins: 0.9 (right) and 0.5 ([0, 0], argmax 0, wrong): ½·0.1 + ½·0.5
    ([[0, P], [0, 0]], [1, 1], 10, 0.3),
    # a perfectly calibrated pair at confidence 0.5 with one right
    ([[0, 0], [0, 0]], [0, 1], 10, 0.0),
    # three classes, confidence 1/3 each, right once in three: calibrated
    ([[0, 0, 0]] * 3, [0, 1, 2], 5, pytest.approx(1 / 3 - 1 / 3, abs=1e-12)),
    ([], [], 10, 0.0),
])
def test_ece_against_hand_counts(logits, labels, bins, expected) -> None:
    assert expected_calibration_error(np.array(logits, dtype=float).reshape(len(labels), -1) if logits else np.zeros((0, 2)),
                                      np.array(labels, dtype=int), bins=bins) == pytest.approx(expected)


def test_the_fitted_temperature_makes_over_confident_logits_calibrated() -> None:
    # 80 right and 20 wrong at logit margin 10: the NLL-optimal temperature puts the confidence at
    # 0.8, i.e. margin / T = log(4): T = 10 / log 4
    logits = np.array([[0.0, 10.0]] * 100)
    labels = np.array([1] * 80 + [0] * 20)
    t = fit_temperature(logits, labels)
    assert t == pytest.approx(10 / math.log(4), rel=1e-3)
    assert expected_calibration_error(logits / t, labels) == pytest.approx(0.0, abs=1e-3)
    assert expected_calibration_error(logits, labels) == pytest.approx(0.2, abs=1e-3)
    assert nll(logits, labels, t) < nll(logits, labels)
    assert (np.argmax(logits / t, -1) == np.argmax(logits, -1)).all()  # no prediction changes


def test_an_all_right_model_is_cooled_to_the_bound() -> None:
    logits, labels = np.array([[0.0, 1.0]] * 10), np.ones(10, dtype=int)
    assert fit_temperature(logits, labels, bounds=(0.1, 10.0)) == pytest.approx(0.1, rel=1e-2)
