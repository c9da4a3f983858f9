"""optuna-dashboard on a study's storage and artifact store."""

from __future__ import annotations

import errno
import socket
from typing import Callable


from rosearch.config import StudyConfig
from rosearch.errors import RosearchError
from rosearch.dashboard.artifacts import TrialArtifacts
from rosearch.search.front import feasible
from rosearch.search.study import completed, load_existing

Out = Callable[[str], None]


def check_port(host: str, port: int) -> None:
    """Refuse a port out of range, a host this machine cannot listen on, or a busy port, each
    with the option to change."""
    if not 1 <= port <= 65535:
        raise RosearchError(f"--port: got {port}. Use a port number from 1 to 65535 (default 8080).")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except (socket.gaierror, UnicodeError) as err:
        raise RosearchError(f"--host: got {host!r}, which is not an address of this machine ({err}). Use 127.0.0.1 (default) or 0.0.0.0.") from None
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise RosearchError(f"--port: {host}:{port} is already in use; pick another --port.") from None
            if err.errno == errno.EACCES:
                raise RosearchError(f"--port: not allowed to listen on {port} ({err.strerror}); pick a port above 1023.") from None
            raise RosearchError(f"--host: cannot listen on {host}:{port} ({err.strerror}); use an address of this machine, e.g. 127.0.0.1.") from None


def url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/dashboard/"


def serve(cfg: StudyConfig, *, host: str = "127.0.0.1", port: int = 8080, out: Out = print) -> None:
    """Block serving optuna-dashboard (Ctrl-C stops it)."""
    from optuna_dashboard import run_server

    from rosearch.dashboard.publish import backfill_notes  # torch and transformers: only once serving

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
    run_server(study._storage, host=host, port=port, artifact_store=artifacts.store)  # the opened storage: RDB or journal alike
