"""The Optuna study: storage (with heartbeat), sampler, metric names, and the stored config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna

from rosearch.config import StudyConfig, accepted_hashes, to_dict
from rosearch.errors import RosearchError
from rosearch.search.seeds import TrialSeededSampler
from rosearch.search.storage import journal_path, make_storage, retry_concurrent


def make_sampler(cfg: StudyConfig) -> optuna.samplers.BaseSampler:
    """The study's sampler, drawing trial n with seed `cfg.seed + n` (rosearch.search.seeds)."""
    s = cfg.search
    if s.sampler == "nsga2":
        make = lambda seed: optuna.samplers.NSGAIISampler(population_size=s.population_size, seed=seed)  # noqa: E731
    elif s.sampler == "tpe":
        make = lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)  # noqa: E731
    else:
        make = lambda seed: optuna.samplers.RandomSampler(seed=seed)  # noqa: E731
    return TrialSeededSampler(make, seed=cfg.seed)


def open_study(cfg: StudyConfig, *, config_hash: str) -> optuna.Study:
    """Create the study, or load it to resume; refuse a stored study made with another config.
    Several workers may call this at the same moment on a new storage."""
    assert cfg.search.storage is not None, "resolve the storage first (config.with_storage)"
    storage = make_storage(cfg.search.storage, heartbeat_interval=cfg.search.heartbeat_interval)
    directions = [o.direction for o in cfg.search.objectives]
    study = retry_concurrent(lambda: optuna.create_study(
        study_name=cfg.name, storage=storage, directions=directions, load_if_exists=True, sampler=make_sampler(cfg)))
    stored = study.user_attrs.get("config_hash")
    if stored is not None and stored != config_hash and stored not in accepted_hashes(cfg):
        raise RosearchError(
            f"Study '{cfg.name}' in {cfg.search.storage} was made with another configuration (hash {stored}, now "
            f"{config_hash}); its trials would not be comparable. Give the study a new name, or use --storage for a new database."
        )
    if list(study.directions) != [optuna.study.StudyDirection[d.upper()] for d in directions]:
        raise RosearchError(f"Study '{cfg.name}' has other objective directions; give the study a new name.")
    study.set_metric_names([o.metric for o in cfg.search.objectives])
    return study


def load_existing(cfg: StudyConfig) -> optuna.Study:
    """The stored study, for reading (show, export, report, dashboard); a clear error when the
    storage cannot be opened or holds no such study."""
    assert cfg.search.storage is not None
    url = cfg.search.storage
    journal = journal_path(url)
    if (url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file()) or (journal is not None and not journal.is_file()):
        raise RosearchError(f"No study database at {url}; run `rosearch-optuna optimize --study {cfg.name}` first.")
    storage = make_storage(url, heartbeat_interval=cfg.search.heartbeat_interval)
    try:
        return optuna.load_study(study_name=cfg.name, storage=storage)
    except KeyError:
        raise RosearchError(f"No study named '{cfg.name}' in {url}; run `rosearch-optuna optimize --study {cfg.name}` first.") from None


def record_study_attrs(study: optuna.Study, attrs: dict[str, Any]) -> None:
    for key, value in attrs.items():
        study.set_user_attr(key, value)


def completed(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


#: Settings that decide what code runs or which files and models are loaded. A storage is data
#: anyone with write access to it (a shared PostgreSQL, a study.db someone sent) can edit, so these
#: always come from the user's own study file or command line: a stored config that differs in one
#: of them is refused, never followed.
TRUSTED_KEYS = (
    ("teacher", "trust_remote_code"), ("teacher", "model"), ("teacher", "init"),
    ("kd", "generator", "model"),
    ("data", "source"), ("data", "name"), ("data", "subset"), ("data", "files"), ("data", "splits"),
    ("kd", "zeroshot", "source"), ("kd", "zeroshot", "files"), ("kd", "zeroshot", "corpora"),
)


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data


def check_trusted(stored: dict[str, Any], current: StudyConfig, *, where: str) -> None:
    """Refuse a stored config whose code- or path-deciding settings (TRUSTED_KEYS) differ from the
    user's study file."""
    mine = to_dict(current)
    for path in TRUSTED_KEYS:
        if path in _OPTIONAL and not _present(stored, path):
            continue  # an older study: the default, which the loaders treat as the user's
        theirs, ours = _at(stored, path), _at(mine, path)
        if theirs != ours:
            from rosearch.errors import short_repr

            raise RosearchError(
                f"The study stored in {where} says {'.'.join(path)}: {short_repr(theirs)}, but your study file says "
                f"{short_repr(ours)}. What code runs and which files load is decided only by your own study file, never by a "
                f"storage; if you meant the stored setting, put it in your study file (after checking it), else use another storage.")


#: Keys an older stored config may lack (added to rosearch later): absent there means the default.
_OPTIONAL = {("kd", "generator", "model"), ("kd", "zeroshot", "source"), ("kd", "zeroshot", "files"), ("kd", "zeroshot", "corpora"), ("data", "splits")}


def _present(data: Any, path: tuple[str, ...]) -> bool:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def stored_config(study: optuna.Study, current: StudyConfig) -> StudyConfig:
    """The configuration the study's trials were trained with (recorded by `optimize`), so that
    rebuilt students match them even after the YAML changed; storage, runs_dir, threads and the
    latency settings come from `current`, and the settings that decide what code runs or what is
    loaded must equal `current`'s (`check_trusted`). Sections added to rosearch later take their
    defaults."""
    from dataclasses import replace

    from rosearch.config._build import build
    from rosearch.errors import ConfigError

    raw = study.user_attrs.get("config")
    if raw is None:
        return current
    if not isinstance(raw, dict):
        raise RosearchError(f"The study's stored config in {current.search.storage} is not a mapping; the storage is damaged.")
    check_trusted(raw, current, where=str(current.search.storage))
    try:
        stored = build(StudyConfig, {**raw, "latency": to_dict(current.latency)}, "stored config")
    except ConfigError as err:
        raise RosearchError(f"The study's stored config in {current.search.storage} does not validate ({err}); the storage is damaged or "
                            "was written by another version.") from None
    return replace(stored, runs_dir=current.runs_dir, threads=current.threads, search=replace(stored.search, storage=current.search.storage))
