"""The prepare stage: everything a study needs that does not depend on the genome, computed once.

tokenized splits · teacher (fine-tuned if asked) · teacher logits on train and dev · teacher
metrics · the fixed attack subset · the teacher's embedding basis. Each cached entry is keyed by a
hash of exactly the config it depends on, so a change to (say) the attack settings never
re-trains the teacher.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import datasets
import numpy as np
from accelerate import Accelerator
from accelerate.utils import set_seed
from transformers import AutoModelForSequenceClassification, PreTrainedTokenizerBase

from rosearch.cache import DiskCache
from rosearch.config import StudyConfig, config_hash, stable_hash, to_dict
from rosearch.config.schema import strategies
from rosearch.config.space import stage_names
from rosearch.data import load_splits
from rosearch.errors import RosearchError
from rosearch.hub import offline_mode, require_cached, require_hub
from rosearch.prepared import Prepared, stage_chain
from rosearch.robust.confusables import latin_fold
from rosearch.robust.normalize import TextNormalizer
from rosearch.robust.recognizer import WordRecognizer
from rosearch.robust.substitutes import synonym_source
from rosearch.robust.synonyms import SynonymCanonicalizer, canonical_map
from rosearch.robust.vote import SubstitutionVote, substitution_sets
from rosearch.student.cost import count_flops, count_params
from rosearch.student.pipeline import split_key, tokenize_through
from rosearch.student.vocab import FULL, Vocabulary, piece_counts
from rosearch.teacher import embedding_basis, load_teacher, load_tokenizer, resolve_source
from rosearch.train import TrainPlan, accuracy, fit, loader, predict

Log = Callable[[str], None]

#: What a study that needs the hub should run instead, offline.
OFFLINE_STUDY = "demo"


def hub_hint(cfg: StudyConfig) -> str:
    """Where a study that cannot reach the hub should turn (empty for the offline study itself)."""
    if cfg.data.source == "embedded" and not hub_resources(cfg):
        return ""
    return f"Without the hub, run the embedded study instead: rosearch-optuna optimize --study {OFFLINE_STUDY}."


def hub_models(cfg: StudyConfig) -> list[str]:
    """The hub ids among the study's models (teacher, generator)."""
    names = [cfg.teacher.model] + ([cfg.kd.generator.model] if cfg.kd.generator.model else [])
    return [m for m in names if not m.startswith("pypi:") and not Path(m).is_dir()]


def hub_resources(cfg: StudyConfig) -> list[str]:
    """The study's resources that only the Hugging Face hub can provide."""
    needs = []
    if cfg.data.source == "hub":
        needs.append(f"dataset '{cfg.data.name}'" + (f" ({cfg.data.subset})" if cfg.data.subset else ""))
    needs += [f"model '{m}'" for m in hub_models(cfg)]
    return needs


def prepare(cfg: StudyConfig, *, cache: DiskCache, accelerator: Accelerator, log: Log = print, progress: bool = True) -> Prepared:
    """Everything the study's trials share; `accelerator` is the command's (one per process)."""
    hint = hub_hint(cfg)
    needs = hub_resources(cfg)
    if needs:  # name every missing resource at once, before any work
        require_hub("The " + " and the ".join(needs), hint=hint)
        if offline_mode():
            require_cached(hub_models(cfg), [(cfg.data.name, cfg.data.subset)] if cfg.data.source == "hub" else [], hint=hint)
    source = resolve_source(cfg.teacher.model, hub_hint=hint)
    tokenizer = load_tokenizer(source, trust_remote_code=cfg.teacher.trust_remote_code)

    data_key = stable_hash({"data": to_dict(cfg.data), "tokenizer": cfg.teacher.model})
    data_dir = cache.get_or_build("data", data_key, lambda tmp: _build_data(cfg, tokenizer, tmp, hint, log))
    splits = datasets.load_from_disk(str(data_dir))
    num_labels = len(set(splits["train"]["labels"]))
    log(f"data: {', '.join(f'{k} {len(v)}' for k, v in splits.items())} examples, {num_labels} labels  [{data_dir}]")

    teacher_key = teacher_cache_key(cfg, data_key)
    if cfg.teacher.finetune is not None:
        teacher_dir = cache.get_or_build(
            "teacher", teacher_key, lambda tmp: _finetune_teacher(cfg, source, tokenizer, splits, num_labels, accelerator, tmp, log, progress)
        )
        teacher = AutoModelForSequenceClassification.from_pretrained(teacher_dir, trust_remote_code=cfg.teacher.trust_remote_code)
    else:
        teacher_dir = None
        teacher = load_teacher(cfg.teacher, source, num_labels=num_labels, tokenizer=tokenizer)
    # Placed once, here, and frozen for good: every later step reads it where it is.
    teacher = teacher.to(accelerator.device).eval().requires_grad_(False)

    out_dir = cache.get_or_build("teacher_outputs", teacher_key, lambda tmp: _teacher_outputs(cfg, teacher, teacher_dir, tokenizer, splits, accelerator, tmp, log))
    metrics = json.loads((out_dir / "metrics.json").read_text())
    if metrics["dev_accuracy"] < cfg.teacher.min_dev_accuracy:
        raise RosearchError(
            f"The teacher reaches {metrics['dev_accuracy']:.1%} dev accuracy, below teacher.min_dev_accuracy "
            f"({cfg.teacher.min_dev_accuracy:.0%}). Train it longer (teacher.finetune.epochs) or lower the bar."
        )
    log(f"teacher: dev accuracy {metrics['dev_accuracy']:.1%}, {metrics['params'] / 1e6:.1f}M parameters  [{teacher_dir or source}]")

    train_logits = np.load(out_dir / "train_logits.npy")
    splits["train"] = splits["train"].add_column("teacher_logits", train_logits.tolist())
    dev_logits = np.load(out_dir / "dev_logits.npy")
    attack_examples, eval_examples = select_attack_sets(
        splits["dev"]["text"], splits["dev"]["labels"], dev_logits.argmax(-1),
        n=cfg.attack.n_examples, n_eval=cfg.attack.eval_examples, seed=cfg.attack.seed,
    )
    fidelity = cfg.search.fidelity
    more = more_attack_examples(
        splits["dev"]["text"], splits["dev"]["labels"], dev_logits.argmax(-1), taken=[*attack_examples, *eval_examples],
        n=fidelity.attack_examples - len(attack_examples), seed=cfg.attack.seed,
    ) if fidelity is not None else []
    if not attack_examples:
        raise RosearchError(f"The teacher gets none of the {len(dev_logits)} dev examples right, so there is nothing to attack; "
                            "train it longer (teacher.finetune) or check the data's labels.")
    if not eval_examples:
        log(f"note: no evaluation set: the teacher gets {len(attack_examples)} dev examples right and the in-trial subset "
            f"(attack.n_examples {cfg.attack.n_examples}) takes them all; `attack --study` and `export` need a smaller attack.n_examples or more dev data")
    basis = embedding_basis(teacher) if cfg.kd.init_embeddings == "teacher_pca" else None
    stages = _input_stages(cfg, splits, tokenizer, teacher, log)
    vocabularies = _vocabularies(cfg, splits["train"], tokenizer, teacher, log)
    prepared = Prepared(
        tokenizer=tokenizer,
        splits=splits,
        teacher=teacher,
        teacher_metrics=metrics,
        attack_examples=attack_examples,
        eval_examples=eval_examples,
        more_attack_examples=more,
        num_labels=num_labels,
        embedding_basis=basis,
        keys={"data": data_key, "teacher": teacher_key},
        **stages,
        vocabularies=vocabularies,
    )
    from rosearch.kd.strategies import PrepareContext, prepare_strategies  # imports the KD strategies only here

    ctx = PrepareContext(cfg, prepared, source=source, cache=cache, accelerator=accelerator, log=log)
    prepared = prepared.with_strategies(prepare_strategies(ctx, strategies(cfg.kd)))
    if fidelity is not None and fidelity.estimate == "supernet":
        from rosearch.search.weight_sharing import cached_supernet  # the search's, imported where a study asks for it

        prepared = replace(prepared, supernet=cached_supernet(cfg, prepared, cache=cache, accelerator=accelerator, log=log))
    return prepared


def _vocabularies(cfg: StudyConfig, train: datasets.Dataset, tokenizer: PreTrainedTokenizerBase, teacher, log: Log) -> dict[str, Vocabulary]:  # noqa: ANN001
    """The space's reduced vocabularies, from the training text's piece counts (and, for the
    nearest back-off, the teacher's token embeddings)."""
    rules = [rule for rule in cfg.space.vocabularies if rule != FULL]
    if not rules:
        return {}
    start = time.perf_counter()
    counts = piece_counts(train["input_ids"], len(tokenizer))
    table = teacher.get_input_embeddings().weight.detach().float().cpu().numpy() if cfg.space.vocabulary_backoff == "nearest" else None
    built = {rule: Vocabulary.build(rule, counts, special_ids=tokenizer.all_special_ids, unk_id=tokenizer.unk_token_id,
                                    backoff=cfg.space.vocabulary_backoff, table=table) for rule in rules}
    sizes = ", ".join(f"{rule} {v.size:,}" for rule, v in built.items())
    log(f"vocabularies: {sizes} of {len(tokenizer):,} word pieces, back-off {cfg.space.vocabulary_backoff} ({time.perf_counter() - start:.1f} s)")
    return built


def teacher_cache_key(cfg: StudyConfig, data_key: str) -> str:
    """The key of the teacher and of everything computed from it (its logits, saliency, generators,
    strategy data): its settings, its data, and the precision its fine-tuning and inference run in
    (`kd.mixed_precision`: a bf16 study's teacher and logits are not an fp32 study's)."""
    return stable_hash({"teacher": config_hash(cfg, "teacher"), "data": data_key, "mixed_precision": cfg.kd.mixed_precision})


def select_attack_sets(texts: list[str], labels: list[int], teacher_preds: Any, *, n: int, n_eval: int,
                       seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(in-trial subset, evaluation set): `n`, then up to `n_eval` more, dev examples the teacher
    classifies correctly, drawn with `seed`, disjoint, each in dev order.

    Attacking only examples the teacher gets right is the field's convention (TextAttack skips the
    others); the same subset for every trial makes trials' robustness comparable, and a separate
    evaluation set keeps the reported figure apart from the one the search selected on.
    """
    correct = [i for i, (y, p) in enumerate(zip(labels, teacher_preds)) if int(y) == int(p)]
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(correct), size=min(n, len(correct)), replace=False).tolist())
    rest = sorted(set(range(len(correct))) - set(picked))
    evaluation = sorted(np.random.default_rng([seed, 1]).permutation(rest)[:n_eval].tolist()) if rest else []

    def rows(chosen: list[int]) -> list[dict[str, Any]]:
        return [{"text": texts[correct[i]], "label": int(labels[correct[i]]), "dev_index": correct[i]} for i in chosen]

    return rows(picked), rows(evaluation)


def more_attack_examples(texts: list[str], labels: list[int], teacher_preds: Any, *, taken: list[dict[str, Any]], n: int,
                         seed: int) -> list[dict[str, Any]]:
    """Up to `n` more dev examples the teacher classifies correctly, none of them `taken` (the
    in-trial subset and the evaluation set), drawn with `seed`, in dev order: what a promoted
    student is attacked on besides the in-trial subset (search.fidelity.attack_examples)."""
    used = {e["dev_index"] for e in taken}
    free = [i for i, (y, p) in enumerate(zip(labels, teacher_preds)) if int(y) == int(p) and i not in used]
    chosen = sorted(np.random.default_rng([seed, 2]).permutation(len(free))[:max(n, 0)].tolist())
    return [{"text": texts[free[i]], "label": int(labels[free[i]]), "dev_index": free[i]} for i in chosen]


def _build_data(cfg: StudyConfig, tokenizer: PreTrainedTokenizerBase, out: Path, hint: str, log: Log) -> None:
    log("data: loading and tokenizing (cached after the first run)")
    raw = load_splits(cfg.data, hub_hint=hint, log=log)
    tokenized = raw.map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=cfg.data.max_length),
        batched=True,
        desc="tokenize",
    )
    tokenized = tokenized.rename_column("label", "labels")
    tokenized.save_to_disk(str(out))


def _finetune_teacher(cfg, source, tokenizer, splits, num_labels, accelerator, out: Path, log: Log, progress: bool) -> None:
    ft = cfg.teacher.finetune
    log(f"teacher: fine-tuning {cfg.teacher.model} ({cfg.teacher.init}) for {ft.epochs} epoch(s) on {len(splits['train'])} examples (cached after)")
    set_seed(cfg.seed)  # the new classifier head (or scratch BERT) is initialised here
    model = load_teacher(cfg.teacher, source, num_labels=num_labels, tokenizer=tokenizer)  # on the CPU; `fit` places it
    data = loader(splits["train"], tokenizer, batch_size=ft.batch_size, shuffle=True, seed=cfg.seed)
    plan = TrainPlan(data, lambda m, batch: m(**batch).loss, desc="teacher fine-tune")
    result = fit(model, plan, accelerator=accelerator, optim=ft, grad_clip=1.0, seed=cfg.seed, progress=progress)
    model = accelerator.unwrap_model(model, keep_fp32_wrapper=False)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "finetune.json").write_text(json.dumps({"seconds": result.seconds, "steps": result.steps, "config": to_dict(ft)}, indent=2))
    log(f"teacher: fine-tuned in {result.seconds:.0f} s ({result.steps} steps)")


def _teacher_outputs(cfg, teacher, teacher_dir, tokenizer, splits, accelerator, out: Path, log: Log) -> None:
    log("teacher: computing logits on train and dev (cached after)")
    start = time.perf_counter()
    outputs = {}
    for name in ("train", "dev", "test"):
        logits, labels = predict(teacher, loader(splits[name], tokenizer, batch_size=cfg.teacher.batch_size, shuffle=False), accelerator=accelerator)
        outputs[name] = (logits, labels)
        if name != "test":
            np.save(out / f"{name}_logits.npy", logits.numpy())
    finetune = json.loads((Path(teacher_dir) / "finetune.json").read_text()) if teacher_dir else {}
    metrics = {
        "dev_accuracy": accuracy(*outputs["dev"]),
        "test_accuracy": accuracy(*outputs["test"]),
        "train_accuracy": accuracy(*outputs["train"]),
        "params": count_params(teacher),
        "flops": count_flops(teacher, seq_len=cfg.data.max_length, vocab_size=len(tokenizer)),
        "finetune_seconds": finetune.get("seconds"),
        "logits_seconds": time.perf_counter() - start,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))


def _input_stages(cfg: StudyConfig, splits: datasets.DatasetDict, tokenizer: PreTrainedTokenizerBase, teacher: Any,
                  log: Callable[[str], None]) -> dict[str, Any]:
    """The stages the space's stage gene offers, by name (recognizer, normalizer, fgws, vote; None
    where not offered), built from the train texts (the normaliser, the synonym stage and the vote
    read words against the recogniser's training-word counts), and dev and test tokenized after
    each offered chain of text stages (into `splits`, as "dev@normalizer@recognizer"; a voting
    pipeline's clean texts are classified copy by copy instead)."""
    offered = {name for gene in cfg.space.input_stages for name in stage_names(gene)}
    built: dict[str, Any] = dict.fromkeys(("recognizer", "normalizer", "fgws", "vote"))
    if not offered:
        return built
    words = WordRecognizer.from_texts(splits["train"]["text"])
    built["recognizer"] = words if "recognizer" in offered else None
    built["normalizer"] = TextNormalizer(latin_fold(), words.counts) if "normalizer" in offered else None
    if offered & {"fgws", "vote"}:
        source, synonyms, vocabulary = synonym_source(teacher.get_input_embeddings().weight, tokenizer)
        s = cfg.space
        if "fgws" in offered:
            table = canonical_map(words.counts, [*vocabulary, *words.counts], synonyms, min_count=s.fgws_min_count)
            built["fgws"] = SynonymCanonicalizer(table, min_count=s.fgws_min_count)
            log(f"input stage: frequency-guided synonyms ({source}): {len(table)} rare words mapped to a frequent synonym "
                f"(seen < {s.fgws_min_count} times in training)")
        if "vote" in offered:
            from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # the stop words TextAttack's recipes get (rosearch.nltk_data)

            sets = substitution_sets(words.counts, [*vocabulary, *words.counts], synonyms, min_count=s.fgws_min_count, stop_words=ENGLISH_STOP_WORDS)
            built["vote"] = SubstitutionVote(sets, copies=s.vote_copies, rate=s.vote_rate, seed=cfg.seed, draw=s.vote_draw)
            log(f"input stage: random-substitution vote ({source}): {s.vote_copies} copies, each of {len(sets)} words (no stop word) "
                f"replaced with probability {s.vote_rate} by a synonym seen ≥ {s.fgws_min_count} times in training, drawn by {s.vote_draw}")
    for gene in (g for g in cfg.space.input_stages if g != "none"):
        stages = stage_chain(gene, built)
        key = [name for name, _ in stages]
        for split in ("dev", "test"):
            if key and split_key(split, key) not in splits:
                splits[split_key(split, key)] = tokenize_through(splits[split], tokenizer, cfg.data.max_length, stages)
    if built["recognizer"] is not None:
        log(f"input stage: word recognizer over {len(words.counts)} training words")
    if built["normalizer"] is not None:
        log(f"input stage: text normaliser (NFKC, invisible characters, accents, {len(built['normalizer'].fold)} lookalike letters, "
            "digits and symbols inside words)")
    return built
