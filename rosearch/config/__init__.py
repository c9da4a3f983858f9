"""Study configuration: typed dataclasses loaded from YAML and validated."""

from rosearch.config._build import to_dict
from rosearch.config.load import accepted_hashes, config_hash, load_study, project_root, resolve_study_path, stable_hash, with_storage
from rosearch.config.schema import (
    KNOWN_METRICS,
    KNOWN_OPS,
    RECIPES,
    AttackConfig,
    DataConfig,
    FidelityConfig,
    KDConfig,
    LatencyConfig,
    FinetuneConfig,
    FitnessConfig,
    ObjectiveConfig,
    OptimConfig,
    RecipeConfig,
    ScratchTeacherConfig,
    SearchConfig,
    SpaceConfig,
    StudyConfig,
    TeacherConfig,
)

__all__ = [
    "KNOWN_METRICS", "KNOWN_OPS", "RECIPES", "AttackConfig", "DataConfig", "FidelityConfig", "KDConfig", "LatencyConfig",
    "FinetuneConfig", "FitnessConfig", "ObjectiveConfig", "OptimConfig", "RecipeConfig", "ScratchTeacherConfig", "SearchConfig",
    "SpaceConfig", "StudyConfig", "TeacherConfig", "accepted_hashes", "config_hash", "load_study", "project_root",
    "resolve_study_path", "stable_hash", "to_dict", "with_storage",
]
