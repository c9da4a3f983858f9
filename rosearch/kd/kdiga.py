"""KDIGA: knowledge distillation with input gradient alignment.

Shao et al., "How and When Adversarial Robustness Transfers in Knowledge Distillation?"
(arXiv 2110.12072): loss = α·τ²·KL(teacher ‖ student at τ) + (1 − α)·CE
                          + γ·‖∇ₓCE(student) − ∇ₓCE(teacher)‖,
gradients taken with respect to the input and kept in the graph (double backward).

The paper is for images, where student and teacher read the same pixels. Here they read the same
token ids (one tokenizer) through embedding matrices of different widths, so their gradients with
respect to embeddings cannot be compared. What they share is the one-hot token input x ∈ {0,1}^{L×V}:
∂CE/∂x[i, v] = ∇_{e_i}CE · W[v] for either model. We align its coordinates at the observed tokens,
s_i = ∇_{e_i}CE · e_i (one number per position, "gradient × input" saliency). Why these and not the
full L×V gradient: (1) they are exactly the first-order effect of removing or swapping token i,
which is what word-substitution attacks rank words by; (2) the full gradient is 30k numbers per
token, which would not fit a cache, while s is L numbers per example, so the teacher's side is
computed once per study (prepare) like its logits, and only the student pays a double backward.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from rosearch.train.losses import kd_loss


def token_saliency(
    model: torch.nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    labels: torch.Tensor,
    *,
    create_graph: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits [B, K], s [B, L]) with s_i = ∂CE/∂x[i, token_i]; pads get 0.

    CE is summed over the batch so that each example's gradient is its own (not divided by B).
    With `create_graph`, s stays differentiable with respect to the model's parameters.
    """
    embeds = model.get_input_embeddings()(input_ids)  # [B, L, e]
    if not create_graph:
        embeds = embeds.detach().requires_grad_(True)
    # The fused attention kernels have no double backward; the math kernel does.
    kernel = sdpa_kernel(SDPBackend.MATH) if create_graph else contextlib.nullcontext()
    with kernel:
        logits = model(inputs_embeds=embeds, attention_mask=attention_mask).logits
    ce = F.cross_entropy(logits.float(), labels, reduction="sum")
    (grad,) = torch.autograd.grad(ce, embeds, create_graph=create_graph)  # [B, L, e]
    saliency = (grad * embeds).sum(-1) * attention_mask.to(grad.dtype)  # [B, L]
    return logits, saliency


def gradient_alignment(student_saliency: torch.Tensor, teacher_saliency: torch.Tensor) -> torch.Tensor:
    """‖s_student − s_teacher‖₂ per example, batch mean (the paper's norm of the gradient gap)."""
    return (student_saliency - teacher_saliency).float().norm(dim=-1).mean()


def kdiga_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    student_saliency: torch.Tensor,
    teacher_saliency: torch.Tensor,
    *,
    temperature: float,
    alpha: float,
    gamma: float,
) -> torch.Tensor:
    return kd_loss(student_logits, teacher_logits, labels, temperature=temperature, alpha=alpha) + gamma * gradient_alignment(student_saliency, teacher_saliency)
