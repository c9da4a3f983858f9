"""The optimiser settings every training run here shares (teacher fine-tune, student distillation)."""

from __future__ import annotations

from dataclasses import dataclass

from rosearch.config._checks import fraction, positive
from rosearch.errors import ConfigError


@dataclass
class OptimConfig:
    """AdamW with linear warm-up and decay: what every training run here shares."""

    # Passes over the training data; fractions allowed.
    epochs: float = 1.0
    batch_size: int = 32
    lr: float = 5e-5
    weight_decay: float = 0.01
    # Share of the steps spent warming the learning rate up from 0.
    warmup_ratio: float = 0.1

    def __post_init__(self) -> None:
        positive("epochs", self.epochs)
        positive("batch_size", self.batch_size)
        positive("lr", self.lr)
        fraction("warmup_ratio", self.warmup_ratio, high_open=True)
        if self.weight_decay < 0:
            raise ConfigError("weight_decay", self.weight_decay, "Use 0 or more.")
