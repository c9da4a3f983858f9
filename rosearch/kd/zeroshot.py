"""Out-of-domain text for zero-shot KD: no task text, no labels."""

from __future__ import annotations

import random
from pathlib import Path

import datasets

from rosearch.config.schema import ZeroShotConfig
from rosearch.data.embedded import read_rated
from rosearch.errors import ConfigError


def ood_texts(cfg: ZeroShotConfig, *, seed: int) -> list[str]:
    """The configured out-of-domain texts, de-duplicated, shuffled with `seed`, capped."""
    texts: list[str] = []
    if cfg.source == "embedded":
        for corpus in cfg.corpora:
            texts += read_rated(corpus)[0]  # the ratings are never read: no labels
    else:
        for i, path in enumerate(cfg.files):
            if not Path(path).is_file():
                raise ConfigError(f"kd.zeroshot.files[{i}]", path, "No such file.")
            ds = datasets.load_dataset("json" if cfg.source == "jsonl" else "csv", data_files=path, split="train")
            if cfg.text_column not in ds.column_names:
                raise ConfigError("kd.zeroshot.text_column", cfg.text_column, f"{path} has columns: {', '.join(ds.column_names)}.")
            texts += [t for t in ds[cfg.text_column] if isinstance(t, str)]
    texts = sorted({t.strip() for t in texts if t and t.strip()})
    random.Random(seed).shuffle(texts)
    return texts[: cfg.max_examples] if cfg.max_examples else texts
