"""RoSearch's weighted fitness (Guo et al., "RoSearch: Search for Robust Student Architectures
When Distilling Pre-trained Language Models"): one score that trades accuracy and robustness
against size. We optimise the objectives with NSGA-II and report this score beside them."""

from __future__ import annotations

from rosearch.config.schema import FitnessConfig


def rosearch_fitness(*, accuracy: float, attack_accuracy: float, params: int, teacher_params: int, weights: FitnessConfig) -> float:
    """w_acc·accuracy + w_rob·accuracy_under_attack − w_size·(params / teacher_params)."""
    if teacher_params <= 0:
        raise ValueError("teacher_params must be positive")
    return weights.accuracy * accuracy + weights.robustness * attack_accuracy - weights.size * params / teacher_params
