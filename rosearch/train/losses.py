"""Distillation losses: plain functions over tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, *, temperature: float) -> torch.Tensor:
    """τ²·KL(softmax(t/τ) ‖ softmax(s/τ)), batch mean. The τ² keeps its gradients on the scale of a
    hard-label term's as τ changes (Hinton et al., 2015)."""
    s = F.log_softmax(student_logits.float() / temperature, -1)
    t = F.log_softmax(teacher_logits.float() / temperature, -1)
    return temperature**2 * F.kl_div(s, t, reduction="batchmean", log_target=True)


def kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    temperature: float,
    alpha: float,
) -> torch.Tensor:
    """Logit distillation (Hinton et al., 2015, "Distilling the Knowledge in a Neural Network").

    loss = α·τ²·KL(softmax(t/τ) ‖ softmax(s/τ)) + (1 − α)·CE(s, y), batch-mean.
    """
    hard = F.cross_entropy(student_logits.float(), labels)
    return alpha * soft_kl(student_logits, teacher_logits, temperature=temperature) + (1 - alpha) * hard
