"""`export`: rebuild the selected trials' students, re-measure them, write model folders.

Each folder is self-contained: config.json (the genome) + model.safetensors + the modeling code,
the tokenizer, model.onnx, metrics.json, a model card README.md and architecture.svg;
manifest.csv / manifest.json list every export (rosearch.export.write).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rosearch.commands._common import add_progress_arg, add_study_args, check_out_dir, load_config, positive
from rosearch.session import quiet_libraries, set_threads
from rosearch.config.schema import STRATEGIES
from rosearch.errors import RosearchError

HELP = "write the best students as model folders (weights, tokenizer, ONNX, metrics, model card) and a manifest"
#: Students exported with --select fitness when --top is not given.
DEFAULT_TOP_FITNESS = 3


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_study_args(p)
    p.add_argument("--out", help="folder for the exported students and the manifest (default: <runs_dir>/<study>/export)")
    p.add_argument("--select", choices=["pareto", "fitness"], default="pareto", help="pareto: the Pareto front (study.best_trials, default); fitness: the best RoSearch fitness")
    p.add_argument("--trial", type=int, nargs="+", help="export these trials instead of a selection (e.g. a hand-designed baseline, "
                   "to re-distil it with the same --retrain-epochs as a searched student)")
    p.add_argument("--top", type=int, help=f"export at most K students, best fitness first (default: the whole front; {DEFAULT_TOP_FITNESS} with --select fitness)")
    p.add_argument("--retrain-epochs", type=float, help="re-distil each student this many epochs on the whole training split (default: rebuild the search's student exactly)")
    p.add_argument("--retrain-strategy", choices=STRATEGIES, help="with --retrain-epochs: re-distil with this KD strategy instead of the "
                   "trial's (e.g. augment: a larger, teacher-labelled transfer set)")
    add_progress_arg(p)


def run(args: argparse.Namespace) -> int:
    positive("--top", args.top)
    positive("--retrain-epochs", args.retrain_epochs)
    if args.retrain_strategy and not args.retrain_epochs:
        raise RosearchError("--retrain-strategy says how to re-distil; give the epochs too (--retrain-epochs E).")
    if args.trial and args.top is not None:
        raise RosearchError("--trial names the students to export; --top selects from the front or by fitness. Give one of them.")
    from rosearch.export.run import ExportOptions, export

    cfg = load_config(args)
    quiet_libraries()
    set_threads(cfg)
    top = args.top if args.top is not None else (DEFAULT_TOP_FITNESS if args.select == "fitness" else None)
    out_dir = Path(args.out) if args.out else Path(cfg.runs_dir) / cfg.name / "export"
    check_out_dir("--out" if args.out else "runs_dir", out_dir)
    from rosearch.search.storage import storage_errors

    with storage_errors(cfg.search.storage):
        export(cfg, ExportOptions(out_dir, select=args.select, top=top, trials=args.trial, retrain_epochs=args.retrain_epochs,
                                  retrain_strategy=args.retrain_strategy, progress=not args.no_progress))
    return 0
