"""MATE-KD and zero-shot KD: a masked-LM generator makes hard examples for the student.

MATE-KD (Rashid et al., ACL 2021, arXiv 2105.05912): a generator re-fills 30% of the tokens of a
training text; its one-hot outputs pass a straight-through Gumbel-softmax, so it is trained, through
the teacher's and the student's embeddings, to *maximise* their divergence. The student minimises
(1/3)·CE + (1/3)·KD on clean text + (1/3)·KD on perturbed text. The two alternate in blocks
(the authors' code: 10 generator steps, then 100 student steps).

Zero-shot KD (Rashid et al., arXiv 2012.15495): the same adversarial game on out-of-domain text,
with no task data and no labels: the student minimises (1/2)·KD clean + (1/2)·KD perturbed.

Costs: clean-text teacher logits come from the study cache; perturbed text changes at every step,
so the teacher runs online on it (and the generator runs every step).
"""

from __future__ import annotations

import copy
import math
import time

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from rosearch.config.schema import GeneratorConfig, OptimConfig
from rosearch.kd.generator import choose_masked, embed_replaced, masked_logits, sample_tokens, special_mask
from rosearch.train.loop import FitResult, cycle, make_optimizer, model_device, optimizer_step, progress_bar, total_steps
from rosearch.train.losses import soft_kl


def generator_divergence(
    generator: PreTrainedModel,
    teacher: PreTrainedModel,
    student: PreTrainedModel,
    batch: dict[str, torch.Tensor],
    tokenizer: PreTrainedTokenizerBase,
    cfg: GeneratorConfig,
    *,
    temperature: float,
    rng: torch.Generator | None = None,
    hard: bool = True,
) -> torch.Tensor:
    """KL(teacher ‖ student) on generator-perturbed text, differentiable in the generator."""
    ids, attn = batch["input_ids"], batch["attention_mask"]
    positions = choose_masked(ids, attn, special_mask(ids, tokenizer), prob=cfg.mask_prob, generator=rng)
    one_hot = sample_tokens(masked_logits(generator, ids.masked_fill(positions, tokenizer.mask_token_id), attn, positions), temperature=cfg.gumbel_temperature, hard=hard)
    t = teacher(inputs_embeds=embed_replaced(teacher, ids, positions, one_hot), attention_mask=attn).logits
    s = student(inputs_embeds=embed_replaced(student, ids, positions, one_hot), attention_mask=attn).logits
    return soft_kl(s, t, temperature=temperature)


def generator_step(generator, teacher, student, batch, tokenizer, cfg: GeneratorConfig, optimizer: torch.optim.Optimizer, *, temperature: float, rng=None, hard: bool = True) -> float:
    """One ascent step of the generator on the divergence; teacher and student are not changed
    (only the generator's gradients are computed)."""
    divergence = generator_divergence(generator, teacher, student, batch, tokenizer, cfg, temperature=temperature, rng=rng, hard=hard)
    params = [p for p in generator.parameters() if p.requires_grad]
    grads = torch.autograd.grad(-divergence, params, allow_unused=True)
    for p, g in zip(params, grads):
        p.grad = g
    optimizer.step()
    optimizer.zero_grad()
    return divergence.item()


@torch.no_grad()
def perturb(generator, batch, tokenizer, cfg: GeneratorConfig, *, rng=None) -> torch.Tensor:
    """Token ids with the masked positions re-filled by sampled generator tokens."""
    ids, attn = batch["input_ids"], batch["attention_mask"]
    positions = choose_masked(ids, attn, special_mask(ids, tokenizer), prob=cfg.mask_prob, generator=rng)
    one_hot = sample_tokens(masked_logits(generator, ids.masked_fill(positions, tokenizer.mask_token_id), attn, positions), temperature=cfg.gumbel_temperature)
    return ids.masked_scatter(positions, one_hot.argmax(-1))


def fit_adversarial(
    student: torch.nn.Module,
    generator: PreTrainedModel,
    teacher: PreTrainedModel,
    train: DataLoader,
    tokenizer: PreTrainedTokenizerBase,
    *,
    accelerator: Accelerator,
    optim: OptimConfig,
    gen: GeneratorConfig,
    temperature: float,
    grad_clip: float | None,
    seed: int,
    with_labels: bool,
    progress: bool = True,
) -> FitResult:
    """Alternate `gen.generator_steps` generator steps and `gen.student_steps` student steps until
    the student has made `optim.epochs` passes over `train`.

    with_labels: MATE-KD (CE + KD clean + KD perturbed, 1/3 each); without: zero-shot KD
    (KD clean + KD perturbed, 1/2 each) — its batches carry no labels at all.
    """
    set_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    total = total_steps(optim, train)
    optimizer, scheduler = make_optimizer(student, optim, total)
    student, optimizer, train, scheduler = accelerator.prepare(student, optimizer, train, scheduler)
    # Every student starts from the study's cached generator: train a copy, so no trial inherits
    # another trial's adversarially trained generator (results would depend on trial order).
    generator = copy.deepcopy(generator).to(accelerator.device)
    # The shared teacher is read where the preparation placed it (frozen, eval): never moved here.
    assert model_device(teacher) == accelerator.device and not any(p.requires_grad for p in teacher.parameters()), "prepare places and freezes the teacher"
    gen_optimizer = torch.optim.AdamW(generator.parameters(), lr=gen.lr)
    batches = cycle(train)
    start, step, loss_value, divergence = time.perf_counter(), 0, math.nan, math.nan
    bar = progress_bar(total, "adversarial KD", accelerator, progress)
    while step < total:
        generator.train()
        student.eval()  # the generator attacks the student as it is (no dropout noise)
        for _ in range(gen.generator_steps):
            divergence = generator_step(generator, teacher, student, next(batches), tokenizer, gen, gen_optimizer, temperature=temperature, rng=rng)
        generator.eval()
        student.train()
        for _ in range(min(gen.student_steps, total - step)):
            batch = next(batches)
            clean_teacher = batch.pop("teacher_logits")
            labels = batch.pop("labels", None)
            perturbed = perturb(generator, batch, tokenizer, gen, rng=rng)
            with torch.no_grad():
                perturbed_teacher = teacher(input_ids=perturbed, attention_mask=batch["attention_mask"]).logits
            clean = student(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            adv = student(input_ids=perturbed, attention_mask=batch["attention_mask"]).logits
            terms = [soft_kl(clean, clean_teacher, temperature=temperature), soft_kl(adv, perturbed_teacher, temperature=temperature)]
            if with_labels:
                terms.append(torch.nn.functional.cross_entropy(clean.float(), labels))
            loss = sum(terms) / len(terms)
            where = f"adversarial KD, step {step}"
            loss_value = optimizer_step(loss, model=student, optimizer=optimizer, scheduler=scheduler, accelerator=accelerator, grad_clip=grad_clip, where=where)
            step += 1
            bar.update()
            bar.set_postfix(loss=f"{loss_value:.3f}", divergence=f"{divergence:.3f}", refresh=False)
    bar.close()
    student.eval()
    accelerator.free_memory()  # as `fit` does: the command's Accelerator keeps no reference to this run
    return FitResult(steps=step, seconds=time.perf_counter() - start, last_loss=loss_value)
