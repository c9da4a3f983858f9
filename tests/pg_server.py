"""A throwaway PostgreSQL server for the tests that need a real one.

It installs Debian's `postgresql` with apt-get when it is missing and we are root (as in CI), then
starts a private cluster on a free loopback port; it skips, saying why, only where it cannot.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _install() -> str | None:
    """Why PostgreSQL cannot be had here, or None once its binaries are present."""
    if _bin("initdb") and _bin("pg_ctl"):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "PostgreSQL is not installed and this user cannot apt-get install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "install", "-y", "-q", "postgresql"], ["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "postgresql"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        if cmd[1] == "install" and done.returncode == 0:
            break
    return None if _bin("initdb") else f"apt-get install postgresql failed: {done.stderr[-300:]}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def running_postgres() -> Iterator[str]:
    """Yield the URL of a fresh PostgreSQL database; stop and remove it afterwards."""
    why = _install()
    if why:
        pytest.skip(why)
    run_as: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser: cannot start postgres as another user")
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("no 'postgres' system user to run the server as")
        run_as = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="rosearch-pg-"))
    if run_as:
        shutil.chown(root, user="postgres")
    data, port = root / "data", _free_port()
    subprocess.run([*run_as, _bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"], check=True, capture_output=True, timeout=120)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=50"
    subprocess.run([*run_as, _bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"], check=True, capture_output=True, timeout=120)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run_as, _bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
