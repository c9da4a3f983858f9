"""What every benchmark script starts with: the study, torch threads, and the prepared study."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import torch

from accelerate import Accelerator

from rosearch.session import make_accelerator, prepare_study, quiet_libraries
from rosearch.config import StudyConfig, load_study
from rosearch.prepare import Prepared


def prepared_study(name: str, *, strategies: list[str] | None = None, runs_dir: str | None = None) -> tuple[StudyConfig, Prepared, float, Accelerator]:
    """(config, prepared study, seconds the prepare stage took in this run — ~0 when cached, the
    script's one Accelerator in the study's precision). `strategies` replaces the study's KD
    strategies (each is prepared: its own data, generators)."""
    quiet_libraries()
    cfg = load_study(name, overrides={"runs_dir": runs_dir} if runs_dir else None)
    if strategies:
        cfg = replace(cfg, kd=replace(cfg.kd, strategy=list(strategies)))
    torch.set_num_threads(cfg.threads or os.cpu_count() or 1)
    accelerator = make_accelerator(cfg)
    start = time.perf_counter()
    prep = prepare_study(cfg, accelerator, progress=False)
    return cfg, prep, time.perf_counter() - start, accelerator


def baseline_students(cfg: StudyConfig, prep: Prepared, accelerator: Accelerator, names: list[str]):  # noqa: ANN201 - an iterator
    """(name, genome, student) for each named genome baseline of the study, distilled as its demo
    trial is: baseline i is trial i, so it trains with seed `cfg.seed + i`, with the study's (first)
    KD strategy."""
    from rosearch.config.schema import strategies
    from rosearch.kd.distill import distill_student
    from rosearch.student.genome import Genome

    chosen = {b.name: (i, b) for i, b in enumerate(cfg.baselines) if b.genome is not None}
    assert all(name in chosen for name in names), f"the study's genome baselines are {sorted(chosen)}"
    for name in names:
        i, b = chosen[name]
        genome = Genome.from_dict(b.genome)
        student, _ = distill_student(genome, cfg, prep, accelerator=accelerator, seed=cfg.seed + i, strategy=strategies(cfg.kd)[0], progress=False)
        yield name, genome, student


def runnable_recipes(names: tuple[str, ...]) -> list:  # noqa: ANN201 - [RecipeConfig]
    """The named recipes whose resources this machine has (TextAttack imported first)."""
    from rosearch.attack.resources import import_textattack, missing_for
    from rosearch.config import RecipeConfig

    import_textattack()
    return [RecipeConfig(name=n) for n in names if not missing_for(n)]
