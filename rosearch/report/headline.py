"""RoSearch's headline table: the teacher, every hand-designed baseline, the searched front and the
best-fitness student, each with size, compression, clean accuracy and accuracy under every
evaluation recipe on the study's evaluation set (95% Wilson intervals), latency — and, for each
searched student (and each export re-distilled with --retrain-epochs, against the baselines
re-distilled the same way), the difference to the best baseline of equal or larger size under the
search recipe with the exact McNemar test on the same examples; the same baseline is compared under
every other recipe too (`versus["recipes"]`).

Pure: it reads what the study stored (trial metrics, `evaluations`, `references`); nothing is
re-measured here. Models not yet attacked on the evaluation set show "–" (run
`rosearch-optuna attack --study S --model teacher --front --baselines`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import optuna

from rosearch.search import record
from rosearch.search.baselines import references
from rosearch.search.evaluations import TEACHER, display, is_teacher, order, reference_key, retrained, retraining_of, stored, summary, trial_of
from rosearch.search.front import feasible, in_full, metric, pareto
from rosearch.stats import format_ci, mcnemar, wilson

#: p below this is reported as a difference; at or above it, as within noise.
ALPHA = 0.05
#: Rows compared with the baselines.
SEARCHED = ("searched", "best fitness", "retrained")


@dataclass
class Row:
    label: str
    kind: str  # teacher | baseline | searched | best fitness | retrained | retrained baseline
    key: str | None  # evaluations key
    params: float
    accuracy: float
    accuracy_ci: list[float] | None
    latency_ms: float
    under: dict[str, dict[str, Any]] = field(default_factory=dict)  # recipe → stored evaluation
    versus: dict[str, Any] | None = None  # the paired comparison with the best baseline of ≥ size

    def held(self, recipe: str) -> list[bool] | None:
        return self.under.get(recipe, {}).get("held")

    def under_attack(self, recipe: str) -> float:
        return float(self.under[recipe]["accuracy_under_attack"]) if recipe in self.under else math.nan


def rows(study: optuna.Study, *, recipes: list[str]) -> list[Row]:
    """Teacher, baselines (genome trials, then reference models), searched front, best fitness."""
    evaluations = stored(study)
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    n_dev = next((int(record.metrics(t)["n_dev"]) for t in complete if "n_dev" in record.metrics(t)), 0)
    out = []
    teacher = study.user_attrs.get("teacher")
    if teacher:
        acc = float(teacher["dev_accuracy"])
        out.append(Row("teacher", "teacher", "teacher", float(teacher["params"]), acc,
                       list(wilson(round(acc * n_dev), n_dev)) if n_dev else None, math.nan, evaluations.get("teacher", {})))
        # the teacher behind an input stage (attack --study S --model teacher, when the space has one): what a user could
        # pick instead of a student; its clean accuracy through the stage is the evaluation set's, not measured on dev
        for key in sorted(k for k in evaluations if is_teacher(k) and k != TEACHER):
            out.append(Row(display(key), "teacher", key, float(teacher["params"]), math.nan, None, math.nan, evaluations[key]))

    def trial_row(t: optuna.trial.FrozenTrial, kind: str) -> Row:
        m = record.metrics(t)
        name = record.baseline(t)
        return Row(f"#{t.number}" + (f" {name}" if name else ""), kind, str(t.number), metric(t, "params"), metric(t, "accuracy"),
                   m.get("accuracy_ci"), metric(t, "latency_ms"), evaluations.get(str(t.number), {}))

    out += [trial_row(t, "baseline") for t in complete if record.is_baseline(t)]
    for name, ref in references(study).items():
        m = ref["metrics"]
        out.append(Row(name, "baseline", reference_key(name), float(m["params"]), float(m["accuracy"]), m.get("accuracy_ci"),
                       float(m.get("latency_ms", math.nan)), evaluations.get(reference_key(name), {})))
    searched = [t for t in pareto(study) if not record.is_baseline(t)]
    out += [trial_row(t, "searched") for t in sorted(searched, key=lambda t: metric(t, "params"))]
    candidates = [t for t in complete if feasible(t) and in_full(t) and not record.is_baseline(t)]
    if candidates:
        best = max(candidates, key=lambda t: record.fitness(t, -math.inf))
        if best.number not in {t.number for t in searched}:
            out.append(trial_row(best, "best fitness"))
    names = {str(t.number): record.baseline(t) for t in complete if record.is_baseline(t)}
    for key, m in sorted(retrained(study).items(), key=lambda kv: order(kv[0])):
        name = names.get(trial_of(key))
        out.append(Row(display(key, name), "retrained baseline" if name else "retrained", key, float(m["params"]), float(m["accuracy"]),
                       m.get("accuracy_ci"), float(m.get("latency_ms", math.nan)), evaluations.get(key, {})))
    compare(out, recipes)
    return out


def compare(table: list[Row], recipes: list[str]) -> None:
    """For each searched row: the best baseline under the search recipe (`recipes[0]`, evaluation
    set) among those of equal or larger size, the difference and the exact McNemar p on the same
    examples; then the same baseline under each other recipe both were attacked with.

    A student re-distilled by `export --retrain-epochs E` is compared with the baselines re-distilled
    the same way (`export --trial <baseline> --retrain-epochs E`): the same training budget. Without
    any, it is compared with the baselines as the search trained them, and `versus["budget"]` says
    so ("search" rather than "same")."""
    recipe = recipes[0]
    for row in table:
        if row.kind not in SEARCHED or row.held(recipe) is None:
            continue
        pool, budget = _baselines(table, row, recipe)
        larger = [b for b in pool if b.params >= row.params and len(b.held(recipe)) == len(row.held(recipe))]
        if not larger:
            continue
        best = max(larger, key=lambda b: b.under_attack(recipe))
        others = {r: mcnemar(row.held(r), best.held(r)).to_dict() for r in recipes
                  if row.held(r) is not None and best.held(r) is not None and len(row.held(r)) == len(best.held(r))}
        row.versus = {"baseline": best.label, "recipe": recipe, **others[recipe], "recipes": others, "budget": budget}


def _baselines(table: list[Row], row: Row, recipe: str) -> tuple[list[Row], str]:
    """The baselines a searched row is compared with, and whether they had the same training budget."""
    attacked = [b for b in table if b.held(recipe) is not None]
    if row.kind != "retrained":
        return [b for b in attacked if b.kind == "baseline"], "same"
    epochs = retraining_of(row.key)
    same = [b for b in attacked if b.kind == "retrained baseline" and retraining_of(b.key) == epochs]
    return (same, "same") if same else ([b for b in attacked if b.kind == "baseline"], "search")


def markdown_rows(table: list[Row], recipes: list[str], teacher_params: float) -> tuple[list[str], list[list[str]]]:
    header = ["model", "kind", "params (M)", "compression", "clean accuracy (dev)",
              *(f"under {r} (eval set)" for r in recipes), "latency (ms)", f"Δ under {recipes[0]} vs best baseline ≥ size (p)"]
    if len(recipes) > 1:
        header.append("Δ vs that baseline under " + ", ".join(recipes[1:]) + " (p)")
    body = []
    for r in table:
        cells = [r.label, r.kind, f"{r.params / 1e6:.2f}", f"{teacher_params / r.params:.1f}×" if r.params else "–",
                 "–" if math.isnan(r.accuracy) else format_ci(r.accuracy, r.accuracy_ci)]
        for recipe in recipes:
            e = r.under.get(recipe)
            cells.append(f"{format_ci(e['accuracy_under_attack'], e.get('under_attack_ci'))} (n={e['n']})" if e else "–")
        cells.append("–" if math.isnan(r.latency_ms) else f"{r.latency_ms:.2f}")
        v = r.versus
        cells.append("–" if v is None else f"{_delta(v)} vs {v['baseline']}" + (" (trained as in the search)" if v.get("budget") == "search" else ""))
        if len(recipes) > 1:
            others = (v or {}).get("recipes", {})
            cells.append("; ".join(f"{name} {_delta(others[name])}" for name in recipes[1:] if name in others) or "–")
        body.append(cells)
    return header, body


def _delta(test: dict[str, Any]) -> str:
    """'+12.0 pts (p=0.003)', or '… within noise)' when p ≥ ALPHA."""
    return f"{100 * test['difference']:+.1f} pts (p={test['p_value']:.2g}" + (")" if test["p_value"] < ALPHA else ", within noise)")


def to_dict(table: list[Row]) -> list[dict[str, Any]]:
    """The table as report.json stores it (per-example outcomes left out: they are in the study)."""
    return [{"label": r.label, "kind": r.kind, "key": r.key, "params": r.params, "accuracy": r.accuracy, "accuracy_ci": r.accuracy_ci,
             "latency_ms": None if math.isnan(r.latency_ms) else r.latency_ms,
             "under": {k: summary(v) for k, v in r.under.items()},
             "versus": r.versus} for r in table]
