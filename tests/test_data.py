from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from rosearch.config import DataConfig
from rosearch.data import load_splits, movie_snippets, read_rated
from rosearch.errors import ConfigError


def test_embedded_movie_snippets_are_the_real_corpus() -> None:
    texts, scores = read_rated("movie_snippets")
    assert len(texts) == 10_605
    assert Counter((s > 0) - (s < 0) for s in scores) == {1: 5242, -1: 5326, 0: 37}
    texts, labels = movie_snippets()
    assert len(texts) == 10_568 and set(labels) == {0, 1}


def test_embedded_splits_are_seeded_and_disjoint() -> None:
    a = load_splits(DataConfig(seed=0))
    b = load_splits(DataConfig(seed=0))
    c = load_splits(DataConfig(seed=1))
    assert a["dev"]["text"] == b["dev"]["text"]
    assert a["dev"]["text"] != c["dev"]["text"]
    assert sum(len(a[s]) for s in a) == 10_568
    assert not set(a["train"]["text"][:2000]) & set(a["dev"]["text"])
    assert set(a["train"].column_names) == {"text", "label"}


def test_caps_apply_after_the_shuffle() -> None:
    d = load_splits(DataConfig(max_train_examples=100, max_dev_examples=30))
    assert (len(d["train"]), len(d["dev"]), len(d["test"])) == (100, 30, 30)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_local_files_with_custom_columns(tmp_path: Path, fmt: str) -> None:
    rows = [{"sentence": f"example number {i}", "y": i % 3} for i in range(60)]
    path = tmp_path / f"train.{fmt}"
    if fmt == "csv":
        path.write_text("sentence,y\n" + "".join(f"{r['sentence']},{r['y']}\n" for r in rows))
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    d = load_splits(DataConfig(source=fmt, name=None, files={"train": str(path)}, text_column="sentence", label_column="y"))
    assert sum(len(d[s]) for s in d) == 60
    assert set(d["train"]["label"]) == {0, 1, 2}


def test_missing_column_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "a", "stars": 1}\n{"text": "b", "stars": 0}\n' * 10)
    with pytest.raises(ConfigError) as info:
        load_splits(DataConfig(source="jsonl", name=None, files={"train": str(path)}))
    assert info.value.key == "data.label_column" and "stars" in str(info.value)


def test_string_labels_are_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("text,label\n" + "good film,pos\nbad film,neg\n" * 10)
    with pytest.raises(ConfigError, match="Map them to integers"):
        load_splits(DataConfig(source="csv", name=None, files={"train": str(path)}))
