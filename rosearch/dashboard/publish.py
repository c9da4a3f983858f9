"""Publish a trial for optuna-dashboard, in one step, from its structured record: the note
(architecture, metrics, feasibility, adversarial examples) and the artifacts (architecture.svg,
the attacked examples as JSONL and a CSV sample)."""

from __future__ import annotations

import optuna
from optuna_dashboard import save_note

from rosearch.search import record
from rosearch.dashboard.artifacts import TrialArtifacts
from rosearch.dashboard.note import trial_note
from rosearch.report.architecture import genome_svg
from rosearch.search.evaluate import TrialResult
from rosearch.search.study import completed
from rosearch.student.genome import Genome

#: Successful adversarial examples in each trial's CSV sample artifact.
SAMPLE_SIZE = 20
_SAMPLE_COLUMNS = ("index", "label", "original_prediction", "perturbed_prediction", "original", "perturbed")


def publish_trial(artifacts: TrialArtifacts | None, trial: optuna.Trial, genome: Genome, strategy: str,
                  result: TrialResult, constraints: dict[str, float]) -> None:
    """The trial's note, and (with a store) its artifacts; called while the trial is live."""
    report = result.attack
    save_note(trial, trial_note(
        number=trial.number, genome=genome, strategy=strategy, recipe=report.recipe, metrics=result.metrics,
        constraints=constraints, examples=record.examples(trial), baseline=record.baseline(trial),
    ))
    if artifacts is None:
        return
    artifacts.upload(trial, f"adversarial-{report.recipe}.jsonl", report.records)
    artifacts.upload_csv(trial, f"adversarial-sample-{report.recipe}.csv",
                         [{k: r[k] for k in _SAMPLE_COLUMNS} for r in report.successes(SAMPLE_SIZE)])
    artifacts.upload_text(trial, "architecture.svg", genome_svg(genome, title=f"trial #{trial.number}"), "image/svg+xml")


def backfill_notes(study: optuna.Study) -> int:
    """Write the trial note of completed trials that have none (studies run before notes
    existed). Notes live in the study's system attrs, so finished trials can get one; this is what
    optuna-dashboard itself does when a note is edited, through its `_note` helpers (there is no
    public API for a finished trial)."""
    from optuna_dashboard._note import get_note_from_system_attrs, save_note_with_version

    storage, study_id = study._storage, study._study_id
    attrs = storage.get_study_system_attrs(study_id)
    written = 0
    for t in completed(study):
        if not record.metrics(t) or not record.has_genome(t) or get_note_from_system_attrs(attrs, t._trial_id)["version"] > 0:
            continue
        recipe = next(iter(record.attacks(t) or {"attack": None}))
        body = trial_note(number=t.number, genome=record.genome(t), strategy=record.strategy(t, "vanilla"),
                          recipe=recipe, metrics=record.metrics(t), constraints=t.constraints, examples=record.examples(t),
                          baseline=record.baseline(t))
        save_note_with_version(storage, study_id, t._trial_id, 1, body)
        written += 1
    return written
