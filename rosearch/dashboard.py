"""The `dashboard` command: optuna-dashboard on the study's storage and artifact store."""

from __future__ import annotations

import socket
from typing import Callable

import optuna

from rosearch.config import StudyConfig
from rosearch.errors import RosearchError
from rosearch.search.artifacts import TrialArtifacts
from rosearch.search.front import feasible
from rosearch.search.note import trial_note
from rosearch.search.study import completed, load_existing

Out = Callable[[str], None]


def backfill_notes(study: optuna.Study) -> int:
    """Write the trial note of completed trials that have none (studies run before notes
    existed). Notes live in the study's system attrs, so finished trials can get one; this is what
    optuna-dashboard itself does when a note is edited, through its `_note` helpers (there is no
    public API for a finished trial)."""
    from optuna_dashboard._note import get_note_from_system_attrs, save_note_with_version

    storage, study_id = study._storage, study._study_id
    attrs = storage.get_study_system_attrs(study_id)
    written = 0
    for t in completed(study):
        if "metrics" not in t.user_attrs or get_note_from_system_attrs(attrs, t._trial_id)["version"] > 0:
            continue
        recipe = next(iter(t.user_attrs.get("attacks", {"attack": None})))
        body = trial_note(number=t.number, architecture=t.user_attrs.get("architecture", ""), strategy=t.user_attrs.get("kd_strategy", "vanilla"),
                          recipe=recipe, metrics=t.user_attrs["metrics"], constraints=t.constraints, examples=t.user_attrs.get("adversarial_examples", []))
        save_note_with_version(storage, study_id, t._trial_id, 1, body)
        written += 1
    return written


def check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as err:
            raise RosearchError(f"Cannot listen on {host}:{port} ({err.strerror}); pick another --port.") from None


def url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/dashboard/"


def serve(cfg: StudyConfig, *, host: str = "127.0.0.1", port: int = 8080, out: Out = print) -> None:
    """Block serving optuna-dashboard (Ctrl-C stops it)."""
    from optuna_dashboard import run_server

    study = load_existing(cfg)
    check_port(host, port)
    if host not in ("127.0.0.1", "localhost", "::1"):
        out(f"warning: listening on {host}: anyone who can reach this machine can read and edit the study's notes.")
    added = backfill_notes(study)
    if added:
        out(f"added the note of {added} trial(s) recorded before notes existed")
    artifacts = TrialArtifacts.for_study(cfg)
    n_feasible = sum(feasible(t) for t in completed(study))
    out(f"study '{cfg.name}': {len(study.trials)} trials ({n_feasible} feasible); storage {cfg.search.storage}; artifacts {artifacts.folder}")
    out(f"optuna-dashboard: {url(host, port)}  (Ctrl-C to stop)")
    run_server(cfg.search.storage, host=host, port=port, artifact_store=artifacts.store)
