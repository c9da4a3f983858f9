"""Train a tiny student with every KD strategy and print what any change of behaviour would move:
optimizer steps, the last loss, the strategy's details (without its timings) and a hash of the
dev logits. Run it with two versions of the code on one cache and compare the JSON files:

    PYTHONPATH=<other checkout> python benchmarks/strategy_fingerprint.py CACHE_DIR old.json
    python benchmarks/strategy_fingerprint.py CACHE_DIR new.json
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import replace

from rosearch.attack.resources import import_textattack
from rosearch.cache import DiskCache
from rosearch.config import StudyConfig, load_study, to_dict
from rosearch.config._build import build
from rosearch.config.schema import STRATEGIES
from rosearch.kd import distill_student
from rosearch.prepare import prepare
from rosearch.search.genome import Genome, Node
from rosearch.train import loader, make_accelerator, predict

GENOME = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")), Node((2, 1), ("attention", "maxpool3"))), n_heads=2)
#: Beyond one run per strategy: a2t through the recogniser, online teacher logits, and an a2t run
#: long and strong enough that its adversarial pool fills (the other a2t runs keep none).
EXTRA = ["a2t+rec", "vanilla-online", "a2t-strong+rec"]


def main(cache: str, out: str) -> None:
    import_textattack()
    data = to_dict(load_study("tiny"))
    data["kd"].update({"strategy": list(STRATEGIES), "epochs": 1.0, "batch_size": 32, "lr": 0.003, "max_train_examples": 256,
                       "generator": {"mlm_steps": 20, "generator_steps": 2, "student_steps": 4}, "zeroshot": {"max_examples": 256},
                       "a2t": {"examples": 24, "query_budget": 30}, "augment": {"copies": 2}})
    data["space"]["input_stages"] = ["none", "recognizer"]
    cfg = build(StudyConfig, data, "")
    accelerator = make_accelerator("no")
    prep = prepare(cfg, cache=DiskCache(cache), accelerator=accelerator, log=lambda _: None, progress=False)
    rows = {}
    for case in [*STRATEGIES, *EXTRA]:
        genome = replace(GENOME, input_stage="recognizer") if case.endswith("+rec") else GENOME
        strategy = case.split("+")[0].split("-")[0]
        c = cfg
        if "strong" in case:
            c = replace(cfg, kd=replace(cfg.kd, epochs=3.0, a2t=replace(cfg.kd.a2t, examples=64, query_budget=400, start=0.1, every=0.3)))
        kw = {"teacher_logits": "online"} if case.endswith("online") else {}
        student, fit = distill_student(genome, c, prep, accelerator=accelerator, seed=0, strategy=strategy, progress=False, **kw)
        logits, _ = predict(student, loader(prep.splits["dev"], prep.tokenizer, batch_size=64, shuffle=False), accelerator=accelerator)
        details = {k: v for k, v in fit.details.items() if k != "attack_seconds"}
        rows[case] = {"steps": fit.steps, "loss": round(fit.last_loss, 6), "details": details,
                      "logits": hashlib.sha1(logits.numpy().round(4).tobytes()).hexdigest()[:12]}
        print(case, rows[case], flush=True)
    with open(out, "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:3])
