"""The study's masked-LM generator for a text (MATE-KD, zero-shot KD and augment use it): the
teacher's source encoder with a masked-LM head trained briefly on that text, cached; or the masked
LM that kd.generator.model names."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
from accelerate.utils import set_seed
from transformers import AutoModelForMaskedLM, BertConfig, BertForMaskedLM, PreTrainedModel

from rosearch.config import stable_hash, to_dict
from rosearch.errors import ConfigError
from rosearch.kd.generator import train_mlm
from rosearch.kd.strategies.base import PrepareContext
from rosearch.teacher import resolve_source
from rosearch.train import loader


def cached_generator(ctx: PrepareContext, *, texts: datasets.Dataset, name: str) -> PreTrainedModel:
    """The generator for `texts` ("task": the train split; "ood": zero-shot's out-of-domain text),
    in eval mode on the CPU (a fresh copy on each call)."""
    cfg, prep, g = ctx.cfg, ctx.prep, ctx.cfg.kd.generator
    tokenizer = prep.tokenizer
    if g.model is not None:
        # A model the tool did not write: never run code shipped with it (kd.generator.model names it).
        model = AutoModelForMaskedLM.from_pretrained(resolve_source(g.model), trust_remote_code=False)
        if model.get_input_embeddings().num_embeddings != len(tokenizer):
            raise ConfigError("kd.generator.model", g.model, f"Its vocabulary has {model.get_input_embeddings().num_embeddings} tokens, the teacher's tokenizer {len(tokenizer)}: a generator must share the teacher's tokenizer.")
        return model.eval()
    text_key = prep.keys["data"] if name == "task" else {"zeroshot": to_dict(cfg.kd.zeroshot), "data": prep.keys["data"]}
    key = stable_hash({"teacher": prep.keys["teacher"], "generator": to_dict(g), "text": name, "text_key": text_key, "seed": cfg.seed})

    def build(out: Path) -> None:
        ctx.log(f"generator ({name} text): a masked-LM head on the teacher's encoder, trained {g.mlm_steps} steps (cached after)")
        set_seed(cfg.seed)
        if cfg.teacher.init == "scratch":
            s = cfg.teacher.scratch
            model = BertForMaskedLM(BertConfig(vocab_size=len(tokenizer), hidden_size=s.hidden_size, num_hidden_layers=s.num_layers, num_attention_heads=s.num_heads, intermediate_size=s.intermediate_size, pad_token_id=tokenizer.pad_token_id))
        else:
            model = AutoModelForMaskedLM.from_pretrained(ctx.source, trust_remote_code=cfg.teacher.trust_remote_code)
        plain = texts.select_columns(["input_ids", "attention_mask"])
        last = train_mlm(model, loader(plain, tokenizer, batch_size=32, shuffle=True, seed=cfg.seed), tokenizer, steps=g.mlm_steps, lr=g.mlm_lr, seed=cfg.seed)
        model.save_pretrained(out)
        (out / "mlm.json").write_text(json.dumps({"steps": g.mlm_steps, "last_loss": last, "text": name}))

    folder = ctx.cache.get_or_build("generator", key, build)
    return AutoModelForMaskedLM.from_pretrained(folder, trust_remote_code=cfg.teacher.trust_remote_code).eval()
