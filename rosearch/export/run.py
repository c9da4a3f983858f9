"""Export a study's chosen students: rebuild each trial's student (or re-distil it longer),
re-measure it on the evaluation set, write its folder (rosearch.export.write) and the manifest,
and store its evaluation-set results in the study. The `export` command and benchmarks call this."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from rosearch.config.schema import strategies
from rosearch.errors import RosearchError

Out = Callable[[str], None]


@dataclass
class ExportOptions:
    out_dir: Path
    select: str = "pareto"  # rosearch.export.select.Selection
    top: int | None = None
    trials: list[int] | None = None  # these trials instead of a selection
    retrain_epochs: float | None = None
    retrain_strategy: str | None = None  # another KD strategy for the re-distillation (with retrain_epochs)
    progress: bool = True



def export(current: Any, opts: ExportOptions, *, out: Out = print) -> list[dict[str, Any]]:
    """Export the selected students; returns the manifest rows."""
    from tqdm.auto import tqdm

    from rosearch.attack.recipes import describe_recipe
    from rosearch.attack.targets import require_examples
    from rosearch.attack.resources import import_textattack, missing_for, preflight
    from rosearch.session import make_accelerator, prepare_study
    from rosearch.export.manifest import manifest_row, write_manifest
    from rosearch.export.select import folder_name, named_trials, select_trials
    from rosearch.export.write import export_metrics, export_trial, finished_export
    from rosearch.search.evaluations import key_for, record, record_retrained
    from rosearch.search.rebuild import rebuild_student
    from rosearch.search.study import load_existing, stored_config

    study = load_existing(current)
    cfg = stored_config(study, current)  # the trials' own settings, precision included
    trials = named_trials(study, opts.trials) if opts.trials else select_trials(study, opts.select, opts.top)
    if not trials:
        raise RosearchError(f"Study '{cfg.name}' has no feasible completed trial to export; run more trials (rosearch-optuna optimize).")
    preflight(cfg.attack.recipe.name)  # the search recipe must run here: it names the folders and ranks
    lacking = {r.name: missing_for(r.name) for r in cfg.attack.recipes}
    recipes = [r for r in cfg.attack.recipes if not lacking[r.name]]
    skipped = {name: "missing " + ", ".join(m.resource for m in found) + " on this machine" for name, found in lacking.items() if found}
    out(f"exporting {len(trials)} student(s) of study '{cfg.name}' ({'named' if opts.trials else opts.select}): trials {', '.join(f'#{t.number}' for t in trials)}")
    out(f"attacks: {', '.join(describe_recipe(r) for r in recipes)}" + (f"; skipped: {', '.join(skipped)}" if skipped else ""))
    accelerator = make_accelerator(cfg)  # the study's precision: the exported student is the search's own
    kd = replace(cfg.kd, epochs=opts.retrain_epochs, max_train_examples=None) if opts.retrain_epochs else None
    # prepared for the retraining: its epochs (consistency builds one perturbed pass per epoch) and
    # its strategy when the study does not name it (e.g. augment's transfer set)
    names = strategies(cfg.kd)
    extra = [opts.retrain_strategy] if opts.retrain_strategy and opts.retrain_strategy not in names else []
    prep_cfg = cfg if kd is None else replace(cfg, kd=replace(kd, strategy=names + extra))
    prep = prepare_study(prep_cfg, accelerator, progress=opts.progress, out=out)
    require_examples(prep.eval_examples, cfg)  # every export is attacked on the evaluation set
    import_textattack()
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for trial in tqdm(trials, desc="export", disable=not opts.progress, dynamic_ncols=True):
        done = finished_export(opts.out_dir, trial.number, opts.retrain_epochs or 0, opts.retrain_strategy)
        if done is not None:  # an earlier run (perhaps interrupted later) wrote it: keep it
            out(f"trial #{trial.number}: already exported in {done}; delete that folder to redo it")
            rows.append(manifest_row(done.name, json.loads((done / "metrics.json").read_text())))
            continue
        action = (f"re-distilling for {opts.retrain_epochs:g} epoch(s) on the whole training split"
                  + (f" with {opts.retrain_strategy}" if opts.retrain_strategy else "") if kd else "re-distilling (same seed: the search's student)")
        out(f"trial #{trial.number}: {action}")
        student, strategy, _ = rebuild_student(trial, cfg, prep, accelerator=accelerator, kd=kd, strategy=opts.retrain_strategy, progress=opts.progress)
        metrics = export_metrics(student, trial, cfg, prep, accelerator=accelerator, recipes=recipes, skipped=skipped,
                                 strategy=strategy, retrain_epochs=opts.retrain_epochs or 0, retrain_strategy=opts.retrain_strategy)
        folder = opts.out_dir / folder_name(trial.number, metrics)
        rows.append(manifest_row(folder.name, export_trial(folder, student, prep, metrics, cfg=cfg, trial=trial)))
        key = key_for(trial.number, opts.retrain_epochs or 0, opts.retrain_strategy)
        record(study, key, metrics["attacks"])  # the report's headline reads these
        if opts.retrain_epochs:  # not a trial of its own: its clean figures go beside its attacks
            record_retrained(study, key, metrics)
        out(f"  → {folder}  (accuracy {metrics['accuracy']:.1%}, under {cfg.attack.recipe.name} {metrics['attack_accuracy']:.1%}, "
            f"{metrics['params'] / 1e6:.2f}M params)")
    csv_path, json_path = write_manifest(opts.out_dir, rows)
    out(f"manifest: {csv_path} and {json_path}")
    return rows
