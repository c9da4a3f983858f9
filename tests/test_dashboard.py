"""`dashboard`: optuna-dashboard on loopback with the study's notes and artifacts; a real browser sees it."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> bytes:
    # optuna-dashboard serves gzip and answers 500 to clients that accept no encoding (docs/offline.md)
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        return gzip.decompress(body) if response.headers.get("Content-Encoding") == "gzip" else body


@pytest.fixture(scope="module")
def dashboard(tiny_study, tmp_path_factory) -> Iterator[tuple[str, object]]:
    """`rosearch-optuna dashboard --study tiny` running in a subprocess: (base URL, study)."""
    runs, study = tiny_study
    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard") / "dashboard.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "rosearch.cli", "dashboard", "--study", "tiny", "--runs-dir", str(runs), "--port", str(port)],
                                cwd=runs.parent, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if proc.poll() is not None:
                pytest.fail(f"dashboard exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                _get(f"{base}/api/studies")
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"dashboard did not answer: {log.read_text()[-2000:]}")
        assert f"optuna-dashboard: http://127.0.0.1:{port}/dashboard/" in log.read_text()
        yield base, study
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_dashboard_serves_the_study_notes_and_artifacts_on_loopback(dashboard) -> None:
    base, study = dashboard
    studies = json.loads(_get(f"{base}/api/studies"))["study_summaries"]
    assert [s["study_name"] for s in studies] == ["tiny"]
    detail = json.loads(_get(f"{base}/api/studies/{studies[0]['study_id']}"))
    assert "teacher" in detail["note"]["body"]  # the study's note: its settings
    assert [t["number"] for t in detail["trials"]] == [t.number for t in study.trials]
    done = [t for t in detail["trials"] if t["state"] == "Complete"]
    assert done
    for t in done:
        head = t["note"]["body"].splitlines()[0]
        assert head.startswith(f"## Trial {t['number']}") and "RoSearch fitness" in head
        assert ("hand-designed baseline" in head) == (t["number"] == 0)  # the tiny study's baseline runs first
        names = {a["filename"]: a for a in t["artifacts"]}
        assert {"architecture.svg", "adversarial-sample-deepwordbug.csv", "adversarial-deepwordbug.jsonl"} <= set(names)
        svg = names["architecture.svg"]
        assert svg["mimetype"] == "image/svg+xml"
        body = _get(f"{base}/artifacts/{studies[0]['study_id']}/{t['trial_id']}/{svg['artifact_id']}")
        assert body.startswith(b"<svg") and f"trial #{t['number']}".encode() in body
    # loopback only: the machine's other address does not answer
    outside = _outside_address()
    if outside is not None:
        with pytest.raises(OSError):
            socket.create_connection((outside, int(base.rsplit(":", 1)[1])), timeout=3).close()


def _outside_address() -> str | None:
    """This machine's address on its default route (a UDP 'connect' sends nothing), if any."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_dashboard_refuses_a_busy_port(tiny_study, tmp_path: Path) -> None:
    runs, _ = tiny_study
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run_cli("dashboard", "--study", "tiny", "--runs-dir", str(runs), "--port", str(port), cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and "pick another --port" in done.stderr and "Traceback" not in done.stderr


def _chromium() -> str:
    """Debian's chromium, installed with apt-get when missing and allowed; else skip with the reason."""
    found = shutil.which("chromium")
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        reason = "Chromium is not installed and cannot be: no apt-get or not root (apt-get install chromium)"
    else:
        for cmd in (["apt-get", "install", "-y", "-q", "chromium"], ["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
            subprocess.run(cmd, capture_output=True, timeout=900, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
            if shutil.which("chromium"):
                return shutil.which("chromium")
        reason = "apt-get install chromium failed (no package registry?)"
    print(f"SKIP browser test: {reason}")
    pytest.skip(reason)


def test_a_real_browser_shows_the_study_and_its_trials(dashboard, tmp_path: Path) -> None:
    base, study = dashboard
    chromium = _chromium()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--window-size=1400,1000",
             "--virtual-time-budget=15000", f"--user-data-dir={tmp_path / 'profile'}"]
    page = f"{base}/dashboard/studies/1/trials"
    dom = subprocess.run([chromium, *flags, "--dump-dom", page], capture_output=True, text=True, timeout=120).stdout
    assert "tiny" in dom
    for trial in study.trials:
        assert f"Trial {trial.number}" in dom
    assert "RoSearch fitness" in dom  # the first trial's note is rendered
    shot = tmp_path / "dashboard.png"
    subprocess.run([chromium, *flags, f"--screenshot={shot}", page], capture_output=True, timeout=120)
    assert shot.stat().st_size > 10_000
    keep = ROOT / "runs" / "test-screenshots"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, keep / "dashboard.png")
    print(f"screenshot: {keep / 'dashboard.png'}")


def test_trials_recorded_before_notes_existed_get_one_once() -> None:
    import optuna
    from optuna_dashboard._note import get_note_from_system_attrs

    from rosearch.dashboard.publish import backfill_notes

    study = optuna.create_study(directions=["maximize", "maximize"])
    metrics = {"accuracy": 0.8, "attack_accuracy": 0.3, "params": 1e6, "fitness": 1.05}
    study.add_trial(optuna.trial.create_trial(values=[0.8, 0.3], user_attrs={
        "metrics": metrics, "genome": {"hidden_size": 16, "embedding_size": 16, "n_cells": 1, "nodes": [{"inputs": [1, 0], "ops": ["skip", "zero"]}]},
        "attacks": {"pruthi": {}}, "adversarial_examples": [{"original": "good film", "perturbed": "goood film"}]}))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))
    assert backfill_notes(study) == 1 and backfill_notes(study) == 0  # only the complete trial; never twice
    attrs = study._storage.get_study_system_attrs(study._study_id)
    body = get_note_from_system_attrs(attrs, study.trials[0]._trial_id)["body"]
    for needle in ("## Trial 0: RoSearch fitness 1.050", "- n0 = skip(c[k-1]) + zero(c[k-2])", "pruthi", "80.0%", "goood film", "**Feasible**"):
        assert needle in body, needle
