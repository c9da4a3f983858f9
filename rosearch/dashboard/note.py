"""The markdown note optuna-dashboard shows for each trial: architecture in words, metrics, fitness."""

from __future__ import annotations

from typing import Any

from rosearch.search.front import violated
from rosearch.stats import format_ci
from rosearch.table import format_table
from rosearch.student.genome import Genome

_ROWS = (
    ("clean accuracy (dev)", "accuracy", "{:.1%}"),
    ("accuracy under attack", "attack_accuracy", "{:.1%}"),
    ("attack success rate", "attack_success_rate", "{:.1%}"),
    ("words perturbed (mean share)", "avg_perturbed_share", "{:.1%}"),
    ("queries per example", "avg_queries", "{:.1f}"),
    ("parameters", "params", "{:,.0f}"),
    ("MFLOPs (one sequence)", "flops", "{:.2f}", 1e-6),
    ("compression vs teacher", "compression", "{:.1f}×"),
    ("latency (PyTorch, ms)", "latency_ms", "{:.2f}"),
)


def metrics_table(metrics: dict[str, float]) -> str:
    """Proportions with their stored 95% interval (and n), the rest as plain numbers."""
    rows = []
    for label, key, fmt, *scale in _ROWS:
        if key not in metrics:
            continue
        if f"{key}_ci" in metrics:
            n = metrics.get("n_dev" if key == "accuracy" else "n_attack")
            rows.append([label + (f", n = {n}" if n else ""), format_ci(metrics[key], metrics[f"{key}_ci"])])
        else:
            rows.append([label, fmt.format(metrics[key] * (scale[0] if scale else 1))])
    return format_table(["metric", "value [95% CI]"], rows, style="markdown")


def trial_note(*, number: int, genome: Genome, strategy: str, recipe: str, metrics: dict[str, float],
               constraints: dict[str, float], examples: list[dict[str, Any]], baseline: str | None = None) -> str:
    """Markdown for one finished trial, from its structured record."""
    broken = violated(constraints)
    parts = [
        f"## Trial {number}" + (f" — hand-designed baseline `{baseline}`" if baseline else "") + f": RoSearch fitness {metrics['fitness']:.3f}",
        "",
        f"**Architecture:** {genome.describe_sizes()}",
        "",
        *[f"- {node}" for node in genome.describe_nodes()],
        "",
        f"**Distillation:** {strategy}. **Search-time attack:** {recipe}.",
        "",
        ("**Infeasible:** violates " + ", ".join(broken) + "; it cannot enter the Pareto front.") if broken else "**Feasible** (all constraints met).",
        "",
        metrics_table(metrics),
    ]
    if examples:
        parts += ["", "**Adversarial examples** (successful attacks; all of them are in this trial's artifacts):", ""]
        for e in examples[:3]:
            parts.append(f"- `{e.get('original', '')[:160]}` → `{e.get('perturbed', '')[:160]}`")
    return "\n".join(parts) + "\n"
