"""`dashboard`: browse the study, its notes and artifacts in optuna-dashboard."""

from __future__ import annotations

import argparse

from rosearch.commands._common import add_study_args, load_config

HELP = "browse the study, its notes and artifacts in optuna-dashboard"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_study_args(p)
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on, 1-65535 (default {DEFAULT_PORT})")


def run(args: argparse.Namespace) -> int:
    from rosearch.dashboard.serve import check_port, serve

    check_port(args.host, args.port)  # before reading the study: a bad --host/--port needs no storage
    serve(load_config(args), host=args.host, port=args.port)
    return 0
