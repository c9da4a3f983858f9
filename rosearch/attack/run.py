"""Run a TextAttack recipe on a model over a fixed list of examples, example by example (seeded each), in one or more processes."""

from __future__ import annotations

import contextlib
import io
import logging
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator

import torch
from tqdm.auto import tqdm

from rosearch.attack.forked import forked_map
from rosearch.attack.metrics import AttackMetrics, Outcome, summarise
from rosearch.attack.recipes import build_attack
from rosearch.attack.resources import import_textattack
from rosearch.attack.window import within_window
from rosearch.attack.wrapper import make_wrapper
from rosearch.config.schema import RecipeConfig
from rosearch.student.pipeline import StudentPipeline
from rosearch.threads import available_cores, torch_threads
from rosearch.train import model_device


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
    workers: int | None = 1,
) -> AttackReport:
    """Attack every example ({"text", "label"}); summarise the results as the field reports them.

    `wrapper` replaces our dynamic-padding model wrapper and `threads` the torch thread count
    (benchmarks compare TextAttack's own settings). `workers`: processes sharing the examples, each
    with `threads` threads (None: one per core this process may use; always one for a model off
    the CPU); the results are the same for any number. The attack queries the whole pipeline (its
    input stages run on every query's text before the tokenizer), never the bare model.
    Texts are cut after their `max_length`-th word first (rosearch.attack.window): words the model
    never reads are not attacked.
    """
    import_textattack()  # first: it points NLTK at our data before TextAttack's import needs its stop words
    examples = [{**e, "text": within_window(e["text"], pipeline.max_length)} for e in examples]  # only what the model reads
    wrapper = wrapper or make_wrapper(pipeline)
    attack = build_attack(spec, wrapper, batch_size=batch_size)
    workers = 1 if model_device(pipeline.model).type != "cpu" else workers or available_cores()
    with torch_threads(threads):
        return attack_examples(attack, examples, name=spec.name, query_budget=spec.query_budget, seed=seed, progress=progress,
                               workers=workers)


def attack_examples(attack: Any, examples: list[dict[str, Any]], *, name: str, query_budget: int | None, seed: int = 0,
                    progress: bool = True, workers: int = 1) -> AttackReport:
    """Run a built TextAttack `Attack` over every example ({"text", "label"}); `name` labels the
    report and its records.

    Each example is attacked with TextAttack's generators seeded by `seed` + its index (TextAttack's
    `Attacker` seeds once per dataset, so an example's result would depend on every example before
    it), which makes the results the same however the examples are shared out: `workers` > 1 attacks
    them in that many processes (rosearch.attack.forked; the caller keeps CUDA models to one).
    """
    textattack = import_textattack()
    if query_budget:
        attack.goal_function.query_budget = query_budget  # as Attacker sets it
    if torch.cuda.is_available():
        attack.cuda_()  # as Attacker does: models inside the recipe (encoders, masked LMs) on the GPU

    def one(item: tuple[int, dict[str, Any]]) -> tuple[Outcome, dict[str, Any]]:
        i, e = item
        textattack.shared.utils.set_seed(seed + i)
        try:
            result = attack.attack(textattack.shared.AttackedText(e["text"]), int(e["label"]))
        except Exception as err:  # noqa: BLE001 - any crash inside TextAttack is this trial's data
            raise AttackCrash(f"{name}: {type(err).__name__}: {err}") from err
        return _record(result, textattack, name=name, index=i)

    bar = tqdm(total=len(examples), desc=name, unit="example", leave=False, disable=not progress)
    start = time.perf_counter()
    with _quiet_textattack(), bar:
        done = forked_map(one, list(enumerate(examples)), workers=workers, done=bar.update)
    seconds = time.perf_counter() - start
    return AttackReport(name, summarise([outcome for outcome, _ in done]), seconds, [record for _, record in done])


@contextlib.contextmanager
def _quiet_textattack() -> Iterator[None]:
    """TextAttack's logger at ERROR (as Attacker's `silent`), its prints and warnings dropped."""
    logger = logging.getLogger("textattack")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            # TextAttack's own summaries average empty lists when nothing succeeds: noise, not ours.
            warnings.filterwarnings("ignore", category=RuntimeWarning, message="(Mean of empty slice|invalid value encountered)")
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="textattack")
            yield
    finally:
        logger.setLevel(level)


def _record(result: Any, textattack: Any, *, name: str, index: int) -> tuple[Outcome, dict[str, Any]]:
    """An AttackResult as its outcome and its record (plain data: it crosses from a forked worker)."""
    outcome = _outcome(result, textattack)
    return outcome, {
        "recipe": name,
        "index": index,
        "status": outcome.status,
        "label": int(result.original_result.ground_truth_output),
        "original_prediction": int(result.original_result.output),
        "perturbed_prediction": int(result.perturbed_result.output),
        "original": result.original_result.attacked_text.text,
        "perturbed": result.perturbed_result.attacked_text.text,
        "words_perturbed": outcome.words_perturbed,
        "words": outcome.words,
        "queries": outcome.queries,
    }


def _outcome(result: Any, textattack: Any) -> Outcome:
    kinds = textattack.attack_results
    original = result.original_result.attacked_text
    if isinstance(result, kinds.SkippedAttackResult):
        return Outcome("skipped", 0, len(original.words), 0)
    status = "succeeded" if isinstance(result, kinds.SuccessfulAttackResult) else "failed"
    changed = len(original.all_words_diff(result.perturbed_result.attacked_text)) if status == "succeeded" else 0
    return Outcome(status, changed, len(original.words), int(result.perturbed_result.num_queries))
