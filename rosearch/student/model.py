"""The student as a real `transformers` model, built from a genome.

`RoSearchStudentConfig` holds the genome, so `save_pretrained` / `from_pretrained` rebuild the exact
architecture; TextAttack's `HuggingFaceModelWrapper` and Accelerate take it like any HF model.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

# Relative imports only: save_pretrained copies this file with genome.py and ops.py next to the
# weights (trust_remote_code loading without rosearch installed).
from .genome import Genome
from .ops import build_op

if TYPE_CHECKING:  # build_student's argument only; exported folders ship without vocab.py
    from .vocab import Vocabulary


class RoSearchStudentConfig(PretrainedConfig):
    """Config of a searched student; `genome` is `Genome.to_dict()`."""

    model_type = "rosearch-student"
    # save_pretrained writes an `auto_map` and copies the modeling code (Transformers' custom-model
    # mechanism), so Auto* classes load a saved student with trust_remote_code=True anywhere.
    _auto_class = "AutoConfig"

    def __init__(
        self,
        genome: dict[str, Any] | None = None,
        vocab_size: int = 30522,
        embedding_rows: int | None = None,
        max_position_embeddings: int = 512,
        dropout: float = 0.1,
        layer_norm_eps: float = 1e-12,
        initializer_range: float = 0.02,
        vote_copies: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.genome = genome
        self.vocab_size = vocab_size  # the tokenizer's: the ids the student reads
        self.embedding_rows = embedding_rows  # rows of a reduced vocabulary's table (None: one per id)
        self.max_position_embeddings = max_position_embeddings
        self.dropout = dropout
        self.layer_norm_eps = layer_norm_eps
        self.initializer_range = initializer_range
        # > 1 in an exported voting student only (rosearch.robust.vote): its tokenizer sends each
        # text as this many substituted copies, and forward answers their mean probabilities.
        self.vote_copies = vote_copies


class VocabEmbedding(nn.Embedding):
    """Token embeddings of a reduced vocabulary (rosearch.student.vocab): `rows` rows, read through
    `id_map` [vocab_size] (tokenizer id → row), a buffer saved with the weights, so the student
    takes the tokenizer's ids in PyTorch and ONNX alike."""

    def __init__(self, vocab_size: int, rows: int, dim: int) -> None:
        super().__init__(rows, dim)
        self.register_buffer("id_map", torch.zeros(vocab_size, dtype=torch.long))

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return super().forward(self.id_map[input_ids])

    @property
    def full_weight(self) -> torch.Tensor:
        """[vocab_size, dim]: the row each tokenizer id reads (for soft one-hot inputs)."""
        return self.weight[self.id_map]


def token_table(embeddings: nn.Embedding) -> torch.Tensor:
    """[vocab_size, dim]: the embedding of every tokenizer id, reduced vocabulary or not."""
    return embeddings.full_weight if isinstance(embeddings, VocabEmbedding) else embeddings.weight


class Cell(nn.Module):
    """One repetition of the searched cell (see rosearch.search.genome for the wiring)."""

    def __init__(self, genome: Genome, dropout: float, eps: float) -> None:
        super().__init__()
        d = genome.hidden_size
        self.inputs = [node.inputs for node in genome.nodes]
        self.ops = nn.ModuleList(
            nn.ModuleList(
                build_op(op, d, n_heads=genome.n_heads, ffn_size=genome.ffn_size, dropout=dropout) for op in node.ops
            )
            for node in genome.nodes
        )
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(d, eps=eps)

    def forward(self, prev2: torch.Tensor, prev1: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        states = [prev2, prev1]
        for inputs, ops in zip(self.inputs, self.ops):
            states.append(sum(op(states[s], mask) for s, op in zip(inputs, ops)))
        nodes = torch.stack(states[2:]).mean(0)  # [n_nodes, B, L, d] → [B, L, d]
        return self.norm(prev1 + self.dropout(nodes))


def init_module(module: nn.Module, scale: float) -> None:
    """The student's initialisation of one module (linear and conv weights N(0, scale), zero
    biases, embeddings N(0, scale) with a zero padding row, unit layer norms); the supernet's too."""
    if isinstance(module, (nn.Linear, nn.Conv1d)):
        module.weight.data.normal_(0.0, scale)
        if module.bias is not None:
            module.bias.data.zero_()
    elif isinstance(module, nn.Embedding):
        module.weight.data.normal_(0.0, scale)
        if module.padding_idx is not None:
            module.weight.data[module.padding_idx].zero_()
    elif isinstance(module, nn.LayerNorm):
        module.weight.data.fill_(1.0)
        module.bias.data.zero_()


class RoSearchStudentForSequenceClassification(PreTrainedModel):
    """Embeddings → n_cells searched cells → masked mean pooling → classifier."""

    config_class = RoSearchStudentConfig
    base_model_prefix = "student"
    main_input_name = "input_ids"
    _auto_class = "AutoModelForSequenceClassification"

    def __init__(self, config: RoSearchStudentConfig) -> None:
        super().__init__(config)
        if config.genome is None:
            raise ValueError("RoSearchStudentConfig.genome is required")
        genome = Genome.from_dict(config.genome)
        e, d = genome.embedding_size, genome.hidden_size
        rows = getattr(config, "embedding_rows", None)
        self.word_embeddings = (nn.Embedding(config.vocab_size, e, padding_idx=config.pad_token_id) if rows is None
                                else VocabEmbedding(config.vocab_size, rows, e))
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, e)
        self.embed_norm = nn.LayerNorm(e, eps=config.layer_norm_eps)
        self.embed_proj = nn.Linear(e, d) if e != d else nn.Identity()
        self.dropout = nn.Dropout(config.dropout)
        self.cells = nn.ModuleList(Cell(genome, config.dropout, config.layer_norm_eps) for _ in range(genome.n_cells))
        self.pre_classifier = nn.Linear(d, d)
        self.classifier = nn.Linear(d, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        init_module(module, self.config.initializer_range)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.word_embeddings = value

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,  # accepted for BERT tokenizers; unused
        labels: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **_: Any,
    ) -> SequenceClassifierOutput:
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)  # [B, L, e]
        batch, length = inputs_embeds.shape[:2]
        if attention_mask is None:
            attention_mask = torch.ones(batch, length, dtype=torch.long, device=inputs_embeds.device)
        mask = attention_mask.bool()
        # Inputs longer than the position table (a tokenizer call without truncation, e.g. the
        # text-classification pipeline's default) are accepted: tokens beyond it share the last
        # position. The tokenizer saved with an exported student truncates at the table's size.
        positions = torch.arange(length, device=inputs_embeds.device).clamp(max=self.config.max_position_embeddings - 1)
        h = self.embed_norm(inputs_embeds + self.position_embeddings(positions)[None])
        h = self.dropout(self.embed_proj(h)) * mask.unsqueeze(-1)  # [B, L, d], pads zeroed
        prev2 = prev1 = h
        for cell in self.cells:
            prev2, prev1 = prev1, cell(prev2, prev1, mask)
        m = mask.unsqueeze(-1).to(prev1.dtype)
        pooled = (prev1 * m).sum(1) / m.sum(1).clamp_min(1.0)  # masked mean over tokens: [B, d]
        logits = self.classifier(self.dropout(torch.tanh(self.pre_classifier(pooled))))
        if self.config.vote_copies > 1:
            # The log of each text's copies' mean probabilities: SubstitutionVote.combine (rosearch/robust/vote.py),
            # repeated here because an exported model.py ships without the rest of rosearch.
            grouped = torch.log_softmax(logits.float().reshape(-1, self.config.vote_copies, logits.shape[-1]), dim=-1)
            logits = torch.logsumexp(grouped, dim=1) - math.log(self.config.vote_copies)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits.float(), labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)


def register_auto_classes() -> None:
    """Make `AutoConfig` / `AutoModelForSequenceClassification` know the student (idempotent)."""
    from transformers import AutoConfig, AutoModelForSequenceClassification

    try:
        AutoConfig.register(RoSearchStudentConfig.model_type, RoSearchStudentConfig)
        AutoModelForSequenceClassification.register(RoSearchStudentConfig, RoSearchStudentForSequenceClassification)
    except ValueError:  # already registered in this process
        pass


def build_student(
    genome: Genome,
    *,
    vocab_size: int,
    num_labels: int,
    pad_token_id: int,
    max_position_embeddings: int,
    dropout: float,
    embedding_basis: torch.Tensor | None = None,
    vocabulary: Vocabulary | None = None,
) -> RoSearchStudentForSequenceClassification:
    """A freshly initialised student. `embedding_basis` [V, ≥1]: teacher token embeddings in their
    principal directions (see rosearch.teacher.embedding_basis); its first `embedding_size` columns,
    rescaled to the usual init scale, start the student's token embeddings. `vocabulary`: the
    genome's reduced vocabulary (None for "full"): one row per kept piece, started from its basis row."""
    if (vocabulary is None) != (genome.vocabulary == "full"):
        raise ValueError(f"the genome's vocabulary is {genome.vocabulary!r}; pass its Vocabulary exactly when it is not full")
    config = RoSearchStudentConfig(
        genome=genome.to_dict(),
        vocab_size=vocab_size,
        embedding_rows=None if vocabulary is None else vocabulary.size,
        num_labels=num_labels,
        pad_token_id=pad_token_id,
        max_position_embeddings=max_position_embeddings,
        dropout=dropout,
    )
    model = RoSearchStudentForSequenceClassification(config)
    if vocabulary is not None:
        with torch.no_grad():
            model.word_embeddings.id_map.copy_(torch.from_numpy(vocabulary.id_map))
            model.word_embeddings.weight[int(vocabulary.id_map[pad_token_id])].zero_()
        if embedding_basis is not None:
            embedding_basis = embedding_basis[torch.from_numpy(vocabulary.kept)]
    if embedding_basis is not None:
        init_from_basis(model.word_embeddings, embedding_basis, scale=config.initializer_range)
    return model


@torch.no_grad()
def init_from_basis(embeddings: nn.Embedding, basis: torch.Tensor, *, scale: float) -> None:
    """Start token embeddings from the first columns of the teacher's principal directions,
    rescaled to the usual init scale (the rest of the width keeps its random init)."""
    k = min(embeddings.weight.shape[1], basis.shape[1])
    cols = basis[:, :k]
    embeddings.weight[:, :k] = cols / cols.std().clamp_min(1e-8) * scale * 2
