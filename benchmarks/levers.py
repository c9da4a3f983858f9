"""The robustness levers on one hand-designed student, on the demo data — one run.

The demo's Transformer-like baseline cell (transformer-m, 4.3M parameters) is distilled with
{vanilla, consistency} KD (or --strategies) × {no input stage, word recognition}: four students, same data, seed and
budget. Each is measured on the study's evaluation set (500 dev examples the teacher gets right,
disjoint from the in-trial subset) under every offline recipe — DeepWordBug, Pruthi, PWWS — with
95% Wilson intervals, and compared with the plain student on the same examples (exact McNemar).
With --teacher the teacher is attacked on the same examples for reference (slow on a CPU: its
22.7M parameters make each query about ten times a student's).

    python benchmarks/levers.py [--study demo] [--out benchmarks/levers.json] [--teacher]
    python benchmarks/levers.py --strategies vanilla a2t --out benchmarks/levers_a2t.json
    python benchmarks/levers.py --strategies vanilla consistency --stages none \
        --set kd.consistency.kinds=[synonym] kd.consistency.word_share=0.4 --out benchmarks/levers_synonyms.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace
from pathlib import Path

import yaml

from rosearch.attack.resources import import_textattack, missing_for
from rosearch.session import make_accelerator, prepare_study, quiet_libraries
from rosearch.config import RecipeConfig, load_study, project_root
from rosearch.config.schema import BaselineConfig
from rosearch.kd.distill import distill_student
from rosearch.search.evaluate import measure_student
from rosearch.stats import format_ci, mcnemar
from rosearch.student.genome import Genome
from rosearch.table import format_table
from rosearch.search.evaluations import summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--baseline", default="transformer-m")
    parser.add_argument("--out", default="benchmarks/levers.json")
    parser.add_argument("--teacher", action="store_true", help="attack the teacher on the same examples too")
    parser.add_argument("--strategies", nargs="+", default=["vanilla", "consistency"], help="KD strategies (the first is the plain one)")
    parser.add_argument("--stages", nargs="+", default=["none", "recognizer"], help="input stages each strategy is tried with")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="study settings for every student, e.g. kd.consistency.word_share=0.4 (values read as YAML)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    quiet_libraries()
    import torch

    torch.set_num_threads(args.threads)
    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set {item!r}: give KEY=VALUE")
        overrides[key] = yaml.safe_load(value)
    cfg = load_study(args.study, overrides=overrides)
    cfg = replace(cfg, kd=replace(cfg.kd, strategy=list(args.strategies)),
                  space=replace(cfg.space, input_stages=list(args.stages)),  # prepare builds the recogniser only when asked
                  baselines=[])  # the search's baselines are not trained here (and some fall outside a stage-less space)
    baselines = [BaselineConfig(**b) for b in yaml.safe_load((project_root() / "configs/baselines/dag.yaml").read_text())]
    genome = Genome.from_dict(next(b.genome for b in baselines if b.name == args.baseline))
    accelerator = make_accelerator(cfg)
    start = time.perf_counter()
    prep = prepare_study(cfg, accelerator, progress=False)
    print(f"prepare: {time.perf_counter() - start:.0f} s; evaluation set {len(prep.eval_examples)} examples", flush=True)
    import_textattack()
    recipes = [RecipeConfig(name=n) for n in ("deepwordbug", "pruthi", "pwws") if not missing_for(n)]

    rows = []
    if args.teacher:
        teacher = measure_student(prep.pipeline(prep.teacher, "none", max_length=cfg.data.max_length), cfg, prep, accelerator=accelerator, recipes=recipes, examples=prep.eval_examples, progress=False)
        rows.append({"model": "teacher", "strategy": "-", "stage": "none", "seconds": 0.0, "metrics": teacher.metrics,
                     "attacks": {k: {**r.metrics.to_dict(), "held": r.held()} for k, r in teacher.attacks.items()}})
        print(rows[-1]["model"], {k: v["accuracy_under_attack"] for k, v in rows[-1]["attacks"].items()}, flush=True)
    for strategy in args.strategies:
        for stage in args.stages:
            t0 = time.perf_counter()
            student, fitted = distill_student(replace(genome, input_stage=stage), cfg, prep, accelerator=accelerator, seed=cfg.seed,
                                              strategy=strategy, progress=False)
            measured = measure_student(prep.pipeline(student, stage, max_length=cfg.data.max_length), cfg, prep, accelerator=accelerator,
                                       recipes=recipes, examples=prep.eval_examples, progress=False)
            rows.append({"model": args.baseline, "strategy": strategy, "stage": stage, "train_seconds": fitted.seconds, "training": fitted.details,
                         "seconds": time.perf_counter() - t0, "metrics": measured.metrics,
                         "attacks": {k: {**r.metrics.to_dict(), "held": r.held()} for k, r in measured.attacks.items()}})
            print(strategy, stage, f"{measured.metrics['accuracy']:.3f}", {k: v["accuracy_under_attack"] for k, v in rows[-1]["attacks"].items()}, flush=True)

    plain = next(r for r in rows if r["model"] != "teacher")
    # and the first strategy's student with the same input stage: what the strategy adds to the stage
    same_stage = {r["stage"]: r for r in reversed(rows) if r["strategy"] == args.strategies[0]}
    for row in rows:
        row["versus_plain"] = {k: mcnemar(row["attacks"][k]["held"], plain["attacks"][k]["held"]).to_dict() for k in row["attacks"]}
        base = same_stage.get(row["stage"])
        if base is not None and base is not row and row["model"] != "teacher":
            row["versus_same_stage"] = {k: mcnemar(row["attacks"][k]["held"], base["attacks"][k]["held"]).to_dict() for k in row["attacks"]}
    record = {"study": cfg.name, "settings": overrides, "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, torch threads {args.threads}",
              "genome": genome.describe(), "n_eval": len(prep.eval_examples), "n_dev": len(prep.splits["dev"]),
              "rows": [{**r, "attacks": {k: summary(v) for k, v in r["attacks"].items()}} for r in rows]}
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n")

    names = [r.name for r in recipes]
    table = []
    for r in rows:
        m = r["metrics"]
        cells = []
        for n in names:
            a, v = r["attacks"][n], r["versus_plain"][n]
            cells.append(f"{format_ci(a['accuracy_under_attack'], a['under_attack_ci'])}" + ("" if r is plain or r["model"] == "teacher"
                         else f" ({100 * v['difference']:+.1f}, p={v['p_value']:.2g})"))
        train = "–" if r["model"] == "teacher" else f"{r['train_seconds']:.0f}"
        table.append([r["model"], r["strategy"], r["stage"], format_ci(m["accuracy"], m.get("accuracy_ci")), *cells, train])
    print("\n" + format_table(["model", "KD", "input stage", "clean accuracy (dev)", *(f"under {n} (Δ vs plain, p)" for n in names), "train s"],
                              table, style="markdown"))
    print(f"\nEach strategy against {args.strategies[0]} with the same input stage (Δ points, exact McNemar p):")
    for r in rows:
        if "versus_same_stage" in r:
            print(f"- {r['strategy']}, stage {r['stage']}: " + "; ".join(
                f"{n} {100 * r['versus_same_stage'][n]['difference']:+.1f} (p={r['versus_same_stage'][n]['p_value']:.2g})" for n in names))


if __name__ == "__main__":
    main()
