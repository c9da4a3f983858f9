"""What every benchmark script starts with: the study, torch threads, and the prepared study."""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch

from rosearch.cache import DiskCache
from rosearch.cli import _quiet_libraries
from rosearch.config import StudyConfig, load_study
from rosearch.prepare import Prepared, prepare


def prepared_study(name: str) -> tuple[StudyConfig, Prepared, float]:
    """(config, prepared study, seconds the prepare stage took in this run — ~0 when cached)."""
    _quiet_libraries()
    cfg = load_study(name)
    torch.set_num_threads(cfg.threads or os.cpu_count() or 1)
    start = time.perf_counter()
    prep = prepare(cfg, cache=DiskCache(Path(cfg.runs_dir) / "cache"), log=print, progress=False)
    return cfg, prep, time.perf_counter() - start
