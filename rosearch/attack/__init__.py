"""Adversarial robustness: TextAttack recipes on a fixed example subset, and their metrics."""

from rosearch.attack.metrics import AttackMetrics, Outcome, summarise
from rosearch.attack.run import AttackReport, run_attack

__all__ = ["AttackMetrics", "AttackReport", "Outcome", "run_attack", "summarise"]
