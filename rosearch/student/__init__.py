"""Searched student models: operations, the transformers model, and its cost."""

from rosearch.student.cost import count_flops, count_params
from rosearch.student.model import (
    RoSearchStudentConfig,
    RoSearchStudentForSequenceClassification,
    build_student,
    register_auto_classes,
)

__all__ = [
    "RoSearchStudentConfig", "RoSearchStudentForSequenceClassification", "build_student",
    "count_flops", "count_params", "register_auto_classes",
]
