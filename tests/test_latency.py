"""Latency measurement: the median after warm-up, fixed-shape probes, one report per runtime and batch."""

from __future__ import annotations

import time

import pytest
import torch

from rosearch.config import LatencyConfig, StudyConfig
from rosearch.config._build import build
from rosearch.latency import latency_report, median_ms, probe_inputs, seq_len
from rosearch.student.pipeline import StudentPipeline


def test_median_ms_skips_the_warm_up_and_takes_the_median(monkeypatch) -> None:
    calls = []
    # (start, end) readings of the 3 timed runs: 1, 5 and 2 ms; warm-up runs read no clock
    clock = iter([10.0, 10.001, 20.0, 20.005, 30.0, 30.002])
    monkeypatch.setattr("rosearch.latency.time.perf_counter", lambda: next(clock))
    assert median_ms(lambda: calls.append(1), warmup=3, repeats=3) == pytest.approx(2.0)
    assert len(calls) == 6


@pytest.mark.parametrize("raw, expected", [({}, 32), ({"latency": {"seq_len": 16}}, 16)])
def test_seq_len_defaults_to_max_length(raw, expected) -> None:
    cfg = build(StudyConfig, {"data": {"max_length": 32}, **raw}, "")
    assert seq_len(cfg) == expected


def test_probe_inputs_are_fixed_and_unpadded() -> None:
    a, b = probe_inputs(4, 8, 30522), probe_inputs(4, 8, 30522)
    assert a["input_ids"].shape == (4, 8) and (a["input_ids"] == b["input_ids"]).all()
    assert a["attention_mask"].all() and a["input_ids"].min() >= 1000  # no special tokens


def test_latency_report_times_each_batch_size_and_restores_threads() -> None:
    model = torch.nn.Module()
    model.emb = torch.nn.Embedding(100, 8)
    model.forward = lambda input_ids, attention_mask: model.emb(input_ids).sum()  # noqa: ARG005
    before = torch.get_num_threads()
    vocab = type("Vocab", (), {"__len__": lambda self: 100})()  # the probe ids need only the tokenizer's size
    report = latency_report(StudentPipeline(model, vocab, 8), length=8, cfg=LatencyConfig(batch_sizes=[1, 4], warmup=1, repeats=3, threads=1))
    assert set(report["pytorch"]) == {"1", "4"} and all(v > 0 for v in report["pytorch"].values())
    assert "onnxruntime" not in report and report["seq_len"] == 8 and report["threads"] == 1
    assert torch.get_num_threads() == before


def test_latency_per_batch_size_includes_the_stages(tokenizer) -> None:
    from rosearch.student import build_student
    from rosearch.student.genome import Genome, Node

    genome = Genome(16, 16, 1, (Node((0, 1), ("conv3", "skip")),))
    model = build_student(genome, vocab_size=len(tokenizer), num_labels=2, pad_token_id=tokenizer.pad_token_id, max_position_embeddings=16, dropout=0.0)
    cfg = LatencyConfig(batch_sizes=[1, 4], warmup=0, repeats=3, threads=1)
    bare = latency_report(StudentPipeline(model, tokenizer, 16), length=16, cfg=cfg)
    assert "stage" not in bare and set(bare["pytorch"]) == {"1", "4"}
    slow = StudentPipeline(model, tokenizer, 16, (("slow", lambda t: time.sleep(0.003) or t),))
    lat = latency_report(slow, length=16, cfg=cfg, texts=["a film", "a plot"])
    assert lat["stages"] == ["slow"]
    assert lat["stage"]["1"] >= 3.0 and lat["stage"]["4"] >= 4 * 3.0  # one text per batch element (the two texts repeated)
    assert all(lat["pytorch"][b] > lat["stage"][b] for b in ("1", "4"))
