"""Export: saved students load anywhere with the same logits; the CLI exports what the study holds."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest
import torch

from conftest import run_cli
from rosearch.config import LatencyConfig
from rosearch.export.onnx import TOLERANCE
from rosearch.export.write import parity_batches, write_folder
from rosearch.export.select import folder_name, select_trials
from rosearch.latency import onnx_session
from rosearch.search import evaluations
from rosearch.search.front import feasible
from rosearch.student import build_student
from rosearch.student.genome import Genome, Node
from rosearch.student.pipeline import StudentPipeline

#: Every operation once, padded batches: what an ONNX graph or a reload could get wrong.
ALL_OPS = Genome(32, 16, 2, (
    Node((0, 1), ("attention", "ffn")), Node((2, 0), ("conv3", "conv5")), Node((3, 1), ("conv7", "dilconv3")),
    Node((2, 4), ("dilconv5", "maxpool3")), Node((5, 3), ("avgpool3", "skip")), Node((6, 1), ("zero", "skip")),
), n_heads=2, ffn_multiplier=2)

TEXTS = ["a gripping, beautifully acted film", "dull", "the plot makes no sense at all and the jokes fall flat, sadly", "fine"]

#: Run in a fresh interpreter, once per loader. For the Auto class, rosearch is made unimportable
#: first: the folder's own code must be enough.
LOADER = """
import sys, numpy as np, torch
folder, inputs, out, how = sys.argv[1:5]
batch = {k: torch.from_numpy(v) for k, v in np.load(inputs).items()}
if how == "auto":
    sys.modules["rosearch"] = None  # `import rosearch` now fails
    from transformers import AutoModelForSequenceClassification
    model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True)
    assert "transformers_modules" in type(model).__module__, type(model).__module__
else:
    import rosearch
    model = rosearch.load_student(folder)
with torch.inference_mode():
    np.save(out, model.eval()(**batch).logits.numpy())
"""


def _metrics() -> dict:
    attack = {"clean_accuracy": 0.9, "accuracy_under_attack": 0.4, "success_rate": 0.55, "avg_perturbed_share": 0.1, "avg_queries": 12.0, "n": 10,
              "clean_ci": [0.6, 0.98], "under_attack_ci": [0.168, 0.687]}
    return {
        "study": "unit", "trial": 7, "kd_strategy": "vanilla", "retrain_epochs": 0, "architecture": ALL_OPS.describe(), "genome": ALL_OPS.to_dict(),
        "accuracy": 0.8, "accuracy_ci": [0.711, 0.866], "test_accuracy": 0.79, "test_accuracy_ci": [0.7, 0.86], "n_dev": 100, "n_test": 100, "search_recipe": "deepwordbug", "attack_accuracy": 0.4,
        "attacks": {"deepwordbug": attack}, "attacks_skipped": {"pwws": "missing WordNet"}, "n_attack": 10, "params": 12345, "flops": 1e6,
        "flops_seq_len": 32, "compression": 100.0, "fitness": 1.1, "search_metrics": {"accuracy": 0.8, "attack_accuracy": 0.4},
        "teacher": {"model": "teacher", "dev_accuracy": 0.9, "params": 1_234_500}, "data": "unit data", "machine": "test machine",
    }


def test_saved_student_loads_anywhere_with_the_same_logits(tmp_path: Path, tokenizer) -> None:
    torch.manual_seed(0)
    student = build_student(ALL_OPS, vocab_size=len(tokenizer), num_labels=2, pad_token_id=tokenizer.pad_token_id, max_position_embeddings=32, dropout=0.1).eval()
    folder = tmp_path / folder_name(7, _metrics())
    cfg = LatencyConfig(batch_sizes=[1, 4], warmup=1, repeats=3)
    write_folder(folder, StudentPipeline(student, tokenizer, 32), _metrics(), genome=ALL_OPS, title="unit", latency=cfg, length=32, texts=TEXTS)

    assert folder.name == "trial-0007_acc80.0_adv40.0_0.01M"
    for name in ("config.json", "model.safetensors", "model.py", "genome.py", "ops.py", "tokenizer.json", "vocab.txt", "model.onnx",
                 "metrics.json", "README.md", "architecture.svg"):
        assert (folder / name).is_file(), name
    config = json.loads((folder / "config.json").read_text())
    assert config["genome"] == ALL_OPS.to_dict() and config["auto_map"]["AutoModelForSequenceClassification"].startswith("model.")
    stored = json.loads((folder / "metrics.json").read_text())
    given = {k: v for k, v in json.loads(json.dumps(_metrics())).items() if k != "name"}
    assert {k: stored[k] for k in given} == given  # what the caller measured, unchanged
    assert stored["name"] == folder.name and stored["max_length"] == 32
    assert set(stored) - set(given) == {"name", "max_length", "onnx", "latency"}  # what write_folder adds
    for runtime in ("pytorch", "onnxruntime"):
        assert set(stored["latency"][runtime]) == {"1", "4"} and all(v > 0 for v in stored["latency"][runtime].values())
    assert stored["onnx"]["max_abs_diff"] <= TOLERANCE
    card = (folder / "README.md").read_text()
    for needle in ("trust_remote_code=True", "rosearch.load_student", "onnxruntime", ALL_OPS.describe(), "80.0% [71.1–86.6]", "40.0% [16.8–68.7]",
                   "95% Wilson", "deepwordbug", "pwws", "teacher", "at most 32 tokens"):
        assert needle in card, needle

    batch = parity_batches(tokenizer, TEXTS, 32)[0]
    assert (batch["attention_mask"] == 0).any()  # padded: masks matter
    with torch.inference_mode():
        saved = student(**{k: torch.from_numpy(v) for k, v in batch.items()}).logits.numpy()
    np.savez(tmp_path / "inputs.npz", **batch)
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf")}
    for how in ("auto", "rosearch"):
        done = subprocess.run([sys.executable, "-c", LOADER, str(folder), str(tmp_path / "inputs.npz"), str(tmp_path / f"{how}.npy"), how],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        np.testing.assert_array_equal(np.load(tmp_path / f"{how}.npy"), saved)

    session = onnx_session(str(folder / "model.onnx"), threads=1)
    onnx_logits = session.run(["logits"], {k: batch[k] for k in ("input_ids", "attention_mask")})[0]
    np.testing.assert_allclose(onnx_logits, saved, atol=TOLERANCE, rtol=0)

    check_ordinary_text(folder, tmp_path, env, session)


#: Text users send: longer than the student's 32 positions, empty, emoji, non-Latin scripts.
AWKWARD = ["a " * 300 + "long review that goes on and on", "", "😀🎬👍 !!!", "映画はとても良かった", "Фильм отличный, рекомендую", "x" * 2000]

#: A fresh interpreter without rosearch: the Auto class, the tokenizer as saved (no truncation
#: asked) and the text-classification pipeline with its defaults.
ORDINARY = """
import json, sys, numpy as np, torch
sys.modules["rosearch"] = None
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
folder, texts, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True).eval()
tokenizer = AutoTokenizer.from_pretrained(folder)
assert tokenizer.model_max_length == model.config.max_position_embeddings == 32, tokenizer.model_max_length
assert len(tokenizer(texts[0], truncation=True)["input_ids"]) == 32
with torch.inference_mode():
    plain = [model(**tokenizer(t, return_tensors="pt")).logits[0].numpy() for t in texts]      # no truncation asked
    padded = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits.numpy()
classify = pipeline("text-classification", model=model, tokenizer=tokenizer)
labels = [r["label"] for r in classify(texts)]
np.savez(out, plain=np.stack(plain), padded=padded)
print(json.dumps(labels))
"""


def check_ordinary_text(folder: Path, tmp_path: Path, env: dict, session) -> None:  # noqa: ANN001
    """Every loader accepts any text a tokenizer call produces, and they agree."""
    import rosearch
    from transformers import AutoTokenizer

    out = tmp_path / "ordinary.npz"
    done = subprocess.run([sys.executable, "-c", ORDINARY, str(folder), json.dumps(AWKWARD), str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    auto = np.load(out)
    assert len(json.loads(done.stdout.strip().splitlines()[-1])) == len(AWKWARD)
    np.testing.assert_allclose(auto["plain"], auto["padded"], atol=1e-5)  # padding never changes a prediction

    model = rosearch.load_student(str(folder)).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    for i, text in enumerate(AWKWARD):
        enc = tokenizer(text, return_tensors="np")
        assert (enc["input_ids"].shape[1] > 32) == (i == 0)  # only the first is longer than the position table
        with torch.inference_mode():
            ours = model(**{k: torch.from_numpy(v) for k, v in enc.items()}).logits.numpy()
        onnx = session.run(["logits"], {k: enc[k] for k in ("input_ids", "attention_mask")})[0]
        np.testing.assert_allclose(ours[0], auto["plain"][i], atol=1e-5)
        np.testing.assert_allclose(onnx, ours, atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("how, top, expected", [
    ("pareto", None, lambda front, ok: front),
    ("pareto", 1, lambda front, ok: front[:1]),
    ("fitness", 2, lambda front, ok: ok[:2]),
], ids=["front", "front-top1", "fitness-top2"])
def test_select_trials(how, top, expected) -> None:
    study = optuna.create_study(directions=["maximize", "maximize"])
    for acc, rob, fit, ok in [(0.9, 0.1, 1.0, True), (0.6, 0.5, 1.1, True), (0.5, 0.2, 0.7, True), (0.95, 0.6, 1.5, False)]:
        trial = optuna.trial.create_trial(values=[acc, rob], user_attrs={"fitness": fit}, system_attrs={"constraints": [0.0 if ok else 1.0]})
        study.add_trial(trial)
    front = sorted((t for t in study.best_trials), key=lambda t: -t.user_attrs["fitness"])
    feasible_trials = sorted((t for t in study.trials if feasible(t)), key=lambda t: -t.user_attrs["fitness"])
    want = expected(front, feasible_trials)
    assert [t.number for t in select_trials(study, how, top)] == [t.number for t in want]
    assert 3 not in [t.number for t in select_trials(study, how, top)]  # infeasible: never exported


def test_named_trials_keep_the_order_given_and_name_what_is_missing() -> None:
    from rosearch.errors import RosearchError
    from rosearch.export.select import named_trials

    study = optuna.create_study(study_name="s", directions=["maximize", "maximize"])
    for ok in (True, False, True):  # trial 1 infeasible: still exported when asked for by number
        study.add_trial(optuna.trial.create_trial(values=[0.5, 0.5], user_attrs={"fitness": 1.0}, system_attrs={"constraints": [0.0 if ok else 1.0]}))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))
    assert [t.number for t in named_trials(study, [2, 1, 2])] == [2, 1]
    with pytest.raises(RosearchError, match=r"--trial 3 7: no completed trial .* \(completed: #0, #1, #2\)"):
        named_trials(study, [0, 3, 7])


def test_export_cli_writes_the_front_with_the_study_numbers(tiny_study, tmp_path: Path) -> None:
    runs, study = tiny_study
    out = tmp_path / "export"
    done = run_cli("export", "--study", "tiny", "--runs-dir", str(runs), "--out", str(out), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads((out / "manifest.json").read_text())
    with (out / "manifest.csv").open() as fh:
        assert [r["folder"] for r in csv.DictReader(fh)] == [r["folder"] for r in rows]
    expected = select_trials(study, "pareto")
    assert [r["trial"] for r in rows] == [t.number for t in expected]
    for row, trial in zip(rows, expected):
        search = trial.user_attrs["metrics"]
        metrics = json.loads((out / row["folder"] / "metrics.json").read_text())
        # rebuilt with the trial's seed and settings: the search's own student, the same numbers
        assert row["accuracy"] == search["accuracy"] and metrics["search_subset"]["accuracy_under_attack"] == search["attack_accuracy"]
        assert row["params"] == search["params"] and row["retrain_epochs"] == 0
        # the reported robustness is measured on the evaluation set, with its interval and each example's outcome
        assert metrics["attack_set"] == "evaluation" and metrics["n_attack"] == 60
        deepwordbug = metrics["attacks"]["deepwordbug"]
        assert row["under_deepwordbug"] == row["attack_accuracy"] == deepwordbug["accuracy_under_attack"] == sum(deepwordbug["held"]) / 60
        assert deepwordbug["under_attack_ci"][0] <= row["attack_accuracy"] <= deepwordbug["under_attack_ci"][1]
        assert metrics["accuracy_ci"][0] <= metrics["accuracy"] <= metrics["accuracy_ci"][1]
        # calibration beside robustness: the dev ECE, the temperature fitted on dev, every recipe again at it
        assert metrics["ece"] == pytest.approx(search["ece"]) and 0 <= metrics["ece_calibrated"] <= 1 and metrics["temperature"] > 0
        assert set(metrics["attacks_calibrated"]) == set(metrics["attacks"])
        again_at_t = metrics["attacks_calibrated"]["deepwordbug"]
        assert again_at_t["clean_accuracy"] == deepwordbug["clean_accuracy"] and len(again_at_t["held"]) == 60  # no prediction changed
        card = (out / row["folder"] / "README.md").read_text()
        assert f"under attack at T = {metrics['temperature']:.2f}" in card and "expected calibration error" in card
        assert row["folder"] == folder_name(trial.number, metrics)
        assert {"pt_b1_ms", "pt_b32_ms", "ort_b1_ms", "ort_b32_ms"} <= set(row) and row["onnx_max_abs_diff"] <= TOLERANCE
        assert metrics["trial"] == trial.number and metrics["genome"] == trial.user_attrs["genome"]
        config = json.loads((out / row["folder"] / "config.json").read_text())
        assert config["id2label"] == {"0": "negative", "1": "positive"}  # the embedded corpus: 1 = positive rating

    again = run_cli("export", "--study", "tiny", "--runs-dir", str(runs), "--out", str(out), "--no-progress", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("already exported") == len(rows) and "re-distilling" not in again.stdout  # resumable
    assert json.loads((out / "manifest.json").read_text()) == rows
    # the evaluation-set results are stored with the study, for the report's paired comparisons
    held = evaluations.stored(optuna.load_study(study_name="tiny", storage=f"sqlite:///{runs / 'tiny' / 'study.db'}"))
    assert {str(r["trial"]) for r in rows} <= set(held)

    first = out / rows[0]["folder"]
    load = "import sys; from transformers import AutoModelForSequenceClassification as A; m = A.from_pretrained(sys.argv[1], trust_remote_code=True); print(type(m).__name__, m.num_parameters())"
    loaded = subprocess.run([sys.executable, "-c", load, str(first)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "HF_HOME": str(tmp_path / "hf")})
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.split() == ["RoSearchStudentForSequenceClassification", str(int(rows[0]["params"]))]


def test_export_retrains_the_best_fitness_student(tiny_study, tmp_path: Path) -> None:
    runs, study = tiny_study
    out = tmp_path / "export"
    done = run_cli("export", "--study", "tiny", "--runs-dir", str(runs), "--out", str(out), "--select", "fitness", "--top", "1",
                   "--retrain-epochs", "2", "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "re-distilling for 2 epoch(s) on the whole training split" in done.stdout
    (row,) = json.loads((out / "manifest.json").read_text())
    assert row["trial"] == select_trials(study, "fitness", 1)[0].number and row["retrain_epochs"] == 2
    card = (out / row["folder"] / "README.md").read_text()
    assert "re-distilled for 2 epoch(s)" in card

    # a baseline re-distilled with the same budget, named by number: stored beside the searched one
    baseline = next(t for t in study.trials if t.user_attrs.get("baseline"))
    done = run_cli("export", "--study", "tiny", "--runs-dir", str(runs), "--out", str(out), "--trial", str(baseline.number),
                   "--retrain-epochs", "2", "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    (exported,) = json.loads((out / "manifest.json").read_text())
    assert exported["trial"] == baseline.number
    assert f"the baseline `{baseline.user_attrs['baseline']}`" in (out / exported["folder"] / "README.md").read_text()
    retrained = evaluations.retrained(optuna.load_study(study_name="tiny", storage=f"sqlite:///{runs / 'tiny' / 'study.db'}"))
    assert {f"{row['trial']}+2ep", f"{baseline.number}+2ep"} <= set(retrained)

    # another KD strategy than the study's for the re-distillation: prepared for it, stored under its own key
    done = run_cli("export", "--study", "tiny", "--runs-dir", str(runs), "--out", str(out), "--trial", str(row["trial"]),
                   "--retrain-epochs", "2", "--retrain-strategy", "consistency", "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "with consistency" in done.stdout and "consistency: 2 pass(es)" in done.stdout  # one perturbed pass per retraining epoch
    (other,) = json.loads((out / "manifest.json").read_text())
    assert other["kd_strategy"] == "consistency" and other["folder"].endswith("_consistency")
    assert "with KD strategy `consistency`" in (out / other["folder"] / "README.md").read_text()
    retrained = evaluations.retrained(optuna.load_study(study_name="tiny", storage=f"sqlite:///{runs / 'tiny' / 'study.db'}"))
    assert f"{row['trial']}+2ep:consistency" in retrained


@pytest.mark.parametrize("args, message", [
    (["--top", "0"], "--top"),
    (["--retrain-epochs", "-1"], "--retrain-epochs"),
    (["--trial", "1", "--top", "2"], "Give one of them"),
    (["--retrain-strategy", "augment"], "--retrain-epochs E"),
])
def test_export_bad_arguments_exit_2(tmp_path: Path, args, message) -> None:
    done = run_cli("export", "--study", "tiny", "--runs-dir", str(tmp_path), *args, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_export_without_a_study_database_says_what_to_run(tmp_path: Path) -> None:
    done = run_cli("export", "--study", "tiny", "--runs-dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "rosearch-optuna optimize --study tiny" in done.stderr


def test_rebuilds_use_the_config_the_trials_were_trained_with() -> None:
    from rosearch.config import to_dict
    from rosearch.config._build import build
    from rosearch.config.schema import StudyConfig
    from rosearch.search.study import stored_config

    trained = build(StudyConfig, {"name": "s", "kd": {"epochs": 3.0, "lr": 0.01}}, "")
    raw = to_dict(trained)
    del raw["latency"]  # a study recorded before a section existed
    study = optuna.create_study()
    study.set_user_attr("config", raw)
    current = build(StudyConfig, {"name": "s", "kd": {"epochs": 1.0}, "runs_dir": "elsewhere", "latency": {"repeats": 7},
                                  "search": {"storage": "sqlite:///x.db"}}, "")
    cfg = stored_config(study, current)
    assert cfg.kd == trained.kd  # the YAML changed since: the stored settings win
    assert cfg.runs_dir == "elsewhere" and cfg.search.storage == "sqlite:///x.db" and cfg.latency.repeats == 7


RECOGNIZING = """
import sys, json
sys.modules["rosearch"] = None
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
folder, pasted, clean = sys.argv[1:4]
tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True).eval()
classify = pipeline("text-classification", model=model, tokenizer=tokenizer)
print(json.dumps({"class": type(tokenizer).__name__, "pasted": tokenizer(pasted)["input_ids"], "clean": tokenizer(clean)["input_ids"],
                  "labels": [r["label"] for r in classify([pasted, clean])]}))
"""


@pytest.mark.parametrize("stages, pasted", [
    (("recognizer",), "a wondreful mvoie"),
    (("normalizer",), "a w0nderful m\u043evie"),                             # a digit, a Cyrillic о
    (("normalizer", "recognizer"), "a w0ndreful mo\u200bvei\u0301"),       # the normaliser's output mended by the recogniser
    (("fgws", "recognizer"), "a wondreful flick"),                            # a rare synonym back to the training word
    (("normalizer", "fgws", "recognizer"), "a w0ndreful fl\u0456ck"),        # all three, in order (Cyrillic і)
    (("normalizer", "fgws", "recognizer", "vote"), "a w0ndreful fl\u0456ck"),  # and the vote on what they give
])
def test_a_student_with_input_stages_ships_them(tmp_path: Path, tokenizer, stages: tuple[str, ...], pasted: str) -> None:
    """from_pretrained and pipeline users get the stages the attacks went through, in order; the
    card tells ONNX users to run them first."""
    from rosearch.robust.confusables import latin_fold
    from rosearch.robust.normalize import TextNormalizer
    from rosearch.robust.recognizer import WordRecognizer
    from rosearch.robust.synonyms import SynonymCanonicalizer
    from rosearch.robust.vote import SubstitutionVote

    genome = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")),), input_stage="+".join(stages))
    torch.manual_seed(0)
    student = build_student(genome, vocab_size=len(tokenizer), num_labels=2, pad_token_id=tokenizer.pad_token_id, max_position_embeddings=32, dropout=0.0).eval()
    folder = tmp_path / "student"
    recognizer = WordRecognizer.from_texts(["a wonderful movie", "a terrible plot"])
    built = {"recognizer": recognizer, "normalizer": TextNormalizer(latin_fold(), recognizer.counts),
             "fgws": SynonymCanonicalizer({"flick": "movie"}, min_count=4)}
    vote = SubstitutionVote({"wonderful": ["marvellous"], "movie": ["film"]}, copies=3, rate=0.5) if "vote" in stages else None
    pipe = StudentPipeline(student, tokenizer, 32, tuple((name, built[name]) for name in stages if name != "vote"), vote=vote)
    assert pipe.preprocess(pasted) == "a wonderful movie"
    metrics = write_folder(folder, pipe, _metrics(), genome=genome, title="unit", latency=LatencyConfig(batch_sizes=[1, 4], warmup=0, repeats=1),
                           length=32, texts=TEXTS)
    assert metrics["input_stage"] == "+".join(stages)
    shipped = {"normalizer": ("normalizer.json", "normalize.py"), "recognizer": ("recognizer.json", "recognizer.py"),
               "fgws": ("fgws.json", "synonyms.py"), "vote": ("vote.json", "vote.py")}
    for name, (data, code) in shipped.items():
        assert (folder / data).is_file() == (name in stages) and (folder / code).is_file(), name  # the code is the tokenizer's, always
    card = (folder / "README.md").read_text()
    assert "ONNX Runtime users must run them themselves" in card and f"of which input stages ({' → '.join(stages)})" in card
    loads = {"normalizer": "TextNormalizer.load", "recognizer": "WordRecognizer.load", "fgws": "SynonymCanonicalizer.load",
             "vote": "SubstitutionVote.load"}
    assert [card.index(loads[s]) for s in stages] == sorted(card.index(loads[s]) for s in stages)  # in the order they run
    # every batch size's latency is the whole pipeline's: the stages' share is in it
    lat = metrics["latency"]
    assert lat["stages"] == list(stages) and set(lat["stage"]) == {"1", "4"}
    for runtime in ("pytorch", "onnxruntime"):
        assert all(lat[runtime][b] > lat["stage"][b] > 0 for b in ("1", "4"))
    done = subprocess.run([sys.executable, "-c", RECOGNIZING, str(folder), pasted, "a wonderful movie"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "HF_HOME": str(tmp_path / "hf")})
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["class"] == "RecognizingBertTokenizerFast"
    assert seen["pasted"] == seen["clean"] and seen["labels"][0] == seen["labels"][1]  # what was pasted never reaches the model


#: A fresh interpreter without rosearch: a voting export's logits and pipeline scores.
VOTING = """
import json, sys
sys.modules["rosearch"] = None
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
import torch
folder, texts = sys.argv[1], json.loads(sys.argv[2])
tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True).eval()
with torch.inference_mode():
    rows = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
    logits = model(**rows).logits.tolist()
scores = [r["score"] for r in pipeline("text-classification", model=model, tokenizer=tokenizer)(texts)]
print(json.dumps({"rows": len(rows["input_ids"]), "logits": logits, "scores": scores}))
"""


def test_a_voting_student_gives_its_votes_everywhere(tmp_path: Path, tokenizer) -> None:
    """from_pretrained + the saved tokenizer and `pipeline` (without rosearch) give the in-process
    pipeline's voted logits; ONNX Runtime on the vote's copies, averaged as the card says, too."""
    from rosearch.robust.recognizer import WordRecognizer
    from rosearch.robust.vote import SubstitutionVote

    genome = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")),), input_stage="recognizer+vote")
    torch.manual_seed(0)
    student = build_student(genome, vocab_size=len(tokenizer), num_labels=2, pad_token_id=tokenizer.pad_token_id, max_position_embeddings=32, dropout=0.0).eval()
    torch.nn.init.normal_(student.get_input_embeddings().weight)  # words far apart: a copy's substitutes move the logits
    vote = SubstitutionVote({"film": ["movie", "picture"], "dull": ["boring", "tedious"], "plot": ["story"], "fine": ["good"]}, copies=4, rate=0.5)
    recognizer = WordRecognizer.from_texts(TEXTS)
    pipe = StudentPipeline(student, tokenizer, 32, (("recognizer", recognizer),), vote=vote)
    folder = tmp_path / "student"
    metrics = write_folder(folder, pipe, _metrics(), genome=genome, title="unit", latency=LatencyConfig(batch_sizes=[1], warmup=0, repeats=1),
                           length=32, texts=TEXTS)
    assert metrics["input_stage"] == "recognizer+vote" and metrics["latency"]["stages"] == ["recognizer", "vote"]
    texts = [*TEXTS, "a dulll flim"]
    expected = pipe.logits(texts)
    assert not torch.allclose(expected, StudentPipeline(student, tokenizer, 32, pipe.stages).logits(texts))  # the vote changes the answer
    done = subprocess.run([sys.executable, "-c", VOTING, str(folder), json.dumps(texts)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HF_HOME": str(tmp_path / "hf")})
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["rows"] == 4 * len(texts)  # the tokenizer sends every text's copies
    np.testing.assert_allclose(np.array(seen["logits"]), expected.numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(seen["scores"], expected.softmax(-1).max(-1).values.numpy(), atol=1e-5)
    session = onnx_session(str(folder / "model.onnx"), threads=1)
    for text, want in zip(texts, expected.softmax(-1)):
        batch = tokenizer(vote.variants(recognizer(text)), padding=True, truncation=True, max_length=32, return_tensors="np")
        copies = session.run(["logits"], {k: batch[k] for k in ("input_ids", "attention_mask")})[0]
        np.testing.assert_allclose(torch.from_numpy(copies).softmax(-1).mean(0).numpy(), want.numpy(), atol=1e-5)


#: A fresh interpreter without rosearch: the Auto class, the saved tokenizer and the pipeline.
PARITY = """
import json, sys
sys.modules["rosearch"] = None
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
import torch
folder, texts = sys.argv[1], json.loads(sys.argv[2])
model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True).eval()
tokenizer = AutoTokenizer.from_pretrained(folder)
with torch.inference_mode():
    logits = model(**tokenizer(texts, padding=True, truncation=True, return_tensors="pt")).logits.tolist()
scores = [r["score"] for r in pipeline("text-classification", model=model, tokenizer=tokenizer)(texts)]
print(json.dumps({"logits": logits, "scores": scores, "rows": model.get_input_embeddings().weight.shape[0]}))
"""

#: Text the training text below never had: every word out of the reduced vocabulary.
OUT_OF_VOCABULARY = ["zyzzogeton quixotically flabbergasted the discombobulated", "Фильм отличный", "映画はとても良かった", "xqzv " * 3, "a film"]


def test_a_student_with_a_reduced_vocabulary_gives_its_predictions_everywhere(tmp_path: Path, tokenizer) -> None:
    """The vocabulary travels in the model (its id map is a saved buffer and part of the ONNX
    graph): from_pretrained, pipeline and ONNX Runtime give the trial's logits on text full of
    pieces it has no row for, with the stock tokenizer."""
    from rosearch.student.vocab import Vocabulary, piece_counts

    counts = piece_counts(tokenizer(TEXTS)["input_ids"], len(tokenizer))
    table = np.random.default_rng(0).normal(size=(len(tokenizer), 8)).astype(np.float32)
    vocabulary = Vocabulary.build("seen:1", counts, special_ids=tokenizer.all_special_ids, unk_id=tokenizer.unk_token_id, backoff="nearest", table=table)
    genome = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")),), vocabulary="seen:1")
    torch.manual_seed(0)
    student = build_student(genome, vocab_size=len(tokenizer), num_labels=2, pad_token_id=tokenizer.pad_token_id, max_position_embeddings=32,
                            dropout=0.0, vocabulary=vocabulary).eval()
    torch.nn.init.normal_(student.get_input_embeddings().weight)  # rows far apart, so a wrong row shows in the logits
    folder = tmp_path / "student"
    write_folder(folder, StudentPipeline(student, tokenizer, 32), _metrics(), genome=genome, title="unit",
                 latency=LatencyConfig(batch_sizes=[1], warmup=0, repeats=1), length=32, texts=TEXTS)
    expected = StudentPipeline(student, tokenizer, 32).logits(OUT_OF_VOCABULARY).numpy()
    done = subprocess.run([sys.executable, "-c", PARITY, str(folder), json.dumps(OUT_OF_VOCABULARY)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HF_HOME": str(tmp_path / "hf")})
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["rows"] == vocabulary.size < 100  # the table has a row per kept piece only
    np.testing.assert_allclose(np.array(seen["logits"]), expected, atol=1e-5, rtol=0)
    np.testing.assert_allclose(seen["scores"], torch.softmax(torch.from_numpy(expected), -1).max(-1).values.numpy(), atol=1e-5)
    batch = tokenizer(OUT_OF_VOCABULARY, padding=True, truncation=True, max_length=32, return_tensors="np")
    session = onnx_session(str(folder / "model.onnx"), threads=1)
    onnx_logits = session.run(["logits"], {k: batch[k] for k in ("input_ids", "attention_mask")})[0]
    np.testing.assert_allclose(onnx_logits, expected, atol=TOLERANCE, rtol=0)
    assert not np.allclose(expected[0], expected[4])  # the texts are told apart: the rows differ
