"""What the robustness-aware strategies need once per study (cached like the teacher's logits).

kdiga     the teacher's per-token input gradients on the train split (see rosearch.kd.kdiga)
mate      a masked-LM generator trained briefly on the task's train text
zeroshot  out-of-domain text with the teacher's logits on it, and a generator trained on that text
          only (so no task text reaches the zero-shot student, not even through the generator)
consistency  the perturbed training passes
a2t       the word-substitute source of its attack's synonym candidates
augment   the augmented transfer set: masked-LM variants of the training texts, labelled by the teacher
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import datasets
import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from transformers import AutoModelForMaskedLM, BertConfig, BertForMaskedLM, PreTrainedModel, PreTrainedTokenizerBase

from rosearch.cache import DiskCache
from rosearch.config import StudyConfig, stable_hash, to_dict
from rosearch.config.schema import strategies
from rosearch.errors import ConfigError
from rosearch.kd.consistency import passes_for, perturbed_passes
from rosearch.kd.generator import train_mlm
from rosearch.kd.kdiga import token_saliency
from rosearch.kd.zeroshot import ood_texts
from rosearch.prepared import Prepared, StrategyData
from rosearch.teacher import resolve_source
from rosearch.train import loader, model_device, predict_texts

Log = Callable[[str], None]


def prepare_strategies(cfg: StudyConfig, prep: Prepared, *, source: str, cache: DiskCache, accelerator: Accelerator, log: Log) -> StrategyData:
    """What the study's strategies need: the saliency column, generators, out-of-domain data."""
    names = strategies(cfg.kd)
    teacher_key = prep.keys["teacher"]
    columns: dict[str, list[Any]] = {}
    generators: dict[str, PreTrainedModel] = {}
    ood = None
    if "kdiga" in names:
        key = stable_hash({"teacher": teacher_key, "what": "saliency"})
        folder = cache.get_or_build("teacher_saliency", key, lambda tmp: _saliency(cfg, prep, tmp, log))
        columns["teacher_saliency"] = np.load(folder / "train_saliency.npy").tolist()
    if "mate" in names:
        generators["task"] = _generator(cfg, prep, source, cache, texts=prep.splits["train"], name="task", log=log)
    if "zeroshot" in names:
        key = stable_hash({"teacher": teacher_key, "zeroshot": to_dict(cfg.kd.zeroshot), "max_length": cfg.data.max_length, "seed": cfg.seed})
        folder = cache.get_or_build("ood", key, lambda tmp: _ood(cfg, prep, accelerator, tmp, log))
        ood = datasets.load_from_disk(str(folder))
        log(f"zero-shot: {len(ood)} out-of-domain texts ({', '.join(cfg.kd.zeroshot.corpora) if cfg.kd.zeroshot.source == 'embedded' else cfg.kd.zeroshot.source})")
        generators["ood"] = _generator(cfg, prep, source, cache, texts=ood, name="ood", log=log)
    consistency = None
    if "consistency" in names:
        from rosearch.robust.substitutes import substitutes_for

        c = cfg.kd.consistency
        passes = passes_for(cfg.kd.epochs)
        # `substitutes: auto` resolves by what is installed (WordNet or not): the key holds the resolved source
        subs_source, substitutes = substitutes_for(prep.teacher.get_input_embeddings().weight, prep.tokenizer, source=c.substitutes)
        key = stable_hash({"data": prep.keys["data"], "teacher": teacher_key, "consistency": to_dict(c), "substitutes": subs_source,
                           "passes": passes, "seed": cfg.seed})
        folder = cache.get_or_build("consistency", key, lambda tmp: _consistency(cfg, prep, passes, subs_source, substitutes, tmp, log))
        consistency = datasets.load_from_disk(str(folder))
        log(f"consistency: {passes} pass(es) of the train split, {sum(consistency['perturbed'])} of {len(consistency)} texts perturbed")
    a2t_substitutes = None
    if "a2t" in names:
        from rosearch.robust.substitutes import substitutes_for

        a2t_substitutes = substitutes_for(prep.teacher.get_input_embeddings().weight, prep.tokenizer, source=cfg.kd.a2t.substitutes)
        log(f"a2t: attack candidates from {', '.join(cfg.kd.a2t.kinds)} (synonyms from {a2t_substitutes[0]})")
    augmented = None
    if "augment" in names:
        a = cfg.kd.augment
        key = stable_hash({"data": prep.keys["data"], "teacher": teacher_key, "augment": to_dict(a), "generator": to_dict(cfg.kd.generator),
                           "seed": cfg.seed})
        folder = cache.get_or_build("augment", key, lambda tmp: _augment(cfg, prep, source, cache, accelerator, tmp, log))
        augmented = datasets.load_from_disk(str(folder))
        log(f"augment: a transfer set of {len(augmented)} texts ({len(prep.splits['train'])} originals, {a.copies} variants each)")
    return StrategyData(train_columns=columns, generators=generators, ood=ood, consistency=consistency, substitutes=a2t_substitutes,
                        augmented=augmented)


def _augment(cfg: StudyConfig, prep: Prepared, source: str, cache: DiskCache, accelerator: Accelerator, out: Path, log: Log) -> None:
    from rosearch.kd.augment import augmented_transfer_set

    a = cfg.kd.augment
    generator = _generator(cfg, prep, source, cache, texts=prep.splits["train"], name="task", log=log)  # its own copy: moved, not shared
    log(f"augment: {a.copies} masked-LM variant(s) of each training text, {a.word_share:.0%} of its words re-filled, labelled by the teacher (cached after)")
    augmented_transfer_set(prep.splits["train"], prep.tokenizer, generator, prep.teacher, a, seed=cfg.seed, max_length=cfg.data.max_length,
                           batch_size=cfg.teacher.batch_size, accelerator=accelerator, log=log).save_to_disk(str(out))


def _consistency(cfg: StudyConfig, prep: Prepared, passes: int, source: str, substitutes: Any, out: Path, log: Log) -> None:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    c = cfg.kd.consistency
    log(f"consistency: perturbing the train split for {passes} pass(es) ({', '.join(c.kinds)}; synonyms from {source}; cached after)")
    perturbed_passes(prep.splits["train"], prep.tokenizer, c, passes=passes, seed=cfg.seed, max_length=cfg.data.max_length,
                     stopwords=frozenset(ENGLISH_STOP_WORDS), substitutes=substitutes).save_to_disk(str(out))


def _saliency(cfg: StudyConfig, prep: Prepared, out: Path, log: Log) -> None:
    log("kdiga: computing the teacher's input gradients on train (cached after)")
    teacher = prep.teacher
    device = model_device(teacher)  # batches go where the teacher is; the teacher is not moved
    rows = []
    for batch in loader(prep.splits["train"], prep.tokenizer, batch_size=cfg.teacher.batch_size, shuffle=False):
        batch = {k: v.to(device) for k, v in batch.items()}
        _, s = token_saliency(teacher, batch["input_ids"], batch["attention_mask"], batch["labels"], create_graph=False)
        padded = torch.zeros(s.shape[0], cfg.data.max_length)
        padded[:, : s.shape[1]] = s.detach().float().cpu()
        rows.append(padded)
    np.save(out / "train_saliency.npy", torch.cat(rows).numpy())


def _ood(cfg: StudyConfig, prep: Prepared, accelerator: Accelerator, out: Path, log: Log) -> None:
    texts = ood_texts(cfg.kd.zeroshot, seed=cfg.seed)
    task = set(prep.splits["train"]["text"]) | set(prep.splits["dev"]["text"]) | set(prep.splits["test"]["text"])
    texts = [t for t in texts if t not in task]  # never a task text, even by coincidence
    log(f"zero-shot: tokenizing {len(texts)} out-of-domain texts and computing the teacher's logits (cached after)")
    ds = datasets.Dataset.from_dict({"text": texts}).map(
        lambda b: prep.tokenizer(b["text"], truncation=True, max_length=cfg.data.max_length), batched=True, desc="tokenize"
    )
    logits = predict_texts(prep.teacher, ds, prep.tokenizer, batch_size=cfg.teacher.batch_size, accelerator=accelerator)
    ds.add_column("teacher_logits", logits.tolist()).save_to_disk(str(out))


def _generator(cfg: StudyConfig, prep: Prepared, source: str, cache: DiskCache, *, texts: datasets.Dataset, name: str, log: Log) -> PreTrainedModel:
    g = cfg.kd.generator
    tokenizer: PreTrainedTokenizerBase = prep.tokenizer
    if g.model is not None:
        # A model the tool did not write: never run code shipped with it (kd.generator.model names it).
        model = AutoModelForMaskedLM.from_pretrained(resolve_source(g.model), trust_remote_code=False)
        if model.get_input_embeddings().num_embeddings != len(tokenizer):
            raise ConfigError("kd.generator.model", g.model, f"Its vocabulary has {model.get_input_embeddings().num_embeddings} tokens, the teacher's tokenizer {len(tokenizer)}: a generator must share the teacher's tokenizer.")
        return model.eval()
    text_key = prep.keys["data"] if name == "task" else {"zeroshot": to_dict(cfg.kd.zeroshot), "data": prep.keys["data"]}
    key = stable_hash({"teacher": prep.keys["teacher"], "generator": to_dict(g), "text": name, "text_key": text_key, "seed": cfg.seed})

    def build(out: Path) -> None:
        log(f"generator ({name} text): a masked-LM head on the teacher's encoder, trained {g.mlm_steps} steps (cached after)")
        set_seed(cfg.seed)
        if cfg.teacher.init == "scratch":
            s = cfg.teacher.scratch
            model = BertForMaskedLM(BertConfig(vocab_size=len(tokenizer), hidden_size=s.hidden_size, num_hidden_layers=s.num_layers, num_attention_heads=s.num_heads, intermediate_size=s.intermediate_size, pad_token_id=tokenizer.pad_token_id))
        else:
            model = AutoModelForMaskedLM.from_pretrained(source, trust_remote_code=cfg.teacher.trust_remote_code)
        plain = texts.select_columns(["input_ids", "attention_mask"])
        last = train_mlm(model, loader(plain, tokenizer, batch_size=32, shuffle=True, seed=cfg.seed), tokenizer, steps=g.mlm_steps, lr=g.mlm_lr, seed=cfg.seed)
        model.save_pretrained(out)
        (out / "mlm.json").write_text(json.dumps({"steps": g.mlm_steps, "last_loss": last, "text": name}))

    folder = cache.get_or_build("generator", key, build)
    return AutoModelForMaskedLM.from_pretrained(folder, trust_remote_code=cfg.teacher.trust_remote_code).eval()
