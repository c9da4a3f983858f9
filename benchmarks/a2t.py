"""A2T against plain logit KD on the demo's baselines, paired on the same examples — one run.

For each named baseline trial of a finished demo study (default: the headline run's), the same
genome is distilled again with `kd.strategy: a2t` — same data, seed (the trial's), budget and
input stage — and attacked on the study's evaluation set under every offline recipe. Each A2T
student is compared with the trial's own stored evaluation (`attack --baselines`) on the same
examples (exact McNemar).

    python benchmarks/a2t.py [--runs-dir benchmarks/runs/headline] [--baselines transformer-m transformer-m-rec]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace
from pathlib import Path

import optuna
import torch

from rosearch.attack.resources import import_textattack, missing_for
from rosearch.session import make_accelerator, prepare_study, quiet_libraries
from rosearch.config import RecipeConfig, load_study
from rosearch.kd.distill import distill_student
from rosearch.search.evaluate import measure_student
from rosearch.search import record
from rosearch.search.evaluations import stored, summary
from rosearch.search.study import stored_config
from rosearch.stats import format_ci, mcnemar
from rosearch.table import format_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--runs-dir", default="benchmarks/runs/headline")
    parser.add_argument("--baselines", nargs="+", default=["transformer-m", "transformer-m-rec"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/a2t.json")
    args = parser.parse_args()
    quiet_libraries()
    torch.set_num_threads(args.threads)
    storage = f"sqlite:///{Path(args.runs_dir) / args.study / 'study.db'}"
    study = optuna.load_study(study_name=args.study, storage=storage)
    cfg = stored_config(study, replace(load_study(args.study), runs_dir=args.runs_dir))  # the trials' own settings
    cfg = replace(cfg, kd=replace(cfg.kd, strategy="a2t"))
    accelerator = make_accelerator(cfg)
    prep = prepare_study(cfg, accelerator, progress=False)
    import_textattack()
    recipes = [RecipeConfig(name=n) for n in (cfg.attack.recipe.name, *(r.name for r in cfg.attack.evaluation)) if not missing_for(n)]
    evaluations = stored(study)
    rows = []
    for name in args.baselines:
        trial = next(t for t in study.get_trials(deepcopy=False) if record.baseline(t) == name)
        plain = evaluations[str(trial.number)]
        genome = record.genome(trial)
        student, fitted = distill_student(genome, cfg, prep, accelerator=accelerator, seed=record.seed(trial, cfg.seed), strategy="a2t", progress=False)
        measured = measure_student(prep.pipeline(student, genome.input_stage, max_length=cfg.data.max_length), cfg, prep, accelerator=accelerator,
                                   recipes=recipes, examples=prep.eval_examples, progress=False)
        row = {"baseline": name, "trial": trial.number, "train_seconds": fitted.seconds, "training": fitted.details,
               "plain": {"accuracy": record.metrics(trial)["accuracy"], "accuracy_ci": record.metrics(trial)["accuracy_ci"],
                         "train_seconds": record.timings(trial)["train"],
                         "attacks": {k: summary(v) for k, v in plain.items()}},
               "a2t": {"accuracy": measured.metrics["accuracy"], "accuracy_ci": measured.metrics["accuracy_ci"],
                       "attacks": {k: r.metrics.to_dict() for k, r in measured.attacks.items()}},
               "versus_plain": {k: mcnemar(r.held(), plain[k]["held"]).to_dict() for k, r in measured.attacks.items() if k in plain}}
        rows.append(row)
        print(name, json.dumps(row["training"]), {k: round(v["accuracy_under_attack"], 3) for k, v in row["a2t"]["attacks"].items()}, flush=True)
        result = {"study": cfg.name, "runs_dir": args.runs_dir, "date": time.strftime("%Y-%m-%d"),
                  "machine": f"{platform.machine()}, torch {torch.__version__}, {args.threads} thread(s)", "a2t": vars(cfg.kd.a2t),
                  "n_eval": len(prep.eval_examples), "rows": rows}
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")

    names = [r.name for r in recipes]
    table = []
    for r in rows:
        p, a = r["plain"], r["a2t"]
        table.append([r["baseline"], "vanilla", format_ci(p["accuracy"], p["accuracy_ci"]),
                      *(format_ci(p["attacks"][n]["accuracy_under_attack"], p["attacks"][n]["under_attack_ci"]) for n in names), f"{p['train_seconds']:.0f}"])
        cells = [f"{format_ci(a['attacks'][n]['accuracy_under_attack'], a['attacks'][n]['under_attack_ci'])} "
                 f"({100 * r['versus_plain'][n]['difference']:+.1f}, p={r['versus_plain'][n]['p_value']:.2g})" for n in names]
        table.append([r["baseline"], "a2t", format_ci(a["accuracy"], a["accuracy_ci"]), *cells, f"{r['train_seconds']:.0f}"])
    print("\n" + format_table(["baseline", "KD", "clean accuracy (dev)", *(f"under {n} (Δ vs vanilla, p)" for n in names), "train s"], table,
                              style="markdown"))


if __name__ == "__main__":
    main()
