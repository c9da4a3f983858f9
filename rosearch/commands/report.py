"""`report`: Pareto plots, hypervolume, parameter importance and architecture statistics."""

from __future__ import annotations

import argparse
from pathlib import Path

from rosearch.commands._common import add_study_args, check_out_dir, load_config
from rosearch.session import quiet_libraries

HELP = "Pareto plots, hypervolume, parameter importance and architecture statistics of a study, as markdown"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_study_args(p)
    p.add_argument("--out", help="folder for report.md and its figures (default: <runs_dir>/<study>/report)")


def run(args: argparse.Namespace) -> int:
    from rosearch.report.build import report

    cfg = load_config(args)
    out_dir = Path(args.out) if args.out else Path(cfg.runs_dir) / cfg.name / "report"
    check_out_dir("--out" if args.out else "runs_dir", out_dir)
    quiet_libraries()
    report(cfg, out_dir)
    return 0
