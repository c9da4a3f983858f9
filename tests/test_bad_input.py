"""Bad input, faults and misuse (issue 17): each case a user or an attacker can cause, and what
rosearch must do instead of a traceback, a silent change or lost work. Each test failed before
its fix."""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import optuna
import pytest
import torch
import yaml

from rosearch.config import load_study, project_root, to_dict
from rosearch.errors import ConfigError, RosearchError
from rosearch.student.pipeline import StudentPipeline

from conftest import run_cli

ROOT = project_root()


def _tiny_raw() -> dict:
    return yaml.safe_load((ROOT / "studies" / "tiny.yaml").read_text())


def _write(tmp_path: Path, raw: dict | str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(raw if isinstance(raw, str) else yaml.safe_dump(raw))
    return path


# --- 1. A storage never decides what code runs or which files load ----------------------------

# (dotted key, a value someone with write access to the storage could put there)
STORED = [
    ("teacher.trust_remote_code", True),
    ("teacher.model", "/tmp/somebody-elses-model"),
    ("kd.generator.model", "/tmp/somebody-elses-mlm"),
    ("data.source", "jsonl"),
    ("data.files", {"train": "/etc/passwd"}),
    ("kd.zeroshot.files", ["/tmp/other.jsonl"]),
]


def _set(data: dict, dotted: str, value: object) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[leaf] = value


@pytest.mark.parametrize("key,value", STORED, ids=[k for k, _ in STORED])
def test_a_stored_config_cannot_switch_on_code_or_paths(key: str, value: object) -> None:
    from rosearch.search.study import stored_config

    current = load_study("tiny")
    study = optuna.create_study(directions=["maximize"])
    doctored = to_dict(current)
    _set(doctored, key, value)
    study.set_user_attr("config", doctored)
    with pytest.raises(RosearchError, match=key.replace(".", r"\.")):
        stored_config(study, current)


def test_a_stored_config_equal_in_those_keys_is_still_the_trials_own() -> None:
    from rosearch.search.study import stored_config

    current = load_study("tiny")
    study = optuna.create_study(directions=["maximize"])
    stored = to_dict(current)
    stored["kd"]["epochs"] = 0.5  # a training setting: the trials' own is used to rebuild them
    study.set_user_attr("config", stored)
    assert stored_config(study, current).kd.epochs == 0.5


REMOTE_TOKENIZER = '''
from pathlib import Path
from transformers import BertTokenizerFast
Path(__file__).with_name("RAN").write_text("the folder's code ran")
class EvilTokenizer(BertTokenizerFast):
    pass
'''


def test_export_refuses_a_doctored_storage_before_running_anything(tiny_study, tmp_path: Path) -> None:
    """A study.db someone sent, set to trust a folder whose tokenizer code runs on load."""
    runs, _ = tiny_study
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "evil_tok.py").write_text(REMOTE_TOKENIZER)
    (evil / "tokenizer_config.json").write_text(json.dumps({"auto_map": {"AutoTokenizer": [None, "evil_tok.EvilTokenizer"]}}))
    db = tmp_path / "sent.db"
    shutil.copy(runs / "tiny" / "study.db", db)
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{db}")
    stored = dict(study.user_attrs["config"])
    stored["teacher"] = {**stored["teacher"], "trust_remote_code": True, "model": str(evil)}
    study.set_user_attr("config", stored)
    done = run_cli("export", "--study", "tiny", "--storage", f"sqlite:///{db}", "--runs-dir", str(runs), "--out", str(tmp_path / "out"),
                   "--no-progress", cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "teacher.trust_remote_code" in done.stderr and "Traceback" not in done.stderr
    assert not (evil / "RAN").exists() and not (tmp_path / "out").exists()


# --- 2. YAML alias bombs ---------------------------------------------------------------------

def _bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines)


BOMBS = {
    "description": lambda: _bomb() + "\ndescription: *a8\n",
    "baseline genome": lambda: _bomb() + "\nbaselines:\n  - name: boom\n    genome: {hidden_size: 32, embedding_size: 32, n_cells: 1, nodes: *a8}\n",
}


@pytest.mark.parametrize("where", list(BOMBS))
def test_yaml_alias_bombs_are_refused_at_once(tmp_path: Path, where: str) -> None:
    path = _write(tmp_path, BOMBS[where]())
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="aliases") as err:
        load_study(str(path))
    assert time.perf_counter() - start < 5 and len(str(err.value)) < 1000


def test_ordinary_aliases_still_load(tmp_path: Path) -> None:
    raw = (ROOT / "studies" / "tiny.yaml").read_text().replace("max_length: 32", "max_length: &length 32") + "latency: {seq_len: *length}\n"
    assert load_study(str(_write(tmp_path, raw))).latency.seq_len == 32


def test_messages_quote_values_bounded() -> None:
    err = ConfigError("description", ["x" * 10_000] * 10_000, "fix")
    assert len(str(err)) < 600


# --- 3. An interrupted baseline is run again on resume ----------------------------------------

@pytest.mark.parametrize("state,attrs,again", [
    (optuna.trial.TrialState.FAIL, {}, True),  # Ctrl-C: Optuna marks it FAIL, with no reason of ours
    (optuna.trial.TrialState.FAIL, {"fail_reason": "NonFiniteLoss: nan"}, False),  # a failure that is data
    (optuna.trial.TrialState.COMPLETE, {}, False),
    (optuna.trial.TrialState.PRUNED, {}, False),
])
def test_baselines_interrupted_are_enqueued_again_with_their_seed(state, attrs, again) -> None:
    from rosearch.search.baselines import enqueue_baselines

    cfg = load_study("tiny")
    study = optuna.create_study(directions=["maximize"])
    assert enqueue_baselines(study, cfg) == ["transformer-tiny"]
    trial = study.ask()
    trial.set_user_attr("seed", 12345)
    for k, v in attrs.items():
        trial.set_user_attr(k, v)
    study.tell(trial, 1.0 if state == optuna.trial.TrialState.COMPLETE else None, state=state)
    assert enqueue_baselines(study, cfg) == (["transformer-tiny"] if again else [])
    if again:
        waiting = study.get_trials(states=(optuna.trial.TrialState.WAITING,))
        assert [t.user_attrs["seed"] for t in waiting] == [12345]  # the retry is the trial that was interrupted
        assert enqueue_baselines(study, cfg) == []  # and it is enqueued once


# --- 4. Every --out is checked before any work ------------------------------------------------

def _outs(tmp_path: Path) -> list[tuple[list[str], str]]:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    file = tmp_path / "a-file"
    file.write_text("x")
    return [
        (["attack", "--model", "teacher", "--study", "tiny", "--out", str(folder)], "which is a folder"),
        (["attack", "--model", "teacher", "--study", "tiny", "--out", str(tmp_path / "x.txt")], ".jsonl or .csv"),
        (["attack", "--model", "teacher", "--study", "tiny", "--out", "/proc/attacked.jsonl"], "cannot write"),
        (["export", "--study", "tiny", "--out", str(file)], "which is a file"),
        (["export", "--study", "tiny", "--out", "/proc/rosearch-export"], "cannot write"),
        (["report", "--study", "tiny", "--out", str(file)], "which is a file"),
    ]


def test_every_out_is_checked_before_any_work(tmp_path: Path, capsys) -> None:
    from rosearch.cli import main

    runs = tmp_path / "runs"
    for argv, words in _outs(tmp_path):
        assert main([*argv, "--runs-dir", str(runs)]) == 2, argv
        assert words in capsys.readouterr().err, argv
    assert not (runs / "cache").exists() and not (runs / "tiny" / "study.db").exists()  # nothing prepared, nothing stored


# --- 5. A damaged cache entry is named and rebuilt -------------------------------------------

def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


DAMAGE = {
    "truncated weights": ("model.safetensors", _truncate),
    "truncated logits": ("train_logits.npy", _truncate),
    "truncated arrow": ("train/data-00000-of-00001.arrow", _truncate),
    "emptied metrics": ("metrics.json", lambda p: p.write_text("")),
    "deleted file": ("metrics.json", lambda p: p.unlink()),
    "no marker (interrupted copy)": (".complete.json", lambda p: p.unlink()),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_cache_entry_is_named_and_rebuilt(tmp_path: Path, case: str) -> None:
    from rosearch.cache import DiskCache

    name, damage = DAMAGE[case]
    logs: list[str] = []
    cache = DiskCache(tmp_path, log=logs.append)
    builds = []

    def build(folder: Path) -> None:
        builds.append(1)
        for file in ("model.safetensors", "train_logits.npy", "train/data-00000-of-00001.arrow", "metrics.json"):
            (folder / file).parent.mkdir(parents=True, exist_ok=True)
            (folder / file).write_bytes(b"0123456789" * 100)

    entry = cache.get_or_build("teacher", "k", build)
    assert cache.get_or_build("teacher", "k", build) == entry and len(builds) == 1 and not logs
    damage(entry / name)
    assert not cache.has("teacher", "k")
    again = cache.get_or_build("teacher", "k", build)
    assert len(builds) == 2 and (again / "metrics.json").read_bytes() == b"0123456789" * 100
    assert len(logs) == 1 and str(entry) in logs[0] and "rebuilding" in logs[0]
    if name != ".complete.json":
        assert name in logs[0]  # says which file
    assert cache.has("teacher", "k")


def test_prepare_rebuilds_a_truncated_teacher_and_its_logits(tiny_study, tmp_path: Path) -> None:
    """The real entries: the tiny study's cache, copied, with the teacher's weights and its train
    logits cut in half, prepares again (naming both) instead of failing on every rerun."""
    from rosearch.cache import DiskCache
    from rosearch.prepare import prepare
    from rosearch.train import make_accelerator

    runs, _ = tiny_study
    cache_dir = tmp_path / "cache"
    shutil.copytree(runs / "cache", cache_dir)
    (weights,) = cache_dir.glob("teacher/*/model.safetensors")
    (logits,) = cache_dir.glob("teacher_outputs/*/train_logits.npy")
    _truncate(weights)
    _truncate(logits)
    logs: list[str] = []
    cfg = replace(load_study("tiny"), runs_dir=str(tmp_path))
    prep = prepare(cfg, cache=DiskCache(cache_dir, log=logs.append), accelerator=make_accelerator("no"), log=logs.append, progress=False)
    damaged = [line for line in logs if "is damaged" in line]
    assert len(damaged) == 2 and "model.safetensors" in damaged[0] and "train_logits.npy" in damaged[1], logs
    assert prep.teacher_metrics["dev_accuracy"] > 0.6 and len(prep.attack_examples) == 10


def test_files_added_to_an_entry_later_do_not_count_as_damage(tmp_path: Path) -> None:
    """datasets writes its map caches next to the data it maps."""
    from rosearch.cache import DiskCache

    cache = DiskCache(tmp_path, log=lambda m: pytest.fail(m))
    entry = cache.get_or_build("data", "k", lambda f: (f / "a.arrow").write_text("a"))
    (entry / "cache-123.arrow").write_text("b")
    assert cache.get_or_build("data", "k", lambda f: pytest.fail("rebuilt")) == entry


# --- 6. An empty evaluation set is never measured --------------------------------------------

def test_an_in_trial_subset_taking_every_dev_example_is_refused_at_load(tmp_path: Path) -> None:
    raw = _tiny_raw()
    raw["attack"]["n_examples"] = 200  # data.max_dev_examples is 200
    with pytest.raises(ConfigError, match=r"attack\.n_examples"):
        load_study(str(_write(tmp_path, raw)))


def test_an_empty_evaluation_set_is_refused_before_attacking() -> None:
    from rosearch.attack.targets import require_examples

    with pytest.raises(RosearchError, match="no evaluation set"):
        require_examples([], load_study("tiny"))
    require_examples([{"text": "a", "label": 0}], load_study("tiny"))


# --- 7, 8. Baseline genomes are validated completely, and never silently changed --------------

GENOME = {"hidden_size": 32, "embedding_size": 32, "n_cells": 1, "n_heads": 2, "ffn_multiplier": 2,
          "nodes": [{"inputs": [1, 1], "ops": ["attention", "skip"]}, {"inputs": [2, 2], "ops": ["ffn", "skip"]}]}
BAD_GENOMES = {
    "one input": ({"nodes": [{"inputs": [1], "ops": ["attention", "skip"]}, GENOME["nodes"][1]]}, "exactly 2"),
    "three inputs": ({"nodes": [{"inputs": [1, 1, 0], "ops": ["attention", "skip"]}, GENOME["nodes"][1]]}, "exactly 2"),
    "three ops": ({"nodes": [{"inputs": [1, 1], "ops": ["attention", "skip", "ffn"]}, GENOME["nodes"][1]]}, "exactly 2"),
    "fractional width": ({"hidden_size": 32.9}, "whole number"),
    "width as text": ({"embedding_size": "32"}, "whole number"),
    "width as bool": ({"n_cells": True}, "whole number"),
    "misspelt key": ({"ffn_multiplyer": 2}, "unknown genome key"),
    "op as number": ({"nodes": [{"inputs": [1, 1], "ops": [3, "skip"]}, GENOME["nodes"][1]]}, "a name"),
}


@pytest.mark.parametrize("case", list(BAD_GENOMES))
def test_bad_baseline_genomes_are_refused_at_load(tmp_path: Path, case: str) -> None:
    change, words = BAD_GENOMES[case]
    raw = _tiny_raw()
    raw["baselines"] = [{"name": "mine", "genome": {**GENOME, **change}}]
    with pytest.raises(ConfigError, match=r"baselines\[0\]\.genome") as err:
        load_study(str(_write(tmp_path, raw)))
    assert words in str(err.value)


def test_a_good_baseline_genome_loads(tmp_path: Path) -> None:
    raw = _tiny_raw()
    raw["baselines"] = [{"name": "mine", "genome": GENOME}]
    assert load_study(str(_write(tmp_path, raw))).baselines[0].genome == GENOME


def test_a_bad_baseline_stores_nothing(tmp_path: Path) -> None:
    raw = _tiny_raw()
    raw["baselines"] = [{"name": "mine", "genome": {**GENOME, **BAD_GENOMES["one input"][0]}}]
    path = _write(tmp_path, raw, "one-input.yaml")
    done = run_cli("optimize", "--study", str(path), "--runs-dir", str(tmp_path / "runs"), "--no-progress", cwd=tmp_path, timeout=120)
    assert done.returncode == 2 and "baselines[0].genome" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()


# --- 9, 10. Data rows without a label, without text, or empty -----------------------------------

def _jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _data_cfg(train: str, dev: str | None = None):
    from rosearch.config import DataConfig

    return DataConfig(source="jsonl", name=None, files={"train": train, **({"dev": dev} if dev else {})})


GOOD_ROWS = [{"text": f"text number {i}", "label": i % 2} for i in range(40)]
BAD_DATA = {
    "rows without the label key": (GOOD_ROWS + [{"text": "no label here"}] * 3, "3 of 43 rows of the train split have no label"),
    "a text column of numbers": ([{"text": i, "label": i % 2} for i in range(40)], "Every one of the 40 rows of the train split was dropped"),
    "only empty texts": ([{"text": "  ", "label": i % 2} for i in range(40)], "empty or whitespace only"),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_data_without_labels_or_text_is_refused_saying_why(tmp_path: Path, case: str) -> None:
    from rosearch.data import load_splits

    rows, words = BAD_DATA[case]
    with pytest.raises(ConfigError) as err:
        load_splits(_data_cfg(_jsonl(tmp_path / "train.jsonl", rows)), log=lambda m: None)
    assert words in str(err.value)


def test_dropped_rows_are_counted_and_an_emptied_split_refused(tmp_path: Path) -> None:
    from rosearch.data import load_splits

    logs: list[str] = []
    rows = GOOD_ROWS + [{"text": "", "label": 0}] * 5 + [{"text": "   ", "label": 1}] * 2
    splits = load_splits(_data_cfg(_jsonl(tmp_path / "train.jsonl", rows)), log=logs.append)
    assert sum(len(s) for s in splits.values()) == 40
    assert logs == ["data: dropped 7 of 47 rows of the train split: 7 are empty or whitespace only"]
    dev = _jsonl(tmp_path / "dev.jsonl", [{"text": "", "label": 0}] * 4)
    with pytest.raises(ConfigError, match="dev split was dropped"):
        load_splits(_data_cfg(str(tmp_path / "train.jsonl"), dev), log=lambda m: None)


# --- 11. Storage failures name the storage and the cause --------------------------------------

def test_a_deleted_database_is_named_with_its_cause(tmp_path: Path) -> None:
    from rosearch.search.storage import make_storage, storage_errors

    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="s", storage=make_storage(url), directions=["maximize"])

    def objective(trial: optuna.Trial) -> float:
        (tmp_path / "study.db").unlink()  # someone removes the database while a trial runs
        sqlite3.connect(tmp_path / "study.db").close()
        return 1.0

    with pytest.raises(RosearchError) as err, storage_errors(url):
        study.optimize(objective, n_trials=1)
    message = str(err.value)
    assert url in message and ("readonly database" in message or "no such table" in message), message  # SQLite's own words
    assert "exceeding max length" not in message


def test_a_full_disk_under_optunas_assertion_is_named() -> None:
    from sqlalchemy.exc import OperationalError

    from rosearch.search.storage import storage_errors

    with pytest.raises(RosearchError, match="database or disk is full"):
        with storage_errors("sqlite:///runs/x/study.db"):
            try:
                raise OperationalError("UPDATE trials", {}, sqlite3.OperationalError("database or disk is full"))
            except OperationalError:
                raise AssertionError("Should not reach.")  # what optuna's _run_trial raises in its finally


def test_other_errors_pass_through_storage_errors() -> None:
    from rosearch.search.storage import storage_errors

    with pytest.raises(ZeroDivisionError), storage_errors("sqlite:///x.db"):
        1 / 0


# --- 12. Our own exports load without --trust-remote-code -----------------------------------

def _recognizing_export(folder: Path, tokenizer) -> None:  # noqa: ANN001
    from rosearch.config import LatencyConfig
    from rosearch.export.write import write_folder
    from rosearch.robust.recognizer import WordRecognizer
    from rosearch.student.genome import Genome, Node
    from rosearch.student.model import build_student

    genome = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")),), input_stage="recognizer")
    torch.manual_seed(0)
    student = build_student(genome, vocab_size=len(tokenizer), num_labels=2, pad_token_id=tokenizer.pad_token_id,
                            max_position_embeddings=32, dropout=0.0).eval()
    metrics = {"name": "", "study": "unit", "trial": 0, "accuracy": 0.5, "attack_accuracy": 0.5, "params": 1, "teacher": {}}
    try:
        stage = WordRecognizer.from_texts(["a wonderful movie", "a terrible plot"])
        write_folder(folder, StudentPipeline(student, tokenizer, 32, (("recognizer", stage),)), metrics, genome=genome, title="unit",
                     latency=LatencyConfig(batch_sizes=[1], warmup=0, repeats=1), length=32, texts=["a wonderful movie", "a terrible plot"])
    except (KeyError, TypeError):
        pass  # the model card wants a full export's metrics; the folder's files are written before it


def test_an_own_export_with_the_recogniser_loads_without_remote_code(tmp_path: Path, tokenizer) -> None:
    from rosearch.attack.targets import load_model

    folder = tmp_path / "student"
    _recognizing_export(folder, tokenizer)
    (folder / "recognizing_tokenizer.py").write_text((folder / "recognizing_tokenizer.py").read_text())  # untouched copy
    _, tok = load_model(str(folder))
    assert type(tok).__name__ == "RecognizingBertTokenizerFast"
    assert tok("a wondreful mvoie")["input_ids"] == tok("a wonderful movie")["input_ids"]  # the stage runs
    (folder / "recognizer.py").write_text((folder / "recognizer.py").read_text() + "\nimport os  # edited\n")
    with pytest.raises(RosearchError, match="recognizer.py is not this rosearch's"):
        load_model(str(folder))


# --- 13. An all-zero attention mask gives finite logits ---------------------------------------

@pytest.mark.parametrize("op", ["attention", "ffn", "conv3", "dilconv5", "maxpool3", "avgpool3", "skip"])
def test_an_all_zero_attention_mask_gives_finite_logits(op: str) -> None:
    from rosearch.student.genome import Genome, Node
    from rosearch.student.model import build_student

    genome = Genome(16, 8, 2, (Node((0, 1), (op, "skip")),), n_heads=2 if op == "attention" else None,
                    ffn_multiplier=2 if op == "ffn" else None)
    student = build_student(genome, vocab_size=50, num_labels=2, pad_token_id=0, max_position_embeddings=16, dropout=0.0).eval()
    ids = torch.tensor([[5, 6, 7, 0], [0, 0, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 0], [0, 0, 0, 0]])
    for grad in (True, False):  # autograd, and the inference fast path attacks and latency take
        with torch.set_grad_enabled(grad):
            logits = student(input_ids=ids, attention_mask=mask).logits
            only_padding = student(input_ids=ids[1:], attention_mask=mask[1:]).logits
            alone = student(input_ids=ids[:1, :3], attention_mask=mask[:1, :3]).logits
        assert torch.isfinite(logits).all() and torch.isfinite(only_padding).all()
        assert torch.allclose(logits[0], alone[0], atol=1e-5)  # the fix changes nothing for real text


def test_an_all_zero_attention_mask_gives_finite_logits_in_onnx(tmp_path: Path) -> None:
    import numpy as np

    from rosearch.export.onnx import export_onnx
    from rosearch.latency import onnx_session, probe_inputs
    from rosearch.student.genome import Genome, Node
    from rosearch.student.model import build_student

    genome = Genome(16, 8, 1, (Node((0, 1), ("attention", "maxpool3")),), n_heads=2)
    student = build_student(genome, vocab_size=50, num_labels=2, pad_token_id=0, max_position_embeddings=16, dropout=0.0).eval()
    export_onnx(student, tmp_path / "m.onnx", example=probe_inputs(2, 8, 50))
    session = onnx_session(str(tmp_path / "m.onnx"), threads=1)
    feeds = {"input_ids": np.array([[5, 6, 0], [0, 0, 0]], dtype=np.int64), "attention_mask": np.array([[1, 1, 0], [0, 0, 0]], dtype=np.int64)}
    (logits,) = session.run(None, {i.name: feeds[i.name] for i in session.get_inputs()})
    assert np.isfinite(logits).all()


# --- 14. TextAttack's first import stays quiet ------------------------------------------------

def test_the_first_textattack_import_prints_nothing(tmp_path: Path) -> None:
    code = "from rosearch.attack.resources import import_textattack; import_textattack(); print('imported')"
    env = {**os.environ, "TA_CACHE_DIR": str(tmp_path / "ta"), "ROSEARCH_CACHE": str(tmp_path / "rc"), "NLTK_DATA": ""}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "imported" and "nltk_data" not in done.stderr, done.stderr[-2000:]


# --- 15. Long texts: only what the model reads is attacked ------------------------------------

@pytest.mark.parametrize("text,max_length,expected", [
    ("a short text", 32, "a short text"),
    ("one two three four five", 3, "one two three"),
    ("  one\ttwo\nthree four", 3, "  one\ttwo\nthree"),
    ("one two three", 3, "one two three"),
    ("", 8, ""),
])
def test_within_window(text: str, max_length: int, expected: str) -> None:
    from rosearch.attack.window import within_window

    assert within_window(text, max_length) == expected


def test_cutting_at_the_window_changes_no_model_input(tokenizer) -> None:
    from rosearch.attack.window import within_window

    long = " ".join(["an utterly, remarkably long-winded review of the film!"] * 3000)
    cut = within_window(long, 32)
    assert len(cut) < 400 < len(long)
    kw = dict(truncation=True, max_length=32)
    assert tokenizer(cut, **kw)["input_ids"] == tokenizer(long, **kw)["input_ids"]


def test_a_long_text_costs_what_a_short_one_does(tokenizer) -> None:
    from rosearch.attack.run import run_attack
    from rosearch.config import RecipeConfig
    from rosearch.student.genome import Genome, Node
    from rosearch.student.model import build_student

    genome = Genome(16, 8, 1, (Node((0, 1), ("conv3", "skip")),))
    torch.manual_seed(0)
    student = build_student(genome, vocab_size=len(tokenizer), num_labels=2, pad_token_id=tokenizer.pad_token_id,
                            max_position_embeddings=32, dropout=0.0).eval()
    head = "the film was a wonderful and moving experience with great actors and a clever plot that kept me watching"
    label = int(student(**tokenizer(head, return_tensors="pt")).logits.argmax())
    short = run_attack(StudentPipeline(student, tokenizer, 32), [{"text": head, "label": label}], RecipeConfig("deepwordbug"), progress=False)
    long = run_attack(StudentPipeline(student, tokenizer, 32), [{"text": head + " and more" * 5000, "label": label}], RecipeConfig("deepwordbug"),
                      progress=False)
    assert long.records[0]["queries"] <= short.records[0]["queries"] * 1.5 + 5
    assert len(long.records[0]["original"]) < 400
    assert not math.isnan(long.metrics.accuracy_under_attack)
