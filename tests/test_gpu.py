"""On a CUDA machine: the tiny study with each KD strategy, in fp32 and bf16, then its export; and
the word-recognition stage in front of the student.

Deselected by default (`pytest -m gpu` runs them); they check that device placement is explicit
(the teacher, generators and students stay where each step expects them) and that mixed
precision runs end to end on the GPU.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from rosearch.config.schema import STRATEGIES

from conftest import run_cli

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


@pytest.mark.parametrize("precision", ["no", "bf16"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_tiny_study_with_each_strategy_on_the_gpu(tmp_path: Path, strategy: str, precision: str) -> None:
    _run_on_gpu(tmp_path, strategy, precision, stage="none")


@pytest.mark.parametrize("precision", ["no", "bf16"])
def test_the_pipeline_with_its_input_stage_on_the_gpu(tmp_path: Path, precision: str) -> None:
    _run_on_gpu(tmp_path, "vanilla", precision, stage="recognizer")


def _run_on_gpu(tmp_path: Path, strategy: str, precision: str, *, stage: str) -> None:
    tiny = (Path(__file__).parents[1] / "studies" / "tiny.yaml").read_text()
    extra = (f"  mixed_precision: {precision}\n  strategy: {strategy}\n  max_train_examples: 512\n  generator: {{mlm_steps: 20}}\n"
             "  zeroshot: {max_examples: 512}\n  a2t: {examples: 24, query_budget: 30}\n  augment: {copies: 1}\n")
    study = tmp_path / f"gpu-{strategy}-{precision}-{stage}.yaml"
    text = tiny.replace("  lr: 0.003\n", "  lr: 0.003\n" + extra)
    if stage != "none":
        space = yaml.safe_load((Path(__file__).parents[1] / "configs" / "spaces" / "tiny.yaml").read_text())
        text = text.replace("space: configs/spaces/tiny.yaml\n", "space: " + json.dumps({**space, "input_stages": [stage]}) + "\n")
        text = text.replace("baselines: configs/baselines/tiny.yaml\n", "")
    study.write_text(text)
    runs = tmp_path / "runs"
    done = run_cli("optimize", "--study", str(study), "--n-trials", "2", "--runs-dir", str(runs), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    exported = run_cli("export", "--study", str(study), "--runs-dir", str(runs), "--no-progress", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr[-3000:]
    manifest = json.loads((runs / study.stem / "export" / "manifest.json").read_text())
    assert manifest and all(row["kd_strategy"] == strategy for row in manifest)
    if stage == "recognizer":  # the stage ships with every export
        assert all((runs / study.stem / "export" / row["folder"] / "recognizer.json").is_file() for row in manifest)
