"""Train a student for a genome (or a reference BERT shape) with one distillation strategy: build
it, ask the strategy for its plan, run the plan in the one training loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed

from rosearch.config import StudyConfig
from rosearch.config.schema import BertShapeConfig
from rosearch.kd.strategies import STRATEGIES, Registry, TrialContext
from rosearch.student import build_student
from rosearch.student.bert import build_bert_student
from rosearch.student.genome import Genome
from rosearch.train import fit
from rosearch.train.loop import FitResult

if TYPE_CHECKING:
    from rosearch.prepared import Prepared


def student_shape(cfg: StudyConfig, prep: Prepared) -> dict:
    """The study's fixed sizes every student (and the supernet) is built with."""
    return dict(vocab_size=len(prep.tokenizer), num_labels=prep.num_labels, pad_token_id=prep.tokenizer.pad_token_id,
                max_position_embeddings=cfg.data.max_length, dropout=cfg.space.dropout)


def distill_student(
    genome: Genome | BertShapeConfig,
    cfg: StudyConfig,
    prep: Prepared,
    *,
    accelerator: Accelerator,
    seed: int,
    strategy: str = "vanilla",
    progress: bool = True,
    teacher_logits: str | None = None,
    registry: Registry = STRATEGIES,
) -> tuple[torch.nn.Module, FitResult]:
    """A new student for `genome` (or a reference BERT shape), trained with `strategy` on the
    command's `accelerator`; `teacher_logits` overrides kd.teacher_logits (cached / online).

    The student comes back unwrapped (a plain fp32 module without Accelerate's autocast wrapper:
    `predict` applies the study's precision itself, and ONNX export needs plain fp32), in eval
    mode, on `accelerator.device`."""
    d = cfg.kd
    set_seed(seed)  # the student's initial weights are part of what the seed fixes
    shape = {**student_shape(cfg, prep), "embedding_basis": prep.embedding_basis}
    if isinstance(genome, BertShapeConfig):
        student = build_bert_student(genome, **shape)
    else:
        student = build_student(genome, vocabulary=prep.vocabulary(genome.vocabulary), **shape)
    pipeline = prep.pipeline(student, genome.input_stage if isinstance(genome, Genome) else "none", max_length=cfg.data.max_length)
    ctx = TrialContext(cfg, prep, prep.strategy_data.get(strategy), seed=seed, teacher_logits=teacher_logits or d.teacher_logits, pipeline=pipeline)
    plan = registry.get(strategy).plan(ctx)
    result = fit(student, plan, accelerator=accelerator, optim=d, grad_clip=d.grad_clip, seed=seed, progress=progress)
    return accelerator.unwrap_model(student, keep_fp32_wrapper=False), result
