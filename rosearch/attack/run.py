"""Run a TextAttack recipe on a model over a fixed list of examples."""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from rosearch.attack.metrics import AttackMetrics, Outcome, summarise
from rosearch.attack.resources import import_textattack
from rosearch.attack.wrapper import make_wrapper
from rosearch.config.schema import RECIPES, AttackConfig
from rosearch.errors import ResourceUnavailable


class AttackCrash(RuntimeError):
    """TextAttack raised while attacking (a recipe bug or an odd example): the trial fails, the study goes on."""


@dataclass
class AttackReport:
    recipe: str
    metrics: AttackMetrics
    seconds: float
    examples: list[dict[str, Any]] = field(default_factory=list)  # successful adversarial examples


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run with `n` torch threads. Attacks make many tiny forward passes, where thread start-up
    dominates: one thread was ~40× faster than the default on 2 cores (OFFLINE.md)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def build_attack(recipe: str, wrapper: Any, *, query_budget: int | None) -> Any:
    """The TextAttack recipe `recipe` (a key of RECIPES) around `wrapper`."""
    textattack = import_textattack()
    cls = getattr(textattack.attack_recipes, RECIPES[recipe])
    try:
        attack = cls.build(wrapper)
    except (OSError, LookupError, ImportError) as err:  # downloads that cannot happen offline
        raise ResourceUnavailable(f"Attack recipe '{recipe}' ({RECIPES[recipe]}) needs a resource that cannot be had here: {err}") from None
    if query_budget is not None:
        attack.goal_function.query_budget = query_budget
    return attack


def run_attack(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    examples: list[dict[str, Any]],
    cfg: AttackConfig,
    *,
    max_length: int,
    keep_examples: int = 5,
    progress: bool = True,
) -> AttackReport:
    """Attack every example ({"text", "label"}) with TextAttack's `Attacker`; summarise the results."""
    textattack = import_textattack()
    start = time.perf_counter()
    wrapper = make_wrapper(model, tokenizer, max_length=max_length)
    attack = build_attack(cfg.recipe, wrapper, query_budget=cfg.query_budget)
    attack.goal_function.batch_size = cfg.batch_size
    dataset = textattack.datasets.Dataset([(e["text"], int(e["label"])) for e in examples])
    args = textattack.AttackArgs(
        num_examples=len(examples), random_seed=cfg.seed, query_budget=cfg.query_budget,
        silent=True, disable_stdout=True, shuffle=False,
    )
    # TextAttack's Attacker always draws its bar over examples (stderr), then prints a blank line
    # (stdout): keep the bar unless asked not to, drop the blank line.
    quiet = contextlib.redirect_stderr(io.StringIO()) if not progress else contextlib.nullcontext()
    with torch_threads(1), quiet, contextlib.redirect_stdout(io.StringIO()):
        try:
            results = textattack.Attacker(attack, dataset, args).attack_dataset()
        except Exception as err:  # noqa: BLE001 - any crash inside TextAttack is this trial's data
            raise AttackCrash(f"{cfg.recipe}: {type(err).__name__}: {err}") from err
    outcomes, samples = [], []
    for result in results:
        outcome = _outcome(result, textattack)
        outcomes.append(outcome)
        if outcome.status == "succeeded" and len(samples) < keep_examples:
            samples.append({
                "original": result.original_result.attacked_text.text,
                "perturbed": result.perturbed_result.attacked_text.text,
                "label": int(result.original_result.ground_truth_output),
                "perturbed_prediction": int(result.perturbed_result.output),
                "queries": int(result.perturbed_result.num_queries),
            })
    return AttackReport(cfg.recipe, summarise(outcomes), time.perf_counter() - start, samples)


def _outcome(result: Any, textattack: Any) -> Outcome:
    kinds = textattack.attack_results
    original = result.original_result.attacked_text
    if isinstance(result, kinds.SkippedAttackResult):
        return Outcome("skipped", 0, len(original.words), 0)
    status = "succeeded" if isinstance(result, kinds.SuccessfulAttackResult) else "failed"
    changed = len(original.all_words_diff(result.perturbed_result.attacked_text)) if status == "succeeded" else 0
    return Outcome(status, changed, len(original.words), int(result.perturbed_result.num_queries))
