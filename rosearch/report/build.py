"""The `report` command: figures, numbers (report.json) and a markdown summary (report.md) of a study."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

import optuna

from rosearch.search import record
from rosearch.config import StudyConfig
from rosearch.errors import RosearchError
from rosearch.report import figures, fronts, headline
from rosearch.report.stats import category_counts, feature_table, op_frequencies, quarters
from rosearch.search.evaluations import stored, summary
from rosearch.search.front import feasible, interval, metric, pareto
from rosearch.stats import format_ci
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
    front = {t.number for t in pareto(study)}
    rows = [{
        "trial": t.number, "kd_strategy": record.strategy(t, "vanilla"), "feasible": feasible(t), "pareto": t.number in front,
        **{k: metric(t, k) for k in ("accuracy", "attack_accuracy", "attack_success_rate", "params", "flops", "latency_ms", "compression")},
        "accuracy_ci": interval(t, "accuracy"), "attack_accuracy_ci": interval(t, "attack_accuracy"),
        "fitness": record.fitness(t), "architecture": record.architecture(t),
        "baseline": record.baseline(t), "fidelity": record.level(t),
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

    data["evaluations"] = {k: {r: summary(v) for r, v in recipes_.items()} for k, recipes_ in stored(study).items()}
    recipes = [r.name for r in cfg.attack.recipes]
    table = headline.rows(study, recipes=recipes)
    data["headline"] = {"recipes": recipes, "rows": headline.to_dict(table)}
    teacher_params = float((data["teacher"] or {}).get("params", math.nan))
    data["fronts"] = fronts.compare_fronts(table, recipes[0], teacher_params=teacher_params, num_labels=int(study.user_attrs.get("num_labels", 2)))

    # evaluation-set figures where a trial has them (attack --front/--baselines, export), else the in-trial subset's
    for row, t in zip(data["trials"], done):
        row["robustness"] = _robustness(t, data["evaluations"], recipes[0])
        row["robustness_set"] = "evaluation" if str(t.number) in data["evaluations"] else "in-trial"
    points = data["trials"]
    marks = [{"label": r.label, "accuracy": r.accuracy, "accuracy_ci": r.accuracy_ci, "params": r.params,
              "robustness": r.under_attack(recipes[0]), "robustness_ci": r.under.get(recipes[0], {}).get("under_attack_ci")}
             for r in table if r.kind in ("teacher", "baseline") and not math.isnan(r.accuracy)]  # the teacher + stage: no dev figure
    figures.pareto_png(points, out_dir / "pareto.png", marks=marks)
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
    robustness = [row["robustness"] for row in data["trials"]]
    data["robustness_sources"] = {s: sum(row["robustness_set"] == s for row in data["trials"]) for s in ("evaluation", "in-trial")}
    q = quarters(robustness)
    on_front = [i for i, row in enumerate(data["trials"]) if row["pareto"]]
    data["architecture"] = {
        "quarter_size": len(q.top), "top_trials": [done[i].number for i in q.top], "bottom_trials": [done[i].number for i in q.bottom],
        "operations": op_frequencies(genomes, q), "features": feature_table(genomes, robustness, q),
        "front_trials": [done[i].number for i in on_front],
        # the levers (categorical genes), and which the front chose
        "kd_strategies": category_counts([record.strategy(t, "vanilla") for t in done], q, on_front),
        "input_stages": category_counts([g.input_stage for g in genomes], q, on_front),  # the pipeline's stage gene
        "vocabularies": category_counts([g.vocabulary for g in genomes], q, on_front),
    }
    (out_dir / "report.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (out_dir / "report.md").write_text(markdown(data, cfg), encoding="utf-8")
    out(f"report: {out_dir / 'report.md'} (figures and report.json beside it)")
    return data


def _pct(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.1%}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    return format_table(header, rows, style="markdown")


def _robustness(t: optuna.trial.FrozenTrial, evaluations: dict[str, Any], recipe: str) -> float:
    stored = evaluations.get(str(t.number), {}).get(recipe)
    return float(stored["accuracy_under_attack"]) if stored else metric(t, "attack_accuracy")


def headline_section(data: dict[str, Any], cfg: StudyConfig) -> list[str]:
    """RoSearch's headline table, first in the report (rosearch.report.headline)."""
    h = data["headline"]
    table = [headline.Row(**{k: v for k, v in r.items() if k != "latency_ms"}, latency_ms=math.nan if r["latency_ms"] is None else r["latency_ms"])
             for r in h["rows"]]
    teacher = data.get("teacher") or {}
    header, body = headline.markdown_rows(table, h["recipes"], float(teacher.get("params", math.nan)))
    n_eval = next((e["n"] for r in h["rows"] for e in r["under"].values()), None)
    lines = ["## Headline: searched students against the teacher and hand-designed baselines", "",
             format_table(header, body, style="markdown"), "",
             f"Accuracy under attack is measured on the study's evaluation set ({n_eval or cfg.attack.eval_examples} dev examples the teacher "
             f"classifies correctly, disjoint from the {cfg.attack.n_examples} the search selected on); brackets are 95% Wilson intervals. "
             f"Δ compares each searched student with the most robust baseline of equal or larger size on the same examples "
             f"(exact McNemar test; p ≥ {headline.ALPHA} is within noise), chosen under {h['recipes'][0]} and compared with the same "
             "baseline under the other recipes. Clean accuracy is on the dev split; baselines went through "
             "the same data, distillation, seeds and attacks. Rows of kind `retrained` are searched students re-distilled on the "
             "whole training split by `export --retrain-epochs`; they are compared with the `retrained baseline` rows, baselines "
             "re-distilled the same way (`export --trial N --retrain-epochs E`), or, where there are none, with the baselines as "
             "the search trained them (said in the cell)."]
    if "fronts" in data:
        lines += ["", *fronts.section(data["fronts"])]
    missing = [r["label"] for r in h["rows"] if not r["under"]]
    if missing:
        lines += ["", f"Not yet attacked on the evaluation set: {', '.join(missing)} — run `rosearch-optuna attack --study {cfg.name} "
                  "--model teacher --front --baselines` (and `export`), then the report again."]
    return lines


def _fidelity_line(trials: list[dict[str, Any]]) -> list[str]:
    """How many complete trials a multi-fidelity study measured in full (none said otherwise)."""
    cheap = sum(t.get("fidelity") == "cheap" for t in trials)
    if not cheap:
        return []
    return [f"Multi-fidelity: {len(trials)} candidates estimated cheaply, {len(trials) - cheap} of them promoted and measured in full "
            "(baselines included); the front and the tables below are on full figures, the hypervolume history on every trial's cheap estimate."]


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
        *_fidelity_line(trials),
        "",
        *headline_section(data, cfg),
        "",
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
        f"In-trial figures (clean: dev split; under attack: the {cfg.attack.n_examples}-example in-trial subset), 95% Wilson intervals:",
        "",
        _table(["trial", "KD", "accuracy", "under attack", "attack success", "params (M)", "latency (ms)", "fitness"], [
            [f"#{t['trial']}" + (f" (baseline {t['baseline']})" if t.get("baseline") else ""), t["kd_strategy"],
             format_ci(t["accuracy"], t.get("accuracy_ci")), format_ci(t["attack_accuracy"], t.get("attack_accuracy_ci")), _pct(t["attack_success_rate"]),
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
        "", "Shape (mean in each quarter; Spearman's ρ with accuracy under attack over all students, and its p):", "",
        _table(["feature", "most robust quarter", "least robust quarter", "ρ", "p", "reading"], [
            [r["feature"], f"{r['top_mean']:.3g}", f"{r['bottom_mean']:.3g}", "–" if math.isnan(r["spearman"]) else f"{r['spearman']:+.2f}",
             "–" if math.isnan(r.get("spearman_p", math.nan)) else f"{r['spearman_p']:.2g}",
             "–" if math.isnan(r.get("spearman_p", math.nan)) else ("association" if r["spearman_p"] < headline.ALPHA else "within noise")]
            for r in arch["features"]
        ]),
    ]
    levers = [(key, title, name) for key, title, name in (
        ("input_stages", "Input stages (the pipeline in front of the student)", "stage"),
        ("vocabularies", "Vocabularies (the word pieces the student embeds)", "vocabulary"),
        ("kd_strategies", "Distillation strategies", "strategy")) if len(arch.get(key, ())) > 1]
    if levers:
        lines += ["", f"The levers, and which the Pareto front chose ({len(arch.get('front_trials', []))} trials on it, baselines included):"]
    for key, title, name in levers:
        lines += ["", f"{title}:", "", _table([name, "on the front", "most robust quarter", "least robust quarter", "all"], [
            [r["value"], str(r.get("front", "–")), str(r["top"]), str(r["bottom"]), str(r["all"])] for r in arch[key]])]
    src = data.get("robustness_sources", {})
    lines += ["", f"Robustness here is the evaluation-set figure for {src.get('evaluation', 0)} trial(s) and the in-trial subset's "
              f"({cfg.attack.n_examples} examples, about ±{100 * 1.96 * 0.5 / max(cfg.attack.n_examples, 1) ** 0.5:.0f} points) for "
              f"{src.get('in-trial', 0)}. With {data['n_complete']} completed trials the operation counts are descriptive, not "
              "significance tests; a correlation with p ≥ 0.05 is within noise.", ""]
    return "\n".join(lines)
