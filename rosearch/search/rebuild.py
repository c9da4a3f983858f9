"""Re-create a finished trial's student from its stored genome.

Distilling the genome again with the trial's seed (`rosearch.search.seeds.trial_seed`) and
strategy, on an Accelerator of the study's precision, reproduces the search-time student exactly
(tests/test_cli.py checks it); `kd` can train it longer instead (export --retrain-epochs), and
`strategy` with another KD strategy (export --retrain-strategy).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import optuna
import torch
from accelerate import Accelerator

from rosearch.search import record
from rosearch.config import KDConfig, StudyConfig
from rosearch.kd.distill import distill_student
from rosearch.search.genome import trial_strategy
from rosearch.search.seeds import trial_seed
from rosearch.student.genome import Genome
from rosearch.train.loop import FitResult

if TYPE_CHECKING:
    from rosearch.prepare import Prepared


def trial_genome(trial: optuna.trial.FrozenTrial) -> Genome:
    return record.genome(trial)


def rebuild_student(trial: optuna.trial.FrozenTrial, cfg: StudyConfig, prep: Prepared, *, accelerator: Accelerator,
                    kd: KDConfig | None = None, strategy: str | None = None, progress: bool = True) -> tuple[torch.nn.Module, str, FitResult]:
    """(student on `accelerator.device` in eval mode, KD strategy, training result)."""
    genome = trial_genome(trial)
    strategy = strategy or trial_strategy(trial, cfg.kd)
    train_cfg = cfg if kd is None else replace(cfg, kd=kd)
    student, fitted = distill_student(genome, train_cfg, prep, accelerator=accelerator, seed=trial_seed(cfg.seed, trial),
                                      strategy=strategy, progress=progress)
    return student.eval(), strategy, fitted
