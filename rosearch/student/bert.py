"""A reference student of a standard shape: `BertForSequenceClassification` (the public BERT
miniatures' architecture), built like the searched students — the teacher's tokenizer, positions
up to `data.max_length`, token embeddings started from the teacher's principal directions — so a
comparison with them differs only in the architecture."""

from __future__ import annotations

import torch
from transformers import BertConfig, BertForSequenceClassification

from typing import Protocol

from rosearch.student.model import init_from_basis


class BertShape(Protocol):
    """A BERT encoder's shape (a reference baseline's `bert:` section, rosearch.config.teacher.BertShapeConfig)."""

    num_layers: int
    hidden_size: int
    num_heads: int
    intermediate_size: int


def build_bert_student(
    shape: BertShape,
    *,
    vocab_size: int,
    num_labels: int,
    pad_token_id: int,
    max_position_embeddings: int,
    dropout: float,
    embedding_basis: torch.Tensor | None = None,
) -> BertForSequenceClassification:
    config = BertConfig(
        vocab_size=vocab_size, hidden_size=shape.hidden_size, num_hidden_layers=shape.num_layers,
        num_attention_heads=shape.num_heads, intermediate_size=shape.intermediate_size, num_labels=num_labels,
        pad_token_id=pad_token_id, max_position_embeddings=max_position_embeddings,
        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout,
    )
    model = BertForSequenceClassification(config)
    if embedding_basis is not None:
        init_from_basis(model.bert.embeddings.word_embeddings, embedding_basis, scale=config.initializer_range)
    return model
