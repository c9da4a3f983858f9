"""Build, distil and measure one student genome: the body of every trial."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from rosearch.attack import AttackReport, run_attack
from rosearch.config import StudyConfig
from rosearch.prepare import Prepared
from rosearch.kd.strategies import distill_student
from rosearch.latency import seq_len, torch_latency
from rosearch.search.fitness import rosearch_fitness
from rosearch.search.genome import Genome
from rosearch.student import count_flops, count_params
from rosearch.train import accuracy, loader, make_accelerator, predict
from rosearch.train.loop import FitResult


@dataclass
class TrialResult:
    metrics: dict[str, float]  # accuracy, attack_accuracy, attack_success_rate, params, flops, latency_ms, fitness, ...
    timings: dict[str, float]  # seconds: train, evaluate, attack, latency, other
    attack: AttackReport
    fit: FitResult
    model: torch.nn.Module = field(repr=False)


def evaluate_genome(genome: Genome, cfg: StudyConfig, prep: Prepared, *, seed: int, strategy: str = "vanilla", progress: bool = True) -> TrialResult:
    """Distil a student for `genome` with `strategy`; measure clean accuracy, robustness, size;
    score its fitness."""
    start = time.perf_counter()
    student, fitted = distill_student(genome, cfg, prep, seed=seed, strategy=strategy, progress=progress)

    t0 = time.perf_counter()
    accelerator = make_accelerator(cfg.kd.mixed_precision)
    dev = loader(prep.splits["dev"], prep.tokenizer, batch_size=128, shuffle=False)
    clean = accuracy(*predict(student, dev, accelerator=accelerator))
    t_eval = time.perf_counter() - t0

    t0 = time.perf_counter()
    report = run_attack(
        student.cpu(), prep.tokenizer, prep.attack_examples, cfg.attack.recipe, max_length=cfg.data.max_length,
        seed=cfg.attack.seed, batch_size=cfg.attack.batch_size, progress=progress,
    )
    t_attack = time.perf_counter() - t0

    t0 = time.perf_counter()
    latency = torch_latency(student.cpu(), batch=cfg.latency.batch_sizes[0], length=seq_len(cfg), vocab_size=len(prep.tokenizer), cfg=cfg.latency)
    t_latency = time.perf_counter() - t0

    params = count_params(student)
    metrics = {
        "accuracy": clean,
        "attack_accuracy": report.metrics.accuracy_under_attack,
        "attack_success_rate": report.metrics.success_rate,
        "attack_subset_accuracy": report.metrics.clean_accuracy,
        "avg_perturbed_share": report.metrics.avg_perturbed_share,
        "avg_queries": report.metrics.avg_queries,
        "params": float(params),
        "flops": float(count_flops(student, seq_len=cfg.data.max_length, vocab_size=len(prep.tokenizer))),
        "compression": prep.teacher_metrics["params"] / params,
        "latency_ms": latency,  # PyTorch, median, batch latency.batch_sizes[0] at latency.seq_len
    }
    metrics["fitness"] = rosearch_fitness(
        accuracy=clean, attack_accuracy=metrics["attack_accuracy"], params=params,
        teacher_params=prep.teacher_metrics["params"], weights=cfg.fitness,
    )
    total = time.perf_counter() - start
    timings = {"train": fitted.seconds, "evaluate": t_eval, "attack": t_attack, "latency": t_latency}
    timings["other"] = total - sum(timings.values())
    timings["total"] = total
    return TrialResult(metrics, timings, report, fitted, student)
