"""`show`: a study's trials, its Pareto front with metrics and fitness, and its stale trials."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from rosearch.commands._common import add_study_args, load_config
from rosearch.session import quiet_libraries

HELP = "print a study's Pareto front with metrics and fitness"
Out = Callable[[str], None]


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_study_args(p)


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    quiet_libraries()
    show(cfg)
    return 0


def show(cfg: Any, *, out: Out = print) -> Any:
    import optuna

    from rosearch.search.front import print_front
    from rosearch.search.storage import stale_trials
    from rosearch.search.study import load_existing

    study = load_existing(cfg)
    trials = study.trials
    states = {s.name.lower(): sum(t.state == s for t in trials) for s in optuna.trial.TrialState}
    out(f"study {cfg.name} in {cfg.search.storage}: {len(trials)} trials ({', '.join(f'{n} {k}' for k, n in states.items() if n)})")
    for number, why in sorted(stale_trials(study).items()):
        out(f"stale: trial #{number} is RUNNING but {why}; the next `optimize` fails it and retries it with its parameters and seed")
    teacher = study.user_attrs.get("teacher")
    if teacher:
        out(f"teacher: dev accuracy {teacher['dev_accuracy']:.1%}, {teacher['params'] / 1e6:.1f}M parameters, {teacher['flops'] / 1e6:.0f} MFLOPs")
    print_front(study, out)
    return study
