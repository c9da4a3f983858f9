"""Do cheap estimates rank candidates as their full figures do? Kendall τ and candidates per hour, on the demo.

Over ≥ 30 genomes drawn at random from the demo's space (as NSGA-II's first generation draws them),
each student is distilled as a multi-fidelity trial would be: a cheap estimate for each of
--cheap-epochs (a distillation of that many passes, its whole schedule fitted to them, attacked on
the 100-example in-trial subset), and in full (kd.epochs, attacked on the in-trial subset — today's
trial — and on the promoted students' further examples, search.fidelity.attack_examples in all).
It reports Kendall's τ between each cheap figure and the full one across genomes, for clean dev
accuracy and for accuracy under the search recipe (full: on all the promoted examples), with a
bootstrap 95% interval over genomes; τ between today's 100-example figure and the full one, for
comparison; and the candidates an hour of this machine evaluates at each fidelity.

Genomes are written to --out as they finish; a rerun continues where the last one stopped.

    python benchmarks/fidelity.py [--study demo] [--genomes 30] [--cheap-epochs 0.125 0.25] [--runs-dir runs]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import optuna
import torch
from scipy import stats

from rosearch.attack import run_attack
from rosearch.config import load_study
from rosearch.search.evaluate import evaluate_genome
from rosearch.search.genome import random_genomes as draw_genomes
from rosearch.session import make_accelerator, prepare_study, quiet_libraries
from rosearch.student.genome import Genome
from rosearch.table import format_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--genomes", type=int, default=30)
    parser.add_argument("--cheap-epochs", type=float, nargs="+", default=[0.125, 0.25])
    parser.add_argument("--attack-examples", type=int, default=300, help="what the full figure attacks (search.fidelity.attack_examples)")
    parser.add_argument("--runs-dir", help="the runs folder whose prepare cache to use (default: the study's)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/fidelity.json")
    args = parser.parse_args()
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(args.threads)
    overrides = {"search.fidelity": {"cheap_epochs": min(args.cheap_epochs), "attack_examples": args.attack_examples}}
    cfg = load_study(args.study, overrides={**overrides, **({"runs_dir": args.runs_dir} if args.runs_dir else {})})
    accelerator = make_accelerator(cfg)
    prep = prepare_study(cfg, accelerator, progress=False)
    out = Path(args.out)
    done = decode(json.loads(out.read_text()))["genomes"] if out.exists() else []

    for i, genome in enumerate(random_genomes(cfg, args.genomes)):
        if i < len(done):
            continue
        seed = cfg.seed + 100 + i  # a trial's seed; apart from the baselines' (trials 0–6)
        row = {"genome": genome.to_dict(), "architecture": genome.describe(), "input_stage": genome.input_stage, "seed": seed, "cheap": {}}
        for epochs in args.cheap_epochs:
            cheap = evaluate_genome(genome, replace(cfg, kd=replace(cfg.kd, epochs=epochs), search=replace(cfg.search, fidelity=None)),
                                    prep, accelerator=accelerator, seed=seed, progress=False)
            row["cheap"][str(epochs)] = {"accuracy": cheap.metrics["accuracy"], "held": cheap.attack.held(), "seconds": cheap.timings["total"]}
        full = evaluate_genome(genome, cfg, prep, accelerator=accelerator, seed=seed, progress=False)  # today's trial: attacked on the in-trial subset
        pipeline = prep.pipeline(full.model, genome.input_stage, max_length=cfg.data.max_length)
        more = run_attack(pipeline, prep.more_attack_examples, cfg.attack.recipe, seed=cfg.attack.seed, batch_size=cfg.attack.batch_size, progress=False)
        row["full"] = {"accuracy": full.metrics["accuracy"], "params": full.metrics["params"], "held": full.attack.held(),
                       "held_more": more.held(), "seconds": full.timings["total"], "more_seconds": more.seconds}
        done.append(row)
        write(out, cfg, args, prep, done)
        print(f"{i:2d} acc full {row['full']['accuracy']:.3f} " + " ".join(f"{e}: {c['accuracy']:.3f}/{np.mean(c['held']):.2f} {c['seconds']:.0f} s"
              for e, c in row["cheap"].items()) + f"  under attack {np.mean(row['full']['held'] + row['full']['held_more']):.2f}  "
              f"{row['full']['seconds']:.0f} s  {genome.describe()[:70]}", flush=True)
    print_table(decode(json.loads(out.read_text())))


def random_genomes(cfg, count: int) -> list[Genome]:  # noqa: ANN001
    """`count` distinct genomes drawn from the study's space by Optuna's random sampler (seeded)."""
    picked: list[Genome] = []
    for genome in draw_genomes(cfg.space, cfg.seed):
        if len(picked) == count:
            return picked
        if genome not in picked:
            picked.append(genome)
    raise AssertionError("unreachable: the draws never end")


def write(out: Path, cfg, args, prep, genomes: list[dict]) -> None:  # noqa: ANN001
    """The record, each per-example outcome list as a string of 0/1 (one line a genome)."""
    def bits(held: list[bool]) -> str:
        return "".join("1" if h else "0" for h in held)

    encoded = [{**g, "cheap": {e: {**c, "held": bits(c["held"])} for e, c in g["cheap"].items()},
                "full": {**g["full"], "held": bits(g["full"]["held"]), "held_more": bits(g["full"]["held_more"])}} for g in genomes]
    record = {"study": cfg.name, "date": time.strftime("%Y-%m-%d"), "recipe": cfg.attack.recipe.name,
              "machine": f"{platform.machine()}, 2 cores, torch {torch.__version__}, {args.threads} thread(s)",
              "kd_epochs": cfg.kd.epochs, "cheap_epochs": args.cheap_epochs, "n_in_trial": len(prep.attack_examples),
              "n_full_attack": len(prep.attack_examples) + len(prep.more_attack_examples), "n_dev": len(prep.splits["dev"]),
              "min_accuracy": cfg.search.min_accuracy}
    lines = ",\n".join("  " + json.dumps(g) for g in encoded)
    out.write_text(json.dumps(record, indent=1)[:-2] + ',\n "genomes": [\n' + lines + "\n ]\n}\n")


def decode(record: dict) -> dict:
    def bools(held: str) -> list[bool]:
        return [c == "1" for c in held]

    return {**record, "genomes": [{**g, "cheap": {e: {**c, "held": bools(c["held"])} for e, c in g["cheap"].items()},
                                   "full": {**g["full"], "held": bools(g["full"]["held"]), "held_more": bools(g["full"]["held_more"])}}
                                  for g in record["genomes"]]}


def tau(a: np.ndarray, b: np.ndarray) -> dict:
    """Kendall's τ-b with scipy's p-value and a percentile bootstrap 95% interval over genomes."""
    result = stats.kendalltau(a, b)
    boot = stats.bootstrap((a, b), lambda x, y: stats.kendalltau(x, y).statistic, paired=True, vectorized=False,
                           n_resamples=2000, random_state=0, method="percentile")
    return {"tau": float(result.statistic), "p": float(result.pvalue),
            "ci": [float(boot.confidence_interval.low), float(boot.confidence_interval.high)]}


def summarise(record: dict) -> list[dict]:
    """One row per estimate (each cheap fidelity, and today's full training on 100 examples): τ
    against the full figures, and candidates per hour of this machine."""
    g = record["genomes"]
    full_acc = np.array([x["full"]["accuracy"] for x in g])
    full_rob = np.array([np.mean(x["full"]["held"] + x["full"]["held_more"]) for x in g])
    today = np.array([x["full"]["seconds"] for x in g])
    rows = [{"estimate": f"full ({record['kd_epochs']:g} epoch), {record['n_in_trial']} examples (today's trial)",
             "accuracy_tau": None, "attack_tau": tau(np.array([np.mean(x["full"]["held"]) for x in g]), full_rob),
             "seconds": float(today.mean()), "per_hour": 3600 / float(today.mean()), "speedup": 1.0}]
    for e in record["cheap_epochs"]:
        c = [x["cheap"][str(e)] for x in g]
        seconds = float(np.mean([x["seconds"] for x in c]))
        for n in (record["n_in_trial"], record["n_in_trial"] // 2):  # the first half of the subset: cheap_attack_examples
            rows.append({"estimate": f"cheap ({e:g} epoch), {n} examples",
                         "accuracy_tau": tau(np.array([x["accuracy"] for x in c]), full_acc),
                         "attack_tau": tau(np.array([np.mean(x["held"][:n]) for x in c]), full_rob),
                         "seconds": seconds if n == record["n_in_trial"] else None,
                         "per_hour": 3600 / seconds if n == record["n_in_trial"] else None,
                         "speedup": float(today.mean()) / seconds if n == record["n_in_trial"] else None})
    return rows


def noise_ceiling(record: dict, resamples: int = 2000) -> dict:
    """τ between two evaluations of the same students on independent example sets of the full
    figures' sizes (parametric bootstrap, each figure redrawn as Binomial(n, measured) / n): what
    sampling noise alone leaves of a ranking. Optimistic, since it takes the measured figures as true."""
    g = record["genomes"]
    rng = np.random.default_rng(0)
    figures = {"clean": (np.array([x["full"]["accuracy"] for x in g]), record["n_dev"]),
               "attack": (np.array([np.mean(x["full"]["held"] + x["full"]["held_more"]) for x in g]), record["n_full_attack"])}
    stages = np.array([x["input_stage"] for x in g])
    groups = {"all": np.ones(len(g), bool), **{f"stage {s}": stages == s for s in sorted(set(stages))}}
    out = {}
    for name, (p, n) in figures.items():
        for group, mask in groups.items():
            draws = [stats.kendalltau(rng.binomial(n, p[mask]) / n, rng.binomial(n, p[mask]) / n).statistic for _ in range(resamples)]
            out[f"{name}, {group}"] = {"tau": float(np.mean(draws)), "ci": [float(v) for v in np.percentile(draws, [2.5, 97.5])]}
    return out


def print_table(record: dict) -> None:
    def cell(t: dict | None) -> str:
        return "–" if t is None else f"{t['tau']:.2f} [{t['ci'][0]:.2f}, {t['ci'][1]:.2f}]"

    print(f"\n{len(record['genomes'])} random demo genomes; full figures: clean dev accuracy (n = {record['n_dev']}), "
          f"{record['recipe']} on {record['n_full_attack']} examples")
    print(format_table(["estimate", "τ clean accuracy [95% bootstrap]", "τ under attack [95% bootstrap]", "s per candidate", "candidates / hour", "× today"],
                       [[r["estimate"], cell(r["accuracy_tau"]), cell(r["attack_tau"]), *(("–",) * 3 if r["seconds"] is None else
                         (f"{r['seconds']:.1f}", f"{r['per_hour']:.0f}", f"{r['speedup']:.1f}×"))] for r in summarise(record)], style="markdown"))
    print("\nSampling noise alone (two evaluations of the same students on independent example sets of the same sizes):")
    for name, t in noise_ceiling(record).items():
        print(f"  {name}: τ {cell(t)}")


if __name__ == "__main__":
    main()
