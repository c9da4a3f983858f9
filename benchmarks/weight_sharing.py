"""Does a weight-sharing supernet rank candidates as their full figures do? Kendall τ and candidates per hour, on the demo.

The genomes and their full figures are those of benchmarks/fidelity.py's record (--fidelity: 30
random demo genomes, each distilled in full with its trial seed; clean dev accuracy and accuracy
under the search recipe on its 300 examples). Here one supernet over the demo's space is distilled
once (rosearch.search.weight_sharing: --supernet-epochs passes; --rule uniform: one path drawn
uniformly a step, --rule sandwich: the widest, the narrowest and one drawn path a step),
and each genome is estimated from it: its student with the inherited weights, measured as a trial
is (clean dev accuracy; the search recipe on the 100-example in-trial subset), and with
--finetune-epochs the same student distilled further that long from those weights. Kendall's τ-b
against the full figures across genomes, with a bootstrap 95% interval over genomes, overall and
within each input stage (the stage gene alone splits the attack figures in two); candidates an
hour: the supernet's distillation shared over --candidates candidates, plus each estimate.

    python benchmarks/weight_sharing.py [--study demo] [--fidelity benchmarks/fidelity.json]
        [--supernet-epochs 3] [--rule uniform|sandwich] [--finetune-epochs 0.125] [--runs-dir runs] [--out benchmarks/weight_sharing.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import optuna
import torch

from fidelity import decode, tau  # noqa: E402 - benchmarks/ is the script's folder
from rosearch.config import load_study
from rosearch.search.weight_sharing import RULES, estimate, train_supernet
from rosearch.session import make_accelerator, prepare_study, quiet_libraries
from rosearch.student.genome import Genome
from rosearch.table import format_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--fidelity", default="benchmarks/fidelity.json", help="fidelity.py's record: the genomes and their full figures")
    parser.add_argument("--supernet-epochs", type=float, default=3.0)
    parser.add_argument("--rule", choices=RULES, default="uniform", help="the paths each supernet step trains")
    parser.add_argument("--finetune-epochs", type=float, nargs="*", default=[0.125], help="also estimate after this much more distillation (each)")
    parser.add_argument("--candidates", type=int, default=100, help="candidates the supernet's cost is shared over in the candidates-an-hour figure")
    parser.add_argument("--runs-dir", help="the runs folder whose prepare cache to use (default: the study's)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/weight_sharing.json")
    args = parser.parse_args()
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(args.threads)
    cfg = load_study(args.study, overrides={"runs_dir": args.runs_dir} if args.runs_dir else None)
    accelerator = make_accelerator(cfg)
    prep = prepare_study(cfg, accelerator, progress=False)
    reference = decode(json.loads(Path(args.fidelity).read_text()))
    assert reference["n_dev"] == len(prep.splits["dev"]) and reference["n_in_trial"] == len(prep.attack_examples), \
        "the fidelity record was measured on another dev split or in-trial subset"

    net, fitted = train_supernet(cfg, prep, accelerator=accelerator, seed=cfg.seed, epochs=args.supernet_epochs, rule=args.rule,
                                 progress=False)
    print(f"supernet: {sum(p.numel() for p in net.parameters()):,} parameters, {fitted.steps} steps "
          f"({fitted.details['distinct_paths']} distinct paths) in {fitted.seconds:.0f} s", flush=True)
    rows = []
    for i, g in enumerate(reference["genomes"]):
        genome = Genome.from_dict(g["genome"])
        row = {"genome": g["genome"], "input_stage": genome.input_stage, "estimates": {}}
        for epochs in [0.0, *args.finetune_epochs]:
            t0 = time.perf_counter()
            _, m, trained = estimate(net, genome, cfg, prep, accelerator=accelerator, seed=g["seed"], finetune_epochs=epochs)
            row["estimates"][str(epochs)] = {"accuracy": m.metrics["accuracy"], "held": m.attacks[cfg.attack.recipe.name].held(),
                                             "train_seconds": trained, "seconds": time.perf_counter() - t0}
        rows.append(row)
        print(f"{i:2d} " + "  ".join(f"+{e}: {x['accuracy']:.3f}/{np.mean(x['held']):.2f} {x['seconds']:.1f} s" for e, x in row["estimates"].items())
              + f"  full {g['full']['accuracy']:.3f}/{np.mean(g['full']['held'] + g['full']['held_more']):.2f}  {genome.describe()[:60]}", flush=True)

    record = {"study": cfg.name, "date": time.strftime("%Y-%m-%d"), "recipe": cfg.attack.recipe.name,
              "machine": f"{platform.machine()}, 2 cores, torch {torch.__version__}, {args.threads} thread(s)",
              "supernet": {"epochs": args.supernet_epochs, "rule": args.rule, "steps": fitted.steps, "seconds": fitted.seconds,
                           "params": sum(p.numel() for p in net.parameters()), "paths": fitted.details["paths"],
                           "distinct_paths": fitted.details["distinct_paths"]},
              "candidates": args.candidates, "n_dev": reference["n_dev"], "n_in_trial": reference["n_in_trial"],
              "n_full_attack": reference["n_full_attack"], "full_seconds": float(np.mean([g["full"]["seconds"] for g in reference["genomes"]])),
              "summary": summarise(rows, reference, args.candidates, fitted.seconds),
              "genomes": [{**r, "estimates": {e: {**x, "held": "".join("1" if h else "0" for h in x["held"])} for e, x in r["estimates"].items()}}
                          for r in rows]}
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print_table(record)


def summarise(rows: list[dict], reference: dict, candidates: int, supernet_seconds: float) -> list[dict]:
    """One row per estimate: τ against the full figures (all genomes, and within each input stage),
    seconds a candidate with the supernet's cost shared over `candidates`, and the speed-up over a
    full trial."""
    full = reference["genomes"]
    full_acc = np.array([g["full"]["accuracy"] for g in full])
    full_rob = np.array([np.mean(g["full"]["held"] + g["full"]["held_more"]) for g in full])
    stages = np.array([r["input_stage"] for r in rows])
    today = float(np.mean([g["full"]["seconds"] for g in full]))
    out = []
    for e in rows[0]["estimates"]:
        acc = np.array([r["estimates"][e]["accuracy"] for r in rows])
        rob = np.array([np.mean(r["estimates"][e]["held"]) for r in rows])
        seconds = supernet_seconds / candidates + float(np.mean([r["estimates"][e]["seconds"] for r in rows]))
        within = {s: tau(rob[stages == s], full_rob[stages == s]) for s in sorted(set(stages)) if (stages == s).sum() >= 5}
        out.append({"estimate": f"inherited + {float(e):g} epoch", "accuracy_tau": tau(acc, full_acc), "attack_tau": tau(rob, full_rob),
                    "attack_tau_within_stage": within, "accuracy_tau_within_stage":
                    {s: tau(acc[stages == s], full_acc[stages == s]) for s in within},
                    "seconds": seconds, "per_hour": 3600 / seconds, "speedup": today / seconds})
    return out


def print_table(record: dict) -> None:
    def cell(t: dict) -> str:
        return f"{t['tau']:.2f} [{t['ci'][0]:.2f}, {t['ci'][1]:.2f}]"

    s = record["supernet"]
    print(f"\n{len(record['genomes'])} demo genomes (benchmarks/fidelity.json); supernet: {s['epochs']:g} epoch(s), "
          f"{s['rule']} paths, {s['seconds']:.0f} s, "
          f"shared over {record['candidates']} candidates; full trial {record['full_seconds']:.1f} s")
    print(format_table(["estimate", "τ clean accuracy", "τ under attack", *(f"τ under attack, stage {k}" for k in record["summary"][0]["attack_tau_within_stage"]),
                        "s per candidate", "candidates / hour", "× today"],
                       [[r["estimate"], cell(r["accuracy_tau"]), cell(r["attack_tau"]), *(cell(t) for t in r["attack_tau_within_stage"].values()),
                         f"{r['seconds']:.1f}", f"{r['per_hour']:.0f}", f"{r['speedup']:.1f}×"] for r in record["summary"]], style="markdown"))


if __name__ == "__main__":
    main()
