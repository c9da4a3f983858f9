"""One fixed mid-size genome trained with each distillation strategy, next to the teacher — one run.

For each strategy the study prepares (demo-kd: vanilla, KDIGA, MATE-KD and zero-shot KD; or those
named with --strategies, which are prepared too): clean dev accuracy, accuracy under the study's
search-time attack and under one other offline attack (on the study's fixed attack subset),
training time; and the teacher's own numbers on the same examples.

    python benchmarks/kd_strategies.py --study demo-kd [--strategies vanilla a2t] [--out benchmarks/kd_strategies.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


from rosearch.attack.run import run_attack
from rosearch.config import RecipeConfig
from rosearch.config.schema import STRATEGIES, strategies
from rosearch.kd.distill import distill_student
from rosearch.student.pipeline import StudentPipeline
from rosearch.table import format_table
from rosearch.train import accuracy, loader, predict

from _common import prepared_study  # noqa: E402 - benchmarks/ is the script's folder
from trial_time import GENOMES  # noqa: E402 - the same mid-size genome as the other benchmarks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo-kd")
    parser.add_argument("--other-recipe", default="pruthi")
    parser.add_argument("--strategies", nargs="+", choices=STRATEGIES, help="these strategies instead of the study's (each is prepared)")
    parser.add_argument("--genome", choices=list(GENOMES), default="mid (attn+ffn)")
    parser.add_argument("--runs-dir", help="the study's runs folder (default: its runs_dir)")
    parser.add_argument("--out", default="benchmarks/kd_strategies.json")
    args = parser.parse_args()
    cfg, prep, prepare_s, accelerator = prepared_study(args.study, strategies=args.strategies, runs_dir=args.runs_dir)
    print(f"prepare: {prepare_s:.0f} s")
    recipes = [cfg.attack.recipe, RecipeConfig(name=args.other_recipe)]
    dev = loader(prep.splits["dev"], prep.tokenizer, batch_size=cfg.kd.eval_batch_size, shuffle=False)
    genome = GENOMES[args.genome]

    def measure(name: str, model, train_s: float | None) -> dict:
        acc = accuracy(*predict(model, dev, accelerator=accelerator))
        row = {"model": name, "accuracy": acc, "train_seconds": train_s}
        for spec in recipes:
            r = run_attack(StudentPipeline(model.eval(), prep.tokenizer, cfg.data.max_length), prep.attack_examples, spec, seed=cfg.attack.seed, progress=False)
            row[f"{spec.name}_accuracy"] = r.metrics.accuracy_under_attack
            row[f"{spec.name}_success"] = r.metrics.success_rate
        print(row, flush=True)
        return row

    rows = [measure(f"teacher ({cfg.teacher.model}, {prep.teacher_metrics['params'] / 1e6:.1f}M)", prep.teacher, None)]
    for strategy in strategies(cfg.kd):  # exactly what was prepared
        student, fitted = distill_student(genome, cfg, prep, accelerator=accelerator, seed=cfg.seed, strategy=strategy, progress=False)
        rows.append(measure(f"student, {strategy}", student, fitted.seconds))

    Path(args.out).write_text(json.dumps({"study": cfg.name, "date": time.strftime("%Y-%m-%d"), "genome": genome.describe(), "train_examples": cfg.kd.max_train_examples, "rows": rows}, indent=2))
    a, b = (r.name for r in recipes)
    body = [[r["model"], f"{r['accuracy']:.1%}", f"{r[f'{a}_accuracy']:.1%}", f"{r[f'{b}_accuracy']:.1%}",
             "—" if r["train_seconds"] is None else f"{r['train_seconds']:.0f} s"] for r in rows]
    print("\n" + format_table(["model", "clean accuracy", f"under {a}", f"under {b}", "training time"], body, style="markdown"))


if __name__ == "__main__":
    main()
