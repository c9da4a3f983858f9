"""Storages: URLs checked before any work, simultaneous workers, per-trial seeds, dead workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from rosearch.errors import RosearchError
from rosearch.search.storage import WORKER_ATTR, check_url, fail_stale, make_storage, stale_trials

from pg_server import running_postgres

#: One worker: open the tiny study at a given moment (so that several open it together) and run
#: trials whose objective only draws the genome (the sampler is what is under test, not training).
#: The population is larger than the trials, so every draw is NSGA-II's first generation: seeded by
#: the trial's number alone, the same whatever the timing. (Later generations breed from whichever
#: trials have finished when a trial starts, which depends on timing; that two simultaneous children
#: can coincide is NSGA-II's, not a shared seed's, and the sampler re-draws a child that repeats a
#: stored trial: tests/test_genome.py.)
WORKER = """
import sys, time
import optuna
from rosearch.config import config_hash, load_study, with_storage
from rosearch.search.genome import suggest
from rosearch.search.study import open_study

url, n, start, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
optuna.logging.set_verbosity(optuna.logging.WARNING)
cfg = with_storage(load_study("tiny", overrides={"seed": seed, "search.population_size": 32}), url)
time.sleep(max(0.0, start - time.time()))
study = open_study(cfg, config_hash=config_hash(cfg))

def objective(trial):
    g = suggest(trial, cfg.space)
    return g.hidden_size / 64, len(g.ops_used) / 11, float(g.n_cells)

study.optimize(objective, n_trials=n)
"""


def _workers(url: str, *, n_workers: int, n_trials: int, seed: int = 0) -> None:
    start = time.time() + 4.0  # every worker opens the (new) storage at this same moment
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, str(n_trials), str(start), str(seed)], stderr=subprocess.PIPE, text=True)
             for _ in range(n_workers)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]


def _check_trials(url: str, expected: int) -> list[optuna.trial.FrozenTrial]:
    trials = optuna.load_study(study_name="tiny", storage=make_storage(url)).trials
    assert len(trials) == expected
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)  # none lost, none stuck, none a repeat
    params = [json.dumps(t.params, sort_keys=True) for t in trials]
    assert len(set(params)) == len(params), "workers drew the same architecture"
    return trials


def test_simultaneous_workers_on_sqlite_draw_distinct_architectures(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'study.db'}"
    _workers(url, n_workers=3, n_trials=5)
    _check_trials(url, 15)


def test_two_workers_started_together_on_a_journal_file_lose_and_repeat_nothing(tmp_path: Path) -> None:
    """JournalStorage (a log file on a shared file system, for clusters without a database)."""
    url = f"journal:///{tmp_path / 'shared' / 'study.log'}"
    _workers(url, n_workers=2, n_trials=6)
    trials = _check_trials(url, 12)
    assert sorted(t.number for t in trials) == list(range(12))  # every number handed out once


@pytest.mark.parametrize("content, expected", [(None, "names a folder"), ("not json\n", "not an Optuna journal")])
def test_a_journal_url_is_checked_before_any_work(tmp_path: Path, content, expected) -> None:
    target = tmp_path
    if content is not None:
        target = tmp_path / "x.log"
        target.write_text(content)
    with pytest.raises(RosearchError, match=expected):
        check_url(f"journal:///{target}")


@pytest.fixture()
def postgres_url():
    yield from running_postgres()


def test_simultaneous_workers_on_postgresql_draw_distinct_architectures(postgres_url: str) -> None:
    _workers(postgres_url, n_workers=3, n_trials=5)
    _check_trials(postgres_url, 15)


def _db_error(kind: str, message: str) -> Exception:
    from sqlalchemy import exc

    return getattr(exc, kind)("CREATE TABLE studies (...)", {}, Exception(message))


@pytest.mark.parametrize("kind, message, retried", [
    ("IntegrityError", 'duplicate key value violates unique constraint "studies_study_name_key"', True),
    ("ProgrammingError", 'relation "studies" already exists', True),  # PostgreSQL: two workers create the tables together
    ("OperationalError", "table studies already exists", True),      # SQLite, the same race
    ("OperationalError", "database is locked", True),
    ("OperationalError", "could not connect to server", False),
    ("ProgrammingError", 'syntax error at or near "TABEL"', False),
])
def test_concurrent_schema_creation_is_retried_and_nothing_else(kind, message, retried) -> None:
    from rosearch.search.storage import retry_concurrent

    calls = []

    def action() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise _db_error(kind, message)
        return "opened"

    if retried:
        assert retry_concurrent(action) == "opened" and len(calls) == 2
    else:
        with pytest.raises(Exception, match=message.split()[0]):
            retry_concurrent(action)
        assert len(calls) == 1


def test_one_worker_is_reproducible(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name / 'study.db'}"
        _workers(url, n_workers=1, n_trials=6, seed=3)
        runs.append([t.params for t in optuna.load_study(study_name="tiny", storage=url).trials])
    assert runs[0] == runs[1]


@pytest.mark.parametrize("url, needle", [
    ("{tmp}/study.db", "is not a URL"),
    ("foo://somewhere/db", "Can't load plugin"),
    ("sqlite:///{tmp}/notadb.db", "is not an SQLite database"),
    ("sqlite:///{tmp}", "names a folder"),
    ("postgresql://nobody@127.0.0.1:1/none", "Cannot connect"),
    ("sqlite:////proc/no/such/study.db", "cannot create"),
], ids=["no-scheme", "unknown-dialect", "not-a-database", "a-folder", "unreachable-postgres", "unwritable"])
def test_bad_storage_urls_are_refused_before_any_work(tmp_path: Path, url: str, needle: str) -> None:
    (tmp_path / "notadb.db").write_text("id,text\n1,hello\n")
    with pytest.raises(RosearchError, match=needle):
        check_url(url.format(tmp=tmp_path))


def test_a_dead_workers_trial_is_failed_at_once_and_retried_as_itself(tmp_path: Path) -> None:
    """kill -9 then an immediate rerun: the trial's process is gone on this host, so it is failed
    without waiting for the heartbeat's grace period, and retried with its parameters and seed."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    url = f"sqlite:///{tmp_path / 'study.db'}"
    storage = make_storage(url, heartbeat_interval=60)
    study = optuna.create_study(storage=storage, study_name="s", directions=["maximize"])
    trial = study.ask({"x": optuna.distributions.IntDistribution(0, 10)})
    trial.set_user_attr(WORKER_ATTR, {"host": os.uname().nodename, "pid": dead.pid})
    trial.set_user_attr("seed", 42)
    storage.record_heartbeat(trial._trial_id)  # beating recently: Optuna's own check would wait 120 s
    alive = study.ask({"x": optuna.distributions.IntDistribution(0, 10)})
    alive.set_user_attr(WORKER_ATTR, {"host": os.uname().nodename, "pid": os.getppid()})

    assert stale_trials(study) == {trial.number: f"its process {dead.pid} on this host is gone"}
    assert fail_stale(study) == [trial.number]
    trials = study.trials
    assert trials[trial.number].state == optuna.trial.TrialState.FAIL
    assert trials[alive.number].state == optuna.trial.TrialState.RUNNING  # a live worker's trial is left alone
    (retry,) = [t for t in trials if t.state == optuna.trial.TrialState.WAITING]
    assert retry.params == trials[trial.number].params and retry.user_attrs["seed"] == 42
    assert fail_stale(study) == []  # once only
