"""The Optuna study: storage (with heartbeat), sampler, metric names, and the stored config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

from rosearch.config import StudyConfig, to_dict
from rosearch.errors import RosearchError


def make_sampler(cfg: StudyConfig, *, seed: int) -> optuna.samplers.BaseSampler:
    s = cfg.search
    if s.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=s.population_size, seed=seed)
    if s.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)
    return optuna.samplers.RandomSampler(seed=seed)


def make_storage(url: str, *, heartbeat_interval: int) -> optuna.storages.BaseStorage | str:
    """An RDB storage with heartbeat: a trial whose process died is failed after 2 missed beats
    and re-queued once with the same parameters (Optuna's RetryHeartbeatStaleTrialCallback)."""
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    if "://" not in url or url.startswith(("journal", "file")):
        return url
    try:
        return RDBStorage(
            url,
            heartbeat_interval=heartbeat_interval,
            grace_period=2 * heartbeat_interval,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
        )
    except (ImportError, ModuleNotFoundError) as err:
        raise RosearchError(f"Storage {url!r} needs a database driver that is not installed: {err}") from None
    except Exception as err:  # sqlalchemy's connection errors have no common public base here
        raise RosearchError(f"Cannot open storage {url!r}: {err}") from None


def open_study(cfg: StudyConfig, *, config_hash: str, seed_offset: bool = True) -> optuna.Study:
    """Create the study, or load it to resume; refuse a stored study made with another config."""
    assert cfg.search.storage is not None, "resolve the storage first (config.with_storage)"
    storage = make_storage(cfg.search.storage, heartbeat_interval=cfg.search.heartbeat_interval)
    directions = [o.direction for o in cfg.search.objectives]
    probe = optuna.create_study(study_name=cfg.name, storage=storage, directions=directions, load_if_exists=True)
    stored = probe.user_attrs.get("config_hash")
    if stored is not None and stored != config_hash:
        raise RosearchError(
            f"Study '{cfg.name}' in {cfg.search.storage} was made with another configuration (hash {stored}, now "
            f"{config_hash}); its trials would not be comparable. Give the study a new name, or use --storage for a new database."
        )
    if list(probe.directions) != [optuna.study.StudyDirection[d.upper()] for d in directions]:
        raise RosearchError(f"Study '{cfg.name}' has other objective directions; give the study a new name.")
    # Resuming with the same seed would redraw the first trials' parameters: offset by trials done.
    seed = cfg.seed + (len(probe.trials) if seed_offset else 0)
    study = optuna.load_study(study_name=cfg.name, storage=storage, sampler=make_sampler(cfg, seed=seed))
    study.set_metric_names([o.metric for o in cfg.search.objectives])
    return study


def load_existing(cfg: StudyConfig) -> optuna.Study:
    """The stored study, read-only use (show); a clear error when it does not exist."""
    assert cfg.search.storage is not None
    storage = cfg.search.storage
    if storage.startswith("sqlite:///") and not Path(storage[len("sqlite:///"):]).is_file():
        raise RosearchError(f"No study database at {storage}; run `rosearch-optuna optimize --study {cfg.name}` first.")
    try:
        return optuna.load_study(study_name=cfg.name, storage=storage)
    except KeyError:
        raise RosearchError(f"No study named '{cfg.name}' in {storage}; run `rosearch-optuna optimize --study {cfg.name}` first.") from None


def record_study_attrs(study: optuna.Study, attrs: dict[str, Any]) -> None:
    for key, value in attrs.items():
        study.set_user_attr(key, value)


def completed(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


def stored_config(study: optuna.Study, current: StudyConfig) -> StudyConfig:
    """The configuration the study's trials were trained with (recorded by `optimize`), so that
    rebuilt students match them even after the YAML changed; storage, runs_dir, threads and the
    latency settings come from `current`. Sections added to rosearch later take their defaults."""
    from dataclasses import replace

    from rosearch.config._build import build

    raw = study.user_attrs.get("config")
    if raw is None:
        return current
    stored = build(StudyConfig, {**raw, "latency": to_dict(current.latency)}, "stored config")
    return replace(stored, runs_dir=current.runs_dir, threads=current.threads, search=replace(stored.search, storage=current.search.storage))
