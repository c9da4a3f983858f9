"""Size and compute of a model: parameter count and FLOPs at a fixed sequence length."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: nn.Module) -> int:
    """Trainable and frozen parameters, embeddings included (what a deployment ships)."""
    return sum(p.numel() for p in model.parameters())


def count_non_embedding_params(model: nn.Module) -> int:
    """Parameters outside embedding tables (token, position, token-type): the part of a student
    its architecture decides, which ranks transformer candidates well (LiteTransformerSearch)."""
    return count_params(model) - sum(p.numel() for m in model.modules() if isinstance(m, nn.Embedding) for p in m.parameters(recurse=False))


@torch.no_grad()
def count_flops(model: nn.Module, *, seq_len: int, vocab_size: int | None = None) -> int:
    """FLOPs of one forward pass on one sequence of `seq_len` real tokens.

    Counted by torch's FlopCounterMode, which counts matrix products, convolutions and attention
    (2 FLOPs per multiply-add), the convention papers use; element-wise work is left out.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    ids = torch.ones(1, seq_len, dtype=torch.long, device=device)  # token 1: any non-pad id
    if vocab_size is not None:
        ids.clamp_(max=vocab_size - 1)
    counter = FlopCounterMode(display=False)
    with counter:
        model(input_ids=ids, attention_mask=torch.ones_like(ids))
    model.train(was_training)
    return int(counter.get_total_flops())
