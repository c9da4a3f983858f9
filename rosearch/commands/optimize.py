"""`optimize`: run (or resume) the architecture search of a study."""

from __future__ import annotations

import argparse

from rosearch.commands._common import add_study_args, load_config
from rosearch.session import quiet_libraries, set_threads
from rosearch.errors import RosearchError

HELP = "run (or resume) the architecture search of a study"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_study_args(p)
    p.add_argument("--n-trials", type=int, help="trials to add in this run (default: the study's search.n_trials)")
    p.add_argument("--seed", type=int, help="override the study's seed")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (per-trial lines stay)")


def run(args: argparse.Namespace) -> int:
    if args.n_trials is not None and args.n_trials <= 0:
        raise RosearchError(f"--n-trials: got {args.n_trials}. Give a positive number of trials.")
    cfg = load_config(args, seed=args.seed)
    quiet_libraries()
    set_threads(cfg)
    from rosearch.search.run import optimize
    from rosearch.search.storage import storage_errors

    with storage_errors(cfg.search.storage):
        optimize(cfg, n_trials=args.n_trials or cfg.search.n_trials, progress=not args.no_progress)
    return 0
