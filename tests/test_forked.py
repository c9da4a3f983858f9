from __future__ import annotations

import os

import pytest

from rosearch.attack.forked import WorkerDied, can_fork, forked_map, shares

needs_fork = pytest.mark.skipif(not can_fork(), reason="forked workers run on Linux only")


@pytest.mark.parametrize("n, workers, expected", [
    (5, 1, [[0, 1, 2, 3, 4]]),
    (5, 2, [[0, 2, 4], [1, 3]]),
    (5, 3, [[0, 3], [1, 4], [2]]),
    (2, 4, [[0], [1]]),          # never an empty share
    (0, 3, [[]]),
], ids=["one", "two", "three", "more-workers-than-items", "nothing"])
def test_shares_interleave_every_item_once(n: int, workers: int, expected: list[list[int]]) -> None:
    assert shares(n, workers) == expected


def _square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


@needs_fork
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_forked_map_returns_in_order_and_uses_that_many_processes(workers: int) -> None:
    ticks = []
    out = forked_map(_square_and_pid, range(7), workers=workers, done=lambda: ticks.append(1))
    assert [v for v, _ in out] == [x * x for x in range(7)]
    pids = {p for _, p in out}
    assert len(pids) == workers and os.getpid() in pids  # the caller takes a share itself
    assert len(ticks) == 7  # one tick per item, children's included


def _fails_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"bad item {x}")
    return x


@needs_fork
@pytest.mark.parametrize("workers", [1, 2])
def test_an_error_in_any_worker_is_raised_in_the_caller(workers: int) -> None:
    with pytest.raises(ValueError, match="bad item 3"):  # item 3 is a child's with 2 workers
        forked_map(_fails_on_three, range(6), workers=workers)


def _dies_on_one(x: int) -> int:
    if x == 1:
        os._exit(9)  # as the OOM killer would end it: no exception, no result
    return x


@needs_fork
def test_a_worker_that_dies_is_reported() -> None:
    with pytest.raises(WorkerDied):
        forked_map(_dies_on_one, range(4), workers=2)
