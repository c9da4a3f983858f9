"""Inference latency: the median wall time of repeated forward passes after warm-up.

Every input is `batch × seq_len` random token ids with a full attention mask (a fixed shape, so
runs are comparable); PyTorch and ONNX Runtime are timed with the same inputs and thread count.
Input stages (text → text, their cost depends on the words) are timed on real texts and added.
torch.utils.benchmark would time PyTorch only; one small timer serves both runtimes.
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable, Sequence

import numpy as np
import torch

from rosearch.config.schema import LatencyConfig, StudyConfig
from rosearch.student.pipeline import StudentPipeline
from rosearch.threads import torch_threads


def seq_len(cfg: StudyConfig) -> int:
    """The timed sequence length: latency.seq_len, else data.max_length."""
    return cfg.latency.seq_len or cfg.data.max_length


def probe_inputs(batch: int, length: int, vocab_size: int, *, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(1000 if vocab_size > 2000 else 1, vocab_size, size=(batch, length), dtype=np.int64)
    return {"input_ids": ids, "attention_mask": np.ones((batch, length), dtype=np.int64)}


def median_ms(run: Callable[[], Any], *, warmup: int, repeats: int, setup: Callable[[], Any] | None = None) -> float:
    """Median ms of `repeats` timed calls of `run` after `warmup` untimed ones; `setup` runs, untimed,
    before every call."""
    for _ in range(warmup):
        if setup is not None:
            setup()
        run()
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def torch_latency(model: torch.nn.Module, *, batch: int, length: int, vocab_size: int, cfg: LatencyConfig) -> float:
    """Median ms of one eval-mode forward pass of `model` (on the CPU) at batch × length."""
    inputs = {k: torch.from_numpy(v) for k, v in probe_inputs(batch, length, vocab_size).items()}
    was_training = model.training
    model.eval()
    try:
        with torch_threads(cfg.threads), torch.inference_mode():
            return median_ms(lambda: model(**inputs), warmup=cfg.warmup, repeats=cfg.repeats)
    finally:
        model.train(was_training)


def stage_latency(pipeline: StudentPipeline, texts: list[str], *, cfg: LatencyConfig) -> float:
    """Median ms of the pipeline's input stages on `texts` (one batch of real texts: a stage's cost
    depends on the words, so random token ids would not do); 0 without stages. A stage that
    memoises words (the recogniser's cache, `cache_clear`) starts every run cold: repeated timing of
    the same texts would otherwise time dictionary lookups, not the texts an attacker or a user
    sends, whose misspellings are new."""
    if not pipeline.stages and pipeline.vote is None:
        return 0.0
    caches = [stage.cache_clear for _, stage in pipeline.stages if callable(getattr(stage, "cache_clear", None))]
    vote = pipeline.vote.expand if pipeline.vote is not None else (lambda texts: texts)  # a vote's copies are drawn here too
    return median_ms(lambda: vote([pipeline.preprocess(t) for t in texts]), warmup=cfg.warmup, repeats=cfg.repeats,
                     setup=lambda: [clear() for clear in caches])


def onnx_session(path: str, *, threads: int):  # noqa: ANN201 - onnxruntime.InferenceSession
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


def onnx_latency(session, *, batch: int, length: int, vocab_size: int, cfg: LatencyConfig) -> float:  # noqa: ANN001
    inputs = probe_inputs(batch, length, vocab_size)
    feed = {i.name: inputs[i.name] for i in session.get_inputs()}
    return median_ms(lambda: session.run(None, feed), warmup=cfg.warmup, repeats=cfg.repeats)


def latency_report(pipeline: StudentPipeline, *, length: int, cfg: LatencyConfig, onnx_path: str | None = None,
                   texts: Sequence[str] = ()) -> dict[str, Any]:
    """The pipeline's latency per batch size: {'seq_len', 'threads', 'warmup', 'repeats',
    'statistic', 'pytorch': {batch: ms}, 'onnxruntime': {batch: ms}} (batch sizes as strings: the
    report is stored as JSON). With input stages, each runtime's figure is the whole pipeline's
    (the stages on `batch` real `texts`, repeated as needed, + the model), and the report also holds
    'stages' (their names) and 'stage': {batch: ms}, the stages' share."""
    report: dict[str, Any] = {"seq_len": length, "threads": cfg.threads, "warmup": cfg.warmup, "repeats": cfg.repeats, "statistic": "median"}
    stage = {str(b): stage_latency(pipeline, _texts_of(texts, b), cfg=cfg) for b in cfg.batch_sizes} if pipeline.stage_names else {}
    vocab_size, rows = len(pipeline.tokenizer), pipeline.model_passes  # a voting pipeline runs the model on its copies
    report["pytorch"] = {str(b): torch_latency(pipeline.model, batch=b * rows, length=length, vocab_size=vocab_size, cfg=cfg) + stage.get(str(b), 0.0)
                         for b in cfg.batch_sizes}
    if onnx_path is not None:
        session = onnx_session(onnx_path, threads=cfg.threads)
        report["onnxruntime"] = {str(b): onnx_latency(session, batch=b * rows, length=length, vocab_size=vocab_size, cfg=cfg) + stage.get(str(b), 0.0)
                                 for b in cfg.batch_sizes}
    if stage:
        report.update(stages=list(pipeline.stage_names), stage=stage)
    return report


def _texts_of(texts: Sequence[str], n: int) -> list[str]:
    """`n` texts: `texts` repeated as needed."""
    if not texts:
        raise ValueError("timing input stages needs real texts")
    return [texts[i % len(texts)] for i in range(n)]
