"""The `data` section: where the labelled text comes from and how it is split and tokenized."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rosearch.config._checks import fraction, positive
from rosearch.errors import ConfigError


@dataclass
class DataConfig:
    """Where the labelled text comes from and how it is split and tokenized."""

    # embedded: a corpus that ships inside a registry package (docs/offline.md); hub: `datasets` by name;
    # csv / jsonl: local files.
    source: Literal["embedded", "hub", "csv", "jsonl"] = "embedded"
    # embedded: movie_snippets; hub: the dataset id (e.g. "glue", "rotten_tomatoes").
    name: str | None = "movie_snippets"
    # hub: the dataset configuration (e.g. "sst2" for glue).
    subset: str | None = None
    # csv / jsonl: split name (train, dev, test) → file path; a missing dev/test is carved from train.
    files: dict[str, str] | None = None
    # Column names in the source.
    text_column: str = "text"
    label_column: str = "label"
    # hub: our split (train, dev, test) → the dataset's split name; a missing one is carved from train.
    splits: dict[str, str] = field(default_factory=lambda: {"train": "train", "dev": "validation"})
    # Shares of train held out for dev / test when the source has no such split.
    dev_fraction: float = 0.1
    test_fraction: float = 0.1
    # Cap the splits (after the seeded shuffle) for quick studies; null keeps all.
    max_train_examples: int | None = None
    max_dev_examples: int | None = None
    # Tokens per example after truncation (padding is dynamic, per batch).
    max_length: int = 64
    # Seed of the split and of the shuffles.
    seed: int = 0

    def __post_init__(self) -> None:
        if self.source in ("embedded", "hub") and not self.name:
            raise ConfigError("name", self.name, f"source '{self.source}' needs a dataset name.")
        if self.source == "embedded" and self.name != "movie_snippets":
            raise ConfigError("name", self.name, "The embedded corpus is 'movie_snippets'.")
        if self.source in ("csv", "jsonl") and not (self.files and "train" in self.files):
            raise ConfigError("files", self.files, "Give at least files: {train: path/to/train.%s}." % self.source)
        for ours in self.splits:
            if ours not in ("train", "dev", "test"):
                raise ConfigError(f"splits.{ours}", ours, "Split keys are train, dev and test.")
        for ours in self.files or {}:
            if ours not in ("train", "dev", "test"):
                raise ConfigError(f"files.{ours}", ours, "Split keys are train, dev and test.")
        fraction("dev_fraction", self.dev_fraction, high_open=True)
        fraction("test_fraction", self.test_fraction, high_open=True)
        if self.dev_fraction + self.test_fraction >= 1:
            raise ConfigError("dev_fraction", self.dev_fraction, "dev_fraction + test_fraction must stay below 1.")
        positive("max_train_examples", self.max_train_examples, allow_none=True)
        positive("max_dev_examples", self.max_dev_examples, allow_none=True)
        if not 8 <= self.max_length <= 4096:
            raise ConfigError("max_length", self.max_length, "Use a token count between 8 and 4096.")
