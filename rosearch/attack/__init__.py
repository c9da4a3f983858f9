"""Adversarial robustness: TextAttack recipes on a fixed example subset, and their metrics.

The names below load on first use (PEP 562), so that importing a light submodule (e.g.
rosearch.attack.defaults for the command line) does not import torch and transformers.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {"AttackMetrics": "metrics", "Outcome": "metrics", "summarise": "metrics", "AttackReport": "run", "run_attack": "run"}

__all__ = ["AttackMetrics", "AttackReport", "Outcome", "run_attack", "summarise"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"rosearch.attack.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'rosearch.attack' has no attribute {name!r}")
