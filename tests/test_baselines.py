"""Reference baselines (BERT shapes outside the space): distilled once however many workers start
together, results one attr each, older studies' single attr still read."""

from __future__ import annotations

import threading
from pathlib import Path

import optuna

from rosearch.config import load_study
from rosearch.search.baselines import evaluate_references, references
from rosearch.search.storage import make_storage


def test_workers_started_together_distil_each_reference_once(tmp_path: Path) -> None:
    cfg = load_study("tiny")  # one reference: bert-1x32
    url = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(study_name="tiny", storage=make_storage(url), directions=["maximize"])
    calls: list[str] = []
    start = threading.Barrier(3)

    def measure(b, cfg, prep, *, accelerator, progress):  # noqa: ANN001, ANN202 - the distillation, stubbed
        calls.append(b.name)
        return {"shape": {}, "metrics": {"accuracy": 0.5, "params": 1}, "worker": threading.get_ident()}

    def worker() -> None:
        study = optuna.load_study(study_name="tiny", storage=make_storage(url))
        start.wait()
        evaluate_references(study, cfg, None, accelerator=None, progress=False, out=lambda _: None, measure=measure, settle=0.5)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["bert-1x32"]
    study = optuna.load_study(study_name="tiny", storage=url)
    assert list(references(study)) == ["bert-1x32"]
    # a later run finds it done
    assert evaluate_references(study, cfg, None, accelerator=None, progress=False, out=lambda _: None, measure=measure, settle=0.0) == []
    assert calls == ["bert-1x32"]


def test_the_single_attr_of_older_studies_is_still_read() -> None:
    study = optuna.create_study()
    study.set_user_attr("references", {"old": {"metrics": {"accuracy": 0.5}}})
    study.set_user_attr("references:new", {"metrics": {"accuracy": 0.6}})
    assert sorted(references(study)) == ["new", "old"]


def test_a_claim_whose_worker_died_here_is_taken_over(tmp_path: Path) -> None:
    import socket

    cfg = load_study("tiny")
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", study_name="s")
    study.set_user_attr("reference-claim:bert-1x32", {"host": socket.gethostname(), "pid": 2**22 + 12345, "time": 1e12})
    calls: list[str] = []
    measure = lambda b, *a, **k: calls.append(b.name) or {"metrics": {}}  # noqa: E731
    evaluate_references(study, cfg, None, accelerator=None, progress=False, out=lambda _: None, measure=measure, settle=0.0)
    assert calls == ["bert-1x32"]
