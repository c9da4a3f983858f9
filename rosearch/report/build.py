"""The `report` command: figures, numbers (report.json) and a markdown summary (report.md) of a study."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

import optuna

from rosearch.config import StudyConfig
from rosearch.errors import RosearchError
from rosearch.report import figures
from rosearch.report.stats import category_counts, feature_table, op_frequencies, quarters
from rosearch.search.front import feasible, metric
from rosearch.search.rebuild import trial_genome
from rosearch.search.study import completed, load_existing, stored_config
from rosearch.table import format_table

Out = Callable[[str], None]


def reference_point(study: optuna.Study, trials: list[optuna.trial.FrozenTrial]) -> list[float]:
    """Per objective, the worst value among the trials pushed 10% outward (0 for maximised values
    that are never negative, e.g. accuracies)."""
    ref = []
    for i, direction in enumerate(study.directions):
        values = [t.values[i] for t in trials]
        if direction == optuna.study.StudyDirection.MAXIMIZE:
            worst = min(values)
            ref.append(0.0 if worst >= 0 else worst - 0.1 * abs(worst))
        else:
            worst = max(values)
            ref.append(worst + 0.1 * abs(worst) + 1e-9)
    return ref


def collect(study: optuna.Study) -> dict[str, Any]:
    """Every number the report shows, from the stored study (nothing re-measured)."""
    done = completed(study)
    front = {t.number for t in study.best_trials}
    rows = [{
        "trial": t.number, "kd_strategy": t.user_attrs.get("kd_strategy", "vanilla"), "feasible": feasible(t), "pareto": t.number in front,
        **{k: metric(t, k) for k in ("accuracy", "attack_accuracy", "attack_success_rate", "params", "flops", "latency_ms", "compression")},
        "fitness": float(t.user_attrs.get("fitness", math.nan)), "architecture": t.user_attrs.get("architecture", ""),
    } for t in done]
    return {"trials": rows, "n_trials": len(study.trials), "n_complete": len(done),
            "states": {s.name.lower(): sum(t.state == s for t in study.trials) for s in optuna.trial.TrialState if any(t.state == s for t in study.trials)}}


def report(current: StudyConfig, out_dir: Path, *, out: Out = print) -> dict[str, Any]:
    study = load_existing(current)
    cfg = stored_config(study, current)
    done = completed(study)
    if len(done) < 2:
        raise RosearchError(f"Study '{cfg.name}' has {len(done)} completed trial(s); a report needs at least 2. Run `rosearch-optuna optimize --study {cfg.name}`.")
    out_dir.mkdir(parents=True, exist_ok=True)
    data = collect(study)
    data["study"], data["teacher"] = cfg.name, study.user_attrs.get("teacher")
    data["objectives"] = [f"{o.direction} {o.metric}" for o in cfg.search.objectives]

    points = data["trials"]
    figures.pareto_png(points, out_dir / "pareto.png")
    figures.pareto_html(study, [lambda t: metric(t, "accuracy"), lambda t: metric(t, "attack_accuracy"), lambda t: metric(t, "params")],
                        ["clean accuracy", "accuracy under attack", "parameters"], out_dir / "pareto.html")

    scored = [t for t in done if feasible(t)]
    if scored:
        ref = reference_point(study, scored)
        data["hypervolume"] = {"reference_point": ref, "objectives": [o.metric for o in cfg.search.objectives],
                               "history": figures.hypervolume(study, ref, out_dir / "hypervolume.html", out_dir / "hypervolume.png")}
    try:
        data["importance"] = figures.importances(study, lambda t: metric(t, "attack_accuracy"), "accuracy under attack",
                                                 out_dir / "importance.html", out_dir / "importance.png")
    except (RuntimeError, ValueError) as err:  # e.g. no parameter shared by every trial, or one trial only
        data["importance"], data["importance_error"] = {}, str(err)

    genomes = [trial_genome(t) for t in done]
    robustness = [metric(t, "attack_accuracy") for t in done]
    q = quarters(robustness)
    data["architecture"] = {
        "quarter_size": len(q.top), "top_trials": [done[i].number for i in q.top], "bottom_trials": [done[i].number for i in q.bottom],
        "operations": op_frequencies(genomes, q), "features": feature_table(genomes, robustness, q),
        "kd_strategies": category_counts([t.user_attrs.get("kd_strategy", "vanilla") for t in done], q),
    }
    (out_dir / "report.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (out_dir / "report.md").write_text(markdown(data, cfg), encoding="utf-8")
    out(f"report: {out_dir / 'report.md'} (figures and report.json beside it)")
    return data


def _pct(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.1%}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    return format_table(header, rows, style="markdown")


def markdown(data: dict[str, Any], cfg: StudyConfig) -> str:
    trials = data["trials"]
    front = sorted((t for t in trials if t["pareto"]), key=lambda t: -t["fitness"])
    teacher = data.get("teacher") or {}
    lines = [
        f"# Study `{data['study']}`",
        "",
        cfg.description or "",
        "",
        f"{data['n_trials']} trials ({', '.join(f'{n} {s}' for s, n in data['states'].items())}); objectives: {', '.join(data['objectives'])}.",
    ]
    if teacher:
        lines.append(f"Teacher `{cfg.teacher.model}`: dev accuracy {_pct(teacher['dev_accuracy'])}, {teacher['params'] / 1e6:.1f}M parameters.")
    lines += [
        "",
        "## Pareto front",
        "",
        "![Pareto plots](pareto.png)",
        "",
        "Interactive 3-D front (accuracy, accuracy under attack, parameters): [pareto.html](pareto.html).",
        "",
        _table(["trial", "KD", "accuracy", "under attack", "attack success", "params (M)", "latency (ms)", "fitness"], [
            [f"#{t['trial']}", t["kd_strategy"], _pct(t["accuracy"]), _pct(t["attack_accuracy"]), _pct(t["attack_success_rate"]),
             f"{t['params'] / 1e6:.3f}", "–" if math.isnan(t["latency_ms"]) else f"{t['latency_ms']:.2f}", f"{t['fitness']:.3f}"]
            for t in front
        ]),
        "",
    ]
    lines += [f"- #{t['trial']}: {t['architecture']}" for t in front]
    hv = data.get("hypervolume")
    if hv:
        history = hv["history"]
        lines += [
            "", "## Hypervolume over trials", "",
            "![Hypervolume](hypervolume.png) ([interactive](hypervolume.html))", "",
            f"Objectives ({', '.join(hv['objectives'])}); reference point {', '.join(f'{r:.4g}' for r in hv['reference_point'])}. "
            f"Final hypervolume **{history[-1][1]:.4g}** after trial #{history[-1][0]}.",
        ]
    lines += ["", "## Parameter importance for accuracy under attack", ""]
    if data["importance"]:
        lines += ["![Importance](importance.png) ([interactive](importance.html))", "",
                  "fANOVA (Optuna), over the parameters every completed trial has:", "",
                  _table(["parameter", "importance"], [[k, f"{v:.3f}"] for k, v in data["importance"].items()])]
    else:
        lines.append(f"Not computed: {data.get('importance_error', 'too few trials')}.")
    arch = data["architecture"]
    k = arch["quarter_size"]
    lines += [
        "", "## Architecture and robustness", "",
        f"The {k} most robust students (trials {', '.join(f'#{n}' for n in arch['top_trials'])}) against the {k} least robust "
        f"(trials {', '.join(f'#{n}' for n in arch['bottom_trials'])}), ranked by accuracy under attack.", "",
        "Operations (count and share of operation slots in each quarter):", "",
        _table(["operation", "most robust quarter", "least robust quarter", "difference"], [
            [r["op"], f"{r['top']} ({r['top_share']:.0%})", f"{r['bottom']} ({r['bottom_share']:.0%})", f"{100 * (r['top_share'] - r['bottom_share']):+.0f} pts"]
            for r in arch["operations"]
        ]),
        "", "Shape (mean in each quarter; Spearman's ρ with accuracy under attack over all students):", "",
        _table(["feature", "most robust quarter", "least robust quarter", "ρ"], [
            [r["feature"], f"{r['top_mean']:.3g}", f"{r['bottom_mean']:.3g}", "–" if math.isnan(r["spearman"]) else f"{r['spearman']:+.2f}"]
            for r in arch["features"]
        ]),
    ]
    if len(arch["kd_strategies"]) > 1:
        lines += ["", "Distillation strategies:", "", _table(["strategy", "most robust quarter", "least robust quarter", "all"], [
            [r["value"], str(r["top"]), str(r["bottom"]), str(r["all"])] for r in arch["kd_strategies"]])]
    lines += ["", f"With {data['n_complete']} completed trials these are descriptive counts, not significance tests.", ""]
    return "\n".join(lines)
