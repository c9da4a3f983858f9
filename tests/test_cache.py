from __future__ import annotations

from pathlib import Path

import pytest

from rosearch.cache import DiskCache


def test_builds_once_and_leaves_no_partial_entry(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    calls = []

    def build(folder: Path) -> None:
        calls.append(folder)
        (folder / "x.txt").write_text("done")

    first = cache.get_or_build("kind", "key", build)
    second = cache.get_or_build("kind", "key", build)
    assert first == second and len(calls) == 1 and (first / "x.txt").read_text() == "done"

    def crash(folder: Path) -> None:
        (folder / "half.txt").write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        cache.get_or_build("kind", "other", crash)
    assert not cache.has("kind", "other")
    assert [p.name for p in (tmp_path / "kind").iterdir()] == ["key"]


def test_a_failed_first_build_leaves_no_empty_folders(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "runs" / "cache")

    def bad_data(folder: Path) -> None:
        raise ValueError("the CSV is empty")

    with pytest.raises(ValueError):
        cache.get_or_build("data", "k", bad_data)
    assert not (tmp_path / "runs").exists()
