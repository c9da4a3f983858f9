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

`AdversarialGame` is the game as a hook of the one training loop (rosearch.train.fit); the
strategies that play it are rosearch/kd/strategies/mate.py and zeroshot.py.
"""

from __future__ import annotations

import copy
import math

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from rosearch.config.schema import GeneratorConfig
from rosearch.kd.generator import choose_masked, embed_replaced, masked_logits, sample_tokens, special_mask
from rosearch.train import Run, model_device
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


class AdversarialGame:
    """The generator's side of the game as a training-loop hook, and the student's loss.

    Before every `gen.student_steps`-th student step the generator takes `gen.generator_steps`
    ascent steps on batches of the same stream, against the student as it is (eval mode, no
    dropout). The student's loss: (KD clean + KD perturbed [+ CE with labels]) / number of terms.
    """

    def __init__(self, generator: PreTrainedModel, teacher: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, gen: GeneratorConfig, *,
                 temperature: float, seed: int, with_labels: bool) -> None:
        self.study_generator, self.teacher, self.tokenizer, self.gen = generator, teacher, tokenizer, gen
        self.temperature, self.with_labels = temperature, with_labels
        self.rng = torch.Generator().manual_seed(seed)
        self.divergence = math.nan

    def start(self, run: Run) -> None:
        # Every student starts from the study's cached generator: train a copy, so no trial inherits
        # another trial's adversarially trained generator (results would depend on trial order).
        self.generator = copy.deepcopy(self.study_generator).to(run.accelerator.device)
        # The shared teacher is read where the preparation placed it (frozen, eval): never moved here.
        assert model_device(self.teacher) == run.accelerator.device and not any(p.requires_grad for p in self.teacher.parameters()), "prepare places and freezes the teacher"
        self.optimizer = torch.optim.AdamW(self.generator.parameters(), lr=self.gen.lr)

    def before_step(self, run: Run, step: int) -> None:
        if step % self.gen.student_steps:
            return
        self.generator.train()
        run.model.eval()  # the generator attacks the student as it is (no dropout noise)
        for _ in range(self.gen.generator_steps):
            self.divergence = generator_step(self.generator, self.teacher, run.model, next(run.batches), self.tokenizer, self.gen, self.optimizer,
                                             temperature=self.temperature, rng=self.rng)
        self.generator.eval()
        run.model.train()

    def loss(self, student: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        clean_teacher = batch.pop("teacher_logits")
        labels = batch.pop("labels", None)
        perturbed = perturb(self.generator, batch, self.tokenizer, self.gen, rng=self.rng)
        with torch.no_grad():
            perturbed_teacher = self.teacher(input_ids=perturbed, attention_mask=batch["attention_mask"]).logits
        clean = student(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        adv = student(input_ids=perturbed, attention_mask=batch["attention_mask"]).logits
        terms = [soft_kl(clean, clean_teacher, temperature=self.temperature), soft_kl(adv, perturbed_teacher, temperature=self.temperature)]
        if self.with_labels:
            terms.append(torch.nn.functional.cross_entropy(clean.float(), labels))
        return sum(terms) / len(terms)

    def postfix(self) -> dict[str, str]:
        return {"divergence": f"{self.divergence:.3f}"}
