"""The masked-LM generator of MATE-KD and zero-shot KD: masking, sampling, and its brief training.

A generator must read and write the teacher's token ids (its one-hot outputs go straight into the
teacher's and the student's embedding matrices), so it shares the teacher's tokenizer. Offline it
starts from the teacher's own pretrained encoder with a masked-LM head, trained briefly here.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from rosearch.student.model import token_table


def choose_masked(input_ids: torch.Tensor, attention_mask: torch.Tensor, special: torch.Tensor, *, prob: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Positions to mask [B, L] bool: each real, non-special token with probability `prob`."""
    draw = torch.rand(input_ids.shape, generator=generator, device="cpu").to(input_ids.device)
    return (draw < prob) & attention_mask.bool() & ~special.bool()


def special_mask(input_ids: torch.Tensor, tokenizer: PreTrainedTokenizerBase) -> torch.Tensor:
    ids = torch.tensor(sorted(set(tokenizer.all_special_ids)), device=input_ids.device)
    return torch.isin(input_ids, ids)


def masked_logits(generator: PreTrainedModel, masked_ids: torch.Tensor, attention_mask: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """The generator's vocabulary logits at the masked positions only [M, V].

    For BERT masked LMs the head runs on those M positions alone (the vocabulary projection over
    every position is most of the cost); other masked LMs compute all and select.
    """
    if hasattr(generator, "bert") and hasattr(generator, "cls"):
        hidden = generator.bert(input_ids=masked_ids, attention_mask=attention_mask).last_hidden_state  # [B, L, h]
        return generator.cls(hidden[positions])  # [M, V]
    return generator(input_ids=masked_ids, attention_mask=attention_mask).logits[positions]


def sample_tokens(logits: torch.Tensor, *, temperature: float, hard: bool = True) -> torch.Tensor:
    """Straight-through Gumbel-softmax: one-hot samples [M, V] forward, soft gradients backward
    (hard=False: the relaxed soft samples, e.g. to check the generator's ascent deterministically)."""
    return F.gumbel_softmax(logits.float(), tau=temperature, hard=hard)


def embed_replaced(model: PreTrainedModel, input_ids: torch.Tensor, positions: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
    """The model's token embeddings [B, L, e], with the masked positions taken from one-hot rows
    through its embedding matrix, so gradients reach the generator."""
    table = model.get_input_embeddings()
    embeds = table(input_ids)
    weight = token_table(table)  # a reduced vocabulary's rows, one per id
    replaced = one_hot.to(weight.dtype) @ weight  # [M, V] @ [V, e] → [M, e]
    return embeds.index_put(positions.nonzero(as_tuple=True), replaced)


def train_mlm(
    generator: PreTrainedModel,
    batches: list[dict[str, torch.Tensor]] | object,
    tokenizer: PreTrainedTokenizerBase,
    *,
    steps: int,
    lr: float,
    mask_prob: float = 0.15,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> float:
    """Brief masked-LM training of a generator on plain text batches; returns the last loss."""
    rng = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(generator.parameters(), lr=lr)
    generator.to(device).train()
    loss_value, step = math.nan, 0
    while step < steps:
        for batch in batches:
            ids, attn = batch["input_ids"].to(device), batch["attention_mask"].to(device)
            positions = choose_masked(ids, attn, special_mask(ids, tokenizer), prob=mask_prob, generator=rng)
            if not positions.any():
                continue
            logits = masked_logits(generator, ids.masked_fill(positions, tokenizer.mask_token_id), attn, positions)
            loss = F.cross_entropy(logits.float(), ids[positions])
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            loss_value, step = loss.item(), step + 1
            if step >= steps:
                break
    generator.eval()
    return loss_value
