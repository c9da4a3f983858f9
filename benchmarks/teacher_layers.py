"""Students started from the teacher's own layers (DistilBERT-style initialisation) — clean accuracy.

The clean-accuracy gap (every demo student 6–9 points below the teacher) is the part of issue 10's
target that no KD strategy closed. This asks whether pretrained layers close it: the student is the
fine-tuned teacher cut down — some of its 6 layers kept, optionally each layer's feed-forward
neurons pruned to the most important ones (|incoming| × |outgoing| weight norms) and the token
embeddings factorised through their top principal directions (30,522 × e, then e → 384; ALBERT's
factorisation, initialised so that it reproduces the teacher's embeddings as well as rank e can),
positions cut to data.max_length — with a new classifier head, then distilled exactly like the
demo's students (cached teacher logits, the study's KD loss, batch, epochs, seed) at each learning
rate. Clean accuracy on the dev split with its 95% Wilson interval.

    python benchmarks/teacher_layers.py [--study demo] [--runs-dir benchmarks/runs/headline]
                                        [--variants L01 L01-e96-f768 ...] [--lrs 1e-4 3e-4]

Benchmark-only model surgery: the students the tool searches and exports are built from genomes.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import time
from dataclasses import replace
from pathlib import Path

import torch

from rosearch.student.cost import count_params
from rosearch.table import format_table
from rosearch.session import make_accelerator, prepare_study, quiet_libraries
from rosearch.config import load_study
from rosearch.stats import format_ci, wilson
from rosearch.train import TrainPlan, fit, kd_loss, loader
from rosearch.train.loop import accuracy as share_correct, predict

#: name -> (teacher layers kept, feed-forward neurons kept per layer or None, embedding rank or None)
VARIANTS = {
    "L01": ((0, 1), None, None),
    "L05": ((0, 5), None, None),
    "L01-e96-f768": ((0, 1), 768, 96),
    "L05-e96-f768": ((0, 5), 768, 96),
    "L012-e64-f512": ((0, 1, 2), 512, 64),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="demo")
    parser.add_argument("--runs-dir", default="benchmarks/runs/headline", help="reuse this runs folder's cached teacher and data")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--lrs", nargs="+", type=float, default=[1e-4, 3e-4])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/teacher_layers.json")
    args = parser.parse_args()
    quiet_libraries()
    torch.set_num_threads(args.threads)
    cfg = replace(load_study(args.study), runs_dir=args.runs_dir)
    accelerator = make_accelerator(cfg)
    prep = prepare_study(cfg, accelerator, progress=False)
    dev = loader(prep.splits["dev"], prep.tokenizer, batch_size=cfg.kd.eval_batch_size, shuffle=False)
    train = loader(prep.splits["train"], prep.tokenizer, batch_size=cfg.kd.batch_size, shuffle=True, extra=("teacher_logits",), seed=cfg.seed)
    teacher_params = count_params(prep.teacher)

    def accuracy(model: torch.nn.Module) -> tuple[float, int]:
        logits, labels = predict(model, dev, accelerator=accelerator)
        return share_correct(logits, labels), len(labels)

    def loss_fn(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        target, labels = batch.pop("teacher_logits"), batch.pop("labels")
        return kd_loss(model(**batch).logits, target, labels, temperature=cfg.kd.temperature, alpha=cfg.kd.alpha)

    rows = [{"variant": "teacher", "params": teacher_params, "dev": accuracy(prep.teacher)}]
    for name in args.variants:
        layers, ffn, rank = VARIANTS[name]
        for lr in args.lrs:
            torch.manual_seed(cfg.seed)
            student = cut_teacher(prep.teacher, layers, ffn=ffn, rank=rank, max_positions=cfg.data.max_length).to(accelerator.device)
            start = time.perf_counter()
            fit(student, TrainPlan(train, loss_fn, desc=name), accelerator=accelerator, optim=replace(cfg.kd, lr=lr), grad_clip=cfg.kd.grad_clip, seed=cfg.seed, progress=False)
            student = accelerator.unwrap_model(student, keep_fp32_wrapper=False)
            rows.append({"variant": name, "layers": list(layers), "ffn": ffn, "embedding_rank": rank, "lr": lr, "epochs": cfg.kd.epochs,
                         "params": count_params(student), "dev": accuracy(student), "train_s": time.perf_counter() - start})
            print(json.dumps(rows[-1]), flush=True)
    record = {"study": args.study, "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, torch {torch.__version__}",
              "threads": args.threads, "rows": rows}
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    body = [[r["variant"], f"{r['params'] / 1e6:.2f}", f"{teacher_params / r['params']:.1f}×", str(r.get("lr", "–")),
             format_ci(r["dev"][0], wilson(round(r["dev"][0] * r["dev"][1]), r["dev"][1])), f"{r.get('train_s', 0):.0f}"] for r in rows]
    print(format_table(["student", "params (M)", "compression", "lr", "clean accuracy (dev)", "train s"], body, style="markdown"))


def cut_teacher(teacher: torch.nn.Module, layers: tuple[int, ...], *, ffn: int | None, rank: int | None, max_positions: int) -> torch.nn.Module:
    """A trainable copy of the (BERT) teacher with only `layers`, pruned feed-forward blocks, a
    rank-`rank` factorised token embedding, `max_positions` positions and a fresh classifier."""
    model = copy.deepcopy(teacher).float().requires_grad_(True).train()
    bert = model.bert
    bert.encoder.layer = torch.nn.ModuleList(bert.encoder.layer[i] for i in layers)
    model.config.num_hidden_layers = len(layers)
    positions = bert.embeddings.position_embeddings
    positions.weight = torch.nn.Parameter(positions.weight.data[:max_positions].clone())
    positions.num_embeddings = max_positions
    if ffn is not None:
        for layer in bert.encoder.layer:
            inner, outer = layer.intermediate.dense, layer.output.dense
            keep = (outer.weight.norm(dim=0) * inner.weight.norm(dim=1)).topk(ffn).indices.sort().values
            layer.intermediate.dense = _linear(inner.weight.data[keep], inner.bias.data[keep])
            layer.output.dense = _linear(outer.weight.data[:, keep], outer.bias.data)
    if rank is not None:  # W ≈ mean + (W − mean) V Vᵀ, V the top `rank` principal directions
        words = bert.embeddings.word_embeddings.weight.data
        mean = words.mean(0)
        _, _, vh = torch.linalg.svd(words - mean, full_matrices=False)
        low = torch.nn.Embedding(words.shape[0], rank)
        low.weight.data = (words - mean) @ vh[:rank].T
        bert.embeddings.word_embeddings = torch.nn.Sequential(low, _linear(vh[:rank].T, mean))
    torch.nn.init.normal_(model.classifier.weight, std=0.02)
    torch.nn.init.zeros_(model.classifier.bias)
    return model


def _linear(weight: torch.Tensor, bias: torch.Tensor) -> torch.nn.Linear:
    layer = torch.nn.Linear(weight.shape[1], weight.shape[0])
    layer.weight.data, layer.bias.data = weight.clone(), bias.clone()
    return layer


if __name__ == "__main__":
    main()
