"""Where a trial's time goes, and what cached teacher logits save — measured in one run.

For each genome below, on the study's prepared data and teacher (built or read from the cache):
  1. a full trial exactly as `optimize` runs it (evaluate_genome): KD training from cached teacher
     logits, dev evaluation, attack, everything else;
  2. the same student, same seed, trained with the teacher run at every step (online logits).
Prints a markdown table for benchmarks/RESULTS.md and writes the numbers as JSON.

    python benchmarks/trial_time.py --study demo [--out benchmarks/trial_time.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from rosearch.attack.resources import import_textattack
from rosearch.kd.distill import distill_student
from rosearch.search.evaluate import evaluate_genome
from rosearch.search.genome import Genome, Node
from rosearch.table import format_table

from _common import prepared_study  # noqa: E402 - benchmarks/ is the script's folder

GENOMES = {
    "small (conv)": Genome(64, 64, 1, (Node((0, 1), ("conv3", "skip")), Node((1, 2), ("maxpool3", "conv5")), Node((2, 3), ("skip", "dilconv3")))),
    "mid (attn+ffn)": Genome(
        128, 128, 2,
        (Node((1, 0), ("attention", "conv3")), Node((2, 1), ("ffn", "skip")), Node((3, 2), ("conv5", "maxpool3"))),
        n_heads=4, ffn_multiplier=2,
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--out", default="benchmarks/trial_time.json")
    args = parser.parse_args()
    cfg, prep, prepare_s, accelerator = prepared_study(args.study)
    import_textattack()  # as optimize does: once, before the trials

    rows = []
    for name, genome in GENOMES.items():
        result = evaluate_genome(genome, cfg, prep, accelerator=accelerator, seed=cfg.seed, progress=False)
        _, online = distill_student(genome, cfg, prep, accelerator=accelerator, seed=cfg.seed, progress=False, teacher_logits="online")
        rows.append({
            "genome": name, "architecture": genome.describe(), **{f"t_{k}": v for k, v in result.timings.items()},
            "t_train_online": online.seconds, "steps": result.fit.steps,
            "speedup_cached": online.seconds / result.fit.seconds, **result.metrics,
        })
        print(f"{name}: {rows[-1]}", flush=True)

    record = {
        "study": cfg.name, "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads",
        "prepare_seconds_this_run": prepare_s, "teacher": prep.teacher_metrics, "train_examples": len(prep.splits["train"]),
        "attack_examples": len(prep.attack_examples), "rows": rows,
    }
    Path(args.out).write_text(json.dumps(record, indent=2))
    print(f"\nteacher: dev accuracy {prep.teacher_metrics['dev_accuracy']:.1%}, fine-tune {prep.teacher_metrics['finetune_seconds'] or 0:.0f} s, logits on train/dev/test {prep.teacher_metrics['logits_seconds']:.0f} s\n")
    def share(r: dict, k: str) -> str:
        return f"{r[k]:.1f} s ({r[k] / r['t_total']:.0%})"

    print(format_table(
        ["genome", "params", "accuracy", "under attack", "KD training (cached logits)", "attack", "evaluation", "everything else", "total",
         "KD training (online teacher)", "speed-up of cached logits"],
        [[r["genome"], f"{r['params'] / 1e6:.2f}M", f"{r['accuracy']:.1%}", f"{r['attack_accuracy']:.1%}", share(r, "t_train"), share(r, "t_attack"),
          share(r, "t_evaluate"), share(r, "t_other"), f"{r['t_total']:.1f} s", f"{r['t_train_online']:.1f} s", f"{r['speedup_cached']:.2f}×"]
         for r in rows], style="markdown"))


if __name__ == "__main__":
    main()
