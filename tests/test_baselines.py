"""Reference baselines (BERT shapes outside the space): distilled once however many workers start
together, results one attr each, older studies' single attr still read."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace

import optuna
import pytest

from rosearch.cache import DiskCache
from rosearch.config import load_study
from rosearch.search.baselines import evaluate_references, reference_key, reference_specs, references
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


PREP = SimpleNamespace(keys={"teacher": "teacher-key"})


@pytest.mark.parametrize("overrides, changes", [
    ({"search.n_trials": 7}, False),  # the search does not touch a reference
    ({"space.input_stages": ["none"]}, False),  # nor does the space, but for ...
    ({"space.dropout": 0.3}, True),  # ... the student dropout it trains with
    ({"attack.workers": 1}, False),  # not hashed: same outcomes on any number of workers
    ({"attack.seed": 5}, True),
    ({"attack.n_examples": 20}, True),
    ({"kd.epochs": 3}, True),
    ({"seed": 1}, True),
    ({"latency.repeats": 3}, True),
])
def test_the_reference_key_follows_what_the_result_depends_on(overrides: dict, changes: bool) -> None:
    base = load_study("tiny")
    b = reference_specs(base)[0]
    assert (reference_key(b, load_study("tiny", overrides=overrides), PREP) != reference_key(b, base, PREP)) is changes
    assert reference_key(b, base, SimpleNamespace(keys={"teacher": "another"})) != reference_key(b, base, PREP)


def test_a_new_study_takes_its_references_from_the_prepare_cache(tmp_path: Path) -> None:
    cfg = load_study("tiny")
    cache = DiskCache(tmp_path / "cache", log=lambda _: None)
    calls: list[str] = []
    measure = lambda b, *a, **k: calls.append(b.name) or {"metrics": {"accuracy": 0.75}}  # noqa: E731
    lines: list[str] = []
    for name in ("first", "second"):  # two new studies of the same config
        study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", study_name=name)
        assert evaluate_references(study, cfg, PREP, accelerator=None, progress=False, out=lines.append, measure=measure,
                                   settle=0.0, cache=cache) == ["bert-1x32"]
        assert references(study) == {"bert-1x32": {"metrics": {"accuracy": 0.75}}}
    assert calls == ["bert-1x32"]  # distilled for the first study only
    assert "from the prepare cache" in lines[-1]
    entry = cache.path("reference", reference_key(reference_specs(cfg)[0], cfg, PREP))
    assert json.loads((entry / "result.json").read_text()) == {"metrics": {"accuracy": 0.75}}
    # another attack seed is another result: distilled again
    other = load_study("tiny", overrides={"attack.seed": 9})
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", study_name="third")
    evaluate_references(study, other, PREP, accelerator=None, progress=False, out=lines.append, measure=measure, settle=0.0, cache=cache)
    assert calls == ["bert-1x32", "bert-1x32"]


def test_a_failed_reference_leaves_no_cache_entry(tmp_path: Path) -> None:
    cfg = load_study("tiny")
    cache = DiskCache(tmp_path / "cache", log=lambda _: None)
    study = optuna.create_study()

    def measure(*a, **k):  # noqa: ANN002, ANN003, ANN202
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate_references(study, cfg, PREP, accelerator=None, progress=False, out=lambda _: None, measure=measure, settle=0.0, cache=cache)
    assert not cache.has("reference", reference_key(reference_specs(cfg)[0], cfg, PREP))
    assert references(study) == {}
