"""The `latency` section: how inference latency is measured."""

from __future__ import annotations

from dataclasses import dataclass, field

from rosearch.config._checks import nonempty_positive, positive
from rosearch.errors import ConfigError


@dataclass
class LatencyConfig:
    """How inference latency is measured (trials: PyTorch, first batch size; exports: every batch
    size, PyTorch and ONNX Runtime): the median of `repeats` timed runs after `warmup` untimed ones."""

    # Tokens per input (every input padded to it); null: data.max_length.
    seq_len: int | None = None
    batch_sizes: list[int] = field(default_factory=lambda: [1, 32])
    warmup: int = 5
    repeats: int = 30
    # Intra-op threads while timing (1: comparable across machines and free of thread contention).
    threads: int = 1

    def __post_init__(self) -> None:
        positive("seq_len", self.seq_len, allow_none=True)
        nonempty_positive("batch_sizes", self.batch_sizes)
        if self.warmup < 0:
            raise ConfigError("warmup", self.warmup, "Use 0 or more warm-up runs.")
        positive("repeats", self.repeats)
        positive("threads", self.threads)
