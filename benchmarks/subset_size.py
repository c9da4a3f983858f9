"""How many examples should a trial attack? Rank agreement against cost, on the demo — one run.

Over ≥ 20 demo students (the study's genome baselines, then genomes drawn at random from its space,
as NSGA-II's first generation draws them), each distilled as a trial is, this measures accuracy
under the search recipe on nested in-trial subsets of n = 50, 100 and 200 examples (one seeded
draw from the dev examples the teacher gets right, outside the evaluation set) and on the
study's 500-example evaluation set. It reports, for each n, Kendall's τ between the in-trial and
the evaluation-set figures across students (with scipy's p-value and a bootstrap 95% interval over
students), and the attack's share of trial time at that n. The default `attack.n_examples` is
picked from that table (RESULTS.md).

Students are written to --out as they finish; a rerun continues where the last one stopped.

    python benchmarks/subset_size.py [--study demo] [--students 24] [--threads 1]
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
from rosearch.session import make_accelerator, prepare_study, quiet_libraries
from rosearch.config import load_study
from rosearch.kd.distill import distill_student
from rosearch.search.evaluate import measure_student
from rosearch.search.genome import suggest
from rosearch.student.genome import Genome
from rosearch.table import format_table

SIZES = (50, 100, 200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--students", type=int, default=24)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/subset_size.json")
    args = parser.parse_args()
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(args.threads)
    cfg = load_study(args.study)
    # The in-trial subset drawn at the largest size; the evaluation set is then drawn (500, disjoint) from the rest.
    cfg = replace(cfg, attack=replace(cfg.attack, n_examples=max(SIZES)))
    accelerator = make_accelerator(cfg)
    prep = prepare_study(cfg, accelerator, progress=False)
    subset = in_trial_pool(prep, max(SIZES), seed=cfg.attack.seed)
    out = Path(args.out)
    done = decode(json.loads(out.read_text()))["students"] if out.exists() else []

    for i, (name, genome) in enumerate(genomes(cfg, args.students)):
        if i < len(done):
            continue
        seed = cfg.seed + i
        student, fitted = distill_student(genome, cfg, prep, accelerator=accelerator, seed=seed, progress=False)
        stage = prep.pipeline(student, genome.input_stage, max_length=cfg.data.max_length)
        first = measure_student(stage, cfg, prep, accelerator=accelerator, recipes=[cfg.attack.recipe],
                                examples=subset[: SIZES[0]], progress=False)
        chunks = [first.attacks[cfg.attack.recipe.name]]
        for lo, hi in zip(SIZES, SIZES[1:]):  # the nested subsets, attacked chunk by chunk to time each size
            chunks.append(attack(cfg, prep, subset[lo:hi], stage))
        evaluation = attack(cfg, prep, prep.eval_examples, stage)
        done.append({
            "name": name, "genome": genome.describe(), "input_stage": genome.input_stage, "seed": seed,
            "params": first.metrics["params"], "accuracy": first.metrics["accuracy"],
            "seconds": {"train": fitted.seconds, "evaluate": first.timings["evaluate"], "latency": first.timings["latency"],
                        "attack_chunks": [c.seconds for c in chunks], "attack_eval": evaluation.seconds},
            "held": sum((c.held() for c in chunks), []), "held_eval": evaluation.held(),
        })
        write(out, cfg, args, prep, done)
        print(f"{i:2d} {name:16s} acc {done[-1]['accuracy']:.3f}  under attack n=200 {np.mean(done[-1]['held']):.3f} "
              f"eval {np.mean(done[-1]['held_eval']):.3f}  train {fitted.seconds:.0f} s", flush=True)
    write(out, cfg, args, prep, done)
    print_table(decode(json.loads(out.read_text())))


def genomes(cfg, count: int) -> list[tuple[str, Genome]]:
    """The study's genome baselines, then random draws from its space (seeded) up to `count`."""
    picked = [(b.name, Genome.from_dict(b.genome)) for b in cfg.baselines if b.genome is not None][:count]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=cfg.seed))
    while len(picked) < count:
        trial = study.ask()
        picked.append((f"random-{trial.number}", suggest(trial, cfg.space)))
        study.tell(trial, 0.0)
    return picked


def in_trial_pool(prep, n: int, *, seed: int) -> list[dict]:
    """The study's in-trial subset (drawn at size `n`) in a seeded order, so that the first 50 ⊂
    first 100 ⊂ first 200 are each a random draw of that size."""
    assert len(prep.attack_examples) >= n, "the study is loaded with attack.n_examples = max(SIZES)"
    return [prep.attack_examples[i] for i in np.random.default_rng([seed, 2]).permutation(len(prep.attack_examples))[:n]]


def attack(cfg, prep, examples, pipeline):
    return run_attack(pipeline, examples, cfg.attack.recipe, seed=cfg.attack.seed, batch_size=cfg.attack.batch_size, progress=False)


def write(out: Path, cfg, args, prep, students: list[dict]) -> None:
    """The record, each per-example outcome list as a string of 0/1 (one line a student)."""
    encoded = [{**s, "held": _bits(s["held"]), "held_eval": _bits(s["held_eval"])} for s in students]
    record = {"study": cfg.name, "date": time.strftime("%Y-%m-%d"),
              "machine": f"{platform.machine()}, torch {torch.__version__}, {args.threads} thread(s)",
              "recipe": cfg.attack.recipe.name, "n_eval": len(prep.eval_examples), "sizes": list(SIZES),
              "min_accuracy": cfg.search.min_accuracy}
    lines = ",\n".join("  " + json.dumps(s) for s in encoded)
    out.write_text(json.dumps(record, indent=1)[:-2] + ',\n "students": [\n' + lines + "\n ]\n}\n")


def _bits(held: list[bool] | str) -> str:
    return held if isinstance(held, str) else "".join("1" if h else "0" for h in held)


def decode(record: dict) -> dict:
    """The record with per-example outcomes as lists of bools (either stored form)."""
    def bools(held):
        return [c == "1" for c in held] if isinstance(held, str) else list(held)

    return {**record, "students": [{**s, "held": bools(s["held"]), "held_eval": bools(s["held_eval"])} for s in record["students"]]}


def summarise(record: dict, *, feasible_only: bool = False, stage: str | None = None) -> list[dict]:
    """Per n: Kendall τ (in-trial vs evaluation set) with p and bootstrap 95% interval, and the
    median share of trial time the attack takes at that n (`stage`: only students with that input stage)."""
    students = [s for s in record["students"] if (not feasible_only or s["accuracy"] >= record["min_accuracy"])
                and (stage is None or s["input_stage"] == stage)]
    target = np.array([np.mean(s["held_eval"]) for s in students])
    rows = []
    for k, n in enumerate(record["sizes"]):
        in_trial = np.array([np.mean(s["held"][:n]) for s in students])
        tau = stats.kendalltau(in_trial, target)
        boot = stats.bootstrap((in_trial, target), lambda a, b: stats.kendalltau(a, b).statistic, paired=True,
                               vectorized=False, n_resamples=2000, random_state=0, method="percentile")
        shares = []
        for s in students:
            t = s["seconds"]
            attack_t = sum(t["attack_chunks"][: k + 1])
            shares.append(attack_t / (t["train"] + t["evaluate"] + t["latency"] + attack_t))
        rows.append({"n": n, "students": len(students), "tau": float(tau.statistic), "p": float(tau.pvalue),
                     "tau_ci": [float(boot.confidence_interval.low), float(boot.confidence_interval.high)],
                     "attack_share_median": float(np.median(shares)), "attack_share_max": float(np.max(shares))})
    return rows


def print_table(record: dict) -> None:
    for title, kwargs in (("all students", {}), (f"feasible students (clean ≥ {record['min_accuracy']})", {"feasible_only": True}),
                          ("students without an input stage", {"stage": "none"}), ("students with word recognition", {"stage": "recognizer"})):
        rows = summarise(record, **kwargs)
        print(f"\n{title}: {rows[0]['students']}")
        print(format_table(
            ["in-trial n", f"Kendall τ vs {record['n_eval']}-example figure [95% bootstrap]", "p", "attack share of trial time (median, max)"],
            [[str(r["n"]), f"{r['tau']:.2f} [{r['tau_ci'][0]:.2f}, {r['tau_ci'][1]:.2f}]", f"{r['p']:.1g}",
              f"{r['attack_share_median']:.2f}, {r['attack_share_max']:.2f}"] for r in rows], style="markdown"))


if __name__ == "__main__":
    main()
