"""Hand-designed baselines in the same run (a study's `baselines:` section).

Genomes in the study's space become trials, enqueued before the search with Optuna's
`enqueue_trial`: the same objective, data, distillation, seeds and attacks as every searched
student, and NSGA-II's first population includes them. Standard BERT shapes lie outside the space
(a trial without the space's parameters would empty NSGA-II's shared search space), so they are
distilled and measured the same way beside the study and stored in its user attr `references`.
Their results also go into the prepare cache (`reference/<key>`), keyed by everything they depend
on, so a new study of the same teacher, data, distillation and attack takes them from there
instead of distilling them again (about 3 minutes for the demo's two, on 2 CPU cores).
"""

from __future__ import annotations

import json
from typing import Any

import optuna
from accelerate import Accelerator

from rosearch.search import record
from rosearch.cache import DiskCache
from rosearch.config import StudyConfig, config_hash, stable_hash, to_dict
from rosearch.config.schema import BaselineConfig, strategies
from rosearch.search.genome import to_params
from rosearch.search.seeds import SEED_ATTR
from rosearch.student.genome import Genome

#: The user attr that flags a baseline trial, and the study attr holding reference models.
BASELINE_ATTR = record.BASELINE
REFERENCES_ATTR = "references"


def enqueue_baselines(study: optuna.Study, cfg: StudyConfig) -> list[str]:
    """Enqueue the genome baselines the study does not hold yet; returns their names.

    A baseline is held by a trial that is waiting, running, complete or pruned, or that failed for a
    reason that is data (`fail_reason`: a NaN loss, out of memory; retrying would fail alike). A
    trial that failed without a reason was interrupted (Ctrl-C, a crash of the command): the
    baseline is enqueued again, with that trial's seed, so "run the same command again" resumes it.
    """
    held: set[str] = set()
    interrupted: dict[str, optuna.trial.FrozenTrial] = {}
    for t in study.get_trials(deepcopy=False):
        name = record.baseline(t)
        if name is None:
            continue
        if record.interrupted(t):
            interrupted.setdefault(name, t)
        else:
            held.add(name)
    added = []
    for b in cfg.baselines:
        if b.genome is None or b.name in held:
            continue
        params = to_params(Genome.from_dict(b.genome), cfg.space)
        names = strategies(cfg.kd)
        if len(names) > 1:  # a searched strategy: the baseline gets the study's first (the plain one)
            params["kd_strategy"] = names[0]
        attrs: dict[str, Any] = {BASELINE_ATTR: b.name}
        if b.name in interrupted and SEED_ATTR in interrupted[b.name].user_attrs:
            attrs[SEED_ATTR] = record.seed(interrupted[b.name], cfg.seed)  # the retry is that trial, as after kill -9
            estimate = record.estimate(interrupted[b.name])
            if estimate is not None:  # stopped during its full run: resume there, not from the cheap estimate
                attrs[record.FIDELITY] = estimate
        study.enqueue_trial(params, user_attrs=attrs)
        added.append(b.name)
    return added


def reference_specs(cfg: StudyConfig) -> list[BaselineConfig]:
    return [b for b in cfg.baselines if b.bert is not None]


def reference_seed(cfg: StudyConfig) -> int:
    """Reference models train with the study seed (trials train with seed + number)."""
    return cfg.seed


def build_reference(b: BaselineConfig, cfg: StudyConfig, prep: Any, *, accelerator: Accelerator, progress: bool) -> Any:
    """The reference student, distilled with the study's first strategy and the study seed."""
    from rosearch.kd.distill import distill_student

    assert b.bert is not None
    student, _ = distill_student(b.bert, cfg, prep, accelerator=accelerator, seed=reference_seed(cfg),
                                 strategy=strategies(cfg.kd)[0], progress=progress)
    return student


#: Per reference model: its result (`references:<name>`) and the claim of the worker distilling it
#: (`reference-claim:<name>`). One attr each, so workers never overwrite each other's results.
_RESULT, _CLAIM = REFERENCES_ATTR + ":", "reference-claim:"
#: A claim without a result this old is taken over (its worker died elsewhere); seconds.
CLAIM_EXPIRY = 4 * 3600.0
#: How long a claimant waits before reading its claim back: workers started together all write
#: their claim within this window, and the last write is the one every reader then sees.
CLAIM_SETTLE = 1.5


def references(study: optuna.Study) -> dict[str, dict[str, Any]]:
    """The reference models' results, by name: one attr each, and the single `references` attr of
    studies stored before."""
    attrs = study.user_attrs
    found = dict(attrs.get(REFERENCES_ATTR, {}))
    found.update({key[len(_RESULT):]: value for key, value in attrs.items() if key.startswith(_RESULT)})
    return found


def _claim(study: optuna.Study, name: str, *, settle: float) -> bool:
    """Claim the reference `name` for this worker; False when another worker holds it.

    Why by hand: Optuna has no compare-and-set on study attrs. A claim is written, then read back
    after `settle` seconds: of workers that claimed together, the last write wins and every one of
    them reads the same winner. A claim whose worker is gone (on this host) or that has been held
    for CLAIM_EXPIRY without a result is taken over."""
    import time

    from rosearch.search.storage import worker_gone, worker_id

    me = worker_id()
    held = study.user_attrs.get(_CLAIM + name)
    if held is not None:
        gone = worker_gone(held)
        if not gone and time.time() - float(held.get("time", 0)) < CLAIM_EXPIRY:
            return False
    mine = {**me, "time": time.time()}
    study.set_user_attr(_CLAIM + name, mine)
    time.sleep(settle)
    reread = optuna.load_study(study_name=study.study_name, storage=study._storage)  # not this study object's cache
    return reread.user_attrs.get(_CLAIM + name) == mine


def reference_key(b: BaselineConfig, cfg: StudyConfig, prep: Any) -> str:
    """What a reference model's result depends on: the teacher and its data (the prepare key), the
    shape, the distillation and the student dropout, the attack (its recipe, subset and seed),
    the latency settings, the fitness weights and the study seed. Not the space or the search:
    a reference lies outside both."""
    return stable_hash({"teacher": prep.keys["teacher"], "shape": to_dict(b.bert), "kd": config_hash(cfg, "kd"),
                        "dropout": cfg.space.dropout, "attack": config_hash(cfg, "attack"), "latency": config_hash(cfg, "latency"),
                        "fitness": config_hash(cfg, "fitness"), "seed": reference_seed(cfg)})


def evaluate_references(study: optuna.Study, cfg: StudyConfig, prep: Any, *, accelerator: Accelerator,
                        progress: bool, out: Any = print, measure: Any = None, settle: float = CLAIM_SETTLE,
                        cache: DiskCache | None = None) -> list[str]:
    """Distil and measure (as a trial is measured) the reference models the study lacks; returns
    their names. One found in `cache` (the prepare cache) is taken from there; any other is claimed
    first (`_claim`), so workers started together distil it once, and cached after.
    `measure(b) -> result` replaces the distillation (tests)."""
    added = []
    run = measure or _measure_reference
    for b in reference_specs(cfg):
        if b.name in references(study):
            continue
        key = reference_key(b, cfg, prep) if cache is not None else None
        if key is not None and cache.has("reference", key):
            folder = cache.path("reference", key)
            out(f"baseline {b.name}: from the prepare cache  [{folder}]")
            study.set_user_attr(_RESULT + b.name, json.loads((folder / "result.json").read_text()))
            added.append(b.name)
            continue
        if not _claim(study, b.name, settle=settle):
            out(f"baseline {b.name}: another worker is distilling it")
            continue
        out(f"baseline {b.name}: distilling a BertForSequenceClassification {b.bert.num_layers}×{b.bert.hidden_size} (same data, KD and attack)")
        if key is None:
            result = run(b, cfg, prep, accelerator=accelerator, progress=progress)
        else:
            def build(tmp: Any, b: BaselineConfig = b) -> None:
                (tmp / "result.json").write_text(json.dumps(run(b, cfg, prep, accelerator=accelerator, progress=progress), indent=1))

            result = json.loads((cache.get_or_build("reference", key, build) / "result.json").read_text())
        study.set_user_attr(_RESULT + b.name, result)
        added.append(b.name)
    return added


def _measure_reference(b: BaselineConfig, cfg: StudyConfig, prep: Any, *, accelerator: Accelerator, progress: bool) -> dict[str, Any]:
    from rosearch.search.evaluate import measure_student

    student = build_reference(b, cfg, prep, accelerator=accelerator, progress=progress)
    measured = measure_student(prep.pipeline(student, "none", max_length=cfg.data.max_length), cfg, prep, accelerator=accelerator, recipes=[cfg.attack.recipe], progress=progress)
    report = measured.attacks[cfg.attack.recipe.name]
    return {"shape": to_dict(b.bert), "metrics": measured.metrics, "strategy": strategies(cfg.kd)[0], "seed": reference_seed(cfg),
            "attacks": {report.recipe: {**report.metrics.to_dict(), "seconds": report.seconds}}}


def baseline_name(trial: optuna.trial.FrozenTrial) -> str | None:
    return record.baseline(trial)
