"""A weight-sharing supernet over a search space: every genome of the space is one of its paths.

After single-path one-shot NAS (SPOS, Guo et al., 2020) with HAT's elastic widths (Wang et al.,
2020): the supernet holds each weight once, at the space's largest size — the token and position
embeddings at the largest embedding width, per cell and per node input slot one module of every
operation at the largest hidden width (the feed-forward at the largest multiple) — and a genome's
student reads the leading rows and columns of each (hidden width d: the first d channels; heads:
the first d of each of q, k, v split into the genome's head count). Trained one sampled path a step
(rosearch.search.weight_sharing), it gives every genome of the space inherited weights:
`inherit` writes them into a real student (rosearch.student.model), whose forward is the path's
(tested), so a candidate is measured like any trained student, only without training it.

Why by hand: transformers and Optuna ship no supernet for a cell space; each op here mirrors the
one in rosearch.student.ops with sliced weights (pooling, skip and zero have none and are reused).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers.modeling_outputs import SequenceClassifierOutput

from rosearch.student.genome import Genome
from rosearch.student.model import RoSearchStudentForSequenceClassification, init_from_basis, init_module
from rosearch.student.ops import Attention, AvgPool, FeedForward, MaxPool, SepConv, Skip, Zero, _zero_pads

if TYPE_CHECKING:
    from rosearch.student.vocab import Vocabulary

_FREE = {"maxpool3": MaxPool(3), "avgpool3": AvgPool(3), "skip": Skip(), "zero": Zero()}  # no weights: shared as they are


class _ElasticAttention(nn.Module):
    def __init__(self, d_max: int, dropout: float) -> None:
        super().__init__()
        self.d_max, self.dropout = d_max, dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_max, d_max))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_max))
        self.out_proj = nn.Linear(d_max, d_max)
        nn.init.xavier_uniform_(self.in_proj_weight)  # as nn.MultiheadAttention starts its own

    def sliced(self, d: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(in_proj_weight [3d, d], in_proj_bias [3d], out weight [d, d], out bias [d]) for width d."""
        rows = torch.cat([torch.arange(d) + i * self.d_max for i in range(3)]).to(self.in_proj_weight.device)
        return self.in_proj_weight[rows, :d], self.in_proj_bias[rows], self.out_proj.weight[:d, :d], self.out_proj.bias[:d]

    def forward(self, x: torch.Tensor, mask: torch.Tensor, *, heads: int) -> torch.Tensor:
        d = x.shape[-1]
        w, b, wo, bo = self.sliced(d)
        first = torch.arange(mask.shape[1], device=mask.device) == 0  # as ops.Attention: a text of no token attends to its first
        keys = mask | (~mask.any(1, keepdim=True) & first)
        q = x.transpose(0, 1)  # nn.MultiheadAttention's own function, sequence first
        out, _ = F.multi_head_attention_forward(q, q, q, d, heads, w, b, None, None, False, self.dropout, wo, bo,
                                                training=self.training, key_padding_mask=~keys, need_weights=False)
        return _zero_pads(out.transpose(0, 1), mask)


class _ElasticFeedForward(nn.Module):
    def __init__(self, d_max: int, ffn_max: int, dropout: float) -> None:
        super().__init__()
        self.up, self.down, self.dropout = nn.Linear(d_max, ffn_max), nn.Linear(ffn_max, d_max), nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, *, ffn: int) -> torch.Tensor:
        d = x.shape[-1]
        h = self.dropout(F.gelu(F.linear(x, self.up.weight[:ffn, :d], self.up.bias[:ffn])))
        return _zero_pads(F.linear(h, self.down.weight[:d, :ffn], self.down.bias[:d]), mask)


class _ElasticSepConv(nn.Module):
    def __init__(self, d_max: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.kernel, self.dilation = kernel, dilation
        self.depthwise = nn.Conv1d(d_max, d_max, kernel, padding=dilation * (kernel // 2), dilation=dilation, groups=d_max)
        self.pointwise = nn.Linear(d_max, d_max)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        d = x.shape[-1]
        h = F.conv1d(_zero_pads(x, mask).transpose(1, 2), self.depthwise.weight[:d], self.depthwise.bias[:d],
                     padding=self.dilation * (self.kernel // 2), dilation=self.dilation, groups=d).transpose(1, 2)
        return _zero_pads(F.gelu(F.linear(h, self.pointwise.weight[:d, :d], self.pointwise.bias[:d])), mask)


def _elastic_op(name: str, d_max: int, ffn_max: int, dropout: float) -> nn.Module | None:
    if name == "attention":
        return _ElasticAttention(d_max, dropout)
    if name == "ffn":
        return _ElasticFeedForward(d_max, ffn_max, dropout)
    if name.startswith("dilconv"):
        return _ElasticSepConv(d_max, int(name[len("dilconv"):]), 2)
    if name.startswith("conv"):
        return _ElasticSepConv(d_max, int(name[len("conv"):]), 1)
    return None  # parameter-free: _FREE


def _layer_norm(norm: nn.LayerNorm, x: torch.Tensor) -> torch.Tensor:
    d = x.shape[-1]
    return F.layer_norm(x, (d,), norm.weight[:d], norm.bias[:d], norm.eps)


class SuperNet(nn.Module):
    """Every genome of `space` as a path (module docstring); `forward(..., genome=g)` runs g's."""

    def __init__(self, space: Any, *, vocab_size: int, num_labels: int, pad_token_id: int, max_position_embeddings: int,
                 dropout: float, layer_norm_eps: float = 1e-12, initializer_range: float = 0.02,
                 embedding_basis: torch.Tensor | None = None) -> None:
        super().__init__()
        self.e_max, self.d_max = max(space.embedding_sizes), max(space.hidden_sizes)
        self.ffn_max = max(space.ffn_multipliers) * self.d_max
        self.ops = [op for op in space.ops]
        self.max_position_embeddings = max_position_embeddings
        self.word_embeddings = nn.Embedding(vocab_size, self.e_max, padding_idx=pad_token_id)
        self.position_embeddings = nn.Embedding(max_position_embeddings, self.e_max)
        self.embed_norm = nn.LayerNorm(self.e_max, eps=layer_norm_eps)
        self.embed_proj = nn.Linear(self.e_max, self.d_max)
        self.drop = nn.Dropout(dropout)
        # cells[c][node][slot][op]: one module of each weighted op per input slot of each node
        self.cells = nn.ModuleList(
            nn.ModuleList(nn.ModuleList(nn.ModuleDict({op: m for op in self.ops if (m := _elastic_op(op, self.d_max, self.ffn_max, dropout))})
                                        for _slot in range(2)) for _node in range(space.n_nodes))
            for _cell in range(max(space.n_cells)))
        self.cell_norms = nn.ModuleList(nn.LayerNorm(self.d_max, eps=layer_norm_eps) for _ in range(max(space.n_cells)))
        self.pre_classifier = nn.Linear(self.d_max, self.d_max)
        self.classifier = nn.Linear(self.d_max, num_labels)
        for module in self.modules():  # the student's initialisation, module by module
            init_module(module, initializer_range)
            if isinstance(module, _ElasticAttention):
                module.in_proj_weight.data.normal_(0.0, initializer_range)
        self.path: Genome | None = None  # the path `forward` runs when it is given no genome (set by training's sampler)
        if embedding_basis is not None:
            init_from_basis(self.word_embeddings, embedding_basis, scale=initializer_range)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, *, genome: Genome | None = None,
                labels: torch.Tensor | None = None, **_: Any) -> SequenceClassifierOutput:
        genome = genome or self.path
        if genome is None:
            raise ValueError("SuperNet.forward needs a genome (or a path set)")
        e, d = genome.embedding_size, genome.hidden_size
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        mask = attention_mask.bool()
        length = input_ids.shape[1]
        positions = torch.arange(length, device=input_ids.device).clamp(max=self.max_position_embeddings - 1)
        h = self.word_embeddings.weight[input_ids, :e] + self.position_embeddings.weight[positions, :e][None]
        h = _layer_norm(self.embed_norm, h)
        if e != d:  # the student has a projection only where the widths differ
            h = F.linear(h, self.embed_proj.weight[:d, :e], self.embed_proj.bias[:d])
        h = self.drop(h) * mask.unsqueeze(-1)
        prev2 = prev1 = h
        for c in range(genome.n_cells):
            states = [prev2, prev1]
            for i, node in enumerate(genome.nodes):
                states.append(sum(self._op(c, i, slot, op, states[s], mask, genome) for slot, (s, op) in enumerate(zip(node.inputs, node.ops))))
            prev2, prev1 = prev1, _layer_norm(self.cell_norms[c], prev1 + self.drop(torch.stack(states[2:]).mean(0)))
        m = mask.unsqueeze(-1).to(prev1.dtype)
        pooled = (prev1 * m).sum(1) / m.sum(1).clamp_min(1.0)
        hidden = torch.tanh(F.linear(pooled, self.pre_classifier.weight[:d, :d], self.pre_classifier.bias[:d]))
        logits = F.linear(self.drop(hidden), self.classifier.weight[:, :d], self.classifier.bias)
        loss = None if labels is None else F.cross_entropy(logits.float(), labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)

    def _op(self, c: int, i: int, slot: int, op: str, x: torch.Tensor, mask: torch.Tensor, genome: Genome) -> torch.Tensor:
        if op in _FREE:
            return _FREE[op](x, mask)
        module = self.cells[c][i][slot][op]
        if op == "attention":
            return module(x, mask, heads=genome.n_heads)
        if op == "ffn":
            return module(x, mask, ffn=genome.ffn_size)
        return module(x, mask)


@torch.no_grad()
def inherit(supernet: SuperNet, student: RoSearchStudentForSequenceClassification, genome: Genome,
            vocabulary: Vocabulary | None = None) -> RoSearchStudentForSequenceClassification:
    """`student` (built for `genome` by rosearch.student.build_student, with `vocabulary` when the
    genome's is reduced) with the supernet's weights of the genome's path copied in: its forward
    is then the path's. A reduced table takes the rows of the pieces it kept. Returns the student."""
    e, d = genome.embedding_size, genome.hidden_size
    table = supernet.word_embeddings.weight[:, :e]
    if vocabulary is not None:
        student.word_embeddings.weight.copy_(table[torch.from_numpy(vocabulary.kept).to(table.device)])
    else:
        student.word_embeddings.weight.copy_(table)
    student.position_embeddings.weight.copy_(supernet.position_embeddings.weight[:, :e])
    _copy_norm(student.embed_norm, supernet.embed_norm)
    if e != d:
        student.embed_proj.weight.copy_(supernet.embed_proj.weight[:d, :e])
        student.embed_proj.bias.copy_(supernet.embed_proj.bias[:d])
    for c, cell in enumerate(student.cells):
        for i, ops in enumerate(cell.ops):
            for slot, (name, op) in enumerate(zip(genome.nodes[i].ops, ops)):
                if name not in _FREE:
                    _copy_op(op, supernet.cells[c][i][slot][name], d, genome)
        _copy_norm(cell.norm, supernet.cell_norms[c])
    student.pre_classifier.weight.copy_(supernet.pre_classifier.weight[:d, :d])
    student.pre_classifier.bias.copy_(supernet.pre_classifier.bias[:d])
    student.classifier.weight.copy_(supernet.classifier.weight[:, :d])
    student.classifier.bias.copy_(supernet.classifier.bias)
    return student


def _copy_norm(dst: nn.LayerNorm, src: nn.LayerNorm) -> None:
    d = dst.weight.shape[0]
    dst.weight.copy_(src.weight[:d])
    dst.bias.copy_(src.bias[:d])


def _copy_op(dst: nn.Module, src: nn.Module, d: int, genome: Genome) -> None:
    if isinstance(dst, Attention):
        w, b, wo, bo = src.sliced(d)
        dst.attn.in_proj_weight.copy_(w)
        dst.attn.in_proj_bias.copy_(b)
        dst.attn.out_proj.weight.copy_(wo)
        dst.attn.out_proj.bias.copy_(bo)
    elif isinstance(dst, FeedForward):
        f = genome.ffn_size
        up, down = dst.net[0], dst.net[3]
        up.weight.copy_(src.up.weight[:f, :d])
        up.bias.copy_(src.up.bias[:f])
        down.weight.copy_(src.down.weight[:d, :f])
        down.bias.copy_(src.down.bias[:d])
    elif isinstance(dst, SepConv):
        dst.depthwise.weight.copy_(src.depthwise.weight[:d])
        dst.depthwise.bias.copy_(src.depthwise.bias[:d])
        dst.pointwise.weight.copy_(src.pointwise.weight[:d, :d])
        dst.pointwise.bias.copy_(src.pointwise.bias[:d])
    else:
        raise TypeError(f"no weights to inherit for {type(dst).__name__}")
