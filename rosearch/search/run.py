"""Run (or resume) a study's search: check the search recipe, prepare once, open the study, enqueue
the baselines, distil the reference models, then let Optuna run the trials. The `optimize`
command and benchmarks call `optimize`."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any, Callable

Out = Callable[[str], None]


def describe_study(cfg: Any) -> str:
    from rosearch.attack.recipes import describe_recipe
    from rosearch.config.schema import strategies

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


def optimize(cfg: Any, *, n_trials: int, out: Out = print, progress: bool = True) -> Any:
    """Check the search recipe, prepare once, then run `n_trials` more trials (resuming the stored
    study if there is one). `cfg` comes from `load_config`, which checked the storage already."""
    import optuna
    from optuna_dashboard import save_note
    from tqdm.auto import tqdm

    from rosearch.attack.resources import import_textattack, missing_for, preflight
    from rosearch.config import config_hash, to_dict
    from rosearch.dashboard.artifacts import TrialArtifacts
    from rosearch.dashboard.publish import publish_trial
    from rosearch.errors import TrialFailure
    from rosearch.search.front import print_front, trial_line
    from rosearch.search.baselines import enqueue_baselines, evaluate_references
    from rosearch.search.objective import Objective
    from rosearch.search.storage import fail_stale
    from rosearch.search.study import completed, open_study, record_study_attrs
    from rosearch.session import make_accelerator, prepare_study, study_cache

    chash = config_hash(cfg)
    out(describe_study(cfg))
    preflight(cfg.attack.recipe.name)  # the search recipe must run here: fail before any work
    accelerator = make_accelerator(cfg)
    prep = prepare_study(cfg, accelerator, progress=progress, out=out)
    import_textattack()  # once, here, so that no trial's attack time includes it
    study = open_study(cfg, config_hash=chash)
    _report_stale(fail_stale(study), out)
    done = len(study.trials)
    if done:
        out(f"resuming: the study already has {done} trial(s), {len(completed(study))} complete")
    record_study_attrs(study, {
        "config": to_dict(cfg), "config_hash": chash, "teacher": prep.teacher_metrics,
        "cache_keys": prep.keys, "attack_examples": prep.attack_examples, "num_labels": prep.num_labels,
    })
    save_note(study, f"## {cfg.name}\n\n{cfg.description}\n\n```\n{describe_study(cfg)}\n```\n")  # optuna-dashboard's study note
    enqueued = enqueue_baselines(study, cfg)
    if enqueued:
        out(f"baselines enqueued as the first trials: {', '.join(enqueued)}")
    evaluate_references(study, cfg, prep, accelerator=accelerator, progress=progress, out=out, cache=study_cache(cfg, out))
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
    objective = Objective(cfg, prep, accelerator=accelerator, config_hash=chash, progress=progress,
                          publish=lambda *a: publish_trial(artifacts, *a))
    try:
        study.optimize(objective, n_trials=n_trials, catch=(TrialFailure,), callbacks=[after_trial])
    finally:
        bar.close()
        _report_stale(fail_stale(study), out)  # workers that died while this one ran
    out("\nPareto front:")
    print_front(study, out)
    return study


def _report_stale(numbers: list[int], out: Out) -> None:
    if numbers:
        out(f"failed {len(numbers)} trial(s) whose worker died ({', '.join(f'#{n}' for n in numbers)}); each is retried once with its parameters and seed")
