"""rosearch-optuna: search robust knowledge-distilled student language models with Optuna.

RoSearch (Guo et al.) searches the student's architecture — a DAG cell of attention, feed-forward,
convolution, pooling and skip operations — for students that are accurate, robust to adversarial
text attacks, and small. Heavy imports happen inside the functions that need them.
"""

from rosearch.errors import ConfigError, ResourceUnavailable, RosearchError

__version__ = "0.1.0"

__all__ = ["ConfigError", "ResourceUnavailable", "RosearchError", "__version__", "load_student"]


def load_student(path: str):  # noqa: ANN201 - returns RoSearchStudentForSequenceClassification
    """Load a saved student (a folder written by save_pretrained)."""
    from rosearch.student import RoSearchStudentForSequenceClassification, register_auto_classes

    register_auto_classes()
    return RoSearchStudentForSequenceClassification.from_pretrained(path)
