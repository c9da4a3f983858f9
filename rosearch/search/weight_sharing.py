"""Weight sharing: a supernet over the study's space, trained once, gives every candidate inherited
weights, so a candidate's estimate costs its measurement (and optionally a short distillation
from those weights) instead of a whole distillation (HAT, Wang et al., 2020; AutoTinyBERT, Yin et
al., 2021; single-path uniform sampling as in SPOS, Guo et al., 2020).

`train_supernet` distils rosearch.student.supernet.SuperNet from the study's teacher with the
study's logit-KD loss in the one training loop (rosearch.train.fit), each step on one genome drawn
uniformly from the space by Optuna's random sampler (`PathSampler`, a hook). `estimate` builds a
genome's student with the supernet's weights, optionally distils it further for a fraction of an
epoch, and measures it like any trial (clean dev accuracy, the search recipe on the in-trial
subset, size, latency) through its pipeline. Its fidelity — does it rank candidates as their full
figures do — is measured in benchmarks/weight_sharing.py.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Callable

import torch
from accelerate import Accelerator

from rosearch.cache import DiskCache
from rosearch.config import StudyConfig, config_hash, stable_hash
from rosearch.config.schema import strategies
from rosearch.kd.distill import student_shape
from rosearch.kd.strategies import STRATEGIES, TrialContext
from rosearch.search.evaluate import Measurement, TrialResult, measure_student
from rosearch.search.genome import random_genomes
from rosearch.student import build_student
from rosearch.student.genome import Genome
from rosearch.student.supernet import SuperNet, inherit
from rosearch.train import TrainPlan, fit
from rosearch.train.loop import FitResult
from rosearch.train.plan import Run

if TYPE_CHECKING:
    from rosearch.prepared import Prepared


class PathSampler:
    """A training hook: before each step, the supernet's path is a genome drawn uniformly from the
    space (rosearch.search.genome.random_genomes, seeded: the same draws each run)."""

    def __init__(self, space, seed: int) -> None:  # noqa: ANN001 - a SpaceConfig
        self._genomes = random_genomes(space, seed)
        self.drawn: list[Genome] = []

    def draw(self) -> Genome:
        self.drawn.append(next(self._genomes))
        return self.drawn[-1]

    def start(self, run: Run) -> None:
        pass

    def before_step(self, run: Run, step: int) -> None:
        run.accelerator.unwrap_model(run.model).path = self.draw()


def train_supernet(cfg: StudyConfig, prep: Prepared, *, accelerator: Accelerator, seed: int, epochs: float,
                   progress: bool = True) -> tuple[SuperNet, FitResult]:
    """A supernet over `cfg.space`, distilled for `epochs` passes over the training split, one
    sampled path a step; returned unwrapped, in eval mode, on the accelerator's device."""
    torch.manual_seed(seed)
    net = SuperNet(cfg.space, **student_shape(cfg, prep), embedding_basis=prep.embedding_basis)
    sampler = PathSampler(cfg.space, seed)
    ctx = TrialContext(cfg, prep, None, seed=seed, teacher_logits=cfg.kd.teacher_logits, pipeline=None)
    kd = ctx.kd_loss()
    plan = TrainPlan(ctx.loader(ctx.train_split()), kd, desc="supernet (one path a step)", epochs=epochs, hooks=[sampler],
                     details=lambda: {"paths": len(sampler.drawn), "distinct_paths": len(set(sampler.drawn))})
    result = fit(net, plan, accelerator=accelerator, optim=cfg.kd, grad_clip=cfg.kd.grad_clip, seed=seed, progress=progress)
    return accelerator.unwrap_model(net, keep_fp32_wrapper=False), result


def inherited_student(supernet: SuperNet, genome: Genome, cfg: StudyConfig, prep: Prepared) -> torch.nn.Module:
    """`genome`'s student (its vocabulary too) holding the supernet's weights of its path, on the supernet's device."""
    device = next(supernet.parameters()).device
    vocabulary = prep.vocabulary(genome.vocabulary)
    student = build_student(genome, vocabulary=vocabulary, **student_shape(cfg, prep)).to(device)
    return inherit(supernet, student, genome, vocabulary).eval()


def supernet_key(cfg: StudyConfig, prep: Prepared) -> str:
    """What a study's supernet depends on: the teacher and its data, the space, the distillation
    settings, the study seed and the supernet's epochs."""
    assert cfg.search.fidelity is not None
    return stable_hash({"teacher": prep.keys["teacher"], "space": config_hash(cfg, "space"), "kd": config_hash(cfg, "kd"),
                        "seed": cfg.seed, "epochs": cfg.search.fidelity.supernet_epochs})


def cached_supernet(cfg: StudyConfig, prep: Prepared, *, cache: DiskCache, accelerator: Accelerator,
                    log: Callable[[str], None] = print) -> SuperNet:
    """The study's supernet: from the prepare cache, else distilled now (search.fidelity.supernet_epochs
    passes) and cached, so every worker and every resumed run of the study shares one."""
    epochs = cfg.search.fidelity.supernet_epochs

    def build(tmp) -> None:  # noqa: ANN001 - the cache entry's folder
        log(f"supernet: distilling one supernet over the space for {epochs:g} epoch(s), one path a step (cached after)")
        net, fitted = train_supernet(cfg, prep, accelerator=accelerator, seed=cfg.seed, epochs=epochs, progress=False)
        torch.save(net.state_dict(), tmp / "supernet.pt")
        (tmp / "fit.json").write_text(json.dumps({"steps": fitted.steps, "seconds": fitted.seconds, **fitted.details}))

    folder = cache.get_or_build("supernet", supernet_key(cfg, prep), build)
    net = SuperNet(cfg.space, **student_shape(cfg, prep))
    net.load_state_dict(torch.load(folder / "supernet.pt", map_location="cpu", weights_only=True))
    fit = json.loads((folder / "fit.json").read_text())
    log(f"supernet: {sum(p.numel() for p in net.parameters()):,} parameters, {fit['steps']} steps ({fit['seconds']:.0f} s)  [{folder}]")
    return net.to(accelerator.device).eval()


def estimate_trial(supernet: SuperNet, genome: Genome, cfg: StudyConfig, prep: Prepared, *, accelerator: Accelerator, seed: int,
                   examples: list[dict] | None, progress: bool = False) -> TrialResult:
    """A candidate's cheap estimate by weight sharing, in the shape of a trial's result (the
    objective records it as it records a distilled estimate)."""
    start = time.perf_counter()
    student, measured, seconds = estimate(supernet, genome, cfg, prep, accelerator=accelerator, seed=seed,
                                          finetune_epochs=cfg.search.fidelity.finetune_epochs, examples=examples, progress=progress)
    timings = {"train": seconds, **measured.timings}
    timings["other"] = time.perf_counter() - start - sum(timings.values())
    timings["total"] = time.perf_counter() - start
    return TrialResult(measured.metrics, timings, measured.attacks[cfg.attack.recipe.name], FitResult(0, seconds, math.nan), student)


def estimate(supernet: SuperNet, genome: Genome, cfg: StudyConfig, prep: Prepared, *, accelerator: Accelerator, seed: int,
             finetune_epochs: float = 0.0, examples: list[dict] | None = None, progress: bool = False) -> tuple[torch.nn.Module, Measurement, float]:
    """(student, its measurement, seconds spent distilling it further): `genome`'s student with
    inherited weights, distilled for `finetune_epochs` more (0: none) with the study's first KD
    strategy's plan, measured as a trial is (the search recipe on `examples`, default the in-trial subset)."""
    student = inherited_student(supernet, genome, cfg, prep)
    pipeline = prep.pipeline(student, genome.input_stage, max_length=cfg.data.max_length)
    seconds = 0.0
    if finetune_epochs > 0:
        strategy = strategies(cfg.kd)[0]
        ctx = TrialContext(cfg, prep, prep.strategy_data.get(strategy), seed=seed, teacher_logits=cfg.kd.teacher_logits, pipeline=pipeline)
        fitted = fit(student, STRATEGIES.get(strategy).plan(ctx), accelerator=accelerator, optim=replace(cfg.kd, epochs=finetune_epochs),
                     grad_clip=cfg.kd.grad_clip, seed=seed, progress=progress)
        seconds = fitted.seconds
        student = accelerator.unwrap_model(student, keep_fp32_wrapper=False).eval()
        pipeline = prep.pipeline(student, genome.input_stage, max_length=cfg.data.max_length)
    return student, measure_student(pipeline, cfg, prep, accelerator=accelerator, recipes=[cfg.attack.recipe], examples=examples,
                                    progress=progress), seconds
