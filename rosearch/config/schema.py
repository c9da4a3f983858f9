"""The typed study configuration: one dataclass per YAML section, one module per section
(data, teacher, space, kd, attack, search, latency, study). This module gathers them for the
imports that name `rosearch.config.schema`.

Each field has its default and a comment; `__post_init__` checks raise `ConfigError` naming the
key (relative to the section; the loader prefixes the section), the value and the fix.
"""

from __future__ import annotations

from rosearch.config.optim import OptimConfig
from rosearch.config.data import DataConfig
from rosearch.config.teacher import BertShapeConfig, ScratchTeacherConfig, FinetuneConfig, TeacherConfig
from rosearch.config.space import KNOWN_OPS, INPUT_STAGES, SpaceConfig
from rosearch.config.kd import STRATEGIES, PERTURBATIONS, KDIGAConfig, GeneratorConfig, ZeroShotConfig, PerturbationFamilies, ConsistencyConfig, AugmentConfig, A2TConfig, KDConfig, strategies
from rosearch.config.attack import RECIPES, CANDIDATE_RECIPES, RecipeConfig, AttackConfig
from rosearch.config.search import KNOWN_METRICS, FidelityConfig, FitnessConfig, ObjectiveConfig, SearchConfig
from rosearch.config.latency import LatencyConfig
from rosearch.config.study import BaselineConfig, StudyConfig

__all__ = [
    "OptimConfig",
    "DataConfig",
    "BertShapeConfig",
    "ScratchTeacherConfig",
    "FinetuneConfig",
    "TeacherConfig",
    "KNOWN_OPS",
    "INPUT_STAGES",
    "SpaceConfig",
    "STRATEGIES",
    "PERTURBATIONS",
    "KDIGAConfig",
    "GeneratorConfig",
    "ZeroShotConfig",
    "PerturbationFamilies",
    "ConsistencyConfig",
    "AugmentConfig",
    "A2TConfig",
    "KDConfig",
    "strategies",
    "RECIPES",
    "CANDIDATE_RECIPES",
    "RecipeConfig",
    "AttackConfig",
    "KNOWN_METRICS",
    "FitnessConfig",
    "ObjectiveConfig",
    "SearchConfig",
    "FidelityConfig",
    "LatencyConfig",
    "BaselineConfig",
    "StudyConfig",
]
