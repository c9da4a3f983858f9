"""The commands of `rosearch-optuna`: one module each, its arguments and its action side by side
(optuna's optuna/cli.py pattern). Every module has HELP, add_arguments(parser) and run(args) -> int."""

from __future__ import annotations

from types import ModuleType

from rosearch.commands import attack, dashboard, export, optimize, report, show

#: name → command module, in the order `--help` lists them.
COMMANDS: dict[str, ModuleType] = {
    "optimize": optimize,
    "show": show,
    "attack": attack,
    "export": export,
    "report": report,
    "dashboard": dashboard,
}

__all__ = ["COMMANDS"]
