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


def trial_students(cfg: StudyConfig, prep: Prepared, accelerator: Accelerator, storage: str, numbers: list[int]):  # noqa: ANN201 - an iterator
    """("#n", genome, student) for each numbered trial of the study stored at `storage` (the one
    named as the config is, or the storage's only study: a searched candidate, say), distilled again as the trial was: its genome, its recorded seed and strategy.
    The genome keeps its own stage gene; a caller measures it behind whichever stages it likes."""
    import optuna

    from rosearch.config.schema import strategies
    from rosearch.kd.distill import distill_student
    from rosearch.search import record

    names = optuna.get_all_study_names(storage)
    assert cfg.name in names or len(names) == 1, f"{storage} holds the studies {names}, none of them {cfg.name!r}"
    trials = {t.number: t for t in optuna.load_study(study_name=cfg.name if cfg.name in names else names[0], storage=storage).trials}
    missing = [n for n in numbers if n not in trials or not record.has_genome(trials[n])]
    assert not missing, f"no trial with a genome numbered {missing} in {storage}"
    for n in numbers:
        t = trials[n]
        genome = record.genome(t)
        student, _ = distill_student(genome, cfg, prep, accelerator=accelerator, seed=record.seed(t, cfg.seed),
                                     strategy=record.strategy(t, strategies(cfg.kd)[0]), progress=False)
        yield f"#{n}", genome, student


def runnable_recipes(names: tuple[str, ...]) -> list:  # noqa: ANN201 - [RecipeConfig]
    """The named recipes whose resources this machine has (TextAttack imported first)."""
    from rosearch.attack.resources import import_textattack, missing_for
    from rosearch.config import RecipeConfig

    import_textattack()
    return [RecipeConfig(name=n) for n in names if not missing_for(n)]
