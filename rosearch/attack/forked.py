"""One function over many items in several forked processes, the caller being one of them; the
results come back in the items' order.

Why by hand: TextAttack's `Attacker` runs in parallel only across GPUs (a process per device, each
loading its own model); on a CPU an attack is single-threaded Python around small model calls, so
every core but one sits idle through it. Forked workers share what the caller built (the model, its
stages, WordNet, the recipe) copy-on-write, so nothing is pickled but the results, and a worker
starts in milliseconds. Only where `fork` is safe: Linux, and a model on the CPU (the caller's
check: a CUDA context does not survive a fork).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Sequence


class WorkerDied(RuntimeError):
    """A forked worker ended without returning its share (killed, or out of memory)."""


def can_fork() -> bool:
    """Whether forked workers are available here (Linux only: elsewhere `fork` is missing or unsafe)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def shares(n: int, workers: int) -> list[list[int]]:
    """The item indices each of `workers` processes takes: every workers-th item, so slow and fast
    items spread evenly (a share each; none empty)."""
    workers = max(1, min(workers, n))
    return [list(range(w, n, workers)) for w in range(workers)]


def forked_map(fn: Callable[[Any], Any], items: Sequence[Any], *, workers: int, done: Callable[[], None] | None = None) -> list[Any]:
    """[fn(x) for x in items], computed by `workers` processes (this one and workers − 1 forked
    children, each taking `shares`), in the items' order; `done()` is called once per finished item,
    in this process. An exception in a child is raised here (the child's own, or a RuntimeError
    with its message where it cannot be pickled); a child that dies raises WorkerDied."""
    items = list(items)
    parts = shares(len(items), workers if can_fork() else 1)
    if len(parts) <= 1:
        return [_tick(fn(x), done) for x in items]
    ctx = multiprocessing.get_context("fork")
    results: list[Any] = [None] * len(items)
    children, open_conns = [], []
    try:
        for part in parts[1:]:
            recv, send = ctx.Pipe(duplex=False)
            child = ctx.Process(target=_serve, args=(fn, [(i, items[i]) for i in part], send), daemon=True)
            child.start()
            send.close()
            children.append(child)
            open_conns.append(recv)
        for i in parts[0]:
            results[i] = _tick(fn(items[i]), done)
            open_conns = _receive(open_conns, results, done, timeout=0)
        while open_conns:
            open_conns = _receive(open_conns, results, done, timeout=None)
    finally:
        for child in children:
            if child.is_alive():
                child.kill()
            child.join()
    return results


def _tick(result: Any, done: Callable[[], None] | None) -> Any:
    if done is not None:
        done()
    return result


def _receive(conns: list[Connection], results: list[Any], done: Callable[[], None] | None, *, timeout: float | None) -> list[Connection]:
    """Store what the children sent (waiting up to `timeout`); the connections still open."""
    still = list(conns)
    for conn in wait(conns, timeout):
        try:
            kind, index, value = conn.recv()
        except EOFError:
            raise WorkerDied("an attack worker process ended before returning its examples") from None
        if kind == "error":
            raise value
        if kind == "end":
            still.remove(conn)
            conn.close()
            continue
        results[index] = _tick(value, done)
    return still


def _serve(fn: Callable[[Any], Any], work: list[tuple[int, Any]], conn: Connection) -> None:
    """A child's life: fn over its share, each result sent as soon as it is known, then "end"."""
    # The parent's thread pools are not in the child: a fast tokenizer that already ran in parallel
    # would wait for its (rayon) threads forever. Read by the tokenizers library at every call.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    try:
        for index, item in work:
            conn.send(("ok", index, fn(item)))
        conn.send(("end", -1, None))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the parent reports it
        os._exit(130)
    except Exception as err:  # noqa: BLE001 - any failure is the caller's to report
        try:
            conn.send(("error", -1, err))
        except Exception:  # noqa: BLE001 - an exception that does not pickle: its message
            conn.send(("error", -1, RuntimeError(f"{type(err).__name__}: {err}")))
    finally:
        conn.close()
