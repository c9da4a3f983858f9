"""TextAttack recipes by name, with the parameters that matter exposed.

A recipe is TextAttack's own `Recipe.build(model_wrapper)` — goal function, constraints,
transformation, search method — untouched except for what the `RecipeConfig` asks:
  query_budget    the goal function's query budget per example;
  max_word_share  a MaxWordsPerturbed(max_percent) constraint, replacing the recipe's own, if any;
  max_candidates  the cap on substitution candidates of the recipe's word-swap transformation(s).
"""

from __future__ import annotations

import contextlib
import importlib
import io
from typing import Any

from rosearch.attack.resources import import_textattack, preflight, quiet_nltk_downloads
from rosearch.config.schema import RECIPES, RecipeConfig
from rosearch.errors import ResourceUnavailable


def _word_swaps(transformation: Any) -> list[Any]:
    """The transformation itself, or the parts of a CompositeTransformation."""
    return list(getattr(transformation, "transformations", [transformation]))


def build_attack(spec: RecipeConfig, wrapper: Any, *, batch_size: int = 32) -> Any:
    """The TextAttack `Attack` for `spec` around a model wrapper; resources checked first."""
    preflight(spec.name)
    textattack = import_textattack()
    if RECIPES[spec.name].startswith("rosearch."):  # ours: a module with `build(model_wrapper)`, not a TextAttack class
        build = importlib.import_module(RECIPES[spec.name]).build
    else:
        build = getattr(textattack.attack_recipes, RECIPES[spec.name]).build
    try:
        # Some transformations call nltk.download() when built (PWWS: omw-1.4), noisily and in vain
        # offline (WordNet itself was provided by the preflight).
        with quiet_nltk_downloads(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            attack = build(wrapper)
    except (OSError, LookupError, ImportError) as err:  # a download the preflight could not foresee
        raise ResourceUnavailable(f"Attack recipe '{spec.name}' ({RECIPES[spec.name]}) needs a resource that cannot be had here: {err}") from None
    if spec.max_candidates is not None:
        capped = [t for t in _word_swaps(attack.transformation) if hasattr(t, "max_candidates")]
        assert capped, f"{spec.name} has no candidate list (the config check should have refused it)"
        for t in capped:
            t.max_candidates = spec.max_candidates
    if spec.max_word_share is not None:
        from textattack.constraints.overlap import MaxWordsPerturbed

        kept = [c for c in attack.pre_transformation_constraints + attack.constraints if not isinstance(c, MaxWordsPerturbed)]
        attack = textattack.Attack(attack.goal_function, kept + [MaxWordsPerturbed(max_percent=spec.max_word_share)], attack.transformation, attack.search_method)
    attack.goal_function.batch_size = batch_size
    if spec.query_budget is not None:
        attack.goal_function.query_budget = spec.query_budget
    return attack


def describe_recipe(spec: RecipeConfig) -> str:
    extras = [f"{k} {v}" for k, v in (("query budget", spec.query_budget), ("max word share", spec.max_word_share), ("max candidates", spec.max_candidates)) if v is not None]
    return spec.name + (f" ({', '.join(extras)})" if extras else "")
