"""The `attack` section: TextAttack recipes in every trial and for evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field

from rosearch.config._checks import fraction, positive
from rosearch.errors import ConfigError


#: Attack recipe names → TextAttack recipe classes (textattack.attack_recipes), or for recipes of
#: ours a `rosearch.` module with `build(model_wrapper)`.
RECIPES = {
    "deepwordbug": "DeepWordBugGao2018",
    "pruthi": "Pruthi2019",
    "pwws": "PWWSRen2019",
    "textfooler": "TextFoolerJin2019",
    "bert-attack": "BERTAttackLi2020",
    "bae": "BAEGarg2019",
    "textbugger": "TextBuggerLi2018",
    "unicode": "rosearch.attack.unicode_recipe",  # ours: DeepWordBug with lookalikes, symbols, accents, fullwidth
    "embedding-swap": "rosearch.attack.embedding_recipe",  # ours: TextFooler with all-MiniLM-L6-v2's neighbours and similarity
}


#: Recipes whose word substitutions come from a candidate list that `max_candidates` can cap.
CANDIDATE_RECIPES = ("textfooler", "bert-attack", "bae", "textbugger", "embedding-swap")


@dataclass
class RecipeConfig:
    """One TextAttack recipe and the parameters that matter when comparing robustness numbers."""

    # A recipe name: deepwordbug, pruthi, pwws, textfooler, bert-attack, bae, textbugger, unicode, embedding-swap.
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
        positive("query_budget", self.query_budget, allow_none=True)
        if self.max_word_share is not None:
            fraction("max_word_share", self.max_word_share, low_open=True)
        if self.max_candidates is not None:
            positive("max_candidates", self.max_candidates)
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
    # Processes that share an attack's examples, each on one thread (an attack is single-threaded
    # Python around small model calls): null, one per CPU core this process may use; 1 when several
    # `optimize` workers share one machine. Models on a GPU always attack in one process. Every
    # example is seeded on its own, so the results are the same for any number (not hashed).
    workers: int | None = None

    def __post_init__(self) -> None:
        self.recipe = _as_recipe(self.recipe, "recipe")
        self.evaluation = [_as_recipe(r, f"evaluation[{i}]") for i, r in enumerate(self.evaluation)]
        names = [self.recipe.name] + [r.name for r in self.evaluation]
        if len(set(names)) != len(names):
            raise ConfigError("evaluation", names, "Name each recipe once (the search recipe is evaluated anyway).")
        positive("n_examples", self.n_examples)
        positive("eval_examples", self.eval_examples)
        positive("batch_size", self.batch_size)
        positive("workers", self.workers, allow_none=True)
        if self.keep_examples < 0:
            raise ConfigError("keep_examples", self.keep_examples, "Use 0 or more.")

    @property
    def recipes(self) -> list[RecipeConfig]:
        """The search recipe, then the evaluation recipes."""
        return [self.recipe, *self.evaluation]  # type: ignore[list-item]
