"""model.onnx through torch.onnx's exporter (torch.export based), checked with ONNX Runtime."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

import numpy as np
import torch

#: Largest absolute difference between ONNX Runtime's and PyTorch's logits that an export may have
#: (float32; the graphs differ only in kernel choice and fusion).
TOLERANCE = 1e-4
OPSET = 18


class _Logits(torch.nn.Module):
    """(input_ids, attention_mask) → logits: the plain-tensor signature an ONNX graph needs."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def export_onnx(model: torch.nn.Module, path: Path, *, example: dict[str, np.ndarray]) -> None:
    """Write `model` (eval mode, CPU) to `path` with dynamic batch and sequence axes."""
    wrapped = _Logits(model).eval()
    args = tuple(torch.from_numpy(example[k]) for k in ("input_ids", "attention_mask"))
    dim = torch.export.Dim.DYNAMIC
    shapes = {"input_ids": {0: dim, 1: dim}, "attention_mask": {0: dim, 1: dim}}
    exporter_log = logging.getLogger("torch.onnx")  # "torchvision is not installed" notes: not ours to fix
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's progress lines and deprecation notes
            torch.onnx.export(
                wrapped, args, str(path), input_names=["input_ids", "attention_mask"], output_names=["logits"],
                dynamic_shapes=shapes, opset_version=OPSET, dynamo=True, external_data=False,
            )
    finally:
        exporter_log.setLevel(level)


def max_abs_diff(model: torch.nn.Module, session, inputs: dict[str, np.ndarray]) -> float:  # noqa: ANN001 - InferenceSession
    """Largest |ONNX Runtime − PyTorch| over the logits of `inputs`."""
    with torch.inference_mode():
        expected = model(**{k: torch.from_numpy(v) for k, v in inputs.items()}).logits.float().numpy()
    got = session.run(["logits"], {i.name: inputs[i.name] for i in session.get_inputs()})[0]
    return float(np.abs(got - expected).max())
