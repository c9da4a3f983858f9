from __future__ import annotations

import math

import pytest
import torch

from rosearch.search.fitness import rosearch_fitness
from rosearch.config import FitnessConfig
from rosearch.train.losses import kd_loss


def _hand_kd(s: list[float], t: list[float], y: int, tau: float, alpha: float) -> float:
    ps = [math.exp(v / tau) for v in s]
    pt = [math.exp(v / tau) for v in t]
    ps = [p / sum(ps) for p in ps]
    pt = [p / sum(pt) for p in pt]
    kl = sum(q * math.log(q / p) for p, q in zip(ps, pt))
    ce = -math.log(math.exp(s[y]) / sum(math.exp(v) for v in s))
    return alpha * tau**2 * kl + (1 - alpha) * ce


@pytest.mark.parametrize(
    "s, t, y, tau, alpha",
    [
        ([1.0, 0.0], [1.0, 0.0], 0, 1.0, 0.5),
        ([0.0, 2.0], [3.0, -1.0], 0, 1.0, 0.5),
        ([0.0, 2.0], [3.0, -1.0], 1, 2.0, 0.9),
        ([0.5, -0.5, 1.0], [0.1, 0.2, 0.3], 2, 4.0, 1.0),
        ([0.5, -0.5, 1.0], [0.1, 0.2, 0.3], 1, 1.0, 0.0),
    ],
)
def test_kd_loss_matches_hand_computation(s, t, y, tau, alpha) -> None:
    got = kd_loss(torch.tensor([s]), torch.tensor([t]), torch.tensor([y]), temperature=tau, alpha=alpha)
    assert got.item() == pytest.approx(_hand_kd(s, t, y, tau, alpha), rel=1e-5, abs=1e-6)


def test_kd_loss_is_a_batch_mean() -> None:
    s, t, y = torch.randn(4, 2), torch.randn(4, 2), torch.tensor([0, 1, 1, 0])
    whole = kd_loss(s, t, y, temperature=2.0, alpha=0.5)
    parts = [kd_loss(s[i : i + 1], t[i : i + 1], y[i : i + 1], temperature=2.0, alpha=0.5) for i in range(4)]
    assert whole.item() == pytest.approx(sum(p.item() for p in parts) / 4, rel=1e-5)


@pytest.mark.parametrize(
    "acc, rob, params, teacher, weights, expected",
    [
        (0.8, 0.4, 1_000, 10_000, (1, 1, 0.5), 0.8 + 0.4 - 0.05),
        (0.8, 0.4, 1_000, 10_000, (1, 0, 0), 0.8),
        (0.8, 0.4, 10_000, 10_000, (0, 0, 1), -1.0),
        (0.5, 0.5, 5_000, 10_000, (2, 1, 1), 1.0 + 0.5 - 0.5),
    ],
)
def test_fitness_weights(acc, rob, params, teacher, weights, expected) -> None:
    w = FitnessConfig(*weights)
    assert rosearch_fitness(accuracy=acc, attack_accuracy=rob, params=params, teacher_params=teacher, weights=w) == pytest.approx(expected)
