"""End-to-end: the real CLI on the tiny study, in a subprocess, asserting on the stored study."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from rosearch.hub import hub_reachable


def _cli(*args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "rosearch.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_optimize_resume_and_show_on_tiny(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first = _cli("optimize", "--study", "tiny", "--n-trials", "3", "--runs-dir", str(runs), "--no-progress", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Pareto front" in first.stdout and "trial #2" in first.stdout

    storage = f"sqlite:///{runs / 'tiny' / 'study.db'}"
    study = optuna.load_study(study_name="tiny", storage=storage)
    assert len(study.trials) == 3
    assert study.metric_names == ["accuracy", "attack_accuracy", "params"]
    assert study.user_attrs["config_hash"] and study.user_attrs["teacher"]["dev_accuracy"] > 0.6
    assert len(study.user_attrs["attack_examples"]) == 10
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert complete, [t.user_attrs.get("fail_reason") for t in study.trials]
    for t in complete:
        assert {"genome", "metrics", "fitness", "config_hash", "timings", "attack", "architecture"} <= set(t.user_attrs)
        m = t.user_attrs["metrics"]
        assert 0 <= m["accuracy"] <= 1 and 0 <= m["attack_accuracy"] <= 1 and m["params"] > 0 and m["flops"] > 0
        assert t.values == [m["accuracy"], m["attack_accuracy"], m["params"]]
    assert study.best_trials

    second = _cli("optimize", "--study", "tiny", "--n-trials", "1", "--runs-dir", str(runs), "--no-progress", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resuming: the study already has 3 trial(s)" in second.stdout
    assert "fine-tuning" not in second.stdout  # the teacher came from the cache
    assert len(optuna.load_study(study_name="tiny", storage=storage).trials) == 4

    shown = _cli("show", "--study", "tiny", "--runs-dir", str(runs), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    for column in ("accuracy", "under attack", "params", "fitness"):
        assert column in shown.stdout


@pytest.mark.parametrize(
    "yaml_text, needle",
    [
        ("distill: {alpha: 2}\n", "distill.alpha: got 2"),
        ("space: {ops: [lstm]}\n", "space.ops[0]: got 'lstm'"),
        ("search: {sampler: grid}\n", "search.sampler: got 'grid'"),
        ("data: [1, 2]\n", "data: got [1, 2]"),
        ("space: configs/spaces/missing.yaml\n", "space: got 'configs/spaces/missing.yaml'"),
        ("distill: {epochs: 1\n", "not valid YAML"),
    ],
)
def test_bad_config_exits_2_without_traceback_or_files(tmp_path: Path, yaml_text: str, needle: str) -> None:
    study = tmp_path / "bad.yaml"
    study.write_text(yaml_text)
    result = _cli("optimize", "--study", str(study), "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_show_without_a_study_is_a_clear_error(tmp_path: Path) -> None:
    result = _cli("show", "--study", "tiny", "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and "optimize --study tiny" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(hub_reachable(), reason="the hub is reachable here: sst2 would really download")
def test_sst2_without_the_hub_stops_fast_and_points_at_demo(tmp_path: Path) -> None:
    start = time.perf_counter()
    result = _cli("optimize", "--study", "sst2", "--runs-dir", str(tmp_path / "runs"), "--no-progress", cwd=tmp_path, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "glue" in result.stderr and "--study demo" in result.stderr and "Traceback" not in result.stderr
    assert time.perf_counter() - start < 30


def test_a_killed_worker_is_recovered_on_the_next_run(tmp_path: Path) -> None:
    """kill -9 during a trial; the next run fails the stale trial (heartbeat) and retries its parameters."""
    tiny = (Path(__file__).parents[1] / "studies" / "tiny.yaml").read_text()
    study_file = tmp_path / "crashy.yaml"
    study_file.write_text(tiny.replace("search:\n", "search:\n  heartbeat_interval: 1\n"))
    runs = tmp_path / "runs"
    storage = f"sqlite:///{runs / 'crashy' / 'study.db'}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "rosearch.cli", "optimize", "--study", str(study_file), "--runs-dir", str(runs), "--no-progress"]
    proc = subprocess.Popen([*args, "--n-trials", "5"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        running = None
        deadline = time.time() + 300
        while running is None and time.time() < deadline and proc.poll() is None:
            time.sleep(0.3)
            try:
                trials = optuna.load_study(study_name="crashy", storage=storage).trials
            except Exception:  # noqa: BLE001 - the database is not there yet
                continue
            # running, and past `suggest` (its genome is recorded): its parameters are all set
            running = next((t for t in trials if t.state == optuna.trial.TrialState.RUNNING and "genome" in t.user_attrs), None)
        assert running is not None, "no trial was ever seen running"
        proc.kill()
    finally:
        proc.wait()
    time.sleep(3)  # > 2 missed heartbeats
    result = subprocess.run([*args, "--n-trials", "1"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    trials = optuna.load_study(study_name="crashy", storage=storage).trials
    stale = trials[running.number]
    assert stale.state == optuna.trial.TrialState.FAIL
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == running.number]
    assert len(retried) == 1 and retried[0].params == running.params
    assert retried[0].state == optuna.trial.TrialState.COMPLETE
