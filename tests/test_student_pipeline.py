"""The student pipeline: text → stages → tokenizer → model, the one object attacks and latency see
(the attack wrapper over a pipeline with a stage: tests/test_attack.py)."""

from __future__ import annotations

import time

import torch

from rosearch.config.schema import LatencyConfig
from rosearch.latency import stage_latency
from rosearch.student.pipeline import StudentPipeline


class Echo(torch.nn.Module):
    """Logits = (sum of the ids, number of real tokens): enough to tell two inputs apart."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids, attention_mask, **_):  # noqa: ANN001, ANN201
        from types import SimpleNamespace

        ids = (input_ids * attention_mask).sum(-1, keepdim=True).float()
        return SimpleNamespace(logits=torch.cat([ids, attention_mask.sum(-1, keepdim=True).float()], -1) + self.w)


def test_stages_run_in_order_before_the_tokenizer(tokenizer) -> None:
    upper = ("upper", str.upper)
    fix = ("fix", lambda t: t.replace("BDA", "BAD"))
    p = StudentPipeline(Echo(), tokenizer, 8, (upper, fix))
    assert p.stage_names == ("upper", "fix") and p.preprocess("a bda film") == "A BAD FILM"
    assert StudentPipeline(Echo(), tokenizer, 8, (fix, upper)).preprocess("a bda film") == "A BDA FILM"  # order matters
    expected = tokenizer(["a bad film"], padding=True, truncation=True, max_length=8, return_tensors="pt")
    got = p.encode(["a bda film"])
    assert torch.equal(got["input_ids"], expected["input_ids"])  # the uncased tokenizer sees the fixed text
    torch.testing.assert_close(p.logits(["a bda film"]), StudentPipeline(Echo(), tokenizer, 8).logits(["a bad film"]))
    assert p.encode(["word " * 50])["input_ids"].shape[1] == 8  # truncated at max_length, as in training
    assert p.with_model(Echo()).stages == p.stages


def test_stage_latency_counts_the_stages_and_nothing_without_them(tokenizer) -> None:
    cfg = LatencyConfig(batch_sizes=[1], warmup=0, repeats=3, threads=1)
    slow = StudentPipeline(Echo(), tokenizer, 8, (("slow", lambda t: time.sleep(0.002) or t),))
    assert stage_latency(StudentPipeline(Echo(), tokenizer, 8), ["a film"] * 4, cfg=cfg) == 0.0
    assert stage_latency(slow, ["a film"] * 4, cfg=cfg) >= 4 * 2.0  # four texts × 2 ms each


def test_a_split_through_the_stages_is_what_encode_gives(tokenizer) -> None:
    """Clean evaluation reads a split tokenized after the stages: the study's prepared copy where
    there is one, else the pipeline tokenizes it (a stage prepare knows nothing of)."""
    from types import SimpleNamespace

    import datasets

    from rosearch.search.evaluate import _tokenized
    from rosearch.student.pipeline import split_key

    dev = datasets.Dataset.from_dict({"text": ["a bda film", "word " * 50], "labels": [0, 1]})
    p = StudentPipeline(Echo(), tokenizer, 8, (("fix", lambda t: t.replace("bda", "bad")),))
    through = p.tokenized(dev)
    assert through["input_ids"] == [tokenizer("a bad film")["input_ids"], tokenizer("word " * 50, truncation=True, max_length=8)["input_ids"]]
    assert through["labels"] == [0, 1] and split_key("dev", p.stage_names) == "dev@fix" and split_key("dev", ()) == "dev"
    prepared = datasets.Dataset.from_dict({"input_ids": [[1]], "labels": [0]})
    prep = SimpleNamespace(splits={"dev": dev, "dev@fix": prepared})
    assert _tokenized(p, prep, "dev") is prepared  # the copy tokenized once per study
    assert _tokenized(StudentPipeline(Echo(), tokenizer, 8), prep, "dev") is dev
    assert _tokenized(p, SimpleNamespace(splits={"dev": dev}), "dev")["input_ids"] == through["input_ids"]



def test_a_temperature_divides_the_logits_and_changes_no_prediction(tokenizer) -> None:
    p = StudentPipeline(Echo(), tokenizer, 8)
    texts = ["a bad film", "a very good film indeed"]
    scaled = p.with_temperature(4.0)
    torch.testing.assert_close(scaled.logits(texts), p.logits(texts) / 4.0)
    assert torch.equal(scaled.logits(texts).argmax(-1), p.logits(texts).argmax(-1))
    assert scaled.stages == p.stages and scaled.model is p.model and p.temperature == 1.0
