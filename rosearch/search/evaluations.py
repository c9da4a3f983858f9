"""Evaluation-set results stored with a study: per model and recipe, the metrics with their
intervals and each example's outcome, so any two models attacked on the same examples can be
compared with a paired test later, without attacking them again.

Each model's results are a study user attr of their own, `evaluations:<key>` (recipe → result),
so processes that attack different models (`attack --shard`, several machines on one storage)
never overwrite each other's: Optuna's storages offer no read-modify-write transaction on an attr.
Studies written before that hold them all in one attr, `evaluations`; `stored` reads both (and
`retrained` likewise for re-distilled exports' clean figures).

Keys: "teacher", the teacher behind input stages ("teacher@recognizer": what a user could pick
instead of a student), a trial number ("7"), a retrained trial ("7+3ep", export --retrain-epochs 3;
"7+3ep:augment" with --retrain-strategy augment), or a reference baseline ("ref:bert-4x256").
"""

from __future__ import annotations

from typing import Any

import optuna

ATTR = "evaluations"  # the one attr of older studies; now the prefix of one attr per model
#: Clean figures of students re-distilled by `export --retrain-epochs` (key "7+3ep"), which are not
#: trials of their own: accuracy, accuracy_ci, params, latency_ms — one attr `retrained:<key>` each.
RETRAINED_ATTR = "retrained"


def key_for(trial: int, retrain_epochs: float = 0, strategy: str | None = None) -> str:
    """The key of a trial's student, or of its re-distilled export (`strategy`: another KD strategy than the trial's)."""
    if not retrain_epochs:
        return str(trial)
    return f"{trial}+{retrain_epochs:g}ep" + (f":{strategy}" if strategy else "")


#: The prefix of a reference baseline's key (a BERT shape outside the space: not a trial).
REFERENCE = "ref:"


def reference_key(name: str) -> str:
    """The key of the reference baseline `name`, e.g. "ref:bert-4x256"."""
    return REFERENCE + name


def is_reference(key: str) -> bool:
    return key.startswith(REFERENCE)


def trial_of(key: str) -> str:
    """The trial number a trial's key (or its re-distilled export's) names: "7" for "7+3ep:augment"."""
    return key.partition("+")[0]


def retraining_of(key: str) -> str:
    """What a re-distilled export's key says of its training: "3ep:augment" for "7+3ep:augment", "" for a trial."""
    return key.partition("+")[2]


TEACHER = "teacher"


def teacher_key(stages: tuple[str, ...] | list[str] = ()) -> str:
    """"teacher", or "teacher@recognizer" for the teacher behind those input stages."""
    return "@".join((TEACHER, *stages))


def is_teacher(key: str) -> bool:
    return key == TEACHER or key.startswith(TEACHER + "@")


def display(key: str, name: str | None = None) -> str:
    """How a key reads in tables: teacher, #7, #7 (+3 ep), #7 (+3 ep, augment), bert-4x256; with a
    baseline's `name`, #7 transformer-m (+3 ep)."""
    if key == TEACHER:
        return key
    if is_teacher(key):
        return "teacher + " + " + ".join(key.split("@")[1:])
    if is_reference(key):
        return key[len(REFERENCE):]
    trial, extra = trial_of(key), retraining_of(key)
    epochs, _, strategy = extra.partition(":")
    return f"#{trial}" + (f" {name}" if name else "") + (f" (+{epochs[:-2]} ep" + (f", {strategy}" if strategy else "") + ")" if extra else "")


def order(key: str) -> tuple:
    """Teacher first (then the teacher behind stages), then reference models, then trials by number."""
    if is_teacher(key):
        return (0, int(key != TEACHER), key)
    if is_reference(key):
        return (1, 0, key)
    return (2, int(trial_of(key)), key)


#: What `entry` stores per example (for paired tests and bootstraps), left out of summaries.
PER_EXAMPLE = ("held", "clean", "examples")


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """A stored result without its per-example lists (what report.json keeps)."""
    return {k: v for k, v in result.items() if k not in PER_EXAMPLE}


def entry(report: Any, *, keep: int) -> dict[str, Any]:
    """What is stored for one attack report (rosearch.attack.run.AttackReport)."""
    return {**report.metrics.to_dict(), "seconds": report.seconds, "held": report.held(), "clean": report.clean(),
            "examples": report.successes(keep)}


def record(study: optuna.Study, key: str, results: dict[str, dict[str, Any]]) -> None:
    """Store one model's results, recipe → `entry(...)`, beside the recipes it already holds (read,
    update, write of this model's attr only: one writer per model)."""
    study.set_user_attr(f"{ATTR}:{key}", {**stored(study).get(key, {}), **results})


def record_retrained(study: optuna.Study, key: str, metrics: dict[str, Any]) -> None:
    """Store a re-distilled export's clean figures beside its attack results (its own attr, as `record`)."""
    figures = {k: metrics[k] for k in ("accuracy", "accuracy_ci", "params", "latency_ms", "compression") if k in metrics}
    batch_one = metrics.get("latency", {}).get("pytorch", {}).get("1")  # an export's: the trials' latency_ms is PyTorch, batch 1
    if "latency_ms" not in figures and batch_one is not None:
        figures["latency_ms"] = batch_one
    study.set_user_attr(f"{RETRAINED_ATTR}:{key}", figures)


def stored(study: optuna.Study) -> dict[str, dict[str, dict[str, Any]]]:
    """key → recipe → stored result (an older study's single attr, overlaid by the per-model attrs)."""
    return _per_model(study, ATTR)


def retrained(study: optuna.Study) -> dict[str, dict[str, Any]]:
    """key → the clean figures `record_retrained` stored."""
    return _per_model(study, RETRAINED_ATTR)


def _per_model(study: optuna.Study, attr: str) -> dict[str, dict[str, Any]]:
    attrs = study.user_attrs
    merged = {k: dict(v) for k, v in attrs.get(attr, {}).items()}
    for name, value in attrs.items():
        if name.startswith(attr + ":"):
            key = name[len(attr) + 1:]
            merged[key] = {**merged.get(key, {}), **value}
    return merged
