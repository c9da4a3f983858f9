"""Run a TextAttack recipe on a model over a fixed list of examples, with TextAttack's `Attacker`."""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from rosearch.attack.metrics import AttackMetrics, Outcome, summarise
from rosearch.attack.recipes import build_attack
from rosearch.attack.resources import import_textattack
from rosearch.attack.window import within_window
from rosearch.attack.wrapper import make_wrapper
from rosearch.config.schema import RecipeConfig
from rosearch.student.pipeline import StudentPipeline
from rosearch.threads import torch_threads


class AttackCrash(RuntimeError):
    """TextAttack raised while attacking (a recipe bug or an odd example): the trial fails, the study goes on."""


@dataclass
class AttackReport:
    recipe: str
    metrics: AttackMetrics
    seconds: float
    records: list[dict[str, Any]] = field(default_factory=list)  # one per attacked example

    @property
    def examples_per_second(self) -> float:
        return self.metrics.n / self.seconds if self.seconds else 0.0

    @property
    def queries_per_second(self) -> float:
        return sum(r["queries"] for r in self.records) / self.seconds if self.seconds else 0.0

    def held(self) -> list[bool]:
        """Per attacked example, in order: still classified correctly after the attack (the
        paired outcome McNemar's test compares between two models on the same examples)."""
        return [r["status"] == "failed" for r in self.records]

    def clean(self) -> list[bool]:
        """Per attacked example, in order: classified correctly before the attack."""
        return [r["status"] != "skipped" for r in self.records]

    def successes(self, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` successful adversarial examples (for trial attrs and the dashboard)."""
        return [r for r in self.records if r["status"] == "succeeded"][:limit]


def run_attack(
    pipeline: StudentPipeline,
    examples: list[dict[str, Any]],
    spec: RecipeConfig,
    *,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool = True,
    wrapper: Any = None,
    threads: int = 1,
) -> AttackReport:
    """Attack every example ({"text", "label"}); summarise the results as the field reports them.

    `wrapper` replaces our dynamic-padding model wrapper and `threads` the torch thread count
    (benchmarks compare TextAttack's own settings). The attack queries the whole pipeline (its
    input stages run on every query's text before the tokenizer), never the bare model.
    Texts are cut after their `max_length`-th word first (rosearch.attack.window): words the model
    never reads are not attacked.
    """
    import_textattack()  # first: it points NLTK at our data before TextAttack's import needs its stop words
    examples = [{**e, "text": within_window(e["text"], pipeline.max_length)} for e in examples]  # only what the model reads
    wrapper = wrapper or make_wrapper(pipeline)
    attack = build_attack(spec, wrapper, batch_size=batch_size)
    with torch_threads(threads):
        return attack_examples(attack, examples, name=spec.name, query_budget=spec.query_budget, seed=seed, progress=progress)


def attack_examples(attack: Any, examples: list[dict[str, Any]], *, name: str, query_budget: int | None, seed: int = 0,
                    progress: bool = True) -> AttackReport:
    """Run a built TextAttack `Attack` over every example ({"text", "label"}) with TextAttack's
    `Attacker`; `name` labels the report and its records."""
    textattack = import_textattack()
    dataset = textattack.datasets.Dataset([(e["text"], int(e["label"])) for e in examples])
    args = textattack.AttackArgs(
        num_examples=len(examples), random_seed=seed, query_budget=query_budget,
        silent=True, disable_stdout=True, shuffle=False,
    )
    # TextAttack's Attacker always draws its bar over examples (stderr), then prints a blank line
    # (stdout): keep the bar unless asked not to, drop the blank line.
    quiet = contextlib.redirect_stderr(io.StringIO()) if not progress else contextlib.nullcontext()
    start = time.perf_counter()
    with quiet, contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        # TextAttack's own summary averages empty lists when nothing succeeds: noise, not ours.
        warnings.filterwarnings("ignore", category=RuntimeWarning, message="(Mean of empty slice|invalid value encountered)")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="textattack")
        try:
            results = textattack.Attacker(attack, dataset, args).attack_dataset()
        except Exception as err:  # noqa: BLE001 - any crash inside TextAttack is this trial's data
            raise AttackCrash(f"{name}: {type(err).__name__}: {err}") from err
    seconds = time.perf_counter() - start
    outcomes, records = [], []
    for i, result in enumerate(results):
        outcome = _outcome(result, textattack)
        outcomes.append(outcome)
        records.append({
            "recipe": name,
            "index": i,
            "status": outcome.status,
            "label": int(result.original_result.ground_truth_output),
            "original_prediction": int(result.original_result.output),
            "perturbed_prediction": int(result.perturbed_result.output),
            "original": result.original_result.attacked_text.text,
            "perturbed": result.perturbed_result.attacked_text.text,
            "words_perturbed": outcome.words_perturbed,
            "words": outcome.words,
            "queries": outcome.queries,
        })
    return AttackReport(name, summarise(outcomes), seconds, records)


def _outcome(result: Any, textattack: Any) -> Outcome:
    kinds = textattack.attack_results
    original = result.original_result.attacked_text
    if isinstance(result, kinds.SkippedAttackResult):
        return Outcome("skipped", 0, len(original.words), 0)
    status = "succeeded" if isinstance(result, kinds.SuccessfulAttackResult) else "failed"
    changed = len(original.all_words_diff(result.perturbed_result.attacked_text)) if status == "succeeded" else 0
    return Outcome(status, changed, len(original.words), int(result.perturbed_result.num_queries))
