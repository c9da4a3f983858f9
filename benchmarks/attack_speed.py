"""Attack speed and agreement, measured in one run on a study's fixed attack subset.

1. Each offline recipe on the teacher and on a typical student: examples/s, queries/s, metrics.
2. Where the time goes, on DeepWordBug: TextAttack's stock HuggingFaceModelWrapper (pads every
   query to the tokenizer's model_max_length) at torch's default threads and at 1 thread, against
   our dynamic-padding wrapper at 1 thread — same model, same examples, same recipe; the success
   rates must agree (padding-invariant models give identical predictions).

    python benchmarks/attack_speed.py --study demo [--out benchmarks/attack_speed.json]
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import torch

from rosearch.attack.resources import import_textattack, missing_for
from rosearch.attack.run import run_attack
from rosearch.config import RecipeConfig
from rosearch.kd.distill import distill_student
from rosearch.student.pipeline import StudentPipeline
from rosearch.table import format_table

from _common import prepared_study  # noqa: E402 - benchmarks/ is the script's folder
from trial_time import GENOMES  # noqa: E402 - the same typical student as the trial-time benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--out", default="benchmarks/attack_speed.json")
    parser.add_argument("--parts", default="rows,variants", help="rows (recipes × models) and/or variants (wrapper comparison)")
    parser.add_argument("--models", default="teacher,student")
    args = parser.parse_args()
    cfg, prep, _, accelerator = prepared_study(args.study)
    default_threads = torch.get_num_threads()
    student, fit = distill_student(GENOMES["mid (attn+ffn)"], cfg, prep, accelerator=accelerator, seed=cfg.seed, progress=False)
    models = {"teacher (MiniLM-L6, 22.7M)": prep.teacher, "student (mid, 4.3M)": student}  # where the accelerator put them
    models = {k: v for k, v in models.items() if k.split()[0] in args.models.split(",")}
    parts = args.parts.split(",")
    examples, L = prep.attack_examples, cfg.data.max_length

    recipes = [r for r in ("deepwordbug", "pruthi", "pwws") if not missing_for(r)]
    rows = []
    for model_name, model in (models.items() if "rows" in parts else ()):
        for recipe in recipes:
            r = run_attack(StudentPipeline(model, prep.tokenizer, L), examples, RecipeConfig(name=recipe), seed=0, progress=False)
            rows.append({"model": model_name, "recipe": recipe, "seconds": r.seconds, "examples_per_s": r.examples_per_second, "queries_per_s": r.queries_per_second, **r.metrics.to_dict()})
            print(rows[-1], flush=True)

    textattack = import_textattack()
    variants = []
    for model_name, model in (models.items() if "variants" in parts else ()):
        # The stock wrapper pads every query to tokenizer.model_max_length (512 here): more than a
        # student's position table holds (data.max_length), so for students it gets that length.
        tokenizer = copy.copy(prep.tokenizer)
        if model_name.startswith("student"):
            tokenizer.model_max_length = L
        for label, wrapper_kind, threads in (("TextAttack wrapper, default threads", "stock", default_threads), ("TextAttack wrapper, 1 thread", "stock", 1), ("ours (dynamic padding), 1 thread", "ours", 1)):
            wrapper = textattack.models.wrappers.HuggingFaceModelWrapper(model, tokenizer) if wrapper_kind == "stock" else None
            r = run_attack(StudentPipeline(model, prep.tokenizer, L), examples, RecipeConfig(name="deepwordbug"), seed=0, progress=False, wrapper=wrapper, threads=threads)
            variants.append({"model": model_name, "variant": label, "padded_to": tokenizer.model_max_length if wrapper_kind == "stock" else "longest in batch", "seconds": r.seconds, "queries_per_s": r.queries_per_second, "success_rate": r.metrics.success_rate, "accuracy_under_attack": r.metrics.accuracy_under_attack})
            print(variants[-1], flush=True)

    record = {"study": cfg.name, "date": time.strftime("%Y-%m-%d"), "tokenizer_model_max_length": prep.tokenizer.model_max_length, "examples": len(examples),
              "student_train_seconds": fit.seconds, "rows": rows, "variants": variants}
    Path(args.out).write_text(json.dumps(record, indent=2))
    print("\n" + format_table(
        ["model", "recipe", "examples/s", "queries/s", "success rate", "accuracy under attack", "words perturbed", "queries/example"],
        [[r["model"], r["recipe"], f"{r['examples_per_s']:.2f}", f"{r['queries_per_s']:.0f}", f"{r['success_rate']:.1%}",
          f"{r['accuracy_under_attack']:.1%}", f"{r['avg_perturbed_share']:.1%}", f"{r['avg_queries']:.1f}"] for r in rows], style="markdown"))
    print("\n" + format_table(
        ["model", "DeepWordBug run", "padded to", "seconds", "queries/s", "success rate", "accuracy under attack"],
        [[v["model"], v["variant"], str(v["padded_to"]), f"{v['seconds']:.1f}", f"{v['queries_per_s']:.0f}", f"{v['success_rate']:.1%}",
          f"{v['accuracy_under_attack']:.1%}"] for v in variants], style="markdown"))
    print(f"\nstudent KD training in this run: {fit.seconds:.1f} s")


if __name__ == "__main__":
    main()
