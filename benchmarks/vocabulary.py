"""The task's vocabulary on the demo's hand-designed students: size, clean accuracy, robustness.

Each genome baseline of the study (configs/baselines/dag.yaml: four cells without an input stage,
three with word recognition) is distilled once with the full vocabulary and once per reduced rule
(--rules), with the same seed, data and KD, and measured on the study's evaluation set under every
offline recipe (DeepWordBug, Pruthi, PWWS where WordNet is installed). Each reduced student is
compared with its full-vocabulary twin on the same examples: exact McNemar on the dev examples
(clean) and on the attacked ones, with 95% Wilson intervals for every figure.

    python benchmarks/vocabulary.py [--study demo] [--rules seen:2 top:5000] [--backoff nearest]
        [--baselines transformer-s ...] [--runs-dir runs] [--out benchmarks/vocabulary.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace
from pathlib import Path

from rosearch.attack.resources import import_textattack, missing_for
from rosearch.config import RecipeConfig, load_study
from rosearch.config.schema import strategies
from rosearch.kd.distill import distill_student
from rosearch.search.evaluate import measure_student
from rosearch.search.evaluations import summary
from rosearch.session import make_accelerator, prepare_study, quiet_libraries
from rosearch.stats import format_ci, mcnemar
from rosearch.student.genome import Genome
from rosearch.table import format_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--rules", nargs="+", default=["seen:2"], help="reduced vocabularies, each against the full one")
    parser.add_argument("--backoff", default="nearest", choices=["nearest", "unk"])
    parser.add_argument("--baselines", nargs="*", help="names of the study's genome baselines (default: all)")
    parser.add_argument("--runs-dir", help="the runs folder whose prepare cache to use (default: the study's)")
    parser.add_argument("--out", default="benchmarks/vocabulary.json")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    quiet_libraries()
    import torch

    torch.set_num_threads(args.threads)
    base = load_study(args.study, overrides={"runs_dir": args.runs_dir} if args.runs_dir else None)
    baselines = [b for b in base.baselines if b.genome is not None and (not args.baselines or b.name in args.baselines)]
    stages = sorted({Genome.from_dict(b.genome).input_stage for b in baselines}, key=lambda s: s != "none")
    cfg = replace(base, space=replace(base.space, vocabularies=["full", *args.rules], vocabulary_backoff=args.backoff,
                                      input_stages=stages), baselines=[])
    accelerator = make_accelerator(cfg)
    start = time.perf_counter()
    prep = prepare_study(cfg, accelerator, progress=False)
    print(f"prepare: {time.perf_counter() - start:.0f} s; evaluation set {len(prep.eval_examples)} examples; "
          + ", ".join(f"{rule}: {prep.vocabulary(rule).size:,} pieces" for rule in args.rules), flush=True)
    import_textattack()
    recipes = [RecipeConfig(name=n) for n in ("deepwordbug", "pruthi", "pwws") if not missing_for(n)]
    strategy = strategies(cfg.kd)[0]  # the study's (first) KD strategy

    rows = []
    for i, b in enumerate(baselines):
        genome = Genome.from_dict(b.genome)
        for rule in ["full", *args.rules]:
            t0 = time.perf_counter()
            # the seed a demo trial of this baseline trains with (baseline i is trial i)
            student, fitted = distill_student(replace(genome, vocabulary=rule), cfg, prep, accelerator=accelerator, seed=cfg.seed + i,
                                              strategy=strategy, progress=False)
            pipeline = prep.pipeline(student, genome.input_stage, max_length=cfg.data.max_length)
            m = measure_student(pipeline, cfg, prep, accelerator=accelerator, recipes=recipes, examples=prep.eval_examples, progress=False)
            rows.append({"baseline": b.name, "vocabulary": rule, "seconds": time.perf_counter() - t0, "train_seconds": fitted.seconds,
                         "metrics": m.metrics, "dev_correct": m.correct["dev"],
                         "attacks": {k: {**r.metrics.to_dict(), "held": r.held()} for k, r in m.attacks.items()}})
            print(b.name, rule, f"{m.metrics['params'] / 1e6:.2f}M", f"{m.metrics['accuracy']:.3f}",
                  {k: v["accuracy_under_attack"] for k, v in rows[-1]["attacks"].items()}, f"{rows[-1]['seconds']:.0f} s", flush=True)

    full = {r["baseline"]: r for r in rows if r["vocabulary"] == "full"}
    for r in rows:
        twin = full[r["baseline"]]
        if r is not twin:
            r["versus_full"] = {"clean": mcnemar(r["dev_correct"], twin["dev_correct"]).to_dict(),
                                **{k: mcnemar(r["attacks"][k]["held"], twin["attacks"][k]["held"]).to_dict() for k in r["attacks"]}}
    record = {"study": cfg.name, "rules": args.rules, "backoff": args.backoff, "strategy": strategy, "date": time.strftime("%Y-%m-%d"),
              "machine": f"{platform.machine()}, torch threads {args.threads}", "n_eval": len(prep.eval_examples), "n_dev": len(prep.splits["dev"]),
              "vocabulary_sizes": {rule: prep.vocabulary(rule).size for rule in args.rules}, "tokenizer_size": len(prep.tokenizer),
              "rows": [{**{k: v for k, v in r.items() if k != "dev_correct"},
                        "attacks": {k: summary(v) for k, v in r["attacks"].items()}} for r in rows]}
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
    print("\n" + format_table(*table(record), style="markdown"))


def table(record: dict) -> tuple[list[str], list[list[str]]]:
    """The markdown table of a stored record: each reduced student's Δ against its full twin."""
    names = list(record["rows"][0]["attacks"])
    header = ["baseline", "vocabulary", "params", "non-embedding", "compression", "clean (dev) [Δ, p]", *(f"under {n} [Δ, p]" for n in names)]

    def cell(value: float, ci, versus: dict | None) -> str:  # noqa: ANN001
        return format_ci(value, ci) + ("" if versus is None else f" ({100 * versus['difference']:+.1f}, p={versus['p_value']:.2g})")

    body = []
    for r in record["rows"]:
        m, v = r["metrics"], r.get("versus_full")
        body.append([r["baseline"], r["vocabulary"], f"{m['params'] / 1e6:.2f}M", f"{m['non_embedding_params'] / 1e6:.2f}M", f"{m['compression']:.1f}×",
                     cell(m["accuracy"], m.get("accuracy_ci"), v and v["clean"]),
                     *(cell(r["attacks"][n]["accuracy_under_attack"], r["attacks"][n]["under_attack_ci"], v and v[n]) for n in names)])
    return header, body


if __name__ == "__main__":
    main()
