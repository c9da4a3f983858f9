"""The Pareto front (`pareto`: study.best_trials on full figures) and its tables."""

from __future__ import annotations

from typing import Callable

import optuna

from rosearch.search import record
from rosearch.stats import format_ci
from rosearch.table import format_table

NAN = float("nan")

#: The figures of a trial or a reference, from its stored metrics (trials stored before a metric
#: existed show –).
_METRICS = (
    ("accuracy [95% CI]", lambda m: format_ci(m.get("accuracy", NAN), m.get("accuracy_ci"))),
    ("under attack [95% CI]", lambda m: format_ci(m.get("attack_accuracy", NAN), m.get("attack_accuracy_ci"))),
    ("attack success", lambda m: f"{m.get('attack_success_rate', NAN):.1%}"),
    ("params", lambda m: millions(m.get("params", NAN))),
    ("non-embedding", lambda m: millions(m.get("non_embedding_params", NAN))),
    ("compression", lambda m: f"{m.get('compression', NAN):.1f}×"),
    ("MFLOPs", lambda m: f"{m.get('flops', NAN) / 1e6:.1f}"),
    ("ms", lambda m: f"{m.get('latency_ms', NAN):.2f}"),
)
_NAMES = ("KD", *(name for name, _ in _METRICS), "fitness")


def _cells(strategy: str, metrics: dict, fitness: float) -> list[str]:
    return [strategy, *(fmt(metrics) for _, fmt in _METRICS), f"{fitness:.3f}"]


def trial_cells(trial: optuna.trial.FrozenTrial) -> list[str]:
    """A trial's cells under _NAMES."""
    return _cells(record.strategy(trial, "vanilla"), record.metrics(trial), record.fitness(trial))


def millions(value: float) -> str:
    return "–" if value != value else f"{value / 1e6:.2f}M"


def label(trial: optuna.trial.FrozenTrial) -> str:
    """'#7', or '#0 (baseline transformer-s)' for a hand-designed baseline."""
    name = record.baseline(trial)
    return f"#{trial.number}" + (f" (baseline {name})" if name else "")


def metric(trial: optuna.trial.FrozenTrial, name: str) -> float:
    """One of a trial's stored metrics (nan when it has none)."""
    return float(record.metrics(trial).get(name, float("nan")))


def interval(trial: optuna.trial.FrozenTrial, name: str) -> list[float] | None:
    """The 95% interval stored with a metric (None for trials recorded before intervals were)."""
    return record.metrics(trial).get(f"{name}_ci")


def trial_line(trial: optuna.trial.FrozenTrial) -> str:
    """One line per finished trial, for the optimize log."""
    if trial.state != optuna.trial.TrialState.COMPLETE:
        twin = record.duplicate_of(trial)
        reason = record.fail_reason(trial) or (f"the same architecture and strategy as trial #{twin}" if twin is not None else "")
        return f"trial {label(trial)} {trial.state.name.lower()}" + (f": {reason}" if reason else "")
    t = record.timings(trial)
    cells = "  ".join(f"{name} {cell}" for name, cell in zip(_NAMES, trial_cells(trial)))
    broken = violated(trial.constraints)
    infeasible = f"  [infeasible: {', '.join(broken)}]" if broken else ""
    return f"trial {label(trial)}  {cells}  ({t.get('total', 0):.0f} s: train {t.get('train', 0):.0f}, attack {t.get('attack', 0):.0f}){fidelity_note(trial)}{infeasible}"


def fidelity_note(trial: optuna.trial.FrozenTrial) -> str:
    """How far a multi-fidelity trial got: its cheap estimate's rank, and whether it was promoted."""
    f = record.fidelity(trial)
    if not f:
        return ""
    where = "a baseline" if record.is_baseline(trial) else f"rank {f['rank']} among {f['population']}" if f["population"] else "the first trial"
    if f["level"] == "full":
        return f"  [full: promoted at {where}; cheap estimate {f['seconds']:.0f} s, accuracy {f['cheap']['accuracy']:.1%}]"
    return f"  [cheap estimate: {where}, not promoted]"


def violated(constraints: dict[str, float]) -> list[str]:
    """The constraints a trial breaks: Optuna's rule is feasible when every value is ≤ 0."""
    return [key for key, value in constraints.items() if value > 0]


def feasible(trial: optuna.trial.FrozenTrial) -> bool:
    """Feasible on the figures of the trial's highest fidelity (a promoted trial: its full run's)."""
    f = record.fidelity(trial)
    return not violated(f["full_constraints"] if "full_constraints" in f else trial.constraints)


def in_full(trial: optuna.trial.FrozenTrial) -> bool:
    """Measured in full (promoted, or in a study without multi-fidelity): figures comparable with
    the baselines'; a cheap estimate is not."""
    return record.level(trial) == "full"


def pareto(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The Pareto-optimal feasible trials on their full figures: `study.best_trials` for a study
    measured in full. In a multi-fidelity study the trials' values are cheap estimates (what
    NSGA-II compares), so the front is taken here among the promoted trials, on their full
    metrics and constraint values; a cheap estimate never enters it."""
    from rosearch.search.fidelity import penalty, ranks

    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not any(record.fidelity(t) for t in done):
        return list(study.best_trials)
    names = study.metric_names
    assert names is not None, "a multi-fidelity study names its metrics (rosearch.search.study.open_study)"
    full = [(t, f) for t in done if (f := record.front_figures(t, names)) is not None]
    feasible = [(t, values) for t, (values, limits) in full if penalty(limits) <= 0]
    if not feasible:
        return []
    rank = ranks([values for _, values in feasible], study.directions)
    return [t for (t, _), r in zip(feasible, rank) if r == 0]


def front_table(study: optuna.Study) -> str:
    """The Pareto-optimal trials, best fitness first, with each architecture in words."""
    best = sorted(pareto(study), key=lambda t: -record.fitness(t, float("-inf")))
    if not best:
        return "No completed trials yet."
    lines = [format_table(["trial", *_NAMES], [[label(t), *trial_cells(t)] for t in best]), ""]
    lines += [f"#{t.number}: {record.architecture(t)}" for t in best]
    return "\n".join(lines)


def evaluations_table(study: optuna.Study) -> str:
    """Per-recipe robustness on the evaluation set (`attack --trial/--front/--model teacher`,
    `export`): one row per model and recipe."""
    from rosearch.search.evaluations import display, order, stored

    evaluations = stored(study)
    rows = []
    for key in sorted(evaluations, key=order):
        for recipe, m in evaluations[key].items():
            rows.append([display(key), recipe, str(m["n"]), format_ci(m["accuracy_under_attack"], m.get("under_attack_ci")),
                         f"{m['success_rate']:.1%}", f"{m['avg_perturbed_share']:.1%}", f"{m['avg_queries']:.1f}"])
    if not rows:
        return ""
    return format_table(["model", "recipe", "n", "under attack [95% CI]", "success rate", "words perturbed", "queries/ex"], rows)


def baselines_table(study: optuna.Study) -> str:
    """Every baseline: the enqueued genome trials and the reference BERT shapes (user attr `references`)."""
    from rosearch.search.baselines import references

    rows = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        if record.is_baseline(t):
            rows.append([record.baseline(t), f"trial #{t.number}", *trial_cells(t)])
    for name, ref in references(study).items():
        m, s = ref["metrics"], ref["shape"]
        rows.append([name, f"BERT {s['num_layers']}×{s['hidden_size']}", *_cells(ref.get("strategy", "vanilla"), m, m["fitness"])])
    if not rows:
        return ""
    return format_table(["baseline", "model", *_NAMES], rows)


def print_front(study: optuna.Study, out: Callable[[str], None]) -> None:
    """The front, the baselines and the evaluation attacks, as `show` and `optimize` print them."""
    out(front_table(study))
    baselines = baselines_table(study)
    if baselines:
        out("\nHand-designed baselines (same data, distillation, seeds and attack):")
        out(baselines)
    evaluations = evaluations_table(study)
    if evaluations:
        out("\nEvaluation attacks (rosearch-optuna attack --trial):")
        out(evaluations)
