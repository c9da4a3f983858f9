"""Build, distil and measure one student genome: the body of every trial, and of every export.

`measure_student` is the one place that turns a trained student into its numbers, so a trial and
the export of the same student report the same quantities, computed the same way.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import torch
from accelerate import Accelerator

from rosearch.attack import AttackReport, run_attack
from rosearch.calibration import expected_calibration_error, fit_temperature
from rosearch.config import RecipeConfig, StudyConfig
from rosearch.kd.distill import distill_student
from rosearch.latency import seq_len, stage_latency, torch_latency
from rosearch.prepare import Prepared
from rosearch.search.fitness import rosearch_fitness
from rosearch.stats import wilson
from rosearch.student import count_flops, count_non_embedding_params, count_params
from rosearch.student.genome import Genome
from rosearch.student.pipeline import StudentPipeline, split_key
from rosearch.train import accuracy, loader, model_device, predict
from rosearch.train.loop import FitResult


@dataclass
class Measurement:
    """A student's numbers. `metrics` holds the search recipe's attack figures (the first recipe)."""

    metrics: dict[str, float]  # accuracy, <split>_accuracy, attack_accuracy, …, params, non_embedding_params, flops, compression, latency_ms, fitness
    attacks: dict[str, AttackReport]  # recipe name → report, in the order measured
    timings: dict[str, float]  # seconds: evaluate, attack, latency
    correct: dict[str, list[bool]] = field(default_factory=dict)  # split → each example right? (for paired tests)
    calibrated: dict[str, AttackReport] = field(default_factory=dict)  # recipe → the attack at the fitted temperature (`calibrated`)


@dataclass
class TrialResult:
    metrics: dict[str, float]
    timings: dict[str, float]  # seconds: train, evaluate, attack, latency, other, total
    attack: AttackReport  # the search recipe's
    fit: FitResult
    model: torch.nn.Module = field(repr=False)


def measure_student(
    pipeline: StudentPipeline, cfg: StudyConfig, prep: Prepared, *, accelerator: Accelerator,
    recipes: list[RecipeConfig], examples: list[dict] | None = None, splits: tuple[str, ...] = ("dev",), progress: bool = True,
    calibrated: bool = False,
) -> Measurement:
    """Clean accuracy on `splits` (the first is `accuracy`), accuracy under each recipe on
    `examples` (default: the in-trial subset), size, CPU latency and RoSearch fitness, each
    proportion with its 95% Wilson interval (`<name>_ci`). The student is not moved. Clean texts and
    every attack query go through the whole pipeline (its input stages first, its vote), and its
    latency is the stages' on a batch of real texts plus the model's (on a vote's copies). Calibration on the first split: its
    expected calibration error, the temperature fitted on it and the ECE after it; `calibrated`:
    every recipe also attacks the pipeline with its logits over that temperature (`calibrated`,
    metrics `attack_accuracy_calibrated`), which changes no prediction, only the scores the attack
    ranks its edits by."""
    examples = prep.attack_examples if examples is None else examples
    student = pipeline.model
    t0 = time.perf_counter()
    acc, right, outputs = {}, {}, {}
    for split in splits:
        outputs[split] = logits, labels = _clean_logits(pipeline, prep, split, cfg=cfg, accelerator=accelerator)
        right[split] = (logits.argmax(-1) == labels).tolist()
        acc[split] = accuracy(logits, labels)
    calibration = _calibration(*outputs[splits[0]])
    t_eval = time.perf_counter() - t0

    t0 = time.perf_counter()
    reports = {
        spec.name: run_attack(pipeline, examples, spec, seed=cfg.attack.seed, batch_size=cfg.attack.batch_size, progress=progress,
                              workers=cfg.attack.workers)
        for spec in recipes
    }
    again = {}
    if calibrated:
        scaled = pipeline.with_temperature(calibration["temperature"])
        again = {spec.name: run_attack(scaled, examples, spec, seed=cfg.attack.seed, batch_size=cfg.attack.batch_size, progress=progress,
                                       workers=cfg.attack.workers)
                 for spec in recipes}
    t_attack = time.perf_counter() - t0

    t0 = time.perf_counter()
    batch = cfg.latency.batch_sizes[0]
    model_ms = torch_latency(_cpu_copy(student), batch=batch * pipeline.model_passes, length=seq_len(cfg), vocab_size=len(prep.tokenizer), cfg=cfg.latency)
    stage_ms = stage_latency(pipeline, [e["text"] for e in examples[:batch]], cfg=cfg.latency)
    t_latency = time.perf_counter() - t0

    search = reports[recipes[0].name].metrics
    params = count_params(student)
    names = {split: "accuracy" if split == splits[0] else f"{split}_accuracy" for split in splits}
    metrics = {
        **{names[split]: value for split, value in acc.items()},
        **{f"{names[split]}_ci": list(wilson(sum(right[split]), len(prep.splits[split]))) for split in splits},
        **{f"n_{split}": len(prep.splits[split]) for split in splits},
        "attack_accuracy": search.accuracy_under_attack,
        "attack_accuracy_ci": list(search.under_attack_ci),
        "n_attack": search.n,
        "attack_success_rate": search.success_rate,
        "attack_subset_accuracy": search.clean_accuracy,
        "avg_perturbed_share": search.avg_perturbed_share,
        "avg_queries": search.avg_queries,
        "params": float(params),
        "non_embedding_params": float(count_non_embedding_params(student)),
        "flops": float(count_flops(student, seq_len=cfg.data.max_length, vocab_size=len(prep.tokenizer))),
        "compression": prep.teacher_metrics["params"] / params,
        # the stages on `batch` real texts + PyTorch on the CPU (median, batch latency.batch_sizes[0] at latency.seq_len)
        "latency_ms": stage_ms + model_ms,
        "stage_latency_ms": stage_ms,
        **calibration,
        **({"attack_accuracy_calibrated": again[recipes[0].name].metrics.accuracy_under_attack,
            "attack_accuracy_calibrated_ci": list(again[recipes[0].name].metrics.under_attack_ci)} if again else {}),
    }
    metrics["fitness"] = rosearch_fitness(
        accuracy=metrics["accuracy"], attack_accuracy=metrics["attack_accuracy"], params=params,
        teacher_params=prep.teacher_metrics["params"], weights=cfg.fitness,
    )
    return Measurement(metrics, reports, {"evaluate": t_eval, "attack": t_attack, "latency": t_latency}, right, again)


def evaluate_genome(genome: Genome, cfg: StudyConfig, prep: Prepared, *, accelerator: Accelerator, seed: int,
                    strategy: str = "vanilla", examples: list[dict] | None = None, progress: bool = True) -> TrialResult:
    """Distil a student for `genome` with `strategy`; measure it with the search recipe on
    `examples` (default: the in-trial subset)."""
    start = time.perf_counter()
    student, fitted = distill_student(genome, cfg, prep, accelerator=accelerator, seed=seed, strategy=strategy, progress=progress)
    pipeline = prep.pipeline(student, genome.input_stage, max_length=cfg.data.max_length)
    measured = measure_student(pipeline, cfg, prep, accelerator=accelerator, recipes=[cfg.attack.recipe], examples=examples, progress=progress)
    total = time.perf_counter() - start
    timings = {"train": fitted.seconds, **measured.timings}
    timings["other"] = total - sum(timings.values())
    timings["total"] = total
    return TrialResult(measured.metrics, timings, measured.attacks[cfg.attack.recipe.name], fitted, student)


def _clean_logits(pipeline: StudentPipeline, prep: Prepared, split: str, *, cfg: StudyConfig, accelerator: Accelerator) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits, labels) of `split` as the pipeline answers: from its tokenized copy in batches
    (the study's precision), or, when the pipeline votes, text by text through it (each text is
    several model rows)."""
    if pipeline.vote is not None:
        data = prep.splits[split]
        return pipeline.predict_logits(data["text"], batch_size=cfg.kd.eval_batch_size), torch.tensor(data["labels"])
    data = loader(_tokenized(pipeline, prep, split), prep.tokenizer, batch_size=cfg.kd.eval_batch_size, shuffle=False)
    return predict(pipeline.model, data, accelerator=accelerator)


def _tokenized(pipeline: StudentPipeline, prep: Prepared, split: str):  # noqa: ANN202 - datasets.Dataset
    """`split` through the pipeline's stages and tokenizer: the copy rosearch.prepare tokenized once
    per study where there is one (without stages: the split itself), else tokenized here."""
    key = split_key(split, pipeline.stage_names)
    return prep.splits[key] if key in prep.splits else pipeline.tokenized(prep.splits[split])


def _calibration(logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """ECE of the split's logits, the temperature fitted on them, and the ECE after it."""
    logits, labels = logits.float().numpy(), labels.numpy()
    t = fit_temperature(logits, labels)
    return {"ece": expected_calibration_error(logits, labels), "temperature": t, "ece_calibrated": expected_calibration_error(logits / t, labels)}


def _cpu_copy(model: torch.nn.Module) -> torch.nn.Module:
    """The model itself when it is on the CPU, else a CPU copy (latency is a CPU figure; the
    caller's model stays where it is)."""
    return model if model_device(model).type == "cpu" else copy.deepcopy(model).cpu()
