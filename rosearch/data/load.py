"""Load a study's labelled text as a `datasets.DatasetDict` with splits train / dev / test.

Every source ends in the same shape: columns `text` (str) and `label` (int, 0 … K-1).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import datasets

from rosearch.config.schema import DataConfig
from rosearch.data.embedded import movie_snippets
from rosearch.errors import ConfigError, ResourceUnavailable
from rosearch.hub import require_hub

SPLITS = ("train", "dev", "test")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def load_splits(cfg: DataConfig, *, hub_hint: str = "", log: Callable[[str], None] = _stderr) -> datasets.DatasetDict:
    """The raw splits (text, label), seeded and capped as the config asks. Rows without usable
    text are dropped and counted in `log`; rows without a label, or a split left empty, are refused."""
    found = _load_source(cfg, hub_hint)
    found = {name: _standardise(ds, cfg, name, log) for name, ds in found.items()}
    found = _carve_missing(found, cfg)
    labels = sorted(set(found["train"]["label"]))
    _check_labels(found, labels)
    caps = {"train": cfg.max_train_examples, "dev": cfg.max_dev_examples, "test": cfg.max_dev_examples}
    out = {}
    for name in SPLITS:
        ds = found[name].shuffle(seed=cfg.seed)
        if caps[name] is not None and len(ds) > caps[name]:
            ds = ds.select(range(caps[name]))
        out[name] = ds.flatten_indices()
    return datasets.DatasetDict(out)


def _load_source(cfg: DataConfig, hub_hint: str) -> dict[str, datasets.Dataset]:
    if cfg.source == "embedded":
        texts, labels = movie_snippets()
        return {"train": datasets.Dataset.from_dict({cfg.text_column: texts, cfg.label_column: labels})}
    if cfg.source == "hub":
        require_hub(f"Dataset '{cfg.name}'" + (f" ({cfg.subset})" if cfg.subset else ""), hint=hub_hint)
        try:
            loaded = datasets.load_dataset(cfg.name, cfg.subset)
        except (ConnectionError, FileNotFoundError, ValueError) as err:
            raise ResourceUnavailable(f"Could not load dataset '{cfg.name}' ({cfg.subset}) with datasets: {err}. {hub_hint}") from None
        out = {}
        for ours, theirs in cfg.splits.items():
            if theirs not in loaded:
                raise ConfigError(f"data.splits.{ours}", theirs, f"The dataset's splits are: {', '.join(loaded)}.")
            out[ours] = loaded[theirs]
        if "train" not in out:
            raise ConfigError("data.splits", cfg.splits, "Map at least train: <split name>.")
        return out
    out = {}
    for ours, path in (cfg.files or {}).items():
        out[ours] = _read_file(cfg.source, path, f"data.files.{ours}")
    return out


def _read_file(source: str, path: str, key: str) -> datasets.Dataset:
    """One local CSV or JSONL file, or a ConfigError saying what is wrong with it."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(key, path, "No such file.")
    kind = "JSON lines" if source == "jsonl" else "CSV"
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(key, path, f"The file is not UTF-8 ({err.reason} at byte {err.start}); convert it, e.g. iconv -f latin1 -t utf-8.") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ConfigError(key, path, f"The file is empty; give a {kind} file with a header and rows." if source == "csv" else "The file is empty.")
    if source == "csv" and len(lines) == 1:
        raise ConfigError(key, path, "The file has no examples (only a header?); give at least one row.")
    try:
        ds = datasets.load_dataset("json" if source == "jsonl" else "csv", data_files=str(file), split="train")
    except Exception as err:  # noqa: BLE001 - datasets wraps every parser error in its own types
        cause = err.__cause__ or err.__context__ or err
        raise ConfigError(key, path, f"The file does not read as {kind}: {str(cause).splitlines()[0] if str(cause) else type(cause).__name__}. "
                          + ("Each line must be one JSON object." if source == "jsonl" else "Check its delimiter and quoting.")) from None
    if len(ds) == 0:
        raise ConfigError(key, path, "The file has no examples (only a header?); give at least one row.")
    return ds


def _standardise(ds: datasets.Dataset, cfg: DataConfig, split: str, log: Callable[[str], None]) -> datasets.Dataset:
    for key, column in (("text_column", cfg.text_column), ("label_column", cfg.label_column)):
        if column not in ds.column_names:
            raise ConfigError(f"data.{key}", column, f"The data has columns: {', '.join(ds.column_names)}.")
    ds = ds.select_columns([cfg.text_column, cfg.label_column])
    if cfg.text_column != "text":
        ds = ds.rename_column(cfg.text_column, "text")
    if cfg.label_column != "label":
        ds = ds.rename_column(cfg.label_column, "label")
    feature = ds.features["label"]
    labels = ds["label"]
    unlabelled = [i for i, y in enumerate(labels) if y is None]
    if unlabelled:
        raise ConfigError(
            "data.label_column", cfg.label_column,
            f"{len(unlabelled)} of {len(ds)} rows of the {split} split have no label (the first: row {unlabelled[0] + 1}); "
            "give every row a label or remove those rows.",
        )
    if isinstance(feature, datasets.ClassLabel):
        pass  # already 0 … K-1
    elif getattr(feature, "dtype", None) not in ("int64", "int32", "int16", "int8"):
        example = labels[0] if len(ds) else None
        raise ConfigError(
            "data.label_column", cfg.label_column,
            f"Labels must be integers 0 … K-1; this column holds {getattr(feature, 'dtype', feature)} values (e.g. {example!r}). Map them to integers first.",
        )
    texts = ds["text"]
    not_text = [t for t in texts if not isinstance(t, str)]
    empty = sum(1 for t in texts if isinstance(t, str) and not t.strip())
    if not_text or empty:
        why = []
        if not_text:
            kinds = sorted({type(t).__name__ for t in not_text})
            why.append(f"{len(not_text)} hold no text ({', '.join(kinds)} values, e.g. {not_text[0]!r}"[:200] + ")")
        if empty:
            why.append(f"{empty} are empty or whitespace only")
        if len(not_text) + empty == len(ds):
            raise ConfigError("data.text_column", cfg.text_column, f"Every one of the {len(ds)} rows of the {split} split was dropped: "
                              + " and ".join(why) + ". Is text_column the column holding the text?")
        log(f"data: dropped {len(not_text) + empty} of {len(ds)} rows of the {split} split: " + "; ".join(why))
        ds = ds.filter(lambda t: isinstance(t, str) and t.strip() != "", input_columns="text")
    if len(ds) == 0:
        raise ConfigError("data.files" if cfg.source in ("csv", "jsonl") else "data.name", split, f"The {split} split has no examples.")
    return ds


def _carve_missing(found: dict[str, datasets.Dataset], cfg: DataConfig) -> dict[str, datasets.Dataset]:
    """Hold out dev / test from train, seeded, where the source has none."""
    train = found["train"]
    for name, fraction in (("dev", cfg.dev_fraction), ("test", cfg.test_fraction)):
        if name in found:
            continue
        try:
            parts = train.train_test_split(test_size=fraction, seed=cfg.seed, shuffle=True)
        except ValueError as err:  # too few examples to hold any out
            raise ConfigError(f"data.{name}_fraction", fraction, f"Cannot hold out a {name} split from {len(train)} training examples ({err}); give more data or a {name} file.") from None
        train, found[name] = parts["train"], parts["test"]
    found["train"] = train
    return found


def _check_labels(found: dict[str, datasets.Dataset], labels: list[int]) -> None:
    if len(labels) < 2 or labels != list(range(len(labels))):
        raise ConfigError("data.label_column", labels, "Labels must be integers 0 … K-1 with K ≥ 2 (map them first).")
    for name in ("dev", "test"):
        extra = set(found[name]["label"]) - set(labels)
        if extra:
            raise ConfigError("data.label_column", sorted(extra), f"The {name} split has labels the train split lacks.")
