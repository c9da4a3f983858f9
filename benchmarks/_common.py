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
