"""Searched student models: operations, the transformers model, and its cost.

The names below load on first use (PEP 562): `rosearch.student.genome` is pure data, and a
command that only validates a study (which reads genomes) should not pay torch's import time.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "RoSearchStudentConfig": "rosearch.student.model",
    "RoSearchStudentForSequenceClassification": "rosearch.student.model",
    "build_student": "rosearch.student.model",
    "register_auto_classes": "rosearch.student.model",
    "count_flops": "rosearch.student.cost",
    "count_params": "rosearch.student.cost",
    "count_non_embedding_params": "rosearch.student.cost",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'rosearch.student' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
