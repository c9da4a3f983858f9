"""Robustness-aware distillation strategies: KDIGA, MATE-KD, zero-shot KD (and vanilla logit KD)."""

from rosearch.kd.strategies import distill_student

__all__ = ["distill_student"]
