"""The student's vocabulary: which of the teacher's word pieces get a row of its embedding table.

About 90% of a small student's parameters are its token embeddings (30,522 × 64 of transformer-s's
2.06M), yet a task's training text uses a few thousand pieces. The genome's `vocabulary` gene
names a rule:

    full       every piece of the teacher's tokenizer (no reduction)
    seen:K     the pieces seen at least K times in the training text (teacher-tokenized)
    top:N      the N most frequent pieces of the training text (ties: lower id first)

The special tokens are always kept. The student still reads the teacher tokenizer's ids (so every
strategy, attack and stage works unchanged): `id_map[teacher id]` is its row. A dropped piece backs
off (`space.vocabulary_backoff`) to the [UNK] row ("unk") or to the row of the kept piece nearest
to it in the teacher's embedding space ("nearest", cosine), which keeps a rare word's meaning close
at no cost in parameters or time: the map is a lookup table, not weights.

Pure numpy: rosearch.prepare builds one `Vocabulary` per rule of the space, once per study.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

FULL = "full"
BACKOFFS = ("nearest", "unk")


def parse_rule(rule: str) -> tuple[str, int]:
    """("full", 0), ("seen", K) or ("top", N); ValueError saying what a rule looks like."""
    if rule == FULL:
        return FULL, 0
    kind, _, number = str(rule).partition(":")
    if kind in ("seen", "top") and number.isdigit() and int(number) >= 1:
        return kind, int(number)
    raise ValueError(f"{rule!r} is not a vocabulary rule: use full, seen:K (pieces seen at least K times in the training text) "
                     "or top:N (the N most frequent), with K, N ≥ 1")


def piece_counts(sequences: Iterable[Iterable[int]], vocab_size: int) -> np.ndarray:
    """How often each of the `vocab_size` ids occurs in `sequences` (token id lists)."""
    flat = np.fromiter((i for ids in sequences for i in ids), dtype=np.int64)
    return np.bincount(flat, minlength=vocab_size)[:vocab_size]


def kept_ids(counts: np.ndarray, rule: str, *, always: Iterable[int]) -> np.ndarray:
    """The teacher ids the rule keeps (sorted), `always` (the special tokens) among them."""
    kind, n = parse_rule(rule)
    if kind == FULL:
        return np.arange(len(counts))
    if kind == "seen":
        keep = np.flatnonzero(counts >= n)
    else:
        order = np.lexsort((np.arange(len(counts)), -counts))  # most frequent first, then lower id
        keep = order[:n][counts[order[:n]] > 0]
    return np.union1d(keep, np.fromiter(always, dtype=np.int64))


def nearest_kept(table: np.ndarray, kept: np.ndarray, *, chunk: int = 2048) -> np.ndarray:
    """For every id of `table` [V, D] (the teacher's token embeddings), the kept id whose row is the
    most cosine-similar (a kept id is its own nearest)."""
    unit = table / np.maximum(np.linalg.norm(table, axis=1, keepdims=True), 1e-12)
    targets = unit[kept].T  # [D, K]
    nearest = np.empty(len(table), dtype=np.int64)
    for start in range(0, len(table), chunk):
        nearest[start:start + chunk] = kept[np.argmax(unit[start:start + chunk] @ targets, axis=1)]
    nearest[kept] = kept
    return nearest


@dataclass(frozen=True)
class Vocabulary:
    """A reduced vocabulary: `kept` teacher ids (row i of the student's table is kept[i]) and
    `id_map` [V]: each teacher id's row (a dropped id: its back-off's row)."""

    rule: str
    kept: np.ndarray
    id_map: np.ndarray
    backoff: str

    @property
    def size(self) -> int:
        return len(self.kept)

    @classmethod
    def build(cls, rule: str, counts: np.ndarray, *, special_ids: Iterable[int], unk_id: int, backoff: str,
              table: np.ndarray | None = None) -> Vocabulary:
        """`counts` from `piece_counts` over the training text; `table`: the teacher's token
        embeddings [V, D], needed by the "nearest" back-off."""
        if backoff not in BACKOFFS:
            raise ValueError(f"vocabulary back-off {backoff!r}: use one of {', '.join(BACKOFFS)}")
        special = np.unique(np.fromiter([*special_ids, unk_id], dtype=np.int64))
        kept = kept_ids(counts, rule, always=special)
        row = np.full(len(counts), -1, dtype=np.int64)
        row[kept] = np.arange(len(kept))
        words = np.setdiff1d(kept, special)
        if backoff == "nearest" and len(words):
            if table is None:
                raise ValueError("the nearest back-off needs the teacher's embedding table")
            target = nearest_kept(np.asarray(table, dtype=np.float32), words)  # never a special token
        else:
            target = np.full(len(counts), unk_id, dtype=np.int64)
        id_map = np.where(row >= 0, row, row[target])
        return cls(rule, kept, id_map, backoff)
