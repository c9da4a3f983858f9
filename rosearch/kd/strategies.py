"""Train a student for a genome with one distillation strategy.

vanilla   logit KD from cached (or online) teacher logits — rosearch.train.losses.kd_loss
kdiga     + input-gradient alignment with the teacher — rosearch.kd.kdiga
mate      adversarial masked-LM augmentation — rosearch.kd.mate (with labels)
zeroshot  the same game on out-of-domain text, no task data — rosearch.kd.mate (without labels)
consistency  logit KD on randomly perturbed copies with the clean texts' cached logits — rosearch.kd.consistency
a2t       logit KD plus adversarial texts from a cheap attack on the student at intervals — rosearch.kd.a2t
augment   logit KD on a larger transfer set: masked-LM variants labelled by the teacher — rosearch.kd.augment
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import datasets
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed

from rosearch.config import StudyConfig
from rosearch.config.schema import BertShapeConfig
from rosearch.kd.kdiga import kdiga_loss, token_saliency
from rosearch.kd.mate import fit_adversarial
from rosearch.student import build_student
from rosearch.student.bert import build_bert_student
from rosearch.student.genome import Genome
from rosearch.train import fit, kd_loss, loader
from rosearch.train.loop import FitResult

if TYPE_CHECKING:
    from rosearch.prepare import Prepared


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
) -> tuple[torch.nn.Module, FitResult]:
    """A new student for `genome` (or a reference BERT shape), trained with `strategy` on the
    command's `accelerator`; `teacher_logits` overrides kd.teacher_logits (cached / online) for the
    vanilla strategy.

    The student comes back unwrapped (a plain fp32 module without Accelerate's autocast wrapper:
    `predict` applies the study's precision itself, and ONNX export needs plain fp32), in eval
    mode, on `accelerator.device`."""
    d = cfg.kd
    set_seed(seed)  # the student's initial weights are part of what the seed fixes
    build = build_bert_student if isinstance(genome, BertShapeConfig) else build_student
    student = build(
        genome,
        vocab_size=len(prep.tokenizer),
        num_labels=prep.num_labels,
        pad_token_id=prep.tokenizer.pad_token_id,
        max_position_embeddings=cfg.data.max_length,
        dropout=cfg.space.dropout,
        embedding_basis=prep.embedding_basis,
    )
    common = dict(accelerator=accelerator, optim=d, grad_clip=d.grad_clip, seed=seed, progress=progress)

    if strategy in ("mate", "zeroshot"):
        task = strategy == "mate"
        data = _train_split(cfg, prep) if task else prep.ood  # zero-shot: out-of-domain text only
        batches = loader(data, prep.tokenizer, batch_size=d.batch_size, shuffle=True, extra=("teacher_logits",), seed=seed)
        generator = prep.generators["task" if task else "ood"]
        result = fit_adversarial(student, generator, prep.teacher, batches, prep.tokenizer, gen=d.generator, temperature=d.temperature, with_labels=task, **common)
        return accelerator.unwrap_model(student, keep_fp32_wrapper=False), result

    extra = ("teacher_logits", "teacher_saliency") if strategy == "kdiga" else ("teacher_logits",)
    train = _train_split(cfg, prep)
    if strategy == "consistency":  # the perturbed passes of the same examples; `epochs` still counts passes over the data
        assert prep.consistency is not None, "prepare builds the perturbed passes when the study names the strategy"
        passes = max(prep.consistency["pass"]) + 1
        train = _rows_of(prep.consistency, train, prep)
        common["optim"] = replace(d, epochs=d.epochs / passes)
    if strategy == "augment":  # `epochs` counts passes over the whole augmented set: (1 + copies) × vanilla's steps
        assert prep.augmented is not None, "prepare builds the augmented transfer set when the study names the strategy"
        train = _rows_of(prep.augmented, train, prep)
    teacher = prep.teacher if (teacher_logits or d.teacher_logits) == "online" else None  # already on accelerator.device

    def vanilla(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        cached = batch.pop("teacher_logits")
        labels = batch.pop("labels")
        if teacher is None:
            target = cached
        else:
            with torch.no_grad():
                target = teacher(**batch).logits
        return kd_loss(model(**batch).logits, target, labels, temperature=d.temperature, alpha=d.alpha)

    def kdiga(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        k = d.kdiga
        mask = batch["attention_mask"]
        logits, saliency = token_saliency(model, batch["input_ids"], mask, batch["labels"], create_graph=True)
        teacher_saliency = batch["teacher_saliency"][:, : mask.shape[1]]  # cached at max_length: [B, L]
        return kdiga_loss(logits, batch["teacher_logits"], batch["labels"], saliency, teacher_saliency, temperature=k.temperature, alpha=k.alpha, gamma=k.gamma)

    if strategy == "a2t":
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        from rosearch.kd.a2t import fit_a2t

        assert prep.substitutes is not None, "prepare resolves the substitutes when the study names the strategy"
        stage = prep.input_stage(genome.input_stage) if isinstance(genome, Genome) else None
        result = fit_a2t(student, train, prep.tokenizer, vanilla, a2t=d.a2t, max_length=cfg.data.max_length, batch_size=d.batch_size,
                            substitutes=prep.substitutes[1], stopwords=frozenset(ENGLISH_STOP_WORDS), stage=stage, **common)
        return accelerator.unwrap_model(student, keep_fp32_wrapper=False), result

    loss_fn = kdiga if strategy == "kdiga" else vanilla
    data = loader(train, prep.tokenizer, batch_size=d.batch_size, shuffle=True, extra=extra, seed=seed)
    result = fit(student, data, loss_fn, desc=f"distill ({strategy})", **common)
    return accelerator.unwrap_model(student, keep_fp32_wrapper=False), result


def _rows_of(derived: datasets.Dataset, train: datasets.Dataset, prep: Prepared) -> datasets.Dataset:
    """The rows of a dataset derived from the whole train split (column source_index) that come from
    the examples `train` holds (its first len(train), see `_train_split`)."""
    if len(train) == len(prep.splits["train"]):
        return derived
    return derived.filter(lambda i: i < len(train), input_columns="source_index")


def _train_split(cfg: StudyConfig, prep: Prepared) -> datasets.Dataset:
    train = prep.splits["train"]
    if cfg.kd.max_train_examples is not None and len(train) > cfg.kd.max_train_examples:
        train = train.select(range(cfg.kd.max_train_examples))  # already shuffled with data.seed
    return train
