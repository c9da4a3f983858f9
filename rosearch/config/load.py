"""Find, read and validate a study file; hash what its results depend on."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from rosearch.config._build import build, to_dict
from rosearch.config.schema import StudyConfig
from rosearch.errors import ConfigError

#: Sections that may be given as the path of a reusable YAML piece in configs/.
PIECES = ("space", "kd", "attack", "teacher", "data", "fitness", "search", "baselines")


def project_root() -> Path:
    """The folder holding studies/ and configs/ next to the package (a source checkout)."""
    return Path(__file__).resolve().parents[2]


def resolve_study_path(study: str) -> Path:
    """`--study NAME` → studies/NAME.yaml (in the working folder, then the project); a path works too."""
    as_path = Path(study)
    if as_path.suffix in (".yaml", ".yml") or as_path.parent != Path("."):
        if as_path.is_file():
            return as_path
        raise ConfigError("--study", study, "No such file; give a YAML path or a name from studies/.")
    tried = []
    for base in (Path.cwd(), project_root()):
        candidate = base / "studies" / f"{study}.yaml"
        tried.append(str(candidate))
        if candidate.is_file():
            return candidate
    names = sorted(p.stem for p in (project_root() / "studies").glob("*.yaml"))
    raise ConfigError("--study", study, f"No study file found (tried {', '.join(tried)}). Known studies: {', '.join(names)}.")


#: The most YAML nodes a config file may expand to once its aliases are followed. The shipped
#: studies expand to a few hundred; an alias "bomb" (each level repeating the one before) expands
#: to billions from a few hundred bytes and would exhaust memory in hashing or error messages.
MAX_NODES = 20_000


def _read_yaml(path: Path, key: str) -> Any:
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        if node is None:
            return None
        size = expanded_size(node)
        if size > MAX_NODES:
            raise ConfigError(key, str(path), f"The file's YAML aliases (*name) expand to over {MAX_NODES:,} values; "
                              "write the values out instead of repeating aliases of aliases.")
        return yaml.SafeLoader("").construct_document(node)
    except yaml.YAMLError as err:
        raise ConfigError(key, str(path), f"The file is not valid YAML: {err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(key, str(path), f"The file is not UTF-8 text ({err.reason} at byte {err.start}); save it as UTF-8.") from None
    except OSError as err:
        raise ConfigError(key, str(path), f"The file cannot be read ({err.strerror}).") from None


def expanded_size(node: yaml.Node, *, limit: int = MAX_NODES) -> int:
    """How many nodes `node` stands for with every alias expanded (a shared node counts each time
    it is referenced), counted with memoisation so a bomb is measured without expanding it; stops
    counting past `limit`."""
    memo: dict[int, int] = {}

    def size(n: yaml.Node, depth: int) -> int:
        if id(n) in memo:
            return memo[id(n)]
        if depth > 200:  # nested deeper than any config: treat as too large
            return limit + 1
        total = 1
        if isinstance(n, yaml.SequenceNode):
            children = n.value
        elif isinstance(n, yaml.MappingNode):
            children = [part for pair in n.value for part in pair]
        else:
            children = []
        for child in children:
            total += size(child, depth + 1)
            if total > limit:
                break
        memo[id(n)] = min(total, limit + 1)
        return memo[id(n)]

    return size(node, 0)


def _resolve_piece(value: str, study_dir: Path, key: str) -> Any:
    """A section given as a path: relative to the study file, then to the project root."""
    for base in (study_dir, study_dir.parent, project_root()):
        candidate = (base / value).resolve()
        if candidate.is_file():
            return _read_yaml(candidate, key)
    raise ConfigError(key, value, "No such config file; paths are relative to the study file or the project root (e.g. configs/spaces/dag.yaml).")


def load_study(study: str, *, overrides: dict[str, Any] | None = None) -> StudyConfig:
    """Read `studies/<study>.yaml` (or a path), expand config pieces, validate, apply CLI overrides.

    `overrides` maps dotted keys (e.g. "search.storage") to values, validated like the file.
    """
    path = resolve_study_path(study)
    raw = _read_yaml(path, "--study")
    if raw is None:
        # An empty file would run a whole default study (and, with a pretrained encoder, an
        # untrained classification head): almost certainly not what was meant.
        raise ConfigError("--study", str(path), "The study file is empty. Copy a study from studies/ (e.g. demo.yaml) and edit it.")
    if not isinstance(raw, dict):
        raise ConfigError("<top level>", raw, "A study file is a mapping of sections (data, teacher, space, ...).")
    raw.setdefault("name", path.stem)
    for section in PIECES:
        if isinstance(raw.get(section), str):
            raw[section] = _resolve_piece(raw[section], path.parent, section)
    for dotted, value in (overrides or {}).items():
        node = raw
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return build(StudyConfig, raw, "")


#: Fields that do not change any trial's numbers: left out of the hash so they may differ on resume.
_NOT_HASHED = {("kd", "eval_batch_size"), ("attack", "workers"), ("search", "n_trials"), ("search", "storage"), ("search", "heartbeat_interval"), ("runs_dir",), ("threads",), ("description",), ("name",)}


#: Settings added after studies were stored, hashed only when they differ from their default, so
#: a stored study whose file leaves them unset keeps its hash and resumes.
_HASHED_UNLESS_DEFAULT = {
    ("space", "vocabularies"): ["full"],
    ("space", "vocabulary_backoff"): "nearest",
    ("space", "fgws_min_count"): 4,
    ("space", "vote_copies"): 8,
    ("space", "vote_rate"): 0.25,
    ("space", "vote_draw"): "text",
    ("search", "fidelity"): None,
    ("search", "fidelity", "estimate"): "distill",
    ("search", "fidelity", "supernet_epochs"): 4.0,
    ("search", "fidelity", "supernet_rule"): "uniform",
    ("search", "fidelity", "promote_share"): None,
    ("search", "fidelity", "finetune_epochs"): 0.0,
}
#: Settings of a stage that change no trial where the space does not offer that stage: never hashed there.
_HASHED_ONLY_WITH_STAGE = {("space", "vote_draw"): "vote"}
#: Commits 4f8c3cc–f195732 hashed the vocabulary settings even at their defaults.
_HASHED_AT_DEFAULT_BY_STOP_23 = (("space", "vocabularies"), ("space", "vocabulary_backoff"))


def config_hash(cfg: StudyConfig, *sections: str) -> str:
    """A short hash of the config (or of the named sections) over the fields results depend on."""
    return stable_hash(_hashed(cfg, sections, keep=()))


def accepted_hashes(cfg: StudyConfig) -> set[str]:
    """The hashes a stored study made with this config may carry: today's, and the one the code
    of commits 4f8c3cc–f195732 stored (it hashed the vocabulary settings at their defaults)."""
    return {config_hash(cfg), stable_hash(_hashed(cfg, (), keep=_HASHED_AT_DEFAULT_BY_STOP_23))}


def _hashed(cfg: StudyConfig, sections: tuple[str, ...], *, keep: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
    data = to_dict(cfg)
    picked = {s: data[s] for s in sections} if sections else data
    at_default = [path for path, default in _HASHED_UNLESS_DEFAULT.items() if path not in keep and _get(picked, path) == default]
    offered = {name for gene in data["space"]["input_stages"] for name in gene.split("+")}
    unused = [path for path, stage in _HASHED_ONLY_WITH_STAGE.items() if stage not in offered]
    for path in [*_NOT_HASHED, *at_default, *unused]:
        node = picked
        for part in path[:-1]:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return picked


def _get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


_MISSING = object()


def stable_hash(obj: Any) -> str:
    """sha256 of canonical JSON, 16 hex digits."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def with_storage(cfg: StudyConfig, storage: str | None) -> StudyConfig:
    """`cfg` with its storage resolved: the given URL, the config's, or the default SQLite file."""
    url = storage or cfg.search.storage or f"sqlite:///{Path(cfg.runs_dir) / cfg.name / 'study.db'}"
    return replace(cfg, search=replace(cfg.search, storage=url))
