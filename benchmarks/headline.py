"""RoSearch's headline, end to end on a study — the commands a user runs, timed, then the table.

  1. rosearch-optuna optimize --study S                   (the search; baselines enqueued first)
  2. rosearch-optuna attack --study S --baselines --trial <the front's searched trials>
     (every evaluation recipe, evaluation set; one process: each attack shares its examples among
     attack.workers forked processes, one a core, and each re-distilled student trains on all cores)
  3. rosearch-optuna export --study S --trial <the K best searched students by fitness> --retrain-epochs E
     [--retrain-strategy K] (with --retrain-epochs; `--select fitness` would also rank the baselines), then
     export --trial <the baselines those students are compared with> with the same retraining: the same budget
  4. rosearch-optuna report --study S
then the headline table of report.json, the issue's target checked row by row, and the stage
timings, written to --out (JSON) and, with --results, into benchmarks/RESULTS.md between the
`<!-- headline -->` markers.

    python benchmarks/headline.py [--study demo] [--runs-dir benchmarks/runs/headline] [--clean] [--recipes R ...]
                                  [--retrain-epochs 3 [--retrain-strategy augment] [--top 1] [--no-retrain-baselines]] [--teacher]
                                  [--table-only] [--results]

--clean removes the runs folder first (data, teacher fine-tune and logits are rebuilt); without it
an existing study is resumed (the search runs only the trials it lacks, `attack` and `export` skip
what the study already holds) and cached preparation reused. --teacher attacks the teacher too
(its 22.7M parameters make that about an hour per recipe on 2 CPU cores). --table-only runs
nothing and writes the table and target check from the existing report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rosearch.report import fronts

#: The issue's target for a searched student (benchmarks/RESULTS.md reports the measured figure).
TARGET = {"compression": 4.0, "accuracy_gap": 0.03, "under_search_recipe": 0.45, "n": 500, "margin": 0.15, "alpha": 0.05}
START, END = "<!-- headline:start -->", "<!-- headline:end -->"
SPAN = "search (trial timestamps)"  # a part of optimize's time, not a stage of its own: left out of the total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--runs-dir", default="benchmarks/runs/headline")
    parser.add_argument("--clean", action="store_true", help="start from an empty runs folder (no cache)")
    parser.add_argument("--retrain-epochs", type=float, help="export the best-fitness searched students re-distilled this many epochs")
    parser.add_argument("--retrain-strategy", help="re-distil with this KD strategy instead of the trials' (export --retrain-strategy)")
    parser.add_argument("--top", type=int, default=1, help="students to export with --retrain-epochs")
    parser.add_argument("--retrain-baselines", action=argparse.BooleanOptionalAction, default=True,
                        help="re-distil the baselines the exported students are compared with, with the same --retrain-epochs")
    parser.add_argument("--recipes", nargs="+", help="attack with these recipes only (default: the study's search and evaluation recipes)")
    parser.add_argument("--teacher", action="store_true", help="attack the teacher on the evaluation set too (slow on a CPU)")
    parser.add_argument("--table-only", action="store_true", help="run nothing: the table and target check from the existing report")
    parser.add_argument("--out", default="benchmarks/headline.json")
    parser.add_argument("--results", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = parser.parse_args()
    runs = Path(args.runs_dir)
    if args.clean and runs.exists():
        shutil.rmtree(runs)
    common = ["--study", args.study, "--runs-dir", str(runs), "--no-progress"]
    # --table-only re-renders the last run's record: its command, date and stage times are kept
    last = json.loads(Path(args.out).read_text()) if args.table_only and Path(args.out).exists() else {}
    timings = last.get("timings_s", {}) if args.table_only else run_pipeline(args, runs, common)

    data = json.loads((runs / args.study / "report" / "report.json").read_text())
    headline = data["headline"]
    teacher = data["teacher"]
    checks = [target_check(r, teacher, headline["recipes"]) for r in headline["rows"] if r["kind"] in ("searched", "best fitness", "retrained")]
    record = {"study": args.study, "date": last.get("date", time.strftime("%Y-%m-%d")), "machine": last.get("machine", machine()),
              "command": last.get("command", " ".join(sys.argv)),
              "timings_s": timings, "n_trials": len(data["trials"]), "teacher": teacher, "headline": headline, "target": checks,
              "versus_plain": versus_plain(runs, args.study, headline["recipes"]), "fronts": data.get("fronts")}
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    md = markdown(record, runs / args.study / "report" / "report.md")
    print(md)
    if args.results:
        write_results(Path("benchmarks/RESULTS.md"), md)


def run_pipeline(args: argparse.Namespace, runs: Path, common: list[str]) -> dict[str, float]:
    """Search, attacks, exports and report (each step resumes what is stored); wall-clock seconds per stage."""
    timings: dict[str, float] = {}
    remaining = trials_to_run(runs, args.study)
    if remaining:
        timings["optimize"] = cli("optimize", *common, "--n-trials", str(remaining))
    else:
        print("the study already holds its search.n_trials trials: search skipped", flush=True)
    timings[SPAN] = search_span(runs, args.study)
    front = [str(n) for n in front_trials(runs, args.study)]
    targets = ["--baselines", *(["--trial", *front] if front else []), *(["--model", "teacher"] if args.teacher else [])]
    timings["attack"] = cli("attack", *common, *targets, *(["--recipe", *args.recipes] if args.recipes else []))
    if args.retrain_epochs:
        retrain = ["--retrain-epochs", f"{args.retrain_epochs:g}"] + (["--retrain-strategy", args.retrain_strategy] if args.retrain_strategy else [])
        best = [str(n) for n in best_searched(runs, args.study, args.top)]  # `--select fitness` may pick a baseline
        timings["export"] = cli("export", *common, "--trial", *best, *retrain)
        partners = compared_baselines(runs, args.study, best)
        if partners and args.retrain_baselines:  # the same training budget for the baselines they are compared with
            timings["export baselines"] = cli("export", *common, "--trial", *partners, *retrain,
                                              "--out", str(runs / args.study / "export-baselines"))
    timings["report"] = cli("report", "--study", args.study, "--runs-dir", str(runs))  # report draws no progress bars
    return timings


def cli(*argv: str) -> float:
    """Run one rosearch-optuna command (its output streams through); its wall-clock seconds."""
    start = time.perf_counter()
    print("$ rosearch-optuna " + " ".join(argv), flush=True)
    subprocess.run([sys.executable, "-m", "rosearch.cli", *argv], check=True)
    return time.perf_counter() - start


def load(runs: Path, study_name: str):  # noqa: ANN201 - an optuna.Study, or None before the first run
    import optuna

    db = runs / study_name / "study.db"
    return optuna.load_study(study_name=study_name, storage=f"sqlite:///{db}") if db.exists() else None


def trials_to_run(runs: Path, study_name: str) -> int:
    """search.n_trials less the trials the study already finished (a rerun resumes, never adds)."""
    from rosearch.config import load_study

    study = load(runs, study_name)
    done = 0 if study is None else sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
    return max(0, load_study(study_name).search.n_trials - done)


def search_span(runs: Path, study_name: str) -> float:
    """Seconds from the first trial's start to the last trial's end (the reference baselines, distilled
    before the first trial, are not in it)."""
    trials = [t for t in load(runs, study_name).get_trials(deepcopy=False) if t.datetime_complete]
    return (max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)).total_seconds()


def front_trials(runs: Path, study_name: str) -> list[int]:
    """Pareto-optimal trials on their full figures (a multi-fidelity study's cheap estimates are
    never on it: rosearch.search.front.pareto) that are not baselines (`attack --baselines` attacks those)."""
    from rosearch.search import record
    from rosearch.search.front import pareto

    return sorted(t.number for t in pareto(load(runs, study_name)) if not record.is_baseline(t))


def best_searched(runs: Path, study_name: str, top: int) -> list[int]:
    """The `top` searched (not hand-designed) students by RoSearch fitness, feasible ones only."""
    from rosearch.export.select import select_trials
    from rosearch.search import record

    ranked = select_trials(load(runs, study_name), "fitness")
    return [t.number for t in ranked if not record.is_baseline(t)][:top]


def compared_baselines(runs: Path, study_name: str, trials: list[str]) -> list[str]:
    """The baseline trials that these searched students were compared with at the search's budget
    (best baseline of ≥ size under the search recipe); reference models are not trials and cannot
    be re-distilled by `export --trial`, so they are left out (and said)."""
    from rosearch.config import load_study
    from rosearch.report.headline import rows
    from rosearch.search.evaluations import is_reference

    study = load(runs, study_name)
    attack = load_study(study_name).attack
    table = rows(study, recipes=[r.name for r in attack.recipes])
    by_label = {r.label: r for r in table}
    wanted = set(trials)
    partners = []
    for row in table:
        if row.key in wanted and row.kind in ("searched", "best fitness") and row.versus:
            baseline = by_label[row.versus["baseline"]]
            if is_reference(baseline.key):
                print(f"{row.label} is compared with the reference model {baseline.label}: not re-distilled", flush=True)
            elif baseline.key not in partners:
                partners.append(baseline.key)
    return partners


def versus_plain(runs: Path, study_name: str, recipes: list[str]) -> list[dict]:
    """RoSearch's own comparison, beside the table's: each searched row against the most robust
    baseline of equal or larger size *without* an input stage (plain KD students, as RoSearch's
    baselines were), paired on the same examples, under every recipe — the report's own
    comparison (`headline.compare`) run on the table less the baselines with a stage."""
    from rosearch.report.headline import SEARCHED, compare, rows
    from rosearch.search import record

    study = load(runs, study_name)
    staged = {str(t.number) for t in study.get_trials(deepcopy=False)
              if record.is_baseline(t) and record.input_stage(t) != "none"}
    table = [r for r in rows(study, recipes=recipes) if r.kind in SEARCHED or (r.kind == "baseline" and r.key not in staged)]
    for row in table:
        row.versus = None
    compare(table, recipes)
    return [{"label": r.label, "baseline": r.versus["baseline"], "recipes": r.versus["recipes"]} for r in table if r.versus]


def target_check(row: dict, teacher: dict, recipes: list[str]) -> dict:
    """The issue's target, criterion by criterion, for one searched row (None: not measured)."""
    search = row["under"].get(recipes[0])
    versus = row.get("versus") or {}
    others = versus.get("recipes", {})
    compression = teacher["params"] / row["params"]
    checks = {
        "compression ≥ 4×": compression >= TARGET["compression"],
        "clean accuracy within 3 pts of the teacher": teacher["dev_accuracy"] - row["accuracy"] <= TARGET["accuracy_gap"],
        f"≥ 45% under {recipes[0]} on ≥ 500": None if search is None else
        search["accuracy_under_attack"] >= TARGET["under_search_recipe"] and search["n"] >= TARGET["n"],
        "≥ 15 pts above the best baseline of ≥ size, p < 0.05": None if not versus else
        versus["difference"] >= TARGET["margin"] and versus["p_value"] < TARGET["alpha"],
    }
    for name in recipes[1:]:
        checks[f"better than that baseline under {name} (p < 0.05)"] = None if name not in others else \
            others[name]["difference"] > 0 and others[name]["p_value"] < TARGET["alpha"]
    return {"label": row["label"], "kind": row["kind"], "compression": compression, "accuracy_gap": teacher["dev_accuracy"] - row["accuracy"],
            "under": {k: v["accuracy_under_attack"] for k, v in row["under"].items()}, "versus": versus, "checks": checks,
            "met": all(v is True for v in checks.values())}


def machine() -> str:
    import torch

    return f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, Python {platform.python_version()}"


def markdown(record: dict, report_md: Path) -> str:
    text = report_md.read_text()
    table = text[text.index("## Headline"):]
    table = table[table.index("\n|"):]
    table = table[: table.index("\n\n", 1)].strip()
    t = record["timings_s"]
    stages = ["| stage | wall clock |", "|---|---|", *(f"| {'— of which the trials, first start to last end' if k == SPAN else k} | {v / 60:.1f} min |" for k, v in t.items()),
              f"| total | {sum(v for k, v in t.items() if k != SPAN) / 60:.1f} min |", ""] if t else []
    lines = [START, f"Command: `{record['command']}` — {record['date']}, {record['machine']}.", "", *stages,
             f"{record['n_trials']} trials. Headline table (`report`):", "", table, "", "Target check (each searched row):", "",
             "| model | " + " | ".join(record["target"][0]["checks"]) + " | all |" if record["target"] else "no searched rows",
             ]
    if record["target"]:
        lines.append("|---|" + "---|" * (len(record["target"][0]["checks"]) + 1))
        for c in record["target"]:
            cells = ["–" if v is None else ("yes" if v else "no") for v in c["checks"].values()]
            lines.append(f"| {c['label']} ({c['kind']}) | " + " | ".join(cells) + f" | {'**met**' if c['met'] else 'no'} |")
    if record.get("versus_plain"):
        lines += ["", "RoSearch's own comparison — each searched row against the most robust baseline of equal or larger size "
                  "*without* the input stage (plain KD students, as RoSearch's baselines were); Δ in points, exact McNemar p:", "",
                  "| model | baseline | " + " | ".join(f"Δ under {r} (p)" for r in record["headline"]["recipes"]) + " |",
                  "|---|---|" + "---|" * len(record["headline"]["recipes"])]
        for v in record["versus_plain"]:
            cells = [f"{100 * v['recipes'][r]['difference']:+.1f} (p={v['recipes'][r]['p_value']:.2g})" if r in v["recipes"] else "–"
                     for r in record["headline"]["recipes"]]
            lines.append(f"| {v['label']} | {v['baseline']} | " + " | ".join(cells) + " |")
    if record.get("fronts"):
        lines += ["", *fronts.section(record["fronts"])]
    lines.append(END)
    return "\n".join(lines)


def write_results(path: Path, md: str) -> None:
    text = path.read_text()
    if START in text:
        text = text[: text.index(START)] + md + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## Issue 10 — the headline run\n\n" + md + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
