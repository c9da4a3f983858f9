"""Optuna storages: check a URL before any work, open it (several workers may start together),
and fail trials whose worker died.

Optuna fails a trial whose heartbeat stopped only after a grace period (2 × heartbeat_interval),
and only when some worker calls `fail_stale_trials`. A worker killed with `kill -9` and restarted
at once would leave its trial RUNNING until then. Each worker records where it runs (host and
pid) in the trial, so a run on the same host can tell at once that a trial's process is gone.
"""

from __future__ import annotations

import os
import random
import socket
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages._heartbeat import is_heartbeat_enabled  # what fail_stale_trials itself checks; not re-exported
from optuna.trial import FrozenTrial, TrialState

from rosearch.search import record
from rosearch.errors import RosearchError
from rosearch.writable import cannot_write

T = TypeVar("T")

#: DB-API drivers of the URL schemes users give, and the pip extra that installs each.
DRIVERS = {"postgresql": ("psycopg 3", 'pip install "rosearch-optuna[postgres]"'), "mysql": ("mysqlclient", "pip install mysqlclient")}
#: The user attr where a trial records the worker running it (rosearch.search.record).
WORKER_ATTR = record.WORKER


def _key(url: str) -> str:
    return f"storage {url!r} (--storage or search.storage)"


#: A journal file (Optuna's JournalStorage): an append-only log that workers on a shared file system
#: (NFS, Lustre) lock with a symlink, for clusters without a database server.
JOURNAL = "journal:///"


def journal_path(url: str) -> Path | None:
    """The log file of a journal:///path URL (four slashes for an absolute path), else None."""
    return Path(url[len(JOURNAL):]) if url.startswith(JOURNAL) else None


def check_url(url: str) -> None:
    """Refuse a URL Optuna cannot open, before any work: no scheme, an unknown database, a
    missing driver, a file that is not a database, a server that does not answer."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if "://" not in url:
        raise RosearchError(f"{_key(url)} is not a URL. Give an Optuna storage URL: sqlite:///{url} for that file "
                            "(four slashes for an absolute path: sqlite:////abs/path.db), journal:///{url}.log for a journal "
                            "file on a shared file system, or postgresql://user:password@host/database.")
    journal = journal_path(url)
    if journal is not None:
        _check_journal(url, journal)
        return
    try:
        parsed = make_url(url)
        dialect = parsed.get_dialect()
    except ArgumentError as err:
        raise RosearchError(f"{_key(url)}: {err}. Use sqlite:///path.db, postgresql://… or mysql://….") from None
    try:
        dialect.import_dbapi()
    except ImportError as err:
        driver, install = DRIVERS.get(parsed.get_backend_name(), (parsed.get_driver_name(), "install it"))
        raise RosearchError(f"{_key(url)} needs the {driver} database driver, which is not installed ({err}): {install}.") from None
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite(url, parsed.database or "")
    else:
        _check_server(url)


def _check_sqlite(url: str, database: str) -> None:
    path = Path(database)
    if path.is_dir():
        raise RosearchError(f"{_key(url)} names a folder; name a database file inside it (e.g. {path / 'study.db'}).")
    if path.is_file():
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                conn.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as err:
            raise RosearchError(f"{_key(url)}: {path} is not an SQLite database ({err}). Give another file name.") from None
        return
    why = cannot_write(path.absolute().parent)
    if why:
        raise RosearchError(f"{_key(url)}: cannot create {path} ({why}).")


def _check_journal(url: str, path: Path) -> None:
    if not path.name or path.is_dir():
        raise RosearchError(f"{_key(url)} names a folder; name a journal file inside it (e.g. journal:///{path / 'study.log'}).")
    if path.is_file():
        with path.open("rb") as fh:
            head = fh.read(1)
        if head and head != b"{":  # each line of Optuna's journal is one JSON operation
            raise RosearchError(f"{_key(url)}: {path} is not an Optuna journal (its lines are JSON). Give another file name.")
        return
    why = cannot_write(path.absolute().parent)
    if why:
        raise RosearchError(f"{_key(url)}: cannot create {path} ({why}).")


def _check_server(url: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, connect_args=_timeout_args(url))
    try:
        with engine.connect():
            pass
    except Exception as err:  # noqa: BLE001 - drivers raise their own errors; all mean "cannot connect"
        raise RosearchError(f"Cannot connect to {_key(url)}: {str(err).splitlines()[0]}") from None
    finally:
        engine.dispose()


def _timeout_args(url: str) -> dict[str, Any]:
    return {"connect_timeout": 5} if url.startswith(("postgresql", "mysql")) else {}


def retry_concurrent(action: Callable[[], T], *, attempts: int = 8) -> T:
    """Run `action`, retrying the errors of workers that create the same schema or study at the
    same moment (PostgreSQL unique violations and "relation … already exists" — a ProgrammingError
    when two workers create the schema's tables together —, SQLite "already exists" or "locked")."""
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    for attempt in range(attempts):
        try:
            return action()
        except (IntegrityError, OperationalError, ProgrammingError) as err:
            racing = isinstance(err, IntegrityError) or any(s in str(err) for s in ("already exists", "locked"))
            if not racing or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1) + random.random() * 0.3)
    raise AssertionError("unreachable")


def make_storage(url: str, *, heartbeat_interval: int | None = None) -> optuna.storages.BaseStorage:
    """An RDB storage or a journal file (checked first); with `heartbeat_interval`, an RDB
    storage gets a heartbeat: a trial whose process died is failed after 2 missed beats and
    re-queued once with the same parameters (Optuna's RetryHeartbeatStaleTrialCallback)."""
    check_url(url)
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    journal = journal_path(url)
    if journal is not None:  # no heartbeat (Optuna's journal has none): dead workers on this host are still found by pid
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        journal.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(journal)))
    beat: dict[str, Any] = {}
    if heartbeat_interval is not None:
        beat = dict(heartbeat_interval=heartbeat_interval, grace_period=2 * heartbeat_interval,
                    heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1))
    try:
        return retry_concurrent(lambda: RDBStorage(url, engine_kwargs={"connect_args": _timeout_args(url)}, **beat))
    except Exception as err:  # noqa: BLE001 - sqlalchemy/driver errors have no common public base
        raise RosearchError(f"Cannot open {_key(url)}: {str(err).splitlines()[0]}") from None


def storage_cause(err: BaseException) -> BaseException | None:
    """The storage error behind `err` (itself or along its cause/context chain), if any. Optuna
    masks a failed write at the end of a trial with its own `AssertionError("Should not reach.")`
    or a `StorageInternalError` ("… e.g. exceeding max length"); the driver's error is further down."""
    import sqlalchemy.exc

    seen, found, node = set(), None, err
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, (sqlalchemy.exc.SQLAlchemyError, sqlite3.Error, optuna.exceptions.StorageInternalError)):
            found = node  # keep walking: the deepest one says what the database said
        node = node.__cause__ or node.__context__
    return found


@contextmanager
def storage_errors(url: str) -> Iterator[None]:
    """Turn a failed read or write of the study storage (a full disk, a deleted or locked
    database, a server gone) into one message naming the storage and the cause."""
    try:
        yield
    except RosearchError:
        raise
    except Exception as err:  # noqa: BLE001 - re-raised unless the storage is behind it
        cause = storage_cause(err)
        if cause is None:
            raise
        what = getattr(cause, "orig", None) or cause  # SQLAlchemy wraps the driver's error
        text = str(what).splitlines()[0] if str(what) else type(what).__name__
        raise RosearchError(f"Writing to or reading from {_key(url)} failed: {text}. Check the database (free disk space, "
                            "the file still there, the server up); then run the same command again: the study resumes and an "
                            "interrupted trial is retried.") from None


def worker_id() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def worker_gone(worker: dict[str, Any]) -> bool:
    """A worker (`worker_id()` as recorded) that ran on this host, is not this process, and whose
    process is gone; a worker on another host cannot be told from here (False)."""
    return (worker.get("host") == socket.gethostname() and worker.get("pid") not in (None, os.getpid())
            and _process_gone(int(worker["pid"])))


def dead_worker(trial: FrozenTrial) -> bool:
    """A RUNNING trial whose recorded worker ran on this host and whose process is gone."""
    return trial.state == TrialState.RUNNING and worker_gone(record.worker(trial))


def stale_trials(study: optuna.Study) -> dict[int, str]:
    """RUNNING trials that no live worker holds, by trial number → why (read-only: for `show`)."""
    found = {t.number: f"its process {record.worker(t)['pid']} on this host is gone"
             for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)) if dead_worker(t)}
    storage = study._storage  # Optuna wraps an RDBStorage in a cache; both are BaseHeartbeat
    if is_heartbeat_enabled(storage):
        # Optuna has no public read-only query for this; fail_stale_trials would change the study.
        by_id = {t._trial_id: t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
        grace = 2 * storage.get_heartbeat_interval()
        for trial_id in storage._get_stale_trial_ids(study._study_id):
            found.setdefault(by_id.get(trial_id, -1), f"it sent no heartbeat for over {grace} s")
    found.pop(-1, None)
    return found


def fail_stale(study: optuna.Study) -> list[int]:
    """Fail the trials whose worker died (dead process on this host, or heartbeat past its grace
    period) and re-queue each once with its parameters; returns their numbers."""
    storage = study._storage
    failed = []
    callback = storage.get_heartbeat_stale_trial_callback() if is_heartbeat_enabled(storage) else None
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not dead_worker(trial):
            continue
        try:
            if storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                failed.append(trial.number)
                if callback is not None:
                    callback(study, storage.get_trial(trial._trial_id))
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # another worker failed it first
    before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
    optuna.storages.fail_stale_trials(study)  # heartbeat past its grace, from any host
    failed += sorted({t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))} - before)
    return failed
