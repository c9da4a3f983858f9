"""Distillation: the strategies (rosearch.kd.strategies, one file each) and `distill_student`."""

from rosearch.kd.distill import distill_student

__all__ = ["distill_student"]
