"""The `kd` section: knowledge distillation of each trial's student and the robustness-aware strategies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rosearch.config._checks import fraction, positive
from rosearch.config.optim import OptimConfig
from rosearch.errors import ConfigError


STRATEGIES = ("vanilla", "kdiga", "mate", "zeroshot", "consistency", "a2t", "augment")


PERTURBATIONS = ("swap", "insert", "delete", "keyboard", "synonym")


@dataclass
class KDIGAConfig:
    """KDIGA (Shao et al., arXiv 2110.12072); defaults from the paper's code."""

    alpha: float = 0.5  # weight of the KD term; 1 − α goes to cross-entropy
    temperature: float = 1.0
    gamma: float = 0.5  # weight of the input-gradient alignment term

    def __post_init__(self) -> None:
        fraction("alpha", self.alpha)
        positive("temperature", self.temperature)
        if self.gamma < 0:
            raise ConfigError("gamma", self.gamma, "Use 0 or more.")


@dataclass
class GeneratorConfig:
    """The masked-LM generator of MATE-KD and zero-shot KD (it must share the teacher's tokenizer)."""

    # null: the teacher's source encoder with a masked-LM head trained briefly on the task's train
    # text (offline; cached); or a hub id / folder of a masked LM with the same vocabulary.
    model: str | None = None
    mlm_steps: int = 300  # steps of that brief masked-LM training (model: null only)
    mlm_lr: float = 1e-4
    mask_prob: float = 0.3  # share of non-special tokens masked and re-filled
    gumbel_temperature: float = 1.0
    lr: float = 1e-5  # the generator's learning rate during adversarial training
    generator_steps: int = 10  # the authors' code: 10 generator steps, then 100 student steps
    student_steps: int = 100

    def __post_init__(self) -> None:
        positive("mlm_steps", self.mlm_steps)
        positive("mlm_lr", self.mlm_lr)
        fraction("mask_prob", self.mask_prob, low_open=True, high_open=True)
        positive("gumbel_temperature", self.gumbel_temperature)
        positive("lr", self.lr)
        positive("generator_steps", self.generator_steps)
        positive("student_steps", self.student_steps)


@dataclass
class ZeroShotConfig:
    """Out-of-domain text the zero-shot student learns from (it never sees task training data)."""

    # embedded: VADER's other corpora (`corpora`); jsonl / csv: local files (`files`, `text_column`).
    source: Literal["embedded", "jsonl", "csv"] = "embedded"
    corpora: list[str] = field(default_factory=lambda: ["nyt_snippets", "amazon_snippets", "tweets"])
    files: list[str] = field(default_factory=list)
    text_column: str = "text"
    max_examples: int | None = None

    def __post_init__(self) -> None:
        known = ("nyt_snippets", "amazon_snippets", "tweets", "movie_snippets")
        if self.source == "embedded":
            if not self.corpora:
                raise ConfigError("corpora", self.corpora, f"Name at least one of: {', '.join(known[:3])}.")
            for i, c in enumerate(self.corpora):
                if c not in known[:3]:
                    fix = "movie_snippets is the demo's task data: zero-shot KD must not train on it." if c == "movie_snippets" else f"Use one of: {', '.join(known[:3])}."
                    raise ConfigError(f"corpora[{i}]", c, fix)
        elif not self.files:
            raise ConfigError("files", self.files, f"source '{self.source}' needs files: [path, ...].")
        positive("max_examples", self.max_examples, allow_none=True)


@dataclass
class PerturbationFamilies:
    """The generic perturbation families a robustness strategy draws from (rosearch.robust.perturb)."""

    # swap, insert, delete, keyboard (character edits), synonym (word substitutions).
    kinds: list[str] = field(default_factory=lambda: list(PERTURBATIONS))
    # Where synonym substitutes come from: auto (WordNet when installed, else the teacher's
    # embedding neighbours), wordnet, embedding.
    substitutes: Literal["auto", "wordnet", "embedding"] = "auto"

    def __post_init__(self) -> None:
        if not self.kinds:
            raise ConfigError("kinds", self.kinds, f"Name at least one of: {', '.join(PERTURBATIONS)}.")
        for i, kind in enumerate(self.kinds):
            if kind not in PERTURBATIONS:
                raise ConfigError(f"kinds[{i}]", kind, f"Use one of: {', '.join(PERTURBATIONS)}.")


@dataclass
class ConsistencyConfig(PerturbationFamilies):
    """Perturbation-consistency KD (rosearch.kd.consistency): a share of the training texts is
    replaced, at every pass, by a randomly perturbed copy (character edits and word substitutions,
    rosearch.robust.perturb) that keeps the clean text's cached teacher distribution as its target."""

    # Share of texts replaced by a perturbed copy in each pass over the data.
    text_share: float = 0.5
    # Share of a perturbed text's eligible words (no stop words, ≥ 3 letters) that are edited.
    word_share: float = 0.2
    # constant: text_share in every pass; ramp: a curriculum, pass p of P (from 1) perturbs
    # text_share · p / P of the texts, so training starts near clean and ends at full strength.
    schedule: Literal["constant", "ramp"] = "constant"

    def __post_init__(self) -> None:
        fraction("text_share", self.text_share)
        fraction("word_share", self.word_share, low_open=True)
        super().__post_init__()


@dataclass
class AugmentConfig:
    """Transfer-set augmentation for KD after TinyBERT (Jiao et al., 2020; rosearch.kd.augment):
    each training text gets `copies` variants in which a share of its whole words is masked and
    re-filled by sampling among the masked-LM generator's top-k candidates; the teacher labels each
    variant with its own logits (cached once per study), and the student distils on the originals
    plus the variants. A larger transfer set for the same teacher, not a perturbation to resist."""

    # Variants per training text (TinyBERT used 20; each one adds a pass's worth of training time).
    copies: int = 4
    # Share of a text's whole words (single-token, alphabetic) masked and re-filled (TinyBERT: 0.4).
    word_share: float = 0.4
    # A masked word is replaced by one of the generator's top_k whole-word candidates, at random (TinyBERT: 15).
    top_k: int = 15

    def __post_init__(self) -> None:
        positive("copies", self.copies)
        fraction("word_share", self.word_share, low_open=True)
        positive("top_k", self.top_k)


@dataclass
class A2TConfig(PerturbationFamilies):
    """Adversarial augmentation at intervals after A2T (Yoo & Qi, 2021; rosearch.kd.a2t): after
    `start` epochs of logit KD, and then every `every` epochs, the current student (with its input
    stage) is attacked on a new slice of the training set with a cheap generic attack (character
    edits and word substitutions, greedy by word importance); from then on each step also trains on
    a batch of the successful adversarial texts, each with its clean text's teacher logits."""

    # Epochs of plain logit KD before the first attack round (fractions allowed).
    start: float = 0.25
    # Epochs between attack rounds.
    every: float = 0.25
    # Training examples attacked per round (a new seeded slice each round).
    examples: int = 256
    # Model queries per attacked example.
    query_budget: int = 50
    # Most share of an example's words the attack may change.
    max_word_share: float = 0.25
    # Weight of the adversarial batch's loss beside the clean batch's (A2T's α).
    weight: float = 1.0

    def __post_init__(self) -> None:
        positive("every", self.every)
        positive("examples", self.examples)
        positive("query_budget", self.query_budget)
        fraction("max_word_share", self.max_word_share, low_open=True)
        positive("weight", self.weight)
        if self.start < 0:
            raise ConfigError("start", self.start, "Give the epochs of clean KD before the first round: a number ≥ 0.")
        super().__post_init__()


@dataclass
class KDConfig(OptimConfig):
    """Knowledge distillation of each trial's student: logit KD (Hinton et al., 2015) and the
    robustness-aware strategies (rosearch/kd)."""

    # Students start from scratch (but for their embeddings): a larger rate than fine-tuning's.
    lr: float = 1e-3
    grad_clip: float = 1.0
    # Softmax temperature τ of the KD term (scaled by τ²).
    temperature: float = 2.0
    # Weight α of the KD term; (1 − α) goes to cross-entropy on the labels (vanilla strategy).
    alpha: float = 0.5
    # Cap the training examples a trial sees (a seeded subset); null uses the whole train split.
    max_train_examples: int | None = None
    # Accelerate's mixed precision: no, bf16 or fp16. Every command of the study (optimize,
    # attack --trial, export) trains and measures in it.
    mixed_precision: Literal["no", "bf16", "fp16"] = "no"
    # Batch size when measuring a student's clean accuracy (inference only).
    eval_batch_size: int = 128
    # teacher_pca: start the student's token embeddings from the top principal directions of the
    # teacher's; random: the usual normal init.
    init_embeddings: Literal["teacher_pca", "random"] = "teacher_pca"
    # cached: teacher logits computed once per study; online: the teacher runs at every step.
    teacher_logits: Literal["cached", "online"] = "cached"
    # vanilla (logit KD), kdiga, mate, zeroshot, consistency, a2t or augment; a list lets the search choose per trial.
    strategy: str | list[str] = "vanilla"
    kdiga: KDIGAConfig = field(default_factory=KDIGAConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    zeroshot: ZeroShotConfig = field(default_factory=ZeroShotConfig)
    consistency: ConsistencyConfig = field(default_factory=ConsistencyConfig)
    a2t: A2TConfig = field(default_factory=A2TConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        names = [self.strategy] if isinstance(self.strategy, str) else list(self.strategy)
        if not names:
            raise ConfigError("strategy", self.strategy, f"Name at least one of: {', '.join(STRATEGIES)}.")
        for name in names:
            if name not in STRATEGIES:
                raise ConfigError("strategy", name, f"Use one of: {', '.join(STRATEGIES)} (or a list of them).")
        if len(set(names)) != len(names):
            raise ConfigError("strategy", names, "Name each strategy once.")
        positive("temperature", self.temperature)
        positive("grad_clip", self.grad_clip)
        fraction("alpha", self.alpha)
        positive("max_train_examples", self.max_train_examples, allow_none=True)
        positive("eval_batch_size", self.eval_batch_size)


def strategies(kd: KDConfig) -> list[str]:
    """The KD strategies a study uses (one, or the list the search chooses from)."""
    return [kd.strategy] if isinstance(kd.strategy, str) else list(kd.strategy)
