"""Distillation losses: plain functions over tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    temperature: float,
    alpha: float,
) -> torch.Tensor:
    """Logit distillation (Hinton et al., 2015, "Distilling the Knowledge in a Neural Network").

    loss = α·τ²·KL(softmax(t/τ) ‖ softmax(s/τ)) + (1 − α)·CE(s, y), batch-mean. The τ² keeps the
    soft term's gradients on the scale of the hard term's as τ changes.
    """
    s = student_logits.float()
    t = teacher_logits.float()
    soft = F.kl_div(F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1), reduction="batchmean", log_target=True)
    hard = F.cross_entropy(s, labels)
    return alpha * temperature**2 * soft + (1 - alpha) * hard
