"""Does the search search? Hypervolume history of NSGA-II, TPE and random search at one budget, on the demo.

Each sampler runs --trials cheap candidates (search.fidelity.cheap_epochs of distillation, attacked
on the in-trial subset: the figures a multi-fidelity study ranks by) from an empty study, once per
seed, through the product's own objective and samplers (`make_sampler`, NSGA-II with the study's
population). After each trial the hypervolume of the feasible front (clean accuracy ≥
search.min_accuracy) is computed on (clean accuracy, accuracy under attack, parameters / teacher's)
against one stated reference point (rosearch.search.hypervolume.reference: chance accuracy, nothing
held, the teacher's size). The demo's hand-designed baselines, estimated the same way with their
demo trial seeds, give the line a search has to beat. Runs are kept in --work (SQLite), so a
rerun continues where the last one stopped.

    python benchmarks/search_efficiency.py [--study demo] [--trials 24] [--seeds 0 1 2]
        [--samplers nsga2 tpe random] [--population 8] [--runs-dir runs] [--out benchmarks/search_efficiency.json]
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

from rosearch.config import config_hash, load_study
from rosearch.config.schema import strategies
from rosearch.search import record
from rosearch.search.evaluate import evaluate_genome
from rosearch.search.fidelity import cheap_config
from rosearch.search.hypervolume import hypervolume, reference
from rosearch.search.objective import Objective
from rosearch.search.study import make_sampler
from rosearch.session import make_accelerator, prepare_study, quiet_libraries
from rosearch.student.genome import Genome
from rosearch.table import format_table


#: How far apart the runs' base seeds are (more than any run's trials).
SEED_STRIDE = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--samplers", nargs="+", default=["nsga2", "tpe", "random"], choices=["nsga2", "tpe", "random"])
    parser.add_argument("--population", type=int, help="NSGA-II's population (default: the study's)")
    parser.add_argument("--cheap-epochs", type=float, help="the cheap candidates' distillation (default: the study's search.fidelity)")
    parser.add_argument("--runs-dir", help="the runs folder whose prepare cache to use (default: the study's)")
    parser.add_argument("--work", default="runs/search_efficiency", help="where the runs' SQLite studies are kept")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/search_efficiency.json")
    args = parser.parse_args()
    quiet_libraries()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(args.threads)
    runs_dir = {"runs_dir": args.runs_dir} if args.runs_dir else {}
    base = load_study(args.study, overrides=runs_dir or None)
    if args.cheap_epochs or base.search.fidelity is None:
        base = load_study(args.study, overrides={**runs_dir, "search.fidelity": {"cheap_epochs": args.cheap_epochs or 0.25}})
    epochs = base.search.fidelity.cheap_epochs
    cheap = cheap_config(base)
    population = args.population or base.search.population_size
    accelerator = make_accelerator(cheap)
    prep = prepare_study(cheap, accelerator, progress=False)
    teacher_params, labels = prep.teacher_metrics["params"], prep.num_labels
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    runs = []
    for sampler in args.samplers:
        for seed in args.seeds:
            # Trial n of a run draws and trains with seed base + n (rosearch.search.seeds), so runs whose
            # bases were 0, 1, 2 would share all but one of their trials' seeds: bases SEED_STRIDE apart.
            cfg = replace(cheap, seed=SEED_STRIDE * seed, baselines=[], search=replace(cheap.search, sampler=sampler, population_size=population))
            name = f"{sampler}-p{population}-s{seed}x{SEED_STRIDE}-e{epochs:g}"
            study = optuna.create_study(study_name=name, storage=f"sqlite:///{work / 'studies.db'}", load_if_exists=True,
                                        directions=[o.direction for o in cfg.search.objectives], sampler=make_sampler(cfg))
            left = args.trials - len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)))
            start = time.perf_counter()
            if left > 0:
                study.optimize(Objective(cfg, prep, accelerator=accelerator, config_hash=config_hash(cfg), progress=False), n_trials=left)
            points = [(record.metrics(t)["accuracy"], record.metrics(t)["attack_accuracy"], record.metrics(t)["params"])
                      for t in study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))][: args.trials]
            history = curve(points, base.search.min_accuracy, teacher_params, labels)
            runs.append({"sampler": sampler, "seed": seed, "history": history, "seconds": time.perf_counter() - start,
                         "points": points})
            print(f"{name}: hypervolume {history[-1]:.4f} after {len(points)} trials ({runs[-1]['seconds']:.0f} s this run)", flush=True)

    baseline_points = []
    for i, b in enumerate(x for x in base.baselines if x.genome is not None):
        result = evaluate_genome(Genome.from_dict(b.genome), cheap, prep, accelerator=accelerator, seed=cheap.seed + i,
                                 strategy=strategies(cheap.kd)[0], progress=False)
        baseline_points.append({"name": b.name, "point": (result.metrics["accuracy"], result.metrics["attack_accuracy"], result.metrics["params"])})
    feasible = [p["point"] for p in baseline_points if p["point"][0] >= (base.search.min_accuracy or 0)]
    record_ = {"study": base.name, "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, 2 cores, torch {torch.__version__}, {args.threads} thread(s)",
               "recipe": base.attack.recipe.name, "n_in_trial": len(prep.attack_examples), "cheap_epochs": epochs, "population": population,
               "trials": args.trials, "min_accuracy": base.search.min_accuracy, "teacher_params": teacher_params,
               "reference_point": {"accuracy": 1.0 / labels, "attack_accuracy": 0.0, "params_share": 1.0},
               "baselines": baseline_points, "baselines_hypervolume": hypervolume(feasible, teacher_params=teacher_params, num_labels=labels),
               "seed_stride": SEED_STRIDE, "runs": runs}
    Path(args.out).write_text(json.dumps(record_, indent=1) + "\n")
    print_table(record_)
    plot(record_, Path(args.out).with_suffix(".png"))


def curve(points: list[tuple[float, float, float]], min_accuracy: float | None, teacher_params: float, labels: int) -> list[float]:
    """The feasible front's hypervolume after each trial."""
    floor = min_accuracy or 0.0
    return [hypervolume([p for p in points[: k + 1] if p[0] >= floor], teacher_params=teacher_params, num_labels=labels) for k in range(len(points))]


def summarise(record_: dict) -> list[dict]:
    """Per sampler: mean, standard deviation, min and max of the hypervolume at a few budgets."""
    budgets = sorted({record_["trials"] // 3, 2 * record_["trials"] // 3, record_["trials"]})
    rows = []
    for sampler in dict.fromkeys(r["sampler"] for r in record_["runs"]):
        histories = [r["history"] for r in record_["runs"] if r["sampler"] == sampler]
        for b in budgets:
            at = np.array([h[min(b, len(h)) - 1] for h in histories])
            rows.append({"sampler": sampler, "budget": b, "runs": len(at), "mean": float(at.mean()), "sd": float(at.std(ddof=1)) if len(at) > 1 else 0.0,
                         "min": float(at.min()), "max": float(at.max())})
    return rows


def print_table(record_: dict) -> None:
    print(f"\nhypervolume of the feasible front (clean ≥ {record_['min_accuracy']}); the baselines' own front: {record_['baselines_hypervolume']:.4f}")
    print(format_table(["sampler", "trials", "runs", "mean", "sd", "min–max"],
                       [[r["sampler"], str(r["budget"]), str(r["runs"]), f"{r['mean']:.4f}", f"{r['sd']:.4f}", f"{r['min']:.4f}–{r['max']:.4f}"]
                        for r in summarise(record_)], style="markdown"))


def plot(record_: dict, path: Path) -> None:
    """Mean hypervolume history per sampler with its min–max band, and the baselines' line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    for sampler in dict.fromkeys(r["sampler"] for r in record_["runs"]):
        h = np.array([r["history"] for r in record_["runs"] if r["sampler"] == sampler])
        x = np.arange(1, h.shape[1] + 1)
        ax.plot(x, h.mean(axis=0), label=f"{sampler} (mean of {len(h)})")
        ax.fill_between(x, h.min(axis=0), h.max(axis=0), alpha=0.2)
    ax.axhline(record_["baselines_hypervolume"], color="k", linestyle="--", label="hand-designed baselines")
    ax.set_xlabel("cheap candidates evaluated")
    ax.set_ylabel("hypervolume (feasible front)")
    ax.set_title(f"{record_['study']}: {record_['cheap_epochs']:g}-epoch candidates, {record_['recipe']} on {record_['n_in_trial']}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
