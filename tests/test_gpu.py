"""On a CUDA machine: the tiny study with each KD strategy, in fp32 and bf16, then its export.

Deselected by default (`pytest -m gpu` runs them); they check that device placement is explicit
(the teacher, generators and students stay where each step expects them) and that mixed
precision runs end to end on the GPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from conftest import run_cli

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


@pytest.mark.parametrize("precision", ["no", "bf16"])
@pytest.mark.parametrize("strategy", ["vanilla", "kdiga", "mate", "zeroshot"])
def test_tiny_study_with_each_strategy_on_the_gpu(tmp_path: Path, strategy: str, precision: str) -> None:
    tiny = (Path(__file__).parents[1] / "studies" / "tiny.yaml").read_text()
    extra = f"  mixed_precision: {precision}\n  strategy: {strategy}\n  max_train_examples: 512\n  generator: {{mlm_steps: 20}}\n  zeroshot: {{max_examples: 512}}\n"
    study = tmp_path / f"gpu-{strategy}-{precision}.yaml"
    study.write_text(tiny.replace("  lr: 0.003\n", "  lr: 0.003\n" + extra))
    runs = tmp_path / "runs"
    done = run_cli("optimize", "--study", str(study), "--n-trials", "2", "--runs-dir", str(runs), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    exported = run_cli("export", "--study", str(study), "--runs-dir", str(runs), "--no-progress", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr[-3000:]
    manifest = json.loads((runs / study.stem / "export" / "manifest.json").read_text())
    assert manifest and all(row["kd_strategy"] == strategy for row in manifest)
