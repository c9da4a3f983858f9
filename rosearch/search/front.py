"""The Pareto front as a table: `study.best_trials` with metrics and fitness."""

from __future__ import annotations

import optuna

from rosearch.table import format_table

_COLUMNS = (
    ("trial", lambda t: f"#{t.number}"),
    ("KD", lambda t: str(t.user_attrs.get("kd_strategy", "vanilla"))),
    ("accuracy", lambda t: f"{metric(t, 'accuracy'):.1%}"),
    ("under attack", lambda t: f"{metric(t, 'attack_accuracy'):.1%}"),
    ("attack success", lambda t: f"{metric(t, 'attack_success_rate'):.1%}"),
    ("params", lambda t: f"{metric(t, 'params') / 1e6:.2f}M"),
    ("MFLOPs", lambda t: f"{metric(t, 'flops') / 1e6:.1f}"),
    ("ms", lambda t: f"{metric(t, 'latency_ms'):.2f}"),
    ("fitness", lambda t: f"{t.user_attrs.get('fitness', float('nan')):.3f}"),
)


def metric(trial: optuna.trial.FrozenTrial, name: str) -> float:
    """One of a trial's stored metrics (nan when it has none)."""
    return float(trial.user_attrs.get("metrics", {}).get(name, float("nan")))


def trial_line(trial: optuna.trial.FrozenTrial) -> str:
    """One line per finished trial, for the optimize log."""
    if trial.state != optuna.trial.TrialState.COMPLETE:
        reason = trial.user_attrs.get("fail_reason", "")
        return f"trial #{trial.number} {trial.state.name.lower()}" + (f": {reason}" if reason else "")
    t = trial.user_attrs.get("timings", {})
    cells = "  ".join(f"{name} {fmt(trial)}" for name, fmt in _COLUMNS[1:])
    broken = violated(trial.constraints)
    infeasible = f"  [infeasible: {', '.join(broken)}]" if broken else ""
    return f"trial #{trial.number}  {cells}  ({t.get('total', 0):.0f} s: train {t.get('train', 0):.0f}, attack {t.get('attack', 0):.0f}){infeasible}"


def violated(constraints: dict[str, float]) -> list[str]:
    """The constraints a trial breaks: Optuna's rule is feasible when every value is ≤ 0."""
    return [key for key, value in constraints.items() if value > 0]


def feasible(trial: optuna.trial.FrozenTrial) -> bool:
    return not violated(trial.constraints)


def front_table(study: optuna.Study) -> str:
    """The Pareto-optimal trials, best fitness first, with each architecture in words."""
    best = sorted(study.best_trials, key=lambda t: -t.user_attrs.get("fitness", float("-inf")))
    if not best:
        return "No completed trials yet."
    lines = [format_table([name for name, _ in _COLUMNS], [[fmt(t) for _, fmt in _COLUMNS] for t in best]), ""]
    lines += [f"#{t.number}: {t.user_attrs.get('architecture', '')}" for t in best]
    return "\n".join(lines)


def evaluations_table(study: optuna.Study) -> str:
    """Per-recipe robustness of re-built trials (`attack --trial`), one line per trial and recipe."""
    evaluations = study.user_attrs.get("evaluations", {})
    lines = []
    for trial in sorted(evaluations, key=int):
        for recipe, m in evaluations[trial].items():
            lines.append(
                f"#{trial}  {recipe:<12} under attack {m['accuracy_under_attack']:.1%}  success rate {m['success_rate']:.1%}  "
                f"words perturbed {m['avg_perturbed_share']:.1%}  queries {m['avg_queries']:.1f}  (n {m['n']})"
            )
    return "\n".join(lines)
