"""What every command and benchmark sets up once it has a study: quiet libraries, torch threads,
its one Accelerator (in the study's precision) and the study's cached preparation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def quiet_libraries() -> None:
    import warnings

    import datasets
    import optuna
    import transformers

    # We rely on Optuna's heartbeat and metric names knowingly; their "experimental" notes are noise here.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    transformers.logging.set_verbosity_error()


def set_threads(cfg: Any | None) -> None:
    import torch

    torch.set_num_threads((cfg.threads if cfg is not None else None) or os.cpu_count() or 1)


def make_accelerator(cfg: Any | None) -> Any:
    """The command's one Accelerator, in the study's precision (Accelerate keeps one per process)."""
    from rosearch.train import make_accelerator as _make

    return _make(cfg.kd.mixed_precision if cfg is not None else "no")


def study_cache(cfg: Any, out: Any = print) -> Any:
    """The prepare cache of the study's runs folder (`rosearch.cache.DiskCache`)."""
    from rosearch.cache import DiskCache

    return DiskCache(Path(cfg.runs_dir) / "cache", log=out)


def prepare_study(cfg: Any, accelerator: Any, *, progress: bool, out: Any = print) -> Any:
    """The study's cached preparation (`rosearch.prepare`)."""
    from rosearch.prepare import prepare

    return prepare(cfg, cache=study_cache(cfg, out), accelerator=accelerator, log=out, progress=progress)
