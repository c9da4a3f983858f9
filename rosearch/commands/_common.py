"""What every command shares: the study arguments, and loading and checking a study before any work.
What a command then sets up (quiet libraries, torch threads, its one Accelerator, the prepared study)
is rosearch.session's, which benchmarks use too."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from rosearch.errors import RosearchError


def add_study_args(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    p.add_argument("--study", required=required, help="a name from studies/ (e.g. demo, tiny, sst2) or a path to a study YAML")
    p.add_argument("--storage", help="an Optuna storage URL (default: sqlite:///<runs_dir>/<study>/study.db)")
    p.add_argument("--runs-dir", help="folder for study databases and the prepare cache (default: the study's runs_dir, 'runs')")


def add_progress_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def positive(flag: str, value: float | None) -> None:
    """A numeric option that must be a finite number above 0 (when given)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise RosearchError(f"{flag}: got {value}. Give a finite number greater than 0.")


def load_config(args: argparse.Namespace, *, seed: int | None = None) -> Any:
    """The study's typed config with its storage resolved; the runs folder and the storage URL
    checked before any work (and before the heavy imports)."""
    from rosearch.config import load_study, with_storage
    from rosearch.search.storage import check_url

    overrides: dict[str, Any] = {}
    if seed is not None:
        overrides["seed"] = seed
    if args.runs_dir is not None:
        overrides["runs_dir"] = args.runs_dir
    cfg = with_storage(load_study(args.study, overrides=overrides), args.storage)
    check_runs_dir(cfg.runs_dir, key="--runs-dir" if args.runs_dir is not None else "runs_dir")
    check_url(cfg.search.storage)
    return cfg


def check_runs_dir(path: str, *, key: str) -> None:
    """The runs folder is a folder (or can be made) and can be written."""
    from rosearch.writable import cannot_write

    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise RosearchError(f"{key}: got {path!r}, which is a file. Give a folder (it is created if missing).")
    why = cannot_write(folder)
    if why:
        raise RosearchError(f"{key}: cannot write to {path!r} ({why}). Give a folder you can write to.")


def check_out_dir(flag: str, path: Path) -> None:
    """An output folder (`--out` of export and report) is a folder, or can be made, and can be
    written: checked before any work, so a long run never ends in an error writing its result."""
    check_runs_dir(str(path), key=flag)


def check_out_file(flag: str, path: Path, *, suffixes: tuple[str, ...]) -> None:
    """An output file (`attack --out`): not a folder, a suffix we write, in a folder we can write."""
    from rosearch.writable import cannot_write

    if path.is_dir():
        raise RosearchError(f"{flag}: got {str(path)!r}, which is a folder. Give a file name, e.g. {path / ('attacked' + suffixes[0])}.")
    if path.suffix not in suffixes:
        raise RosearchError(f"{flag}: got {str(path)!r}. Give a file ending in {' or '.join(suffixes)}.")
    if path.exists() and not path.is_file():
        raise RosearchError(f"{flag}: got {str(path)!r}, which is not a regular file. Give a file name.")
    why = cannot_write(path.parent)
    if why is None and path.exists():
        try:
            with path.open("a"):
                pass
        except OSError as err:
            why = err.strerror or str(err)
    if why:
        raise RosearchError(f"{flag}: cannot write {str(path)!r} ({why}). Give a file in a folder you can write to.")

