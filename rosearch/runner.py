"""The optimize and show flows: the I/O edge between the CLI and the pure core."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Callable

import optuna
from optuna_dashboard import save_note
from tqdm.auto import tqdm

from rosearch.attack.recipes import describe_recipe
from rosearch.cache import DiskCache
from rosearch.config import StudyConfig, config_hash, to_dict
from rosearch.config.schema import strategies
from rosearch.errors import TrialFailure
from rosearch.prepare import prepare
from rosearch.attack.resources import import_textattack, missing_for, preflight
from rosearch.search.artifacts import TrialArtifacts
from rosearch.search.front import evaluations_table, front_table, trial_line
from rosearch.search.objective import Objective
from rosearch.search.study import completed, load_existing, open_study, record_study_attrs

Out = Callable[[str], None]


def describe_study(cfg: StudyConfig) -> str:
    s, d = cfg.space, cfg.data
    objectives = ", ".join(f"{o.direction} {o.metric}" for o in cfg.search.objectives)
    data = {"embedded": f"embedded {d.name}", "hub": f"hub {d.name}" + (f"/{d.subset}" if d.subset else "")}.get(d.source, f"{d.source} {d.files}")
    return "\n".join([
        f"study      {cfg.name}" + (f" — {cfg.description}" if cfg.description else ""),
        f"data       {data}, max_length {d.max_length}",
        f"teacher    {cfg.teacher.model} ({cfg.teacher.init}" + (f", fine-tuned {cfg.teacher.finetune.epochs} epoch(s))" if cfg.teacher.finetune else ")"),
        f"space      hidden {s.hidden_sizes}, embeddings {s.embedding_sizes}, cells {s.n_cells}, {s.n_nodes} nodes, ops {', '.join(s.ops)}",
        f"kd         {' | '.join(strategies(cfg.kd))}, {cfg.kd.epochs} epoch(s), batch {cfg.kd.batch_size}, lr {cfg.kd.lr}, τ {cfg.kd.temperature}, α {cfg.kd.alpha}, mixed precision {cfg.kd.mixed_precision}",
        f"attack     {describe_recipe(cfg.attack.recipe)} in every trial on {cfg.attack.n_examples} dev examples (seed {cfg.attack.seed})"
        + (f"; evaluation: {', '.join(describe_recipe(r) for r in cfg.attack.evaluation)}" if cfg.attack.evaluation else ""),
        f"search     {cfg.search.sampler}, {objectives}; fitness weights acc {cfg.fitness.accuracy}, rob {cfg.fitness.robustness}, size {cfg.fitness.size}",
        f"latency    PyTorch, batch {cfg.latency.batch_sizes[0]} × {cfg.latency.seq_len or d.max_length} tokens, {cfg.latency.threads} thread(s), median of {cfg.latency.repeats}"
        + (f"; at most {cfg.search.max_latency_ms:g} ms" if cfg.search.max_latency_ms else ""),
        f"storage    {cfg.search.storage}",
        f"cache      {Path(cfg.runs_dir) / 'cache'}",
    ])


def optimize(cfg: StudyConfig, *, n_trials: int, out: Out = print, progress: bool = True) -> optuna.Study:
    """Prepare once, then run `n_trials` more trials (resuming the stored study if there is one)."""
    chash = config_hash(cfg)
    out(describe_study(cfg))
    preflight(cfg.attack.recipe.name)  # the search recipe must run here: fail before any work
    prep = prepare(cfg, cache=DiskCache(Path(cfg.runs_dir) / "cache"), log=out, progress=progress)
    import_textattack()  # once, here, so that no trial's attack time includes it
    study = open_study(cfg, config_hash=chash)
    done = len(study.trials)
    if done:
        out(f"resuming: the study already has {done} trial(s), {len(completed(study))} complete")
    record_study_attrs(study, {
        "config": to_dict(cfg), "config_hash": chash, "teacher": prep.teacher_metrics,
        "cache_keys": prep.keys, "attack_examples": prep.attack_examples,
    })
    save_note(study, f"## {cfg.name}\n\n{cfg.description}\n\n```\n{describe_study(cfg)}\n```\n")  # optuna-dashboard's study note
    for spec in cfg.attack.evaluation:
        lacking = missing_for(spec.name)
        if lacking:
            out(f"note: evaluation recipe '{spec.name}' cannot run here (missing {', '.join(m.resource for m in lacking)}); `attack --trial` will say how to get it")
    bar = tqdm(total=n_trials, desc="trials", disable=not progress, dynamic_ncols=True)

    def after_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        tqdm.write(trial_line(trial))
        bar.update()
        gc.collect()

    artifacts = TrialArtifacts.for_study(cfg)
    objective = Objective(cfg, prep, config_hash=chash, progress=progress, artifacts=artifacts)
    try:
        study.optimize(objective, n_trials=n_trials, catch=(TrialFailure,), callbacks=[after_trial])
    finally:
        bar.close()
    out("\nPareto front (study.best_trials):")
    _print_front(study, out)
    return study


def show(cfg: StudyConfig, *, out: Out = print) -> optuna.Study:
    study = load_existing(cfg)
    trials = study.trials
    states = {s.name.lower(): sum(t.state == s for t in trials) for s in optuna.trial.TrialState}
    out(f"study {cfg.name} in {cfg.search.storage}: {len(trials)} trials ({', '.join(f'{n} {k}' for k, n in states.items() if n)})")
    teacher = study.user_attrs.get("teacher")
    if teacher:
        out(f"teacher: dev accuracy {teacher['dev_accuracy']:.1%}, {teacher['params'] / 1e6:.1f}M parameters, {teacher['flops'] / 1e6:.0f} MFLOPs")
    _print_front(study, out)
    return study


def _print_front(study: optuna.Study, out: Out) -> None:
    out(front_table(study))
    evaluations = evaluations_table(study)
    if evaluations:
        out("\nEvaluation attacks (rosearch-optuna attack --trial):")
        out(evaluations)
