"""What the `attack` command does: attack a study's teacher, trial students and baselines on its
evaluation set (storing each model's results as it finishes), or any model on drawn examples;
print the metrics table and write every attacked example. The command and benchmarks call `attack`."""

from __future__ import annotations

import csv
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from rosearch.errors import ConfigError, RosearchError

from rosearch.attack.defaults import DEFAULT_BATCH_SIZE, DEFAULT_MAX_LENGTH, DEFAULT_N

Out = Callable[[str], None]


def metrics_table(rows: list[tuple[Any, Any]]) -> str:
    from rosearch.table import format_table

    from rosearch.stats import format_ci

    header = ["model", "recipe", "n", "clean acc [95% CI]", "under attack [95% CI]", "success rate", "words perturbed", "queries/ex", "skip/fail/succ", "ex/s", "queries/s"]
    body = []
    for target, r in rows:
        m = r.metrics
        body.append([
            target.label, r.recipe, str(m.n), format_ci(m.clean_accuracy, m.clean_ci), format_ci(m.accuracy_under_attack, m.under_attack_ci), f"{m.success_rate:.1%}",
            f"{m.avg_perturbed_share:.1%}", f"{m.avg_queries:.1f}", f"{m.skipped}/{m.failed}/{m.succeeded}",
            f"{r.examples_per_second:.2f}", f"{r.queries_per_second:.0f}",
        ])
    return format_table(header, body)


def write_records(path: Path, rows: list[tuple[Any, Any]]) -> int:
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


def record_evaluations(cfg: Any, rows: list[tuple[Any, Any]], *, keep: int) -> None:
    """Store the evaluation-set metrics of the study's teacher and re-built trials in the study
    (finished trials are read-only in Optuna), with each example's outcome (`held`) for paired
    comparisons, and attach their adversarial examples to the study as artifacts."""
    from rosearch.dashboard.artifacts import TrialArtifacts
    from rosearch.search.evaluations import entry, record
    from rosearch.search.study import load_existing

    study = load_existing(cfg)
    artifacts = TrialArtifacts.for_study(cfg)
    for target, report in rows:
        if target.key is None:
            continue
        record(study, target.key, {report.recipe: entry(report, keep=keep)})
        artifacts.upload(study, f"{target.key.replace(':', '-')}-adversarial-{report.recipe}.jsonl", report.records)


def _stored(cfg: Any) -> dict[str, dict[str, Any]]:
    from rosearch.search.evaluations import stored
    from rosearch.search.study import load_existing

    return stored(load_existing(cfg))


def default_out(runs_dir: str, label: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in label).strip("-.") or "model"
    return Path(runs_dir) / "attacks" / f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"


def attack(
    *, cfg: Any, model: str | None, tokenizer: str | None, data: Any, split: str, recipes: list | None,
    n: int | None, seed: int | None, max_length: int | None, trials: list[int], front: bool, out_path: Path | None,
    runs_dir: str, baselines: bool = False, trust_remote_code: bool = False, out: Out = print, progress: bool = True,
    again: bool = False, shard: tuple[int, int] | None = None,
) -> list[tuple[Any, Any]]:
    """The whole `attack` command (see the module docstring)."""
    import torch

    from rosearch.attack.recipes import describe_recipe
    from rosearch.attack.resources import preflight
    from rosearch.attack.run import run_attack
    from rosearch.attack.targets import Planned, Target, load_model, require_examples, sample_examples, study_targets
    from rosearch.config import RecipeConfig
    from rosearch.session import make_accelerator, prepare_study

    if cfg is None and (model is None or model == "teacher" or trials or front or baselines):
        raise ConfigError("--study", None, "--model teacher, --trial, --front and --baselines need --study; otherwise give --model (a folder or hub id).")
    if shard is not None and cfg is None:
        raise ConfigError("--study", None, "--shard splits a study's models between processes: give --study too.")
    standard_set = n is None and seed is None
    recipes = recipes or (cfg.attack.recipes if cfg is not None else [RecipeConfig()])
    for spec in recipes:  # fail before any work when a recipe cannot run here
        preflight(spec.name)
    if cfg is not None:
        a = cfg.attack
        cfg = replace(cfg, attack=replace(a, eval_examples=n or a.eval_examples, seed=a.seed if seed is None else seed))
        accelerator = make_accelerator(cfg)  # the study's precision: rebuilt students are the search's own
        prep = prepare_study(cfg, accelerator, progress=progress, out=out)
        examples = prep.eval_examples
        require_examples(examples, cfg)
        out(f"examples: the study's evaluation set ({len(examples)} dev examples the teacher gets right, disjoint from the "
            f"{len(prep.attack_examples)} the search attacks; seed {cfg.attack.seed})")
        plans = study_targets(cfg, prep, accelerator=accelerator, model=model, trials=trials, front=front, baselines=baselines,
                              trust_remote_code=trust_remote_code, out=out, progress=progress)
        max_length = max_length or cfg.data.max_length
        seed, batch_size = cfg.attack.seed, cfg.attack.batch_size
    else:
        loaded, tok = load_model(model, tokenizer=tokenizer, trust_remote_code=trust_remote_code)
        plans = [Planned(Path(model).name or model, None, lambda: Target(Path(model).name or model, loaded, tok))]
        seed = seed or 0
        examples = sample_examples(data, split=split, n=n or DEFAULT_N, seed=seed)
        if not examples:
            raise RosearchError(f"--data {data.source}: the {split} split has no examples to attack; give another --split or more data.")
        out(f"examples: {len(examples)} {split} examples drawn with seed {seed}")
        max_length, batch_size = max_length or min(DEFAULT_MAX_LENGTH, tok.model_max_length), DEFAULT_BATCH_SIZE
    store = cfg is not None and standard_set  # the study's own evaluation set: results comparable, so stored
    if shard is not None:  # shares of the whole plan, not of what is left: the same whenever each process starts
        i, k = shard
        plans = plans[i - 1::k]
        out(f"shard {i}/{k}: {', '.join(p.label for p in plans) or 'nothing'}")
    done = _stored(cfg) if store and not again else {}
    rows = []
    for plan in plans:
        if plan.key is not None and all(spec.name in done.get(plan.key, {}) for spec in recipes):
            out(f"{plan.label}: already attacked on the evaluation set with {', '.join(s.name for s in recipes)} (stored in the study); "
                "skipped — --again attacks it anew")
            continue
        target = plan.build()
        torch.manual_seed(seed)
        mine = []
        for spec in recipes:
            out(f"attacking {target.label} with {describe_recipe(spec)} on {len(examples)} examples")
            mine.append((target, run_attack(target.pipeline(max_length), examples, spec, seed=seed, batch_size=batch_size, progress=progress,
                                            workers=cfg.attack.workers if cfg is not None else None)))
        if store and target.key is not None:  # stored as each model finishes: an interrupted run keeps what it did
            record_evaluations(cfg, mine, keep=cfg.attack.keep_examples)
            out(f"{target.label}: recorded in study '{cfg.name}' (user attr 'evaluations:{target.key}'; examples as artifacts)")
        rows += mine
    if not rows:
        return rows
    out("")
    out(metrics_table(rows))
    path = out_path or default_out(runs_dir, rows[0][0].label if len({t.label for t, _ in rows}) == 1 else (cfg.name if cfg else "models"))
    count = write_records(path, rows)
    out(f"\nwrote {count} attacked examples to {path}")
    return rows
