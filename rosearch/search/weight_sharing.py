"""Weight sharing: a supernet over the study's space, trained once, gives every candidate inherited
weights, so a candidate's estimate costs its measurement (and optionally a short distillation
from those weights) instead of a whole distillation (HAT, Wang et al., 2020; AutoTinyBERT, Yin et
al., 2021; single-path uniform sampling as in SPOS, Guo et al., 2020).

`train_supernet` distils rosearch.student.supernet.SuperNet from the study's teacher with the
study's logit-KD loss in the one training loop (rosearch.train.fit), each step on the paths
`PathSampler` (a hook) draws with Optuna's random sampler: one genome drawn uniformly (SPOS), or
BigNAS's sandwich of the widest, the narrowest and a drawn path (`RULES`). `estimate` builds a
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
from rosearch.config.search import SUPERNET_RULES
from rosearch.kd.distill import student_shape
from rosearch.kd.strategies import STRATEGIES, TrialContext
from rosearch.search.evaluate import Measurement, TrialResult, measure_student
from rosearch.search.genome import head_choices, random_genomes
from rosearch.student import build_student
from rosearch.student.genome import Genome
from rosearch.student.supernet import SuperNet, inherit
from rosearch.train import TrainPlan, fit
from rosearch.train.loop import FitResult
from rosearch.train.plan import Run

if TYPE_CHECKING:
    from rosearch.prepared import Prepared


#: How a supernet's steps choose their paths: "uniform" (SPOS: one genome drawn uniformly a step)
#: or "sandwich" (BigNAS, Yu et al., 2020: each step's loss is the mean over the widest and the
#: narrowest versions of two drawn genomes and one drawn genome as it is — the extremes of every
#: shared dimension trained at every step, so the trailing channels only wide students read are
#: not left under-trained). One list with the config's check.
RULES = SUPERNET_RULES


def extreme(genome: Genome, space, *, widest: bool) -> Genome:  # noqa: ANN001 - a SpaceConfig
    """`genome`'s operations and wiring at the space's largest (or smallest) size on every shared
    dimension: hidden and embedding width, cells, feed-forward multiplier; its head count where
    that width allows it, else the nearest count the width does."""
    pick = max if widest else min
    hidden = pick(space.hidden_sizes)
    heads = genome.n_heads
    if heads is not None and heads not in (choices := head_choices(space, hidden)):
        heads = min(choices, key=lambda h: (abs(h - heads), h))
    ffn = None if genome.ffn_multiplier is None else pick(space.ffn_multipliers)
    return replace(genome, hidden_size=hidden, embedding_size=pick(space.embedding_sizes), n_cells=pick(space.n_cells),
                   n_heads=heads, ffn_multiplier=ffn)


class PathSampler:
    """A training hook: before each step, the paths the step trains (rule "uniform": one genome
    drawn uniformly from the space; "sandwich": the widest of one draw, the narrowest of the next
    and a third as drawn), from rosearch.search.genome.random_genomes, seeded: the same draws
    each run."""

    def __init__(self, space, seed: int, rule: str = "uniform") -> None:  # noqa: ANN001 - a SpaceConfig
        if rule not in RULES:
            raise ValueError(f"unknown supernet rule {rule!r}; known: {', '.join(RULES)}")
        self._space, self._rule = space, rule
        self._genomes = random_genomes(space, seed)
        self.drawn: list[Genome] = []  # every path trained, in order
        self.paths: list[Genome] = []  # this step's

    def draw(self) -> list[Genome]:
        if self._rule == "uniform":
            self.paths = [next(self._genomes)]
        else:
            self.paths = [extreme(next(self._genomes), self._space, widest=True), extreme(next(self._genomes), self._space, widest=False),
                          next(self._genomes)]
        self.drawn.extend(self.paths)
        return self.paths

    def start(self, run: Run) -> None:
        self._net = run.accelerator.unwrap_model(run.model)

    def before_step(self, run: Run, step: int) -> None:
        self.draw()  # the step's loss (`loss`) runs the supernet on each of them

    def loss(self, kd: Callable) -> Callable:
        """The step's loss: `kd` on each of this step's paths, averaged (one backward through all);
        each path's `kd` gets its own copy of the batch (a loss may take entries out of it)."""
        def over_paths(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            total = 0.0
            for path in self.paths:
                self._net.path = path
                total = total + kd(model, dict(batch))
            return total / len(self.paths)
        return over_paths


def train_supernet(cfg: StudyConfig, prep: Prepared, *, accelerator: Accelerator, seed: int, epochs: float,
                   rule: str = "uniform", progress: bool = True) -> tuple[SuperNet, FitResult]:
    """A supernet over `cfg.space`, distilled for `epochs` passes over the training split, each
    step on the paths `rule` chooses (RULES); returned unwrapped, in eval mode, on the accelerator's device."""
    torch.manual_seed(seed)
    net = SuperNet(cfg.space, **student_shape(cfg, prep), embedding_basis=prep.embedding_basis)
    sampler = PathSampler(cfg.space, seed, rule)
    ctx = TrialContext(cfg, prep, None, seed=seed, teacher_logits=cfg.kd.teacher_logits, pipeline=None)
    plan = TrainPlan(ctx.loader(ctx.train_split()), sampler.loss(ctx.kd_loss()), desc=f"supernet ({rule} paths)", epochs=epochs,
                     hooks=[sampler], details=lambda: {"paths": len(sampler.drawn), "distinct_paths": len(set(sampler.drawn))})
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
    settings, the study seed, the supernet's epochs and its path rule."""
    assert cfg.search.fidelity is not None
    fidelity = cfg.search.fidelity
    rule = {} if fidelity.supernet_rule == "uniform" else {"rule": fidelity.supernet_rule}  # entries cached before the rule existed keep their key
    return stable_hash({"teacher": prep.keys["teacher"], "space": config_hash(cfg, "space"), "kd": config_hash(cfg, "kd"),
                        "seed": cfg.seed, "epochs": fidelity.supernet_epochs, **rule})


def cached_supernet(cfg: StudyConfig, prep: Prepared, *, cache: DiskCache, accelerator: Accelerator,
                    log: Callable[[str], None] = print) -> SuperNet:
    """The study's supernet: from the prepare cache, else distilled now (search.fidelity.supernet_epochs
    passes) and cached, so every worker and every resumed run of the study shares one."""
    epochs, rule = cfg.search.fidelity.supernet_epochs, cfg.search.fidelity.supernet_rule

    def build(tmp) -> None:  # noqa: ANN001 - the cache entry's folder
        log(f"supernet: distilling one supernet over the space for {epochs:g} epoch(s), {rule} paths (cached after)")
        net, fitted = train_supernet(cfg, prep, accelerator=accelerator, seed=cfg.seed, epochs=epochs, rule=rule, progress=False)
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
