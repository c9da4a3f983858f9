"""A whole study file, and its `baselines` section."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rosearch.config._checks import positive
from rosearch.config.attack import AttackConfig
from rosearch.config.data import DataConfig
from rosearch.config.kd import KDConfig
from rosearch.config.latency import LatencyConfig
from rosearch.config.search import FitnessConfig, SearchConfig
from rosearch.config.space import SpaceConfig
from rosearch.config.teacher import BertShapeConfig, TeacherConfig
from rosearch.errors import ConfigError


@dataclass
class BaselineConfig:
    """A hand-designed student that goes through the study's own pipeline (data, KD, seeds, attacks).

    `genome` (in the study's space): enqueued as a trial before the search (Optuna's
    enqueue_trial), so it also seeds NSGA-II's first population, flagged `baseline: <name>`.
    `bert`: a standard BertForSequenceClassification shape outside the space, distilled with the
    same KD and reported beside the trials (study user attr `references`).
    """

    name: str = ""
    genome: dict[str, Any] | None = None
    bert: BertShapeConfig | None = None

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c in "-_." for c in self.name):
            raise ConfigError("name", self.name, "Name the baseline with letters, digits, '-', '_' or '.'.")
        if (self.genome is None) == (self.bert is None):
            raise ConfigError("genome", self.genome, "Give exactly one of genome (a cell in the study's space) or bert (a BERT shape).")


@dataclass
class StudyConfig:
    """A whole study (studies/<name>.yaml)."""

    name: str = "study"
    description: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    space: SpaceConfig = field(default_factory=SpaceConfig)
    kd: KDConfig = field(default_factory=KDConfig)
    attack: AttackConfig = field(default_factory=AttackConfig)
    fitness: FitnessConfig = field(default_factory=FitnessConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    latency: LatencyConfig = field(default_factory=LatencyConfig)
    # Hand-designed students run through the same pipeline (see BaselineConfig).
    baselines: list[BaselineConfig] = field(default_factory=list)
    # Seed of the search (sampler) and of every trial's training.
    seed: int = 0
    # Folder for study databases and the prepare cache.
    runs_dir: str = "runs"
    # Torch CPU threads; null: all cores for training (an attack runs one a process, in attack.workers processes).
    threads: int | None = None

    def __post_init__(self) -> None:
        # The name is a folder under runs_dir: ".." or ".hidden" would write outside it or out of sight.
        if not self.name or not self.name[0].isalnum() or not all(c.isalnum() or c in "-_." for c in self.name):
            raise ConfigError("name", self.name, "Start with a letter or digit; then use letters, digits, '-', '_' or '.' only.")
        positive("threads", self.threads, allow_none=True)
        self._check_baselines()
        cap = self.data.max_dev_examples
        if cap is not None and self.attack.n_examples >= cap:
            raise ConfigError("attack.n_examples", self.attack.n_examples, f"The dev split is capped at {cap} examples (data.max_dev_examples) and the "
                              "in-trial subset would take them all, leaving no evaluation set: lower attack.n_examples or raise the cap.")
        fidelity = self.search.fidelity
        if fidelity is not None and fidelity.cheap_epochs >= self.kd.epochs:
            raise ConfigError("search.fidelity.cheap_epochs", fidelity.cheap_epochs, f"Use fewer passes than the full distillation (kd.epochs {self.kd.epochs}): "
                              "the cheap estimate is what makes a candidate cheap.")
        if fidelity is not None and fidelity.cheap_attack_examples is not None and fidelity.cheap_attack_examples > self.attack.n_examples:
            raise ConfigError("search.fidelity.cheap_attack_examples", fidelity.cheap_attack_examples, f"Use at most attack.n_examples ({self.attack.n_examples}): "
                              "the cheap estimate is attacked on the first examples of the in-trial subset.")
        if fidelity is not None and fidelity.attack_examples < self.attack.n_examples:
            raise ConfigError("search.fidelity.attack_examples", fidelity.attack_examples, f"Use at least attack.n_examples ({self.attack.n_examples}): "
                              "a promoted student is attacked on the in-trial subset and more.")
        if self.latency.seq_len is not None and self.latency.seq_len > self.data.max_length:
            raise ConfigError("latency.seq_len", self.latency.seq_len, f"Use at most data.max_length ({self.data.max_length}): students have no positions beyond it.")


    def _check_baselines(self) -> None:
        from rosearch.student.genome import Genome
        from rosearch.student.space import validate  # the space's own rules

        names = [b.name for b in self.baselines]
        if len(set(names)) != len(names):
            raise ConfigError("baselines", names, "Give each baseline its own name.")
        for i, b in enumerate(self.baselines):
            if b.genome is None:
                continue
            try:
                genome = Genome.from_dict(b.genome)
            except (KeyError, TypeError, ValueError) as err:
                raise ConfigError(f"baselines[{i}].genome", b.genome, f"Not a genome ({err}); give hidden_size, embedding_size, n_cells, nodes "
                                  "[{inputs: [a, b], ops: [op, op]}, ...] and n_heads / ffn_multiplier when attention / ffn is used.") from None
            problems = validate(genome, self.space)
            if problems:
                raise ConfigError(f"baselines[{i}].genome", b.name, "Outside the study's space: " + "; ".join(problems) + ".")
