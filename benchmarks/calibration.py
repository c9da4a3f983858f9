"""Robustness that is not over-confidence: each student's calibration, and its accuracy under
attack again after temperature scaling, on the demo's hand-designed students.

Each named genome baseline is distilled with its demo-trial seed and measured as an export is
(`measure_student(..., calibrated=True)`): expected calibration error on dev (15 equal-width bins),
the temperature fitted on dev (NLL), the ECE after it, and on the study's evaluation set every
offline recipe twice — on the student's logits and on its logits over the fitted temperature
(which changes no prediction, only the confidence a score-based attack reads). The two attacks of
a student are compared on the same examples (exact McNemar).

    python benchmarks/calibration.py [--study demo] [--baselines transformer-s textcnn transformer-s-rec]
        [--runs-dir runs] [--out benchmarks/calibration.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from _common import baseline_students, runnable_recipes  # noqa: E402 - benchmarks/ is the script's folder
from rosearch.config import load_study
from rosearch.config.schema import strategies
from rosearch.search.evaluate import measure_student
from rosearch.search.evaluations import summary
from rosearch.session import make_accelerator, prepare_study, quiet_libraries
from rosearch.stats import format_ci, mcnemar
from rosearch.table import format_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--baselines", nargs="+", default=["transformer-s", "textcnn", "transformer-s-rec"])
    parser.add_argument("--runs-dir", help="the runs folder whose prepare cache to use (default: the study's)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/calibration.json")
    args = parser.parse_args()
    quiet_libraries()
    torch.set_num_threads(args.threads)
    cfg = load_study(args.study, overrides={"runs_dir": args.runs_dir} if args.runs_dir else None)
    accelerator = make_accelerator(cfg)
    prep = prepare_study(cfg, accelerator, progress=False)
    recipes = runnable_recipes(("deepwordbug", "pruthi", "pwws"))

    rows = []
    t0 = time.perf_counter()
    for name, genome, student in baseline_students(cfg, prep, accelerator, args.baselines):
        pipeline = prep.pipeline(student, genome.input_stage, max_length=cfg.data.max_length)
        m = measure_student(pipeline, cfg, prep, accelerator=accelerator, recipes=recipes, examples=prep.eval_examples, progress=False, calibrated=True)
        rows.append({"baseline": name, "metrics": m.metrics, "seconds": time.perf_counter() - t0,
                     "attacks": {k: summary({**r.metrics.to_dict(), "held": r.held()}) for k, r in m.attacks.items()},
                     "calibrated": {k: summary({**r.metrics.to_dict(), "held": r.held()}) for k, r in m.calibrated.items()},
                     "versus": {k: mcnemar(m.calibrated[k].held(), m.attacks[k].held()).to_dict() for k in m.attacks}})
        print(name, f"ECE {m.metrics['ece']:.3f} → {m.metrics['ece_calibrated']:.3f} at T {m.metrics['temperature']:.2f}",
              {k: (round(r.metrics.accuracy_under_attack, 3), round(m.calibrated[k].metrics.accuracy_under_attack, 3)) for k, r in m.attacks.items()},
              f"{rows[-1]['seconds']:.0f} s", flush=True)
        t0 = time.perf_counter()  # the next student's distillation counts in its seconds
    record = {"study": cfg.name, "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, torch threads {args.threads}",
              "n_eval": len(prep.eval_examples), "n_dev": len(prep.splits["dev"]), "bins": 15, "strategy": strategies(cfg.kd)[0], "rows": rows}
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print("\n" + format_table(*table(record), style="markdown"))


def table(record: dict) -> tuple[list[str], list[list[str]]]:
    """The markdown table of a stored record: each recipe at T = 1 and at the fitted T (Δ, p)."""
    names = list(record["rows"][0]["attacks"])
    header = ["baseline", "clean (dev)", "ECE (dev)", "T", "ECE at T", *(f"{n}: T = 1 → fitted T [Δ, p]" for n in names)]
    body = []
    for r in record["rows"]:
        m = r["metrics"]
        body.append([r["baseline"], format_ci(m["accuracy"], m["accuracy_ci"]), f"{m['ece']:.3f}", f"{m['temperature']:.2f}", f"{m['ece_calibrated']:.3f}",
                     *(f"{format_ci(r['attacks'][n]['accuracy_under_attack'], r['attacks'][n]['under_attack_ci'])} → "
                       f"{format_ci(r['calibrated'][n]['accuracy_under_attack'], r['calibrated'][n]['under_attack_ci'])} "
                       f"({100 * r['versus'][n]['difference']:+.1f}, p={r['versus'][n]['p_value']:.2g})" for n in names)])
    return header, body


if __name__ == "__main__":
    main()
