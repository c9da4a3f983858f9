"""The `rosearch-optuna` command line."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable

from rosearch.errors import RosearchError


def _quiet_libraries() -> None:
    import warnings

    import datasets
    import optuna
    import transformers

    # We rely on Optuna's heartbeat and metric names knowingly; their "experimental" notes are noise here.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    transformers.logging.set_verbosity_error()


def _load(args: argparse.Namespace) -> Any:
    from rosearch.config import load_study, with_storage

    overrides: dict[str, Any] = {}
    if getattr(args, "seed", None) is not None:
        overrides["seed"] = args.seed
    if args.runs_dir is not None:
        overrides["runs_dir"] = args.runs_dir
    cfg = load_study(args.study, overrides=overrides)
    return with_storage(cfg, args.storage)


def _set_threads(cfg: Any) -> None:
    import torch

    torch.set_num_threads(cfg.threads or os.cpu_count() or 1)


def cmd_optimize(args: argparse.Namespace) -> int:
    cfg = _load(args)
    if args.n_trials is not None and args.n_trials <= 0:
        raise RosearchError(f"--n-trials: got {args.n_trials}. Give a positive number of trials.")
    _quiet_libraries()
    _set_threads(cfg)
    from rosearch.runner import optimize

    optimize(cfg, n_trials=args.n_trials or cfg.search.n_trials, progress=not args.no_progress)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    cfg = _load(args)
    _quiet_libraries()
    from rosearch.runner import show

    show(cfg)
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "optimize": (cmd_optimize, "run (or resume) the architecture search of a study"),
    "show": (cmd_show, "print a study's Pareto front with metrics and fitness"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rosearch-optuna", description="Search robust distilled student models with Optuna (RoSearch).")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--study", required=True, help="a name from studies/ (e.g. demo, tiny, sst2) or a path to a study YAML")
        p.add_argument("--storage", help="an Optuna storage URL (default: sqlite:///<runs_dir>/<study>/study.db)")
        p.add_argument("--runs-dir", help="folder for study databases and the prepare cache (default: the study's runs_dir, 'runs')")
        if name == "optimize":
            p.add_argument("--n-trials", type=int, help="trials to add in this run (default: the study's search.n_trials)")
            p.add_argument("--seed", type=int, help="override the study's seed")
            p.add_argument("--no-progress", action="store_true", help="no progress bars (per-trial lines stay)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler, _ = COMMANDS[args.command]
    try:
        return handler(args)
    except RosearchError as err:
        print(f"rosearch-optuna: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nrosearch-optuna: interrupted; run the same command again to resume the study.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
