"""The candidate operations of a cell node, all padding-aware.

Every operation maps hidden states x [B, L, d] and a padding mask [B, L] (True = real token) to
[B, L, d]. Padded positions are zeroed on the way in and out, and the pooling and attention ops
never read them, so adding padding to a batch cannot change a real token's output: for
convolutions, zeroed pads are exactly the zero padding a shorter, unpadded sequence would get.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _zero_pads(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return x * mask.unsqueeze(-1).to(x.dtype)


class Attention(nn.Module):
    """Multi-head self-attention over real tokens only (key padding mask)."""

    def __init__(self, d: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(d, n_heads, dropout=dropout, batch_first=True)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # A sequence with no real token at all (an all-zero attention mask) would give a softmax
        # over nothing, NaN, which zeroing cannot undo (NaN · 0 = NaN): such a sequence attends to
        # its first (zeroed) position instead; its output is zeroed below either way.
        first = torch.arange(mask.shape[1], device=mask.device) == 0  # [L]
        keys = mask | (~mask.any(1, keepdim=True) & first)  # [B, L]
        out, _ = self.attn(x, x, x, key_padding_mask=~keys, need_weights=False)
        return _zero_pads(out, mask)


class FeedForward(nn.Module):
    """Position-wise feed-forward: d → ffn → d with GELU."""

    def __init__(self, d: int, ffn: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, ffn), nn.GELU(), nn.Dropout(dropout), nn.Linear(ffn, d))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return _zero_pads(self.net(x), mask)


class SepConv(nn.Module):
    """Depthwise-separable 1-D convolution (depthwise k, then pointwise d×d), as DARTS's sep_conv."""

    def __init__(self, d: int, kernel: int, dilation: int = 1) -> None:
        super().__init__()
        self.depthwise = nn.Conv1d(d, d, kernel, padding=dilation * (kernel // 2), dilation=dilation, groups=d)
        self.pointwise = nn.Linear(d, d)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.depthwise(_zero_pads(x, mask).transpose(1, 2)).transpose(1, 2)  # [B, d, L] ↔ [B, L, d]
        return _zero_pads(F.gelu(self.pointwise(h)), mask)


class MaxPool(nn.Module):
    """Max over a window of real tokens (pads read as −inf)."""

    def __init__(self, kernel: int) -> None:
        super().__init__()
        self.kernel = kernel

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        half = self.kernel // 2
        filled = x.masked_fill(~mask.unsqueeze(-1), float("-inf"))  # [B, L, d]
        # Explicit −inf padding + unfold instead of F.max_pool1d (same result): max_pool1d pins the
        # sequence length to a constant in torch.export, which would fix model.onnx to one length.
        windows = F.pad(filled, (0, 0, half, half), value=float("-inf")).unfold(1, self.kernel, 1)  # [B, L, d, k]
        return _zero_pads(windows.amax(-1).nan_to_num(neginf=0.0), mask)


class AvgPool(nn.Module):
    """Mean over the real tokens of a window (pads counted neither in sum nor count)."""

    def __init__(self, kernel: int) -> None:
        super().__init__()
        self.kernel = kernel

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(-1).to(x.dtype)
        pool = lambda t: F.avg_pool1d(t.transpose(1, 2), self.kernel, stride=1, padding=self.kernel // 2, count_include_pad=True)  # noqa: E731
        summed, count = pool(x * m), pool(m)
        return _zero_pads((summed / count.clamp_min(1e-6)).transpose(1, 2), mask)


class Skip(nn.Module):
    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return _zero_pads(x, mask)


class Zero(nn.Module):
    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


def build_op(name: str, d: int, *, n_heads: int | None, ffn_size: int | None, dropout: float) -> nn.Module:
    """The operation `name` (one of rosearch.config.KNOWN_OPS) for hidden width `d`."""
    if name == "attention":
        assert n_heads is not None, "attention needs n_heads"
        return Attention(d, n_heads, dropout)
    if name == "ffn":
        assert ffn_size is not None, "ffn needs ffn_size"
        return FeedForward(d, ffn_size, dropout)
    if name.startswith("dilconv"):
        return SepConv(d, int(name[len("dilconv"):]), dilation=2)
    if name.startswith("conv"):
        return SepConv(d, int(name[len("conv"):]))
    if name.startswith("maxpool"):
        return MaxPool(int(name[len("maxpool"):]))
    if name.startswith("avgpool"):
        return AvgPool(int(name[len("avgpool"):]))
    if name == "skip":
        return Skip()
    if name == "zero":
        return Zero()
    raise ValueError(f"unknown operation {name!r}")
