"""The `rosearch-optuna` command line: the commands' registry (rosearch.commands) and the one place
that turns a user's mistake into a message and exit code 2."""

from __future__ import annotations

import argparse
import sys

from rosearch.errors import RosearchError


def build_parser() -> argparse.ArgumentParser:
    from rosearch.commands import COMMANDS

    parser = argparse.ArgumentParser(prog="rosearch-optuna", description="Search robust distilled student models with Optuna (RoSearch).")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        command.add_arguments(sub.add_parser(name, help=command.HELP, description=command.HELP))
    return parser


def main(argv: list[str] | None = None) -> int:
    from rosearch.commands import COMMANDS

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
    except RosearchError as err:
        print(f"rosearch-optuna: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nrosearch-optuna: interrupted; run the same command again to resume the study.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
