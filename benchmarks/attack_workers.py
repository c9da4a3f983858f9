"""Attacks on every core: the in-trial attack with 1 and 2 worker processes, and a vote's clean
evaluation in dev order against batched by length, on demo genomes with weights from the study's
supernet (the cheap estimate's students).

    python benchmarks/attack_workers.py [--study demo] [--runs-dir R] [--genomes 4] [--out benchmarks/attack_workers.json]

For each of the first --genomes genomes of benchmarks/fidelity.json, behind two input stages (the
recogniser with the normaliser, and the same with synonyms and the vote): the search recipe on the
in-trial subset with attack.workers 1, then 2 (the outcomes must be identical, example by example:
the script stops otherwise), and for the voting pipeline the dev split's logits in dev order,
`eval_batch_size` texts a batch (how the trial evaluated before), against `predict_logits` (batched
by length; both ask each distinct copy once).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import optuna
import torch

from rosearch.attack import run_attack
from rosearch.config import load_study
from rosearch.search.weight_sharing import inherited_student
from rosearch.session import make_accelerator, prepare_study, quiet_libraries
from rosearch.student.genome import Genome
from rosearch.table import format_table

STAGES = ("normalizer+recognizer", "normalizer+fgws+recognizer+vote")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--runs-dir", help="the runs folder whose prepare cache (and supernet) to use")
    parser.add_argument("--fidelity", default="benchmarks/fidelity.json", help="the genomes")
    parser.add_argument("--genomes", type=int, default=4)
    parser.add_argument("--out", default="benchmarks/attack_workers.json")
    args = parser.parse_args()
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cfg = load_study(args.study, overrides={"runs_dir": args.runs_dir} if args.runs_dir else None)
    accelerator = make_accelerator(cfg)
    prep = prepare_study(cfg, accelerator, progress=False)
    assert prep.supernet is not None, "the study has no supernet (search.fidelity.estimate: supernet)"
    genomes = json.loads(Path(args.fidelity).read_text())["genomes"][:args.genomes]
    dev = list(prep.splits["dev"]["text"])
    rows = []
    for g in genomes:
        for stage in STAGES:
            genome = Genome.from_dict({**g["genome"], "input_stage": stage})
            pipeline = prep.pipeline(inherited_student(prep.supernet, genome, cfg, prep), stage, max_length=cfg.data.max_length)
            row = {"genome": g["genome"], "input_stage": stage, "attack_seconds": {}}
            reports = {}
            for workers in (1, 2):
                reports[workers] = run_attack(pipeline, prep.attack_examples, cfg.attack.recipe, seed=cfg.attack.seed,
                                              batch_size=cfg.attack.batch_size, progress=False, workers=workers)
                row["attack_seconds"][workers] = reports[workers].seconds
            if reports[1].records != reports[2].records:
                raise SystemExit(f"{stage}: the attack's outcomes differ between 1 and 2 workers")
            row["held"] = sum(reports[1].held())
            if pipeline.vote is not None:
                b = cfg.kd.eval_batch_size
                t0 = time.perf_counter()
                in_order = torch.cat([pipeline.logits(dev[k:k + b]) for k in range(0, len(dev), b)])
                row["eval_dev_order_seconds"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                by_length = pipeline.predict_logits(dev, batch_size=b)
                row["eval_by_length_seconds"] = time.perf_counter() - t0
                row["eval_same_predictions"] = float((in_order.argmax(-1) == by_length.argmax(-1)).float().mean())
                copies = pipeline.vote.expand([pipeline.preprocess(t) for t in dev])
                row["distinct_copies"] = len(set(copies)) / len(copies)
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "genome"}), flush=True)
    record = {"study": cfg.name, "date": time.strftime("%Y-%m-%d"), "recipe": cfg.attack.recipe.name, "n_attacked": len(prep.attack_examples),
              "n_dev": len(dev), "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}",
              "rows": rows}
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print(format_table(["input stage", "held", "attack, 1 worker (s)", "2 workers (s)", "speed-up", "vote's dev eval, dev order (s)", "by length (s)"],
                       [[r["input_stage"], str(r["held"]), f"{r['attack_seconds'][1]:.1f}", f"{r['attack_seconds'][2]:.1f}",
                         f"{r['attack_seconds'][1] / r['attack_seconds'][2]:.2f}×",
                         f"{r['eval_dev_order_seconds']:.1f}" if "eval_dev_order_seconds" in r else "–",
                         f"{r['eval_by_length_seconds']:.1f}" if "eval_by_length_seconds" in r else "–"] for r in rows], style="markdown"))


if __name__ == "__main__":
    main()
